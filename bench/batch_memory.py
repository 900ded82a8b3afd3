"""Peak memory of a 100-photo batch through the real command line (issue 16, section 4).

40 phone photos once took 2.6 GB (every decoded image kept until the batch ended). Here
``dualread extract PHOTOS -o OUT`` runs in a child process over 10 and then 100 generated phone
photos (4000 x 3000 JPEG from ``tests/safety/hostile_files.py``, each a different shade, so no two
are alike), once per engine; the peak at 100 over the peak at 10 shows whether memory grows with
the batch:

- ``embedded``: the CPU engine alone: decode, OCR;
- ``vlm``: both VLM routes against stand-in servers: decode, then render and encode every page
  for each route. The embedded third voter is off, so that its OCR does not hide the routes' cost.

The photos hold no statement, so every file is written as needing review (exit 3), as a blank
page is: what is measured is memory, not reading.

Peak of the process tree: the larger of the CLI's own VmHWM, read by itself as it exits (not
``ru_maxrss``, which Linux carries across fork and exec from a large parent), and the tree's
proportional set size (the CLI and every process it started, such as Tesseract), summed at each
sample every 0.2 s. PSS, not RSS: a child caught between fork and exec still maps the CLI's pages,
and RSS would count them twice (a first run sampled 1123 MB that way beside a 781 MB CLI). A child
that lives less than a sample is missed by the sum, so the largest VmHWM of any child is reported
beside it. The parent also stops a runaway child.

Target: under 1 GB. Run: ``uv run --frozen python -m bench.batch_memory [--quick]``.
"""

from __future__ import annotations

import atexit
import json
import os
import runpy
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psutil

from bench.common import (
    QUICK_RESULTS_DIR,
    Run,
    base_parser,
    headline,
    own_peak_rss_mib,
    peak_rss_mib,
    target,
)
from dualread.testing.standins.launch import start_standin
from tests.safety.hostile_files import phone_photo

NAME = "batch_memory"
BATCHES, PHOTO_SIZE = (10, 100), (4000, 3000)
QUICK_BATCHES, QUICK_PHOTO_SIZE = (1, 3), (800, 600)
ENGINES = ("embedded", "vlm")
MEMORY_LIMIT_MB = 1024
KILL_ABOVE_MB = 6144  # a runaway child is stopped before it hurts the shared machine
CHILD_TIMEOUT_S = 3600
SAMPLE_EVERY_S = 0.2
CHILD_FLAG = "--child"
RESULT_PREFIX = "batch-memory-result "
PHOTO_DIR = QUICK_RESULTS_DIR / "photos"  # generated, git-ignored


def child_main(extract_arguments: Sequence[str]) -> None:
    """In the child: ``dualread extract ARGUMENTS`` as the command runs it, then one line with
    this process's own peak and CPU time, written as it exits."""

    def report() -> None:
        usage = psutil.Process().cpu_times()  # its children's too: Tesseract runs as one
        cpu_s = usage.user + usage.system + usage.children_user + usage.children_system
        record = {"peak_mb": own_peak_rss_mib(), "cpu_s": cpu_s}
        print(RESULT_PREFIX + json.dumps(record), flush=True)

    atexit.register(report)
    sys.argv = ["dualread", "extract", *extract_arguments]
    runpy.run_module("dualread", run_name="__main__")


def photos(count: int, size: tuple[int, int]) -> list[Path]:
    """``count`` distinct phone photos, generated once into the git-ignored results folder."""
    PHOTO_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = PHOTO_DIR / f"photo-{size[0]}x{size[1]}-{number:03}.jpg"
        if not path.exists():
            made = phone_photo(path.with_suffix(".part.jpg"), *size, shade=number)
            made.replace(path)  # a generation cut short is never taken for a photo
        paths.append(path)
    return paths


