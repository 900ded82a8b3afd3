"""Scaling over hosts: documents per second on a local Ray cluster of 1, 2 and 4 simulated nodes.

Each node is a separate Ray node (its own raylet process, ``ray.cluster_utils.Cluster``) whose
environment points dualread at that node's own stand-in servers, which answer from the oracle
after a fixed latency per request (``slow=S``), so this machine's CPU is not the limit: the model
is simulated, while the driver, the actors, the pipeline and the clients are the product's.
Work grows with the nodes (``DOCS_PER_NODE`` documents each), so the ideal is a constant wall
time; the ratio of linear at ``n`` nodes is ``docs/s(n) / (n * docs/s(1))``. The driver's own
overhead per document (hashing, dispatch, rendering, writing, manifest) is measured too.

Run: ``uv run --frozen python -m bench.cluster_scaling [--quick]``.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from bench.common import (
    LinearScaling,
    Run,
    base_parser,
    generated_statement,
    headline,
    statement_copies,
    summarize,
)
from dualread.api import ExtractOptions
from dualread.cluster.driver import run_batch
from dualread.testing.cluster_rig import local_cluster
from dualread.testing.oracle import build_oracle_index, write_oracle_index

NAME = "cluster_scaling"
TARGET_RATIO = 0.8


@dataclasses.dataclass(frozen=True)
class Plan:
    nodes: tuple[int, ...]
    docs_per_node: int
    latency_s: float
    rounds: int


FULL = Plan((1, 2, 4), 8, 1.0, 2)
QUICK = Plan((1, 2), 2, 0.2, 1)
OPTIONS = ExtractOptions(engine="vlm", third_voter=False)


def main() -> None:
    args = base_parser(__doc__).parse_args()
    run = Run(NAME, args)
    plan = QUICK if run.quick else FULL
    seconds: dict[int, list[float]] = {n: [] for n in plan.nodes}
    overhead: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dualread-cluster-bench-") as scratch:
        work = Path(scratch)
        source = generated_statement(1)
        oracle = write_oracle_index(build_oracle_index([source], 100), work / "oracle.json")
        paths = statement_copies(1, work / "in", max(plan.nodes) * plan.docs_per_node)
        for n in plan.nodes:
            with local_cluster(
                n, oracle, f"slow={plan.latency_s:g}", {"DUALREAD_DPI": "100"}
            ) as cluster:
                for round_number in range(1 + plan.rounds):  # round 0 starts the actors' clients
                    out = work / f"out-{n}-{round_number}"
                    summary = run_batch(
                        cluster.address,
                        paths[: n * plan.docs_per_node],
                        out,
                        options=OPTIONS,
                        batch=2,
                    )
                    if summary.exit_code != 0:
                        raise RuntimeError([o.error for o in summary.outcomes if o.error][:2])
                    if round_number:
                        seconds[n].append(summary.wall_s)
                        overhead.append(summary.driver_s / len(summary.outcomes))
    scaling = LinearScaling.measure(seconds, plan.docs_per_node)
    per_doc_ms = summarize([o * 1000 for o in overhead], 3)
    run.write(
        parameters=dataclasses.asdict(plan),
        results={
            "seconds": scaling.seconds_summary(),
            "driver_overhead_ms_per_document": per_doc_ms,
        },
        ratios=scaling.ratio_summary(),
        targets=[scaling.target("nodes", TARGET_RATIO)],
        headlines=[
            scaling.headline(
                f"documents/s with {scaling.top} simulated nodes, as a ratio of linear",
                TARGET_RATIO,
            ),
            headline(
                "driver overhead per document (hash, dispatch, write, manifest)",
                f"{per_doc_ms['median']:.1f} ms",
                "small against a document's reading",
                None,
            ),
        ],
        notes=[
            "Simulated nodes: separate Ray nodes (raylets) on one machine, each with its own "
            f"stand-in servers answering after {plan.latency_s:g} s per request.",
        ],
    )
    print(run.path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
