"""What every stage returns: a statement plus the evidence of how it was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dualread.statement import Statement


@dataclass(frozen=True)
class RawOutput:
    """One model call's raw answer, kept for --explain, caching and debugging."""

    stage: str
    pages: tuple[int, ...]
    text: str
    model: str
    elapsed_s: float
    server_s: float | None = None


@dataclass(frozen=True)
class PassParams:
    """How a pass asked: extra passes vary these to decorrelate a model's mistakes."""

    temperature: float = 0.0
    seed: int | None = None
    dpi: int = 200


@dataclass
class Candidate:
    """One reading of a document (or of some of its pages) by one route."""

    route: str  # "visual", "ocr" or "embedded"
    statement: Statement  # the file's first account (or its only one)
    pages: tuple[int, ...]  # the source pages this candidate read
    params: PassParams = field(default_factory=PassParams)
    raw: list[RawOutput] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # stage name -> seconds
    notes: dict[str, Any] = field(default_factory=dict)
    # The accounts after the first that this reading found in the file, in print order, each
    # its own statement. Only a reader that tells accounts apart (the embedded engine) fills
    # it: a model route answers in the schema of one statement.
    other_accounts: tuple[Statement, ...] = ()
