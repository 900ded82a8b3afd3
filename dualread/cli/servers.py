"""``dualread servers up|down|status`` and ``dualread doctor``.

Register in ``dualread/cli/__init__.py``::

    from dualread.cli.servers import doctor_command, servers_app
    app.add_typer(servers_app, name="servers")
    app.command("doctor")(doctor_command)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dualread.choices import GpuBinding, ManagedRuntime, Mode, NetworkMode
from dualread.cli.common import Reporter, settings_from_options
from dualread.config import DEFAULT_IMAGES, ConfigError, Settings
from dualread.exit_codes import EXIT_INPUT_ERROR, EXIT_SERVERS_UNAVAILABLE

# The runtime (Docker and process launchers, model-server clients) is imported inside each
# command, so that --help and the other commands start without it.
if TYPE_CHECKING:
    from dualread.config import ServerKind
    from dualread.runtime.scheduler import ServerManager

servers_app = typer.Typer(
    help="Start, stop and inspect the model servers (containers or local processes).",
    no_args_is_help=True,
)


CONFIG = typer.Option(None, "--config", help="TOML config file.")
OLLAMA_URL = typer.Option(None, "--ollama-url", help="Ollama server URL.")
VLLM_URL = typer.Option(None, "--vllm-url", help="vLLM server URL, ending in /v1.")
MODE = typer.Option(
    "auto",
    "--mode",
    help="auto: models share a GPU when they fit, else take turns; parallel; sequential.",
)
RUNTIME = typer.Option(
    "docker", "--runtime", help="Run the servers as containers or local processes."
)
NETWORK = typer.Option(
    "bridge",
    "--network",
    help="Container networking: bridge publishes ports on 127.0.0.1 only; host shares the host's.",
)
GPU_BINDING = typer.Option(
    "device-requests",
    "--gpu-binding",
    help="device-requests (NVIDIA container toolkit) or nvidia-env (nvidia default runtime).",
)
IMAGE_OLLAMA = typer.Option(
    None, "--image-ollama", help="Ollama image.", show_default=DEFAULT_IMAGES["ollama"]
)
IMAGE_VLLM = typer.Option(
    None, "--image-vllm", help="vLLM image.", show_default=DEFAULT_IMAGES["vllm"]
)
JSON_OUT = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")
GPUS = typer.Option(
    None,
    "--gpus",
    help="GPUs the plan may use: nvidia-smi indexes or UUIDs (0,2,3), within "
    "CUDA_VISIBLE_DEVICES; default every visible GPU.",
)
REPLICAS = typer.Option(
    None,
    "--replicas",
    help="Copies of each server: N for every server, or per server or role (vllm=3,ollama=2); "
    "default: the plan's choice (see doctor).",
)


def _settings(
    reporter: Reporter,
    config: Path | None,
    ollama_url: str | None,
    vllm_url: str | None,
    gpus: str | None = None,
    replicas: str | None = None,
) -> Settings:
    try:
        return settings_from_options(
            config, ollama_url=ollama_url, vllm_url=vllm_url, gpus=gpus, replicas=replicas
        )
    except ConfigError as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_INPUT_ERROR) from None


def _images(ollama: str | None, vllm: str | None) -> dict[ServerKind, str]:
    images: dict[ServerKind, str] = {}
    if ollama:
        images["ollama"] = ollama
    if vllm:
        images["vllm"] = vllm
    return images


def _manager(
    settings: Settings,
    runtime: ManagedRuntime,
    mode: Mode,
    network: NetworkMode,
    gpu_binding: GpuBinding,
    images: dict[ServerKind, str],
) -> ServerManager:
    from dualread.runtime.factory import make_launcher, open_manager

    launcher = make_launcher(
        runtime,
        network_mode=network,
        gpu_binding=gpu_binding,
    )
    return open_manager(settings, mode=mode, launcher=launcher, images=images)


def _print_status(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        health = "healthy" if row["healthy"] else "not answering"
        loaded = ", ".join(row["resident_models"]) or "none"
        typer.echo(
            f"{row['server']:<8} {row['url']:<24} {health}; {row['runs_as']}; "
            f"roles {', '.join(row['roles'])}; {row['placement']}; switch by {row['switch']}; "
            f"loaded: {loaded}"
        )


@servers_app.command("up")
def up_command(
    runtime: ManagedRuntime = RUNTIME,
    mode: Mode = MODE,
    network: NetworkMode = NETWORK,
    gpu_binding: GpuBinding = GPU_BINDING,
    image_ollama: str | None = IMAGE_OLLAMA,
    image_vllm: str | None = IMAGE_VLLM,
    ollama_url: str | None = OLLAMA_URL,
    vllm_url: str | None = VLLM_URL,
    config: Path | None = CONFIG,
    as_json: bool = JSON_OUT,
    gpus: str | None = GPUS,
    replicas: str | None = REPLICAS,
) -> None:
    """Start the model servers as the plan for this host says, and wait until they answer.

    On one GPU too small for every model, servers that can free the GPU without stopping (vLLM
    sleep mode, Ollama) are started and left idle; extract wakes each in its phase.
    """
    from dualread.runtime.errors import LauncherError, ServersUnavailable
    from dualread.runtime.gpu import GpuChoiceError

    reporter = Reporter()
    settings = _settings(reporter, config, ollama_url, vllm_url, gpus, replicas)
    try:
        manager = _manager(
            settings, runtime, mode, network, gpu_binding, _images(image_ollama, image_vllm)
        )
        reporter.info(f"plan: {manager.plan.kind} ({manager.plan.reason})")
        try:
            manager.up()
            _print_status(manager.status(), as_json)
        finally:
            manager.close(stop=False)
    except (ServersUnavailable, LauncherError) as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_SERVERS_UNAVAILABLE) from None
    except (ConfigError, GpuChoiceError) as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_INPUT_ERROR) from None


@servers_app.command("plan")
def plan_command(
    mode: Mode = MODE,
    gpus: str | None = GPUS,
    replicas: str | None = REPLICAS,
    ollama_url: str | None = OLLAMA_URL,
    vllm_url: str | None = VLLM_URL,
    config: Path | None = CONFIG,
    as_json: bool = JSON_OUT,
) -> None:
    """Show the GPUs found and where each server's replicas would run, starting nothing."""
    from dualread.runtime.gpu import GpuChoiceError
    from dualread.runtime.host_plan import plan_report

    reporter = Reporter()
    settings = _settings(reporter, config, ollama_url, vllm_url, gpus, replicas)
    try:
        report = plan_report(settings, mode=mode)
    except (ConfigError, GpuChoiceError) as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_gpus(report["gpus"])
        _print_plan(report["plan"])


