"""What every benchmark shares: the machine it ran on, repeated timings and their medians, ratios
measured side by side, targets, the command line, and the atomic JSON result file.

A result file ``bench/results/<name>.json`` holds::

    benchmark, command, quick, machine, started_at, wall_s,
    parameters  -- what was measured, and how often
    results     -- the measurements: medians (with min, max and every sample)
    ratios      -- ratios of variants timed in the same run, round by round
    targets     -- [{name, value, limit, unit, ok}] the issue's targets, checked
    headline    -- [{metric, value, target, ok}] the rows for the README table

The machines these run on are shared and noisy, so variants are timed interleaved (A B A B ...)
and compared by the median of the per-round ratios: a burst of load hits both sides of a round
alike and cancels out of the ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

from dualread.outputs.atomic import write_atomic
from fixtures.generator.corpus import Case, build_case

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
QUICK_RESULTS_DIR = RESULTS_DIR / "tmp"  # git-ignored: quick runs never overwrite real results
CORPUS_DIR = ROOT / "fixtures" / "corpus"
GENERATED_DIR = QUICK_RESULTS_DIR / "statements"  # generated inputs, git-ignored
# The fixtures generator's debit/credit layout prints 41 rows on page 1 and 51 on later pages;
# the last page also holds the closing summary, so it gets fewer.
FIRST_PAGE_ROWS, PAGE_ROWS, LAST_PAGE_ROWS = 41, 51, 45


def _cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (platform.processor() is often empty)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            # --no-optional-locks: never take .git/index.lock, others may be committing.
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def machine_description() -> dict[str, Any]:
    """CPU, cores (all and usable), RAM, load, Python, OS and the code's git commit."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
    }


def own_peak_rss_mib() -> float:
    """This process's own peak resident memory (VmHWM). Unlike ``getrusage``'s ``ru_maxrss``,
    it is not inherited from the parent through fork and exec."""
    peak = peak_rss_mib("self")
    if peak is None:
        raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")
    return peak


def peak_rss_mib(pid: int | str) -> float | None:
    """A process's peak resident memory (VmHWM) in MiB; None once it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass  # it has exited
    return None


def summarize(samples: Sequence[float], digits: int = 6) -> dict[str, Any]:
    """Median, min and max of ``samples``, and the samples themselves, rounded to ``digits``."""
    if not samples:
        raise ValueError("no samples to summarise")
    return {
        "median": round(statistics.median(samples), digits),
        "min": round(min(samples), digits),
        "max": round(max(samples), digits),
        "n": len(samples),
        "samples": [round(s, digits) for s in samples],
    }


def timed(function: Callable[[], object]) -> float:
    """Seconds one call of ``function`` takes."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def interleaved(
    variants: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Time every variant once per round, in turn, ``rounds`` times after ``warmup`` rounds.

    Returns the seconds per variant, one per round, in round order, ready for
    :func:`paired_ratio`.
    """
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(warmup + rounds):
        for name, function in variants.items():
            elapsed = timed(function)
            if round_number >= warmup:
                seconds[name].append(elapsed)
    return seconds


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> dict[str, Any]:
    """Median (and range) of the per-round ratios of two series timed in the same rounds."""
    if len(numerator) != len(denominator):
        raise ValueError("paired series must have one value per round each")
    return summarize([a / b for a, b in zip(numerator, denominator, strict=True) if b > 0], 4)


def target(
    name: str, value: float, limit: float, unit: str, *, at_most: bool = True
) -> dict[str, Any]:
    """One of the issue's targets, checked: ``value <= limit`` (or ``>=`` when not at_most)."""
    ok = value <= limit if at_most else value >= limit
    return {
        "name": name,
        "value": round(value, 6),
        "limit": round(limit, 6),
        "unit": unit,
        "comparison": "at most" if at_most else "at least",
        "ok": ok,
    }


def headline(metric: str, value: str, target_text: str, ok: bool | None) -> dict[str, Any]:
    """One row of the README's Performance table."""
    return {"metric": metric, "value": value, "target": target_text, "ok": ok}


