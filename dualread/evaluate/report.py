"""Render scores: a rich table (worst documents first), JSON, or a Markdown summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dualread.evaluate.scores import (
    DocumentScore,
    Summary,
    summarize,
    summarize_groups,
    worst_first,
)


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _passes(value: float | int | None) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, int) else f"{value:.2f}"


def documents_table(scores: Sequence[DocumentScore]) -> Table:
    table = Table(title="Per document, worst first", title_justify="left")
    for name, justify in (
        ("document", "left"),
        ("group", "left"),
        ("rows ok/true/read", "right"),
        ("precision", "right"),
        ("recall", "right"),
        ("row F1", "right"),
        ("header", "right"),
        ("arithmetic", "center"),
        ("passes", "right"),
        ("s/page", "right"),
        ("silent", "right"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for score in worst_first(scores):
        rows = score.rows
        table.add_row(
            score.document,
            score.group,
            f"{rows.matched}/{rows.expected}/{rows.predicted}",
            _percent(rows.precision),
            _percent(rows.recall),
            _percent(rows.f1),
            _percent(score.header_accuracy),
            "ok" if score.arithmetic else "no",
            _passes(score.passes),
            f"{score.seconds_per_page:.2f}",
            str(score.silent_errors),
            score.error or score.status or "-",
            style="red" if score.error or score.rows.f1 < 1 or score.silent_errors else None,
        )
    return table


def _summary_rows(scores: Sequence[DocumentScore]) -> list[tuple[str, Summary]]:
    groups = summarize_groups(scores)
    rows = list(groups.items())
    return [*rows, ("all", summarize(scores))] if len(groups) > 1 else rows


def summary_table(scores: Sequence[DocumentScore]) -> Table:
    table = Table(title="Summary", title_justify="left")
    for name in (
        "group",
        "documents",
        "row precision",
        "row recall",
        "row F1",
        "header accuracy",
        "arithmetic ok",
        "passes/doc",
        "s/page",
        "silent errors (docs)",
    ):
        table.add_column(name, justify="left" if name == "group" else "right")
    for group, summary in _summary_rows(scores):
        table.add_row(
            group,
            f"{summary.documents}" + (f" ({summary.failed} failed)" if summary.failed else ""),
            _percent(summary.rows.precision),
            _percent(summary.rows.recall),
            _percent(summary.rows.f1),
            _percent(summary.header_accuracy),
            _percent(summary.arithmetic_pass_rate),
            _passes(summary.passes_per_document),
            f"{summary.seconds_per_page:.2f}",
            f"{summary.silent_errors} ({summary.silent_documents})",
        )
    return table


def print_tables(scores: Sequence[DocumentScore], console: Console) -> None:
    console.print(documents_table(scores))
    console.print(summary_table(scores))


def report_json(scores: Sequence[DocumentScore], engine: str) -> str:
    report = {
        "engine": engine,
        "summary": summarize(scores).to_dict(),
        "groups": {name: s.to_dict() for name, s in summarize_groups(scores).items()},
        "documents": [score.to_dict() for score in worst_first(scores)],
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def documents_markdown(scores: Sequence[DocumentScore]) -> str:
    """Per document, worst first: the table the README shows for the real-world statements."""
    lines = [
        "| document | status | rows read / expected | row F1 | header | silent errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for score in worst_first(scores):
        status = score.status or f"failed: {score.error or 'no result'}"
        lines.append(
            f"| {Path(score.document).name} | {status} "
            f"| {score.rows.predicted} / {score.rows.expected} | {score.rows.f1:.3f} "
            f"| {_percent(score.header_accuracy)} | {score.silent_errors} |"
        )
    return "\n".join(lines) + "\n"


def report_markdown(scores: Sequence[DocumentScore], engine: str) -> str:
    """The short summary table the README shows, then the per-document table."""
    lines = [
        "| engine | fixtures | docs | row P | row R | row F1 | header | arithmetic | s/page "
        "| silent errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for group, summary in _summary_rows(scores):
        lines.append(
            f"| {engine} | {group} | {summary.documents} | {_percent(summary.rows.precision)} "
            f"| {_percent(summary.rows.recall)} | {_percent(summary.rows.f1)} "
            f"| {_percent(summary.header_accuracy)} | {_percent(summary.arithmetic_pass_rate)} "
            f"| {summary.seconds_per_page:.2f} | {summary.silent_errors} |"
        )
    return "\n".join(lines) + "\n\n" + documents_markdown(scores)
