"""Consensus: normalise readings, align their rows, compare, vote, and check the arithmetic.

The public API:

- :func:`agree` -- do two readings agree? (the fast path after the two routes' first passes)
- :func:`decide` -- vote any number of readings into one statement with confidence, disputes
  and the arithmetic report
- :func:`explain` -- a human-readable difference report between two readings (``--explain``)
- :func:`check` -- the statement's own arithmetic
- the normalisers in :mod:`dualread.consensus.normalize`
"""

from dualread.consensus.arithmetic import ArithmeticReport, check
from dualread.consensus.compare import (
    DESCRIPTION_THRESHOLD,
    Agreement,
    CandidateLike,
    SlotDifference,
    agree,
    explain,
)
from dualread.consensus.engine import Decision, Dispute, OnDispute, Severity, Status, decide

__all__ = [
    "DESCRIPTION_THRESHOLD",
    "Agreement",
    "ArithmeticReport",
    "CandidateLike",
    "Decision",
    "Dispute",
    "OnDispute",
    "Severity",
    "SlotDifference",
    "Status",
    "agree",
    "check",
    "decide",
    "explain",
]
