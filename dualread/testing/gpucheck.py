"""``make gpu-check`` (``python -m dualread.testing.gpucheck``): whether, and how well, dualread
runs on this GPU host, in one command and one report.

1. Images: builds them with ``build-images.sh`` (``--pull`` skips that: the images are in the
   registry already, as IMAGE_REPO names them).
2. Servers: starts them per the plan (``dualread servers up``'s manager), as containers.
3. Switches: walks the phases once (visual -> ocr -> json -> visual) and times every switch
   (vLLM sleep/wake, Ollama unload/load).
4. Accuracy and speed: runs ``dualread eval`` over the fixture corpus and the real-world
   statements with ``--engine vlm`` and with each route alone, and takes pages per second from
   each run's report.
5. GPU memory: samples NVML every 0.5 s throughout and keeps each GPU's peak per phase, so each
   server's peak is that of the phases it held the GPU in.

Writes one JSON report (``--output``, default ``gpu-check.json``) and prints a short table.
``--dry-run`` does the same against the stand-in servers (no GPU, no Docker, no model), as the
test suite does: it proves the command end to end, not the models.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from dualread.config import ROLES, Settings, load_settings
from dualread.runtime.driver import detect_driver, driver_problems
from dualread.runtime.external import ExternalLauncher
from dualread.runtime.factory import open_manager
from dualread.runtime.gpu import Gpu, detect_gpus
from dualread.runtime.plan import make_plan
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import server_set
from dualread.testing.oracle import build_oracle_index, write_oracle_index
from dualread.testing.standins.launch import RunningStandin, start_standin

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPORA = {
    "fixtures": REPO_ROOT / "fixtures" / "corpus",
    "realworld": REPO_ROOT.parent / "shared" / "realworld",
}
ENGINES = ("vlm", "visual", "ocr")
SAMPLE_S = 0.5
# The dry run's pretend GPU: one 24 GB card, so the plan is phased and every switch happens.
DRY_RUN_GPU = Gpu(0, "stand-in 24 GB GPU (dry run)", 24564, 0)


class MemoryWatch:
    """Samples NVML used memory per GPU in the background; peaks are kept per phase label."""

    def __init__(self) -> None:
        self.phase = "start"
        self.peaks: dict[str, dict[int, int]] = {}
        self.available = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception:  # no NVML: the report says so
            return
        self.available = True
        try:
            while not self._stop.is_set():
                for index in range(pynvml.nvmlDeviceGetCount()):
                    used = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index))
                    peak = self.peaks.setdefault(self.phase, {})
                    peak[index] = max(peak.get(index, 0), int(used.used) // (1024 * 1024))
                self._stop.wait(SAMPLE_S)
        finally:
            pynvml.nvmlShutdown()

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def time_switches(manager: ServerManager, watch: MemoryWatch) -> list[dict[str, Any]]:
    """Walk the plan's phases once (every role once when it is not phased)."""
    for role in manager.plan.phases or ROLES:
        watch.phase = role
        manager.activate(role)
    return [
        {
            "from": record.from_role,
            "to": record.to_role,
            "freed": list(record.freed),
            "started": list(record.started),
            "seconds": round(record.seconds, 3),
        }
        for record in manager.switches
    ]


def run_eval(corpus: Path, engine: str, environ: dict[str, str]) -> dict[str, Any]:
    """``dualread eval CORPUS --engine vlm`` (or ``--route ROUTE`` for one route alone)
    ``--json`` as a user runs it; its summary."""
    chosen = ["--engine", engine] if engine == "vlm" else ["--route", engine]
    command = [sys.executable, "-m", "dualread", "eval", str(corpus), *chosen]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--json", "--no-cache", "--quiet"],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    result: dict[str, Any] = {"command": " ".join(command[2:]), "exit": done.returncode}
    try:
        summary = json.loads(done.stdout)["summary"]
    except (ValueError, KeyError):
        result["error"] = (done.stderr.strip().splitlines() or ["no report"])[-1]
        return result
    per_page = summary.get("seconds_per_page") or 0.0
    result.update(
        seconds=round(elapsed, 1),
        documents=summary.get("documents"),
        failed=summary.get("failed"),
        row_f1=summary.get("row_f1"),
        header_accuracy=summary.get("header_accuracy"),
        pages_per_s=round(1 / per_page, 3) if per_page else None,
    )
    return result


@contextmanager
def standin_servers(
    settings: Settings, fixtures: Sequence[Path], state: Path
) -> Iterator[tuple[Settings, list[RunningStandin]]]:
    """The dry run's servers: stand-ins answering from the fixtures' truth."""
    oracle = write_oracle_index(build_oracle_index(fixtures), state / "oracle.json")
    with ExitStack() as stack:
        ollama = stack.enter_context(start_standin("ollama", oracle=oracle))
        vllm = stack.enter_context(start_standin("openai", oracle=oracle, enable_sleep_mode=True))
        yield settings.replace(ollama_url=ollama.url, vllm_url=vllm.api_url), [ollama, vllm]


