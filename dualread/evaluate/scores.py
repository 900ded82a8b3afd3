"""Per-document scores and their summaries (overall and per group)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dualread.evaluate.metrics import RowScore, arithmetic_ok, header_matches, score_rows
from dualread.evaluate.truth import Case
from dualread.statement import Statement


@dataclass(frozen=True)
class DocumentScore:
    """How one document was read. ``error`` set means the extraction failed outright."""

    document: str
    group: str
    rows: RowScore
    header: dict[str, bool]
    arithmetic: bool
    pages: int = 0
    seconds: float = 0.0
    passes: int | None = None  # model passes (the VLM routes' reads); None for the embedded engine
    status: str | None = None
    error: str | None = None

    @property
    def header_accuracy(self) -> float:
        return sum(self.header.values()) / len(self.header) if self.header else 1.0

    @property
    def seconds_per_page(self) -> float:
        return self.seconds / self.pages if self.pages else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "group": self.group,
            "status": self.status,
            "error": self.error,
            "rows": {
                "matched": self.rows.matched,
                "predicted": self.rows.predicted,
                "expected": self.rows.expected,
                "precision": round(self.rows.precision, 4),
                "recall": round(self.rows.recall, 4),
                "f1": round(self.rows.f1, 4),
            },
            "header_accuracy": round(self.header_accuracy, 4),
            "header_wrong": sorted(name for name, ok in self.header.items() if not ok),
            "arithmetic_ok": self.arithmetic,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "seconds_per_page": round(self.seconds_per_page, 3),
            "passes": self.passes,
        }


def score_document(
    case: Case,
    predicted: Statement | None,
    *,
    pages: int = 0,
    seconds: float = 0.0,
    passes: int | None = None,
    status: str | None = None,
    error: str | None = None,
) -> DocumentScore:
    """Score a prediction (None when extraction failed: nothing read, everything missed)."""
    truth = case.truth
    read = predicted if predicted is not None else Statement()
    header = header_matches(truth.statement, read, truth.known_fields)
    if predicted is None:
        header = dict.fromkeys(header, False)
    return DocumentScore(
        document=str(case.document),
        group=case.group,
        rows=score_rows(truth.statement, read),
        header=header,
        arithmetic=predicted is not None and arithmetic_ok(predicted),
        pages=pages,
        seconds=seconds,
        passes=passes,
        status=status,
        error=error,
    )


def worst_first(scores: Sequence[DocumentScore]) -> list[DocumentScore]:
    return sorted(
        scores, key=lambda s: (s.error is None, s.rows.f1, s.header_accuracy, s.arithmetic)
    )


@dataclass(frozen=True)
class Summary:
    """Totals over documents: rows and header fields are pooled (micro-averaged), so a long
    statement weighs as many rows as it has."""

    documents: int
    failed: int
    rows: RowScore
    header_correct: int
    header_total: int
    arithmetic_passed: int
    pages: int
    seconds: float
    passes: list[int] = field(default_factory=list)

    @property
    def header_accuracy(self) -> float:
        return self.header_correct / self.header_total if self.header_total else 1.0

    @property
    def arithmetic_pass_rate(self) -> float:
        return self.arithmetic_passed / self.documents if self.documents else 0.0

    @property
    def seconds_per_page(self) -> float:
        return self.seconds / self.pages if self.pages else 0.0

    @property
    def passes_per_document(self) -> float | None:
        return sum(self.passes) / len(self.passes) if self.passes else None

    def to_dict(self) -> dict[str, Any]:
        passes = self.passes_per_document
        return {
            "documents": self.documents,
            "failed": self.failed,
            "row_precision": round(self.rows.precision, 4),
            "row_recall": round(self.rows.recall, 4),
            "row_f1": round(self.rows.f1, 4),
            "rows_matched": self.rows.matched,
            "rows_predicted": self.rows.predicted,
            "rows_expected": self.rows.expected,
            "header_accuracy": round(self.header_accuracy, 4),
            "arithmetic_pass_rate": round(self.arithmetic_pass_rate, 4),
            "passes_per_document": None if passes is None else round(passes, 2),
            "seconds_per_page": round(self.seconds_per_page, 3),
            "pages": self.pages,
        }


def summarize(scores: Sequence[DocumentScore]) -> Summary:
    rows = RowScore(0, 0, 0)
    for score in scores:
        rows += score.rows
    return Summary(
        documents=len(scores),
        failed=sum(score.error is not None for score in scores),
        rows=rows,
        header_correct=sum(sum(score.header.values()) for score in scores),
        header_total=sum(len(score.header) for score in scores),
        arithmetic_passed=sum(score.arithmetic for score in scores),
        pages=sum(score.pages for score in scores),
        seconds=sum(score.seconds for score in scores),
        passes=[score.passes for score in scores if score.passes is not None],
    )


def summarize_groups(scores: Sequence[DocumentScore]) -> dict[str, Summary]:
    groups = sorted({score.group for score in scores})
    return {group: summarize([s for s in scores if s.group == group]) for group in groups}