def run_child(arguments: Sequence[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run one batch in a child; watch its process tree; stop it past the time or memory limit."""
    command = [sys.executable, "-m", f"bench.{NAME}", CHILD_FLAG, *arguments]
    started = time.perf_counter()
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        )
        watched = psutil.Process(process.pid)
        descendants: dict[int, float] = {}  # pid -> last VmHWM seen
        sampled_tree_mb = 0.0
        stopped: str | None = None
        while process.poll() is None:
            try:
                tree = [watched, *watched.children(recursive=True)]
                shared_out = sum(p.memory_full_info().pss for p in tree if p.is_running())
            except psutil.NoSuchProcess:  # one left between listing and reading
                time.sleep(SAMPLE_EVERY_S)
                continue
            sampled_tree_mb = max(sampled_tree_mb, shared_out / 2**20)
            for child in tree[1:]:
                if (peak := peak_rss_mib(child.pid)) is not None:
                    descendants[child.pid] = max(descendants.get(child.pid, 0.0), peak)
            if sampled_tree_mb > KILL_ABOVE_MB:
                stopped = f"stopped: its memory passed {KILL_ABOVE_MB} MB"
            elif time.perf_counter() - started > CHILD_TIMEOUT_S:
                stopped = f"stopped: still running after {CHILD_TIMEOUT_S} s"
            if stopped:
                process.kill()
                break
            time.sleep(SAMPLE_EVERY_S)
        output, _ = process.communicate()
    seconds = time.perf_counter() - started
    lines = [line for line in output.splitlines() if line.startswith(RESULT_PREFIX)]
    if stopped or not lines:
        problem = stopped or f"the child exited {process.returncode} without a result"
        return {
            "ok": False,
            "problem": problem,
            "seconds": seconds,
            "tree_peak_mb": sampled_tree_mb,
        }
    own: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    return {
        "seconds": seconds,
        "cpu_s": own["cpu_s"],
        "own_peak_mb": own["peak_mb"],
        "child_processes": len(descendants),
        "largest_child_peak_mb": max(descendants.values(), default=0.0),
        "sampled_tree_peak_mb": sampled_tree_mb,
        "tree_peak_mb": max(own["peak_mb"], sampled_tree_mb),
        "exit_code": process.returncode,
    }


@contextmanager
def standin_servers() -> Iterator[dict[str, str]]:
    """Ollama and OpenAI stand-ins with no oracle (they answer every page with an empty
    reading); yields the env vars that point dualread at them."""
    with ExitStack() as stack:
        ollama = stack.enter_context(start_standin("ollama"))
        openai = stack.enter_context(start_standin("openai"))
        yield {"DUALREAD_OLLAMA_URL": ollama.api_url, "DUALREAD_VLLM_URL": openai.api_url}
        for server in (ollama, openai):
            if rejected := server.stats()["rejections"]:
                raise SystemExit(f"error: the {server.kind} stand-in rejected requests: {rejected}")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == [CHILD_FLAG]:
        child_main(arguments[1:])
        return 0
    parser = base_parser(__doc__)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines")
    args = parser.parse_args(arguments)
    run = Run(NAME, args)
    batches, size = (QUICK_BATCHES, QUICK_PHOTO_SIZE) if args.quick else (BATCHES, PHOTO_SIZE)
    engines = [e for e in args.engines.split(",") if e]
    inputs = photos(max(batches), size)

    results: dict[str, dict[str, Any]] = {engine: {} for engine in engines}
    ratios: dict[str, Any] = {}
    targets: list[dict[str, Any]] = []
    headlines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dualread-bench-") as temp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DUALREAD_")},
            "DUALREAD_USE_CACHE": "false",
            "DUALREAD_CACHE_DIR": str(Path(temp) / "cache"),
            "DUALREAD_CONFIG": str(Path(temp) / "absent.toml"),
        }
        for engine in engines:
            for count in batches:
                out = Path(temp) / f"out-{engine}-{count}"
                flags = ["--engine", engine, "-o", f"{out}/", "-q"]
                with ExitStack() as stack:
                    if engine == "vlm":
                        flags.append("--no-third-voter")
                        env_for = env | stack.enter_context(standin_servers())
                    else:
                        env_for = env
                    batch = [*flags, *map(str, inputs[:count])]
                    record = run_child(batch, env_for, Path(temp) / "log")
                record["written"] = len(list(out.glob("*.json")))
                record["ok"] = record.get("exit_code") in (0, 3) and record["written"] == count
                results[engine][str(count)] = record
                print(
                    f"{engine}: {count} photos in {record['seconds']:.1f} s, "
                    f"process tree peak {record['tree_peak_mb']:.0f} MB"
                    + ("" if record["ok"] else f" ({record.get('problem') or record})"),
                    flush=True,
                )
            small, large = (results[engine][str(n)] for n in (min(batches), max(batches)))
            ok = small["ok"] and large["ok"]
            if ok and small["tree_peak_mb"] > 0:
                growth = large["tree_peak_mb"] / small["tree_peak_mb"]
                ratios[f"{engine}_tree_peak_{max(batches)}_over_{min(batches)}"] = round(growth, 3)
            peak = target(f"{engine}: tree peak", large["tree_peak_mb"], MEMORY_LIMIT_MB, "MB")
            targets.append(peak | {"ok": ok and peak["ok"]})  # a failed run met nothing
            label = "embedded engine" if engine == "embedded" else "VLM routes (stand-ins)"
            headlines.append(
                headline(
                    f"{max(batches)} phone photos ({size[0]} x {size[1]}) in one `dualread "
                    f"extract`, {label}: peak memory of the process tree (own VmHWM), wall / "
                    f"CPU s; at {min(batches)} photos",
                    f"{large['tree_peak_mb']:.0f} MB ({large.get('own_peak_mb', 0):.0f}), "
                    f"{large['seconds']:.0f} / {large.get('cpu_s', float('nan')):.0f} s; "
                    f"{small['tree_peak_mb']:.0f} MB ({small.get('own_peak_mb', 0):.0f})"
                    + ("" if ok else "; a run failed"),
                    f"< {MEMORY_LIMIT_MB} MB",
                    ok and large["tree_peak_mb"] < MEMORY_LIMIT_MB,
                )
            )
    written = run.write(
        parameters={
            "photos": list(batches),
            "photo_size": list(size),
            "engines": engines,
            "generator": "tests/safety/hostile_files.py phone_photo (a shade per photo)",
            "memory": "the larger of the CLI's own VmHWM at exit and the summed PSS of its "
            "process tree, sampled every 0.2 s",
        },
        results=results,
        ratios=ratios,
        targets=targets,
        headlines=headlines,
    )
    print(f"written to {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
