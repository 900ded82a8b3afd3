"""dualread's own record of how it read a statement: the ``extraction`` block of every result.

Typed from consensus to the writers: consensus and the pipeline fill an
:class:`ExtractionRecord`, the CLI and :mod:`dualread.evaluate` read its attributes, and
:meth:`ExtractionRecord.to_json` gives the block the JSON schema
(``schemas/statement.v1.schema.json``, ``$defs/extraction``) describes; every result is still
validated against that schema before it is written.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dualread.choices import EngineUsed, Status


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Confidence(_Record):
    """How sure each header field and each transaction row is, in [0, 1]."""

    fields: dict[str, float] = {}
    transactions: list[float] = []


class DisputeRecord(_Record):
    """A value the readings left undecided: who said what, and what the result holds."""

    field: str
    severity: Literal["value", "text"]
    row: int | None
    page: int | None
    candidates: list[dict[str, Any]]  # {"route", "pass", "value", and how the pass asked}
    chosen: Any
    reason: str | None = None  # why a value no reader disputed is in doubt (plausibility)


class ArithmeticRecord(_Record):
    """What the statement's numbers say about themselves (see :mod:`dualread.arithmetic`)."""

    ok: bool | None
    order: Literal["chronological", "reverse"]
    totals_ok: bool | None
    totals_difference: str | None
    closing_matches_last_balance: bool | None
    chain_links_checked: int
    chain_breaks: list[int]
    page_breaks: list[int]
    sign_flips: list[int]
    dates_out_of_order: list[int]
    dates_outside_period: list[int]


class PassRecord(_Record):
    """One reading of a document (or of some of its pages): which route, how it asked, how
    long it took, and the error when it failed."""

    number: int = Field(alias="pass")
    route: str
    pages: list[int]
    seconds: float
    params: dict[str, Any] = {}
    error: str | None = None


class AccountPosition(_Record):
    """Which of the file's accounts a statement is (schema revision 1.2): set only when the
    file holds several, each then its own statement."""

    index: int  # from 1, in the order the file prints them
    count: int


class ExtractionRecord(_Record):
    """The ``extraction`` block: what read the document, the status consensus decided, the
    confidence, the disputes, the arithmetic, every pass and the document's own time."""

    source: str
    engine: EngineUsed
    status: Status
    confidence: Confidence = Confidence()
    disputes: list[DisputeRecord] = []
    arithmetic: ArithmeticRecord | None = None
    passes: list[PassRecord] = []
    seconds: float = 0.0
    failures: list[str] = []
    review: str | None = None  # why a person should check the result (with status unverified)
    corrections: list[dict[str, Any]] = []  # a person's, from the review page (dualread serve)
    account: AccountPosition | None = None

    @property
    def model_passes(self) -> list[PassRecord]:
        """The passes that asked a model (the embedded engine's own pass is not one)."""
        return [p for p in self.passes if p.route != "embedded"]

    @property
    def nothing_read(self) -> bool:
        """Every pass failed: the statement is empty because no reader read one."""
        return all(p.error is not None for p in self.passes)

    @property
    def text_disputes(self) -> int:
        return sum(1 for d in self.disputes if d.severity == "text")

    def to_json(self) -> dict[str, Any]:
        """The block as the schema shapes it: ``failures`` and a pass's ``error`` only when
        there are any, seconds rounded to milliseconds."""
        data: dict[str, Any] = {
            "source": self.source,
            "engine": self.engine,
            "status": self.status,
            "confidence": self.confidence.model_dump(mode="json"),
            "disputes": [
                d.model_dump(mode="json", exclude=None if d.reason else {"reason"})
                for d in self.disputes
            ],
        }
        if self.arithmetic is not None:
            data["arithmetic"] = self.arithmetic.model_dump(mode="json")
        data["passes"] = [
            p.model_dump(mode="json", by_alias=True, exclude_none=True)
            | {"seconds": round(p.seconds, 3)}
            for p in self.passes
        ]
        data["seconds"] = round(self.seconds, 3)
        if self.failures:
            data["failures"] = list(self.failures)
        if self.review is not None:
            data["review"] = self.review
        if self.corrections:
            data["corrections"] = list(self.corrections)
        if self.account is not None:
            data["account"] = self.account.model_dump()
        return data
