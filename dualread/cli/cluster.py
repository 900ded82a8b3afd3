"""``dualread extract --cluster``: the batch on a Ray cluster, with per-node progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dualread.api import ExtractOptions
from dualread.cli.common import Reporter
from dualread.exit_codes import EXIT_INPUT_ERROR


def extract_on_cluster(
    reporter: Reporter,
    address: str,
    files: list[Path],
    output: str | None,
    fmt: str,
    flags: dict[str, Any],
    options: ExtractOptions,
) -> int:
    """Run the batch on the cluster; returns the exit code (the worst of the documents')."""
    if output in (None, "-"):
        reporter.error("--cluster writes one file per input: give an output folder with -o")
        return EXIT_INPUT_ERROR
    try:
        from dualread.cluster.driver import ClusterError, NodeProgress, Outcome, run_batch
    except ImportError as error:  # the optional extra is not installed
        reporter.error(f"--cluster needs Ray: pip install 'dualread[cluster]' ({error})")
        return EXIT_INPUT_ERROR

    def show(outcome: Outcome, node: NodeProgress | None) -> None:
        if outcome.error:
            reporter.error(outcome.error)
        elif outcome.skipped:
            reporter.info(f"{outcome.source}: already done ({outcome.output}), skipped")
        elif node is not None:
            reporter.info(
                f"{outcome.source}: {outcome.status} on {node.name} "
                f"({node.documents} documents, {node.pages} pages there)"
            )

    try:
        summary = run_batch(
            address, files, Path(output), fmt=fmt, flags=flags, options=options, on_outcome=show
        )
    except ClusterError as error:
        reporter.error(str(error))
        return EXIT_INPUT_ERROR
    for node in summary.nodes.values():
        lost = "; lost mid-batch" if node.lost else ""
        reporter.info(
            f"node {node.name}: {node.documents} documents, {node.pages} pages, "
            f"{node.pages_per_s:.2f} pages/s, {node.retries} retried elsewhere, "
            f"{node.failures} failed{lost}"
        )
    totals = summary.to_dict()
    reporter.info(
        f"{totals['documents']} read, {totals['skipped']} skipped as done, "
        f"{totals['failed']} failed in {totals['wall_s']:.1f} s"
    )
    return summary.exit_code