def build_images(pull: bool) -> dict[str, Any]:
    if pull:
        return {"built": False, "note": "--pull: images taken from IMAGE_REPO's registry"}
    done = subprocess.run(["bash", str(REPO_ROOT / "build-images.sh")], check=False)
    return {"built": done.returncode == 0, "exit": done.returncode}


def gpu_check(args: argparse.Namespace) -> dict[str, Any]:
    corpora: dict[str, Path] = args.corpus
    report: dict[str, Any] = {
        "dry_run": args.dry_run,
        "corpora": {k: str(v) for k, v in corpora.items()},
    }
    driver = detect_driver()
    settings = load_settings().replace(use_cache=False)
    report["driver"] = {
        "version": driver.version,
        "cuda": driver.cuda,
        "will_not_start": driver_problems(driver, [s.kind for s in server_set(settings).servers]),
    }
    with ExitStack() as stack:
        watch = stack.enter_context(MemoryWatch())
        if args.dry_run:
            fixtures = [
                p for c in corpora.values() for p in sorted(c.iterdir()) if p.suffix != ".json"
            ]
            settings, _ = stack.enter_context(standin_servers(settings, fixtures, args.state))
            servers = server_set(settings)
            manager = ServerManager(make_plan([DRY_RUN_GPU], servers), servers, ExternalLauncher())
            report["images"] = {"built": False, "note": "dry run: stand-in servers"}
        else:
            report["images"] = build_images(args.pull)
            manager = open_manager(settings, runtime="docker")
            watch.phase = "up"
            manager.up()
        stack.callback(manager.close)
        report["gpus"] = [g.to_dict() for g in detect_gpus().gpus]
        report["plan"] = manager.plan.to_dict()
        report["switches"] = time_switches(manager, watch)
        if args.dry_run:
            # The stand-ins hold no memory: leave vLLM awake (a sleeping vLLM would hold the
            # eval's requests) and let Ollama load its models on demand.
            manager.activate("ocr")
            manager.close(stop=False)
            runtime = "external"
        else:
            # Each eval starts the servers per the plan and swaps them itself, as a user's run.
            manager.close()
            runtime = "docker"
        environ = {
            **os.environ,
            "DUALREAD_OLLAMA_URL": settings.ollama_url,
            "DUALREAD_VLLM_URL": settings.vllm_url,
            "DUALREAD_SERVERS": runtime,
        }
        runs = []
        for corpus_name, corpus in corpora.items():
            for engine in ENGINES:
                watch.phase = f"eval {corpus_name} {engine}"
                runs.append(
                    {"corpus": corpus_name, "engine": engine, **run_eval(corpus, engine, environ)}
                )
        report["evals"] = runs
    report["gpu_memory_peak_mib"] = watch.peaks if watch.available else None
    return report


def table(report: dict[str, Any]) -> str:
    lines = ["corpus     engine  docs  row F1  pages/s  exit"]
    for run in report["evals"]:
        f1 = run.get("row_f1")
        lines.append(
            f"{run['corpus']:<10} {run['engine']:<7} {run.get('documents') or '-':>4}  "
            f"{'-' if f1 is None else f'{f1:.1%}':>6}  {run.get('pages_per_s') or '-':>7}  "
            f"{run['exit']}"
        )
    for switch in report["switches"]:
        lines.append(f"switch {switch['from']} -> {switch['to']}: {switch['seconds']} s")
    peaks = report["gpu_memory_peak_mib"]
    lines.append("GPU memory peak (MiB): " + (json.dumps(peaks) if peaks else "no NVML here"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dualread.testing.gpucheck", description=__doc__
    )
    parser.add_argument("--dry-run", action="store_true", help="stand-in servers, no GPU")
    parser.add_argument("--pull", action="store_true", help="do not build the images")
    parser.add_argument("--output", type=Path, default=Path("gpu-check.json"))
    parser.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="statements with ground truth to evaluate (default: fixtures and realworld)",
    )
    parser.add_argument("--state", type=Path, default=Path(".gpu-check"), help="work folder")
    args = parser.parse_args(argv)
    args.corpus = (
        dict((name, Path(path)) for name, _, path in (c.partition("=") for c in args.corpus))
        if args.corpus
        else CORPORA
    )
    args.state.mkdir(parents=True, exist_ok=True, mode=0o700)
    report = gpu_check(args)
    temporary = args.output.with_suffix(".tmp")
    temporary.write_text(json.dumps(report, indent=2) + "\n")
    temporary.replace(args.output)
    print(table(report))
    print(f"report: {args.output}")
    return 0 if all(run["exit"] == 0 for run in report["evals"]) else 1


if __name__ == "__main__":
    sys.exit(main())
