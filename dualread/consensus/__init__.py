"""Consensus: normalise readings, align their rows, compare, vote, and check the arithmetic.

The public API:

- :func:`decide` -- vote any number of readings into one statement with confidence, disputes
  and the arithmetic report
- :func:`decide_accounts` -- the same for each account of a file that holds several
- :func:`explain` -- a human-readable difference report between two readings (``--explain``)
- :func:`check` -- the statement's own arithmetic
- the normalisers in :mod:`dualread.consensus.normalize` (the parsers they use are
  :mod:`dualread.parsing`, shared with the embedded engine)

Inside: :mod:`~dualread.consensus.ballots` (readings normalised, aligned, one vote per value),
:mod:`~dualread.consensus.vote` (counting), :mod:`~dualread.consensus.settle` (the arithmetic
breaks ties and weighs confidence), :mod:`~dualread.consensus.rows` (each result row and its
text), :mod:`~dualread.consensus.reread` (when another pass is worth it),
:mod:`~dualread.consensus.result` (what comes back), :mod:`~dualread.consensus.decider`
(``decide()`` over all of them) and :mod:`~dualread.consensus.accounts` (a file's accounts,
each decided on its own).
"""

from dualread.arithmetic import ArithmeticReport, check
from dualread.choices import OnDispute, Status
from dualread.consensus.accounts import FileDecision, decide_accounts, worst_status
from dualread.consensus.compare import (
    DESCRIPTION_THRESHOLD,
    CandidateLike,
    explain,
)
from dualread.consensus.decider import decide
from dualread.consensus.result import Decision, Dispute, Severity

__all__ = [
    "DESCRIPTION_THRESHOLD",
    "ArithmeticReport",
    "CandidateLike",
    "Decision",
    "Dispute",
    "FileDecision",
    "OnDispute",
    "Severity",
    "Status",
    "check",
    "decide",
    "decide_accounts",
    "explain",
    "worst_status",
]
