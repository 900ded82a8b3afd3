"""Scaling on one host: pages per second with 1, 2, 4 and 8 replicas of each server.

The real pipeline (``dualread.api.extract_many`` -> ``pipeline.read_batch``) reads a batch
through the real :class:`~dualread.runtime.scheduler.ServerManager`, which starts every copy as
a local process and spreads page requests over them (:mod:`dualread.runtime.replicas`). The
copies are stand-in servers answering from the oracle after a fixed latency per request: the
per-page GPU seconds of :class:`dualread.testing.simulated_servers.Costs` times ``SCALE``, so
the model is simulated and everything else is the product's.

Work grows with the replicas (``DOCS_PER_REPLICA`` two-page statements per copy), so the ideal
is a constant wall time: the ratio of linear at ``n`` copies is
``pages/s(n) / (n * pages/s(1))``; target at least 0.85 at 8. Points are timed round by round,
and ratios are medians of per-round ratios. Pages are rendered at a low DPI, so this machine's
two cores measure the dispatch, not PNG encoding.

A second measurement kills one copy of each server mid-batch (SIGKILL, as an OOM kill would) at
4 replicas: the time lost against the same batch with nothing killed, and whether every
document still came out identical.

Run: ``uv run --frozen python -m bench.scaling [--quick]``.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import (
    LinearScaling,
    Run,
    base_parser,
    generated_statement,
    headline,
    statement_copies,
)
from dualread.api import extract_many
from dualread.config import ServerKind, Settings
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import ServerSet
from dualread.testing.oracle import build_oracle_index, write_oracle_index
from dualread.testing.replica_rig import (
    kill_copy,
    loopback_settings,
    replica_manager,
    standin_servers,
)
from dualread.testing.simulated_servers import Costs

NAME = "scaling"
DPI = 72
TARGET_RATIO = 0.85


@dataclasses.dataclass(frozen=True)
class Plan:
    replicas: tuple[int, ...]
    docs_per_replica: int
    scale: float  # wall seconds per real GPU second
    rounds: int
    kill_at: int  # replicas when one copy is killed; 0: skip


FULL = Plan((1, 2, 4, 8), 1, 2.0, 2, 4)
QUICK = Plan((1, 2), 2, 0.05, 1, 2)
# Requests each copy takes at once. Kept small so that 8 copies' worth of page rendering, PNG
# encoding and stand-in answering fits on two busy cores: the ratio measures the dispatch.
PER_COPY = 2


def latency_profile(scale: float) -> tuple[str, str]:
    """The stand-ins' ``slow`` faults per role: real seconds per page times ``scale``."""
    costs, settings = Costs(), Settings()
    visual = costs.page_s[settings.model_visual] * scale
    ocr = costs.page_s[settings.model_ocr] * scale
    json_ = costs.page_s[settings.model_json] * scale
    return f"visual.slow={visual:g},json.slow={json_:g}", f"ocr.slow={ocr:g}"