@servers_app.command("down")
def down_command(
    runtime: ManagedRuntime = RUNTIME,
    remove: bool = typer.Option(
        False, "--remove", help="Also delete the containers (model volumes are kept)."
    ),
    ollama_url: str | None = OLLAMA_URL,
    vllm_url: str | None = VLLM_URL,
    config: Path | None = CONFIG,
) -> None:
    """Stop the model servers dualread started."""
    from dualread.runtime.errors import LauncherError
    from dualread.runtime.factory import make_launcher, open_manager

    reporter = Reporter()
    settings = _settings(reporter, config, ollama_url, vllm_url)
    launcher = make_launcher(runtime)
    manager = open_manager(settings, launcher=launcher)
    try:
        for spec in manager.servers.servers:
            if remove:
                launcher.remove(spec)
            else:
                launcher.stop(spec)
            reporter.info(f"{spec.name}: {launcher.state(spec).detail}")
    except LauncherError as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_SERVERS_UNAVAILABLE) from None
    finally:
        manager.close(stop=False)


@servers_app.command("status")
def status_command(
    runtime: ManagedRuntime = RUNTIME,
    ollama_url: str | None = OLLAMA_URL,
    vllm_url: str | None = VLLM_URL,
    config: Path | None = CONFIG,
    as_json: bool = JSON_OUT,
) -> None:
    """Each server: how it runs, whether it answers, which models hold GPU memory."""
    from dualread.runtime.errors import LauncherError
    from dualread.runtime.factory import make_launcher, open_manager

    reporter = Reporter()
    settings = _settings(reporter, config, ollama_url, vllm_url)
    manager = open_manager(settings, launcher=make_launcher(runtime))
    try:
        _print_status(manager.status(), as_json)
    except LauncherError as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_SERVERS_UNAVAILABLE) from None
    finally:
        manager.close(stop=False)


