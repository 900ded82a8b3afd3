"""Start-up: what ``dualread --version`` and ``dualread --help`` add to a bare Python start.

Each round starts, in turn, ``python -c pass`` (the interpreter alone), ``dualread --version``
and ``dualread --help``, each a fresh process through the installed console script. The time
dualread adds is the median of the per-round differences from ``python -c pass``, and the ratio
the median of the per-round ratios: a burst of load on the shared machine hits a whole round
alike and cancels out. Each start's CPU time (user + system) is recorded beside its wall time:
on a loaded machine it stays near what an idle one would see. Target: at most 0.3 s added.

``--before PYTHON`` also times the ``dualread`` of another environment (an older checkout's
``.venv/bin/python``) in the same rounds, so a before/after comparison comes from one run.

Run: ``uv run --frozen python -m bench.startup [--quick] [--before PATH]``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import Run, base_parser, headline, interleaved, paired_ratio, summarize, target

NAME = "startup"
ROUNDS, QUICK_ROUNDS = 11, 3
WARMUP_ROUNDS = 1
TARGET_ADDED_S = 0.3
BARE = "python -c pass"
OPTIONS = ("--version", "--help")


def dualread_command(python: Path) -> list[str]:
    """The console script beside ``python`` (what a user runs), else ``python -m dualread``."""
    script = python.parent / "dualread"
    return [str(script)] if script.exists() else [str(python), "-m", "dualread"]


def start(command: Sequence[str], cpu_seconds: list[float]) -> None:
    """One start of ``command``, to the end; its output is not wanted, its success is. Appends
    the CPU time it used (user + system) to ``cpu_seconds``."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    cpu_seconds.append(usage.ru_utime + usage.ru_stime)


def added(seconds: Sequence[float], bare: Sequence[float]) -> dict[str, Any]:
    """Per-round seconds above the bare interpreter, summarised."""
    return summarize([a - b for a, b in zip(seconds, bare, strict=True)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="the Python of another environment whose dualread is timed in the same rounds",
    )
    args = parser.parse_args(argv)
    run = Run(NAME, args)
    rounds = QUICK_ROUNDS if args.quick else ROUNDS
    environments = {"after": Path(sys.executable)}
    if args.before is not None:
        environments["before"] = args.before
    commands = {BARE: [sys.executable, "-c", "pass"]}
    for label, python in environments.items():
        for option in OPTIONS:
            commands[f"{label}: dualread {option}"] = [*dualread_command(python), option]
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    wall = interleaved(
        {name: partial(start, command, cpu[name]) for name, command in commands.items()},
        rounds,
        warmup=WARMUP_ROUNDS,
    )
    cpu = {name: values[WARMUP_ROUNDS:] for name, values in cpu.items()}

    results: dict[str, Any] = {}
    ratios = {}
    for name in commands:
        results[name] = {"wall_s": summarize(wall[name]), "cpu_s": summarize(cpu[name])}
        if name != BARE:
            results[name]["added_wall_s"] = added(wall[name], wall[BARE])
            results[name]["added_cpu_s"] = added(cpu[name], cpu[BARE])
            ratios[f"{name} / {BARE}"] = paired_ratio(wall[name], wall[BARE])
    targets = []
    headlines = []
    for label in environments:
        for option in OPTIONS:
            name = f"{label}: dualread {option}"
            extra = results[name]["added_wall_s"]["median"]
            extra_cpu = results[name]["added_cpu_s"]["median"]
            ratio = ratios[f"{name} / {BARE}"]["median"]
            ok: bool | None = None
            if label == "after":
                check = target(f"dualread {option}: added start-up", extra, TARGET_ADDED_S, "s")
                targets.append(check)
                ok = check["ok"]
            headlines.append(
                headline(
                    f"`dualread {option}` start-up added to `{BARE}`"
                    + (" (before)" if label == "before" else ""),
                    f"{extra:.3f} s wall ({ratio:.1f}x), {extra_cpu:.3f} s CPU",
                    f"≤ {TARGET_ADDED_S} s added" if ok is not None else "informative",
                    ok,
                )
            )
    written = run.write(
        parameters={
            "rounds": rounds,
            "warmup_rounds": WARMUP_ROUNDS,
            "commands": commands,
        },
        results=results,
        ratios=ratios,
        targets=targets,
        headlines=headlines,
        notes=[
            "Every variant is a fresh process, started in turn within each round.",
            f"added_*_s: the median of the per-round differences from `{BARE}` "
            f"(bare interpreter: {statistics.median(wall[BARE]):.3f} s wall).",
            "cpu_s: user + system time of the process (os.wait4). On a shared machine wall time "
            "grows with the load; CPU time much less, so it shows the cost on an idle machine.",
        ],
    )
    print(f"written to {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
