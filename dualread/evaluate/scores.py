"""Per-document scores and their summaries (overall and per group)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from dualread.evaluate.metrics import (
    RowScore,
    arithmetic_ok,
    header_matches,
    match_rows,
    score_rows,
)
from dualread.evaluate.truth import Case
from dualread.statement import Statement

# Statuses that tell the user the result was checked: the readers agreed, a vote or the
# arithmetic settled it, or the one reader's own arithmetic held. A wrong row or balance under
# one of them is a silent error, the kind a user never sees coming.
CHECKED_STATUSES = frozenset({"agreed", "resolved", "single"})
BALANCE_FIELDS = ("opening_balance", "closing_balance")


@dataclass(frozen=True)
class DocumentScore:
    """How one document was read. ``error`` set means the extraction failed outright. A file
    of several accounts is scored account by account and summed (see :func:`score_accounts`)."""

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
    wrong_rows: int = 0  # truth rows missed or misread, or extra rows, whichever is more
    wrong_balances: int = 0  # opening/closing balance, and running balances of matched rows
    # Wrong rows and balances in an account whose status claims it was checked.
    silent_errors: int = 0

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
            "wrong_rows": self.wrong_rows,
            "wrong_balances": self.wrong_balances,
            "silent_errors": self.silent_errors,
        }


def _wrong_balances(
    truth: Statement, read: Statement, header: dict[str, bool], *, first_line: bool
) -> int:
    """Balances read wrong: the opening and closing balance (where the truth states them), and
    the running balance of each row read right otherwise."""
    wrong = sum(not header.get(name, True) for name in BALANCE_FIELDS)
    for i, j in match_rows(truth.transactions, read.transactions, first_line=first_line):
        expected = truth.transactions[i].balance
        wrong += expected is not None and read.transactions[j].balance != expected
    return wrong


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
    """Score a prediction of one account (None when extraction failed: nothing read,
    everything missed)."""
    read = [] if predicted is None else [(predicted, status)]
    return score_accounts(
        case, read, pages=pages, seconds=seconds, passes=passes, status=status, error=error
    )


def score_accounts(
    case: Case,
    read: Sequence[tuple[Statement, str | None]],
    *,
    pages: int = 0,
    seconds: float = 0.0,
    passes: int | None = None,
    status: str | None = None,
    error: str | None = None,
) -> DocumentScore:
    """Score the accounts read from a file, each with its status (none read: extraction failed),
    against the truth's accounts, paired in print order. A truth account nobody read has every
    row missed and every header field wrong; an account read beyond the truth's has every row
    extra. Header fields of the second account on are named ``field (account N)``."""
    truth = case.truth
    first_line = truth.first_line_descriptions
    rows = RowScore(0, 0, 0)
    header: dict[str, bool] = {}
    wrong_rows = wrong_balances = silent = 0
    for index, (expected, got) in enumerate(zip_longest(truth.accounts, read)):
        statement, account_status = got if got is not None else (Statement(), None)
        account_header: dict[str, bool] = {}
        if expected is not None:
            account_header = header_matches(expected, statement, truth.known_fields)
            if got is None:
                account_header = dict.fromkeys(account_header, False)
        suffix = "" if index == 0 else f" (account {index + 1})"
        header |= {name + suffix: ok for name, ok in account_header.items()}
        account_rows = score_rows(expected or Statement(), statement, first_line=first_line)
        rows += account_rows
        missed = max(account_rows.expected, account_rows.predicted) - account_rows.matched
        balances = _wrong_balances(
            expected or Statement(), statement, account_header, first_line=first_line
        )
        wrong_rows += missed
        wrong_balances += balances
        if account_status in CHECKED_STATUSES:
            silent += missed + balances
    return DocumentScore(
        document=str(case.document),
        group=case.group,
        rows=rows,
        header=header,
        arithmetic=bool(read) and all(arithmetic_ok(statement) for statement, _ in read),
        pages=pages,
        seconds=seconds,
        passes=passes,
        status=status,
        error=error,
        wrong_rows=wrong_rows,
        wrong_balances=wrong_balances,
        silent_errors=silent,
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
    silent_errors: int = 0
    silent_documents: int = 0  # documents with at least one silent error

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
            "silent_errors": self.silent_errors,
            "silent_documents": self.silent_documents,
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
        silent_errors=sum(score.silent_errors for score in scores),
        silent_documents=sum(score.silent_errors > 0 for score in scores),
    )


def summarize_groups(scores: Sequence[DocumentScore]) -> dict[str, Summary]:
    groups = sorted({score.group for score in scores})
    return {group: summarize([s for s in scores if s.group == group]) for group in groups}
