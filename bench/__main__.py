"""``python -m bench [--quick] [--table] [NAME ...]``: run the benchmarks and collect their results.

Every ``bench/<name>.py`` (except this runner and ``common.py``) is a benchmark. Each runs in its
own process (``python -m bench.<name>``), so one cannot skew another's memory or timings, and
writes ``bench/results/<name>.json``. ``--quick`` runs the tiny smoke mode of those that have one,
into the git-ignored ``bench/results/tmp/``, so it never overwrites real results.

At the end the runner prints the Performance table (the ``headline`` rows of every result file)
in markdown; ``--table`` prints it from the existing results without running anything.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import OUTPUT_OPTION, QUICK_OPTION, QUICK_RESULTS_DIR, RESULTS_DIR, ROOT

BENCH_DIR = ROOT / "bench"
NOT_BENCHMARKS = {"__init__", "__main__", "common"}


def discover() -> list[str]:
    """The benchmark names: every module in ``bench/`` that is not shared code."""
    return sorted(
        path.stem
        for path in BENCH_DIR.glob("*.py")
        if path.stem not in NOT_BENCHMARKS and not path.stem.startswith("_")
    )


def options_of(name: str) -> set[str]:
    """The ``--options`` a benchmark declares, read from its source without importing it: string
    literals that look like options, plus the shared ones when it builds its parser with
    :func:`bench.common.base_parser`. A benchmark without ``--quick`` is skipped in a quick run."""
    tree = ast.parse((BENCH_DIR / f"{name}.py").read_text(encoding="utf-8"))
    options = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.alias) and "base_parser" in (
            getattr(node, "id", None),
            getattr(node, "name", None),
        ):
            options |= {QUICK_OPTION, OUTPUT_OPTION}
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("--")
            and node.value[2:].replace("-", "").isalnum()
        ):
            options.add(node.value)
    return options


@dataclass
class Outcome:
    name: str
    status: str  # "ok", "failed (exit N)", "skipped: why"
    seconds: float
    result_file: Path | None


def run_one(name: str, quick: bool) -> Outcome:
    options = options_of(name)
    command = [sys.executable, "-m", f"bench.{name}"]
    results_dir = RESULTS_DIR
    if quick:
        if QUICK_OPTION not in options:
            return Outcome(name, "skipped: it has no --quick mode", 0.0, None)
        command.append(QUICK_OPTION)
        results_dir = QUICK_RESULTS_DIR
    result_file = results_dir / f"{name}.json"
    if OUTPUT_OPTION in options:
        command += [OUTPUT_OPTION, str(result_file)]
    print(f"== bench {name}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    returncode = subprocess.run(command, cwd=ROOT, check=False).returncode
    seconds = time.perf_counter() - started
    status = "ok" if returncode == 0 else f"failed (exit {returncode})"
    return Outcome(name, status, seconds, result_file if result_file.exists() else None)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(result_files: list[Path]) -> str:
    """The Performance table: one row per headline of each result, with the command and machine."""
    lines = [
        "| benchmark | metric | result | target | met | command |",
        "|---|---|---|---|---|---|",
    ]
    machines: dict[str, str] = {}
    for path in result_files:
        result = json.loads(path.read_text(encoding="utf-8"))
        name = result.get("benchmark", path.stem)
        command = result.get("command") or f"uv run --frozen python -m bench {name}"
        machine = result.get("machine") or {}
        if machine:
            cores = machine.get("usable_cores") or machine.get("cpus")
            machines[name] = f"{machine.get('cpu') or machine.get('processor')}, {cores} cores"
        rows = result.get("headline") or [{"metric": "(no headline rows)", "value": ""}]
        for row in rows:
            met = {True: "yes", False: "**no**", None: "n/a"}[row.get("ok")]
            lines.append(
                f"| {_cell(name)} | {_cell(row.get('metric', ''))} | {_cell(row.get('value', ''))}"
                f" | {_cell(row.get('target', ''))} | {met} | `{_cell(command)}` |"
            )
    if machines:
        lines.append("")
        lines += [f"- `{name}` ran on {machine}." for name, machine in sorted(machines.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke runs into results/tmp")
    parser.add_argument("--table", action="store_true", help="only print the results table")
    parser.add_argument("--list", action="store_true", help="only list the benchmarks")
    args = parser.parse_args(argv)

    known = discover()
    unknown = sorted(set(args.names) - set(known))
    if unknown:
        print(
            f"error: no benchmark {', '.join(unknown)} (have: {', '.join(known)})", file=sys.stderr
        )
        return 2
    names = args.names or known
    if args.list:
        print("\n".join(names))
        return 0
    results_dir = QUICK_RESULTS_DIR if args.quick else RESULTS_DIR
    if args.table:
        files = [results_dir / f"{n}.json" for n in names if (results_dir / f"{n}.json").exists()]
        print(markdown_table(files))
        return 0

    outcomes = [run_one(name, args.quick) for name in names]
    print("\n== summary")
    for outcome in outcomes:
        where = f" -> {outcome.result_file.relative_to(ROOT)}" if outcome.result_file else ""
        print(f"{outcome.name}: {outcome.status} in {outcome.seconds:.1f} s{where}")
    files = [o.result_file for o in outcomes if o.result_file and o.status == "ok"]
    if files:
        print("\n" + markdown_table(files))
    return 1 if any(o.status.startswith("failed") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
