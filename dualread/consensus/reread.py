"""When another route-A pass is worth asking for: the re-read policy.

A disputed value is worth a re-read while route A could still change the outcome; once route A
has given one value twice against another route's different value, a third identical answer
cannot settle it (support counts routes, see :mod:`dualread.consensus.vote`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dualread.consensus.vote import Vote

if TYPE_CHECKING:
    from dualread.consensus.result import Dispute

EXTRA_PASS_ROUTE = "visual"
"""The route the pipeline re-asks on disputed pages (route A)."""


def reread_may_settle(vote: Vote, routes: Sequence[str]) -> bool:
    """Whether another route-A pass could still settle a disputed value: not once route A has
    given one value twice against another route's different value (see the module docstring)."""
    for option in vote.options:
        repeats = sum(routes[k] == EXTRA_PASS_ROUTE for k in option.voters)
        against = any(
            other is not option and other.routes - {EXTRA_PASS_ROUTE} for other in vote.options
        )
        if repeats >= 2 and against:
            return False
    return True


def pages_to_reread(disputes: Sequence[Dispute]) -> frozenset[int]:
    """The pages of disputes another route-A pass may settle; none unless a value may change
    (see :func:`dualread.consensus.decider.decide`)."""
    open_disputes = [d for d in disputes if d.reread_may_settle and d.page is not None]
    if not any(d.severity == "value" for d in open_disputes):
        return frozenset()
    return frozenset(d.page for d in open_disputes if d.page is not None)