def _print_gpus(gpus: dict[str, Any]) -> None:
    typer.echo(f"GPUs ({gpus['source']}): {len(gpus['devices'])}")
    if gpus["error"]:
        typer.echo(f"  {gpus['error']}")
    for gpu in gpus["devices"]:
        typer.echo(
            f"  GPU {gpu['index']}: {gpu['name']}, {gpu['memory_total_mib']} MiB total, "
            f"{gpu['memory_free_mib']} MiB free"
        )


def _print_plan(plan: dict[str, Any]) -> None:
    typer.echo(f"Plan: {plan['kind']} ({plan['reason']})")
    for name, server in plan["servers"].items():
        where = "; ".join(
            f"GPU {','.join(map(str, r['gpus'])) or 'none'}"
            + (f" ({r['gpu_memory_fraction']:.0%})" if r["gpu_memory_fraction"] else "")
            for r in server["replicas"]
        )
        typer.echo(
            f"  {name} x{len(server['replicas'])}: {where}; switch by {server['switch']}, "
            f"{server['concurrency']} requests at once each"
        )
    if plan["phases"]:
        typer.echo(f"  phases: {' -> '.join(plan['phases'])}")


def _print_doctor(report: dict[str, Any]) -> None:
    _print_gpus(report["gpus"])
    driver = report["driver"]
    if driver["version"]:
        typer.echo(f"NVIDIA driver {driver['version']}, CUDA {driver['cuda']} ({driver['source']})")
    for problem in driver["will_not_start"]:
        typer.echo(f"  will not start: {problem}")
    docker = report["docker"]
    if docker["reachable"]:
        images = ", ".join(
            f"{k} {'present' if v else 'missing'}" for k, v in docker["images"].items()
        )
        typer.echo(f"Docker {docker['version']} (API {docker['api_version']}); images: {images}")
    else:
        typer.echo(f"Docker: not reachable ({docker['error']})")
    typer.echo("Servers:")
    for server in report["servers"]:
        line = f"  {server['server']:<8} {server['url']:<24} "
        if not server["reachable"]:
            typer.echo(line + "not answering")
            continue
        missing = server.get("models_missing") or []
        line += "answering; models " + ("missing: " + ", ".join(missing) if missing else "present")
        typer.echo(line)
    _print_plan(report["plan"])
    typer.echo(f"Engine for --engine auto: {report['engine']} ({report['engine_reason']})")


def doctor_command(
    as_json: bool = JSON_OUT,
    mode: Mode = MODE,
    image_ollama: str | None = IMAGE_OLLAMA,
    image_vllm: str | None = IMAGE_VLLM,
    ollama_url: str | None = OLLAMA_URL,
    vllm_url: str | None = VLLM_URL,
    config: Path | None = CONFIG,
    gpus: str | None = GPUS,
    replicas: str | None = REPLICAS,
) -> None:
    """Check this host: GPUs, Docker, model servers and their models, and the plan it picks."""
    from dualread.runtime.doctor import doctor_report
    from dualread.runtime.gpu import GpuChoiceError

    reporter = Reporter()
    settings = _settings(reporter, config, ollama_url, vllm_url, gpus, replicas)
    try:
        report = doctor_report(settings, mode=mode, images=_images(image_ollama, image_vllm))
    except (ConfigError, GpuChoiceError) as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_doctor(report)
