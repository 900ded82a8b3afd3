"""``dualread doctor`` and ``dualread servers up|down|status`` (through their typer app)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dualread.runtime import host_plan
from dualread.runtime.driver import DriverInfo
from dualread.runtime.gpu import Gpu, GpuReport
from dualread.runtime.launcher import Placement
from tests.docker_support import docker_client
from tests.runtime.rigs import ProcessRig, free_port, wait_until_answering

H100 = GpuReport((Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 0, "GPU-4a0f5e22"),), "nvidia-smi")


def cli() -> typer.Typer:
    """The commands as dualread/cli/__init__.py registers them."""
    from dualread.cli.servers import doctor_command, servers_app

    app = typer.Typer()
    app.add_typer(servers_app, name="servers")
    app.command("doctor")(doctor_command)
    return app


@pytest.fixture
def one_h100(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_plan, "detect_gpus", lambda: H100)


@pytest.fixture
def standins(tmp_path: Path) -> Iterator[ProcessRig]:
    rig = ProcessRig.create(tmp_path / "servers")
    for spec in rig.servers.servers:
        rig.launcher.start(spec, Placement())
    yield rig
    rig.cleanup()


def url_options(rig: ProcessRig) -> list[str]:
    return ["--ollama-url", rig.settings.ollama_url, "--vllm-url", rig.settings.vllm_url]


@pytest.mark.contract
def test_doctor_json_reports_gpus_servers_models_and_plan(
    standins: ProcessRig, one_h100: None
) -> None:
    wait_until_answering(standins.servers)
    result = CliRunner().invoke(cli(), ["doctor", "--json", *url_options(standins)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["gpus"]["devices"][0]["memory_total_mib"] == 81559
    servers = {s["server"]: s for s in report["servers"]}
    assert servers["ollama"]["reachable"] and servers["ollama"]["models_missing"] == []
    assert servers["vllm"]["models_present"] == ["nanonets/Nanonets-OCR-s"]
    assert servers["vllm"]["can_free_gpu_without_restart"] is True
    assert report["plan"]["kind"] == "co-resident"
    assert report["plan"]["servers"]["vllm"]["replicas"][0]["gpus"] == [0]
    assert [r["server"] for r in report["replicas"]] == ["ollama", "vllm"]
    assert report["engine"] == "vlm"
    assert {"reachable", "socket"} <= set(report["docker"])


@pytest.mark.unit
def test_doctor_human_output_with_nothing_running(one_h100: None) -> None:
    urls = ["--ollama-url", f"http://127.0.0.1:{free_port()}"]
    urls += ["--vllm-url", f"http://127.0.0.1:{free_port()}/v1"]
    result = CliRunner().invoke(cli(), ["doctor", "--mode", "sequential", *urls])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "GPU 0: NVIDIA H100 80GB HBM3, 81559 MiB total, 81559 MiB free" in text
    assert "not answering" in text
    assert "Plan: phased (--mode sequential" in text
    assert "phases: visual -> ocr -> json -> visual" in text
    assert "Engine for --engine auto: embedded" in text


@pytest.mark.unit
def test_servers_up_as_processes_without_ollama_installed_exits_4(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli(),
        [
            "servers",
            "up",
            "--runtime",
            "process",
            "--ollama-url",
            f"http://127.0.0.1:{free_port()}",
        ],
        env={"PATH": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)},
    )
    assert result.exit_code == 4
    assert (
        "'ollama' is not installed here" in result.output
        or "'vllm' is not installed" in result.output
    )


@pytest.mark.docker
@pytest.mark.slow
def test_servers_up_status_down_with_docker(
    docker_engine: Path, product_images: dict[str, str]
) -> None:
    images = product_images
    options = [
        "--runtime",
        "docker",
        "--ollama-url",
        f"http://127.0.0.1:{free_port()}",
        "--vllm-url",
        f"http://127.0.0.1:{free_port()}/v1",
    ]
    up = [
        "servers",
        "up",
        *options,
        "--network",
        "host",
        "--gpu-binding",
        "nvidia-env",
        "--image-ollama",
        images["ollama"],
        "--image-vllm",
        images["vllm"],
    ]
    runner = CliRunner()
    try:
        started = runner.invoke(cli(), up)
        assert started.exit_code == 0, started.output
        status = runner.invoke(cli(), ["servers", "status", *options, "--json"])
        rows = {row["server"]: row for row in json.loads(status.stdout)}
        assert rows["ollama"]["healthy"] and rows["vllm"]["healthy"]
        assert rows["ollama"]["runs_as"].startswith("container dualread-ollama: running")
        down = runner.invoke(cli(), ["servers", "down", *options])
        assert down.exit_code == 0, down.output
        assert "container dualread-vllm: exited" in down.output
    finally:
        runner.invoke(cli(), ["servers", "down", *options, "--remove"])
        with docker_client(docker_engine) as client:
            for volume in ("dualread-ollama", "dualread-hf-cache"):
                client.delete(f"/volumes/{volume}")


@pytest.mark.unit
def test_servers_plan_json_shows_replicas_for_the_chosen_gpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    eight = GpuReport(tuple(Gpu(i, "NVIDIA H200", 143771, 0) for i in range(8)), "nvml")
    monkeypatch.setattr(host_plan, "detect_gpus", lambda: eight)
    h200_driver = DriverInfo("580.159.04", "13.0", "nvml")
    monkeypatch.setattr(host_plan, "detect_driver", lambda: h200_driver)
    result = CliRunner().invoke(cli(), ["servers", "plan", "--json", "--gpus", "0,2,5"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["driver"]["version"], report["driver"]["cuda"]) == ("580.159.04", "13.0")
    assert report["driver"]["will_not_start"] == []
    assert [d["index"] for d in report["gpus"]["devices"]] == [0, 2, 5]
    assert report["plan"]["gpus_used"] == [0, 2, 5]
    copies = [(r["server"], r["gpus"]) for r in report["replicas"]]
    assert copies == [
        ("ollama", [0]),
        ("ollama-2", [2]),
        ("ollama-3", [5]),
        ("vllm", [0]),
        ("vllm-2", [2]),
        ("vllm-3", [5]),
    ]
    forced = CliRunner().invoke(cli(), ["servers", "plan", "--replicas", "ocr=2", "--gpus", "1"])
    assert forced.exit_code == 0, forced.output
    assert "vllm x2" in forced.stdout and "--replicas" in forced.stdout


@pytest.mark.unit
def test_servers_plan_rejects_a_gpu_that_is_not_visible(one_h100: None) -> None:
    result = CliRunner().invoke(cli(), ["servers", "plan", "--gpus", "4"])
    assert result.exit_code == 2
    assert "no visible GPU 4" in result.output