def read(settings: Settings, manager: ServerManager, paths: list[Path]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    results = list(extract_many(paths, settings=settings, control=manager))
    elapsed = time.perf_counter() - started
    failed = [r.error for r in results if r.document is None]
    if failed:
        raise RuntimeError(f"{len(failed)} documents failed: {failed[:2]}")
    outcome = [
        ({k: v for k, v in r.document.items() if k != "extraction"}, r.status)
        for r in results
        if r.document is not None
    ]
    return elapsed, outcome


def main() -> None:
    parser = base_parser(__doc__)
    args = parser.parse_args()
    run = Run(NAME, args)
    plan = QUICK if run.quick else FULL
    ollama_latency, ocr_latency = latency_profile(plan.scale)
    with tempfile.TemporaryDirectory(prefix="dualread-scaling-") as scratch:
        work = Path(scratch)
        pages_per_doc = 2
        paths = statement_copies(pages_per_doc, work, max(plan.replicas) * plan.docs_per_replica)
        oracle = write_oracle_index(
            build_oracle_index([generated_statement(pages_per_doc)], DPI), work / "oracle.json"
        )
        settings = loopback_settings(
            max(plan.replicas), dpi=DPI, cache_dir=work / "cache", concurrency=PER_COPY
        )
        errors: dict[ServerKind, str] = {"ollama": ollama_latency, "vllm": ocr_latency}
        servers = standin_servers(settings, oracle, errors)
        servers = dataclasses.replace(
            servers,
            servers=tuple(
                dataclasses.replace(s, max_concurrency=PER_COPY) for s in servers.servers
            ),
        )
        managers: dict[int, ServerManager] = {}
        seconds: dict[int, list[float]] = {n: [] for n in plan.replicas}
        outcomes: dict[int, list[Any]] = {}
        try:
            for n in plan.replicas:
                managers[n] = replica_manager(servers, work / f"servers-{n}", n)
                managers[n].up()
            for round_number in range(1 + plan.rounds):  # round 0 warms the copies up
                for n in plan.replicas:
                    batch = paths[: n * plan.docs_per_replica]
                    elapsed, outcomes[n] = read(settings, managers[n], batch)
                    if round_number:
                        seconds[n].append(elapsed)
            scaling = LinearScaling.measure(seconds, plan.docs_per_replica * pages_per_doc)
            # Every document is the same statement: every reading must equal the first one's.
            reference = outcomes[plan.replicas[0]][0]
            identical = all(o == reference for n in outcomes for o in outcomes[n])
            for manager in managers.values():
                manager.close()
            managers.clear()
            kill: dict[str, Any] = {}
            if plan.kill_at:
                kill = kill_one_copy(settings, servers, work, paths, plan)
        finally:
            for manager in managers.values():
                manager.close()
    targets = [scaling.target("replicas", TARGET_RATIO)]
    headlines = [
        scaling.headline(
            f"pages/s with {scaling.top} replicas per server, as a ratio of linear "
            "(simulated GPUs)",
            TARGET_RATIO,
        )
    ]
    if kill:
        headlines.append(
            headline(
                f"time lost when one copy of each server is killed mid-batch ({plan.kill_at} "
                "replicas)",
                f"{kill['lost_s']:.1f} s of {kill['baseline_s']:.1f} s; nothing lost: "
                f"{kill['identical']}",
                "nothing lost or read twice",
                bool(kill["identical"] and kill["read_once"]),
            )
        )
    path = run.write(
        parameters={
            **dataclasses.asdict(plan),
            "pages_per_document": pages_per_doc,
            "dpi": DPI,
            "stand-in latency": {"ollama": ollama_latency, "vllm": ocr_latency},
            "per-copy concurrency": {s.name: s.max_concurrency for s in servers.servers},
        },
        results={
            "seconds": scaling.seconds_summary(),
            "pages_per_s": {
                str(n): round(statistics.median(rates), 3) for n, rates in scaling.rates.items()
            },
            "outputs_identical_across_replica_counts": identical,
            "kill": kill,
        },
        ratios=scaling.ratio_summary(),
        targets=targets,
        headlines=headlines,
        notes=[
            "Simulated: stand-in servers with fixed per-request latency (real GPU seconds per "
            f"page x {plan.scale}); the pipeline, dispatch, restarts and clients are real.",
        ],
    )
    print(path.read_text(encoding="utf-8"))


def kill_one_copy(
    settings: Settings, servers: ServerSet, work: Path, paths: list[Path], plan: Plan
) -> dict[str, Any]:
    """The same batch twice at ``plan.kill_at`` replicas: once whole, once with the second copy
    of each server killed as soon as it holds a request."""
    n = plan.kill_at
    batch = paths[: n * plan.docs_per_replica]
    manager = replica_manager(servers, work / "servers-kill", n)
    try:
        manager.up()
        read(settings, manager, batch)  # warm-up: models loaded, clients connected
        baseline_s, expected = read(settings, manager, batch)
        served_before = {name: d.stats().served for name, d in manager.dispatchers.items()}
        # Two whole runs so far; the killed run must serve half as much again, no more.

        def kill_when_busy(server: str) -> None:
            victim = manager.copies[server][1]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                dispatch = manager.dispatchers.get(server)
                if dispatch is not None and dispatch.stats().in_flight[victim.name]:
                    kill_copy(manager, victim)
                    return
                time.sleep(0.005)

        killers = [threading.Thread(target=kill_when_busy, args=(s,)) for s in manager.copies]
        for killer in killers:
            killer.start()
        killed_s, again = read(settings, manager, batch)
        for killer in killers:
            killer.join(130)
        stats = {name: d.stats() for name, d in manager.dispatchers.items()}
        read_once = all(
            sum(stats[name].served.values()) == 1.5 * sum(served_before[name].values())
            for name in stats
        )
        return {
            "replicas": n,
            "baseline_s": round(baseline_s, 3),
            "killed_s": round(killed_s, 3),
            "lost_s": round(killed_s - baseline_s, 3),
            "identical": again == expected,
            "read_once": read_once,
            "taken_out": {name: list(s.taken_out) for name, s in stats.items()},
            "moved": {name: s.moved for name, s in stats.items()},
            "restarts": {k: v for k, v in manager.restarts.items() if v},
        }
    finally:
        manager.close()


if __name__ == "__main__":
    main()
