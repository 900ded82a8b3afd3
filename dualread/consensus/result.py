"""What consensus returns for one document: the decision, its disputes and their severity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from dualread.arithmetic import ArithmeticReport
from dualread.choices import Status
from dualread.consensus.reread import reread_may_settle
from dualread.consensus.vote import Vote
from dualread.statement import Statement, Transaction, format_money

Severity = Literal["value", "text"]

TEXT_FIELDS = frozenset({"description", "counterparty", "reference"})
"""A row's free text: a dispute on it is soft (severity "text")."""
NAME_FIELDS = frozenset({"bank_name", "account_holder"})
"""The header's free text, the names printed on the statement: no arithmetic can check them and
no number depends on them, so a dispute on one is soft too. (Two real readers of the devset's
pages disagreed on nothing but the bank's name, a title read as one, on 3 of 16 statements.)"""


@dataclass(frozen=True)
class Dispute:
    """A value the readings left undecided: who said what, and what the result holds."""

    field: str  # a header field, or for rows: "row", "date", "amount", "description", "balance"
    row: int | None  # index in the result's transactions
    page: int | None
    candidates: tuple[dict[str, Any], ...]  # {"route", "pass", "value"}
    chosen: Any  # JSON-ready
    reread_may_settle: bool = True  # whether another route-A pass on ``page`` could settle it
    reason: str | None = None  # why it is in doubt, when no reading disagreed (plausibility)

    @classmethod
    def of_reason(
        cls,
        reason: str,
        *,
        field: str = "row",
        row: int | None = None,
        page: int | None = None,
        chosen: Any = None,
    ) -> Dispute:
        """A doubt no disagreement raised (an implausible value, a failed reading): no
        candidates, only the reason, and nothing a re-read could settle."""
        return cls(field, row, page, (), chosen, reread_may_settle=False, reason=reason)

    @property
    def severity(self) -> Severity:
        """How much it weighs: "text" on free text, a row's or a name (informative), else
        "value"."""
        free_text = TEXT_FIELDS if self.row is not None else NAME_FIELDS
        return "text" if self.field in free_text else "value"

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "severity": self.severity,
            "row": self.row,
            "page": self.page,
            "candidates": list(self.candidates),
            "chosen": self.chosen,
            **({"reason": self.reason} if self.reason else {}),
        }


@dataclass(frozen=True)
class Decision:
    """The outcome of consensus for one document."""

    statement: Statement
    status: Status
    field_confidence: dict[str, float]
    row_confidence: list[float]
    disputes: list[Dispute]
    arithmetic: ArithmeticReport
    disputed_pages: frozenset[int]  # pages another route-A pass could still settle (decide())
    review: str | None = None  # why a person should check the result (status "unverified")

    def to_dict(self) -> dict[str, Any]:
        """The consensus parts of the JSON ``extraction`` block."""
        return {
            "status": self.status,
            "confidence": {
                "fields": {k: round(v, 3) for k, v in self.field_confidence.items()},
                "transactions": [round(v, 3) for v in self.row_confidence],
            },
            "disputes": [d.to_dict() for d in self.disputes],
            "arithmetic": self.arithmetic.to_dict(),
        } | ({} if self.review is None else {"review": self.review})


def json_value(value: Any) -> Any:
    """A voted value as the JSON output writes it: money as a decimal string, dates ISO."""
    if isinstance(value, Transaction):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def first_page(pages: frozenset[int]) -> int | None:
    return min(pages) if pages else None


def dispute_of(
    vote: Vote,
    row: int | None,
    labels: Sequence[dict[str, Any]],
    routes: Sequence[str],
    chosen: Any,
) -> Dispute:
    """What every candidate said, what the result holds, and whether a re-read may help."""
    said = sorted((k, json_value(o.value)) for o in vote.options for k in o.voters)
    return Dispute(
        field=vote.field,
        row=row,
        page=first_page(vote.pages),
        candidates=tuple({**labels[k], "value": value} for k, value in said),
        chosen=json_value(chosen),
        reread_may_settle=reread_may_settle(vote, routes),
    )
