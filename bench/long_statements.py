"""Long statements: peak memory and time of 10-, 100- and 300-page statements, through the
embedded engine and through both VLM routes plus consensus (against stand-in servers).

Each statement comes from the fixtures generator (fixed seed). Each extraction runs
``dualread.api.extract(path, engine=...)`` in a fresh child process, as a user's run would; the
parent samples the child's resident memory (psutil) while it runs, and the child reports its own
peak (VmHWM). For the ``vlm`` engine the child talks to an Ollama stand-in (route A and
the markdown->JSON model) and an OpenAI stand-in (route B's OCR model), both answering from the
oracle index of the generated statements, so consensus sees full, realistic readings.

Targets: peak memory under 1 GB (pages stream; page images are not all held at once), and time
linear in pages: the marginal CPU time per page from 100 to 300 pages at most 1.3 times that
from 10 to 100 pages (a quadratic step would make it about 3.6). The child's CPU time is the
check because on a shared machine the wall time also counts waiting for a core; both are
reported.

Run: ``uv run --frozen python -m bench.long_statements [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
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
    Run,
    base_parser,
    generated_statement,
    headline,
    own_peak_rss_mib,
    summarize,
    target,
)
from dualread.documents import DEFAULT_DPI
from dualread.testing.oracle import build_oracle_index, write_oracle_index
from dualread.testing.standins.launch import start_standin

NAME = "long_statements"
PAGES = (10, 100, 300)
QUICK_PAGES = (1, 2)
ENGINES = ("embedded", "vlm")
MEMORY_LIMIT_MB = 1024
LINEARITY_LIMIT = 1.3
KILL_ABOVE_MB = 6144  # a runaway child is stopped before it hurts the shared machine
CHILD_TIMEOUT_S = 1800
SAMPLE_EVERY_S = 0.2
RESULT_PREFIX = "long-statement-result "


def child_main(engine: str, path: Path) -> int:
    """In the child: one extraction, then one line with its time and peak memory."""
    from dualread.api import extract  # imported here so the baseline includes it

    baseline_mb = own_peak_rss_mib()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = extract(path, engine=engine)  # type: ignore[arg-type]
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    document = result.document or {}
    record = {
        "seconds": seconds,
        "cpu_s": cpu_s,
        "peak_rss_mb": own_peak_rss_mib(),
        "rss_after_imports_mb": baseline_mb,
        "exit_code": result.exit_code,
        "status": result.status,
        "error": result.error,
        "pages": result.page_count,
        "transactions": len(document.get("transactions", [])),
    }
    print(RESULT_PREFIX + json.dumps(record), flush=True)
    return 0


def run_child(engine: str, path: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run one extraction in a child; sample its RSS; stop it past the time or memory limit."""
    command = [sys.executable, "-m", "bench.long_statements", "--child", engine, str(path)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    watched = psutil.Process(process.pid)
    sampled_peak_mb = 0.0
    stopped: str | None = None
    while process.poll() is None:
        try:
            sampled_peak_mb = max(sampled_peak_mb, watched.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            break
        if sampled_peak_mb > KILL_ABOVE_MB:
            stopped = f"stopped: resident memory passed {KILL_ABOVE_MB} MB"
        elif time.perf_counter() - started > CHILD_TIMEOUT_S:
            stopped = f"stopped: still running after {CHILD_TIMEOUT_S} s"
        if stopped:
            process.kill()
            break
        time.sleep(SAMPLE_EVERY_S)
    output, _ = process.communicate()
    lines = [line for line in output.splitlines() if line.startswith(RESULT_PREFIX)]
    if stopped or not lines:
        return {
            "ok": False,
            "problem": stopped or f"the child exited {process.returncode} without a result",
            "seconds": time.perf_counter() - started,
            "peak_rss_mb": sampled_peak_mb,
        }
    record: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    record["peak_rss_mb"] = max(record["peak_rss_mb"], sampled_peak_mb)
    record["ok"] = record["exit_code"] in (0, 3) and record["error"] is None
    return record


@contextmanager
def standin_servers(statements: Sequence[Path], directory: Path) -> Iterator[dict[str, str]]:
    """Ollama and OpenAI stand-ins answering from the statements' oracle; yields the env vars
    that point dualread at them."""
    oracle = write_oracle_index(
        build_oracle_index(statements, DEFAULT_DPI), directory / "oracle.json"
    )
    with ExitStack() as stack:
        ollama = stack.enter_context(start_standin("ollama", oracle=oracle))
        openai = stack.enter_context(start_standin("openai", oracle=oracle))
        yield {"DUALREAD_OLLAMA_URL": ollama.api_url, "DUALREAD_VLLM_URL": openai.api_url}
        for server in (ollama, openai):
            rejected = server.stats()["rejections"]
            if rejected:
                raise SystemExit(f"error: the {server.kind} stand-in rejected requests: {rejected}")


def marginal_ratio(seconds_by_pages: dict[int, float]) -> float | None:
    """Marginal seconds per page over the upper interval / over the lower one (1.0: linear)."""
    sizes = sorted(seconds_by_pages)
    if len(sizes) < 3:
        return None
    low, mid, high = sizes[0], sizes[len(sizes) // 2], sizes[-1]
    lower = (seconds_by_pages[mid] - seconds_by_pages[low]) / (mid - low)
    upper = (seconds_by_pages[high] - seconds_by_pages[mid]) / (high - mid)
    return upper / lower if lower > 0 else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=None, help="runs per size (default 2)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PDF"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child[0], Path(args.child[1]))
    run = Run(NAME, args)
    sizes = QUICK_PAGES if args.quick else PAGES
    repeats = args.repeats or (1 if args.quick else 2)
    engines = [e for e in args.engines.split(",") if e]
    statements = {pages: generated_statement(pages) for pages in sizes}

    records: dict[str, dict[int, list[dict[str, Any]]]] = {
        e: {p: [] for p in sizes} for e in engines
    }
    with tempfile.TemporaryDirectory(prefix="dualread-bench-") as temp:
        env = {
            **os.environ,
            "DUALREAD_USE_CACHE": "false",
            "DUALREAD_CACHE_DIR": str(Path(temp) / "cache"),
            "DUALREAD_CONFIG": str(Path(temp) / "absent.toml"),
        }
        with ExitStack() as stack:
            if "vlm" in engines:
                env |= stack.enter_context(standin_servers(list(statements.values()), Path(temp)))
            for _ in range(repeats):
                for pages, path in statements.items():
                    for engine in engines:
                        record = run_child(engine, path, env)
                        records[engine][pages].append(record)
                        print(
                            f"{engine} {pages} pages: {record['seconds']:.1f} s, "
                            f"peak {record['peak_rss_mb']:.0f} MB"
                            + ("" if record["ok"] else f" ({record.get('problem') or record})"),
                            flush=True,
                        )

    results: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    targets = []
    headlines = []
    for engine in engines:
        curve: dict[str, Any] = {}
        wall: dict[int, float] = {}
        cpu: dict[int, float] = {}
        for pages in sizes:
            runs = records[engine][pages]
            seconds = summarize([r["seconds"] for r in runs], 3)
            cpu_seconds = summarize([r.get("cpu_s", float("nan")) for r in runs], 3)
            wall[pages], cpu[pages] = seconds["median"], cpu_seconds["median"]
            curve[str(pages)] = {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "seconds_per_page": seconds["median"] / pages,
                "cpu_seconds_per_page": cpu_seconds["median"] / pages,
                "peak_rss_mb": summarize([r["peak_rss_mb"] for r in runs], 1),
                "all_ok": all(r["ok"] for r in runs),
                "runs": runs,
            }
        results[engine] = curve
        wall_ratio, cpu_ratio = marginal_ratio(wall), marginal_ratio(cpu)
        ratios[f"{engine}_marginal_seconds_per_page_upper_over_lower"] = wall_ratio
        ratios[f"{engine}_marginal_cpu_seconds_per_page_upper_over_lower"] = cpu_ratio
        worst_peak = max(r["peak_rss_mb"] for runs in records[engine].values() for r in runs)
        all_ok = all(r["ok"] for runs in records[engine].values() for r in runs)
        targets.append(target(f"{engine}: peak RSS", worst_peak, MEMORY_LIMIT_MB, "MB"))
        if cpu_ratio is not None:
            targets.append(
                target(
                    f"{engine}: marginal CPU time per page, upper/lower interval",
                    cpu_ratio,
                    LINEARITY_LIMIT,
                    "ratio",
                )
            )
        label = "embedded engine" if engine == "embedded" else "VLM routes + consensus (stand-ins)"
        ratio_text = (
            f" (marginal ratio: wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f})"
            if wall_ratio is not None and cpu_ratio is not None
            else ""
        )
        headlines.append(
            headline(
                f"{label}: wall / CPU seconds at " + ", ".join(f"{p}" for p in sizes) + " pages",
                ", ".join(f"{wall[p]:.1f} / {cpu[p]:.1f} s" for p in sizes)
                + ratio_text
                + ("" if all_ok else "; some runs failed"),
                f"linear (CPU ratio ≤ {LINEARITY_LIMIT})",
                (cpu_ratio is not None and cpu_ratio <= LINEARITY_LIMIT and all_ok)
                if len(sizes) >= 3
                else None,
            )
        )
        headlines.append(
            headline(
                f"{label}: peak RSS at {max(sizes)} pages",
                f"{curve[str(max(sizes))]['peak_rss_mb']['median']:.0f} MB",
                f"< {MEMORY_LIMIT_MB} MB",
                worst_peak < MEMORY_LIMIT_MB,
            )
        )
    written = run.write(
        parameters={
            "pages": list(sizes),
            "repeats": repeats,
            "engines": engines,
            "dpi": DEFAULT_DPI,
            "generator": "fixtures.generator debit_credit en-GB digital",
            "memory": "max of the child's own VmHWM and the parent's psutil samples of its RSS",
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