@dataclasses.dataclass(frozen=True)
class LinearScaling:
    """Throughput at each worker count (replicas, nodes) against linear scaling from the first.

    Work grows with the workers, so the ideal is a constant wall time; the ratio of linear at
    ``n`` workers is ``rate(n) / ((n / first) * rate(first))``, per round, summarised over the
    rounds (each round times every count once, so a burst of load hits them alike).
    """

    seconds: Mapping[int, Sequence[float]]  # wall seconds per worker count, one per round
    rates: Mapping[int, Sequence[float]]  # work per second, one per round
    ratios: Mapping[int, dict[str, Any]]  # summaries of the per-round ratios of linear
    top: int  # the largest worker count

    @classmethod
    def measure(
        cls, seconds: Mapping[int, Sequence[float]], work_per_worker: float
    ) -> LinearScaling:
        """From wall seconds per worker count, in the order timed, the first count the base."""
        counts = list(seconds)
        first = counts[0]
        rates = {n: [n * work_per_worker / s for s in seconds[n]] for n in counts}
        rounds = range(len(seconds[first]))
        ratios = {
            n: summarize([(rates[n][i] / rates[first][i]) / (n / first) for i in rounds], 4)
            for n in counts
        }
        return cls(seconds, rates, ratios, max(counts))

    @property
    def at_top(self) -> float:
        return float(self.ratios[self.top]["median"])

    def seconds_summary(self) -> dict[str, Any]:
        return {str(n): summarize(self.seconds[n], 3) for n in self.seconds}

    def ratio_summary(self) -> dict[str, Any]:
        return {f"linear_{n}": self.ratios[n] for n in self.ratios}

    def target(self, workers: str, limit: float) -> dict[str, Any]:
        """The ratio of linear at the top count, checked against at least ``limit``."""
        name = f"ratio of linear at {self.top} {workers}"
        return target(name, self.at_top, limit, "x linear", at_most=False)

    def headline(self, metric: str, limit: float) -> dict[str, Any]:
        return headline(metric, f"{self.at_top:.2f}", f">= {limit}", self.at_top >= limit)


QUICK_OPTION, OUTPUT_OPTION = "--quick", "--output"


def base_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every benchmark takes: ``--quick`` (a tiny smoke run) and ``--output``."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument(
        QUICK_OPTION, action="store_true", help="a tiny run that checks the benchmark works"
    )
    parser.add_argument(
        OUTPUT_OPTION,
        type=Path,
        default=None,
        help="result file (default: bench/results/NAME.json)",
    )
    return parser


def result_path(name: str, output: Path | None, quick: bool) -> Path:
    if output is not None:
        return output
    return (QUICK_RESULTS_DIR if quick else RESULTS_DIR) / f"{name}.json"


def _without_output(argv: Sequence[str]) -> list[str]:
    """The command-line arguments less ``--output PATH``: where a result went is not part of
    the command that reproduces it."""
    kept: list[str] = []
    skip = False
    for argument in argv:
        if skip:
            skip = False
        elif argument == OUTPUT_OPTION:
            skip = True
        elif not argument.startswith(OUTPUT_OPTION + "="):
            kept.append(argument)
    return kept


class Run:
    """One benchmark run: collects the parts of the result file and writes it at the end."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name = name
        self.quick: bool = bool(args.quick)
        self.path = result_path(name, args.output, self.quick)
        self.started = time.perf_counter()
        self.started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.machine = machine_description()
        self.command = shlex.join(
            [
                "uv",
                "run",
                "--frozen",
                "python",
                "-m",
                f"bench.{name}",
                *_without_output(sys.argv[1:]),
            ]
        )

    def write(
        self,
        *,
        parameters: Mapping[str, Any],
        results: Mapping[str, Any],
        ratios: Mapping[str, Any],
        targets: Sequence[Mapping[str, Any]],
        headlines: Sequence[Mapping[str, Any]],
        notes: Sequence[str] = (),
    ) -> Path:
        """Write the result file atomically (a half-written result is never read back)."""
        payload = {
            "benchmark": self.name,
            "command": self.command,
            "quick": self.quick,
            "machine": self.machine,
            "started_at": self.started_at,
            "wall_s": round(time.perf_counter() - self.started, 1),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            "parameters": dict(parameters),
            "results": dict(results),
            "ratios": dict(ratios),
            "targets": list(targets),
            "headline": list(headlines),
            "notes": list(notes),
        }
        write_atomic(self.path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return self.path


def generated_statement(pages: int) -> Path:
    """A synthetic digital statement of exactly ``pages`` pages, made by the fixtures generator
    (fixed seed, so byte-identical on every run) with its ``.truth.json`` beside it; cached in
    the git-ignored ``bench/results/tmp/statements/``."""
    name = f"generated-{pages}p"
    path = GENERATED_DIR / f"{name}.pdf"
    if path.exists() and path.with_suffix(".truth.json").exists():
        return path
    rows = 30 if pages == 1 else FIRST_PAGE_ROWS + PAGE_ROWS * (pages - 2) + LAST_PAGE_ROWS
    for _ in range(4):
        built = build_case(Case(name, "debit_credit", "en-GB", "digital", rows))
        made = int(built.entry["pages"])
        if made == pages:
            for file_name, content in built.files.items():
                write_atomic(GENERATED_DIR / file_name, content)
            return path
        rows += (pages - made) * PAGE_ROWS
    raise RuntimeError(f"the generator made {made} pages, not {pages}, from {rows} rows")


def statement_copies(pages: int, folder: Path, count: int) -> list[Path]:
    """``count`` copies of one generated statement of ``pages`` pages under distinct names in
    ``folder``: a batch whose every document costs the same."""
    source = generated_statement(pages)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"statement-{number:03d}.pdf"
        shutil.copyfile(source, path)
        paths.append(path)
    return paths
