"""Majority vote per decision, with the statement's arithmetic breaking ties.

A decision is one header field, one aligned row slot (its date and amount, or its absence), or
one row's balance. Every candidate that read the page a decision lives on casts one ballot, but
support is counted in independent routes first ("visual", "ocr", "embedded"), ballots second:
repeated passes of one route are one model asked again, whose mistakes repeat, so they never
outvote another route on their own. The option backed by more routes wins; where the top options
have as many routes (one route's passes against another's reading), the statement's arithmetic
decides: the combination of tied options under which every equation holds. What arithmetic
cannot separate stays disputed. Only when a single route voted do its ballots decide.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Literal

How = Literal["unanimous", "majority", "arithmetic", "disputed"]

# Tied decisions close together in the statement interact through the running balance, so they
# are tried in combination. Beyond this many combinations each decision is tried on its own.
_MAX_COMBINATIONS = 512
_MAX_ROUNDS = 3
# Row slots this close belong to one group of interacting ties.
_INTERACTING_SLOTS = 2


@dataclass
class Option:
    """One value a decision could take, and the candidates that voted for it."""

    key: Hashable  # what ballots are compared by
    value: Any  # what goes into the result
    voters: list[int] = field(default_factory=list)
    routes: set[str] = field(default_factory=set)  # the distinct routes among the voters


def _standing(option: Option, by_routes: bool) -> int:
    """An option's support: its distinct routes when routes contest the decision, its ballots
    when a single route voted."""
    return len(option.routes) if by_routes else len(option.voters)


@dataclass
class Vote:
    """One decision: its options, most support first, ties in the order candidates were given."""

    field: str
    slot: int | None
    pages: frozenset[int]
    options: list[Option]
    arithmetic: bool  # whether the statement's arithmetic can break a tie here
    chosen: Option
    how: How

    @property
    def voter_count(self) -> int:
        return sum(len(o.voters) for o in self.options)

    @property
    def contested_across_routes(self) -> bool:
        """Whether voters of more than one route took part (else only ballots can decide)."""
        return len(set[str]().union(*(o.routes for o in self.options))) > 1

    @property
    def tied(self) -> list[Option]:
        """The options as well supported as the first (see :func:`_standing`)."""
        by_routes = self.contested_across_routes
        top = _standing(self.options[0], by_routes)
        return [o for o in self.options if _standing(o, by_routes) == top]

    @property
    def share(self) -> float:
        """The chosen value's share of the ballots."""
        return len(self.chosen.voters) / self.voter_count if self.voter_count else 0.0


def tally(
    field_name: str,
    slot: int | None,
    pages: frozenset[int],
    ballots: Sequence[tuple[int, Hashable, Any]],
    *,
    routes: Sequence[str],
    arithmetic: bool,
) -> Vote:
    """Count ballots ``(candidate index, key, value)``; ``routes[k]`` is candidate k's route.

    The value kept for a key is the first voter's. Options rank by support (routes, or
    ballots when one route voted); a tie's provisional pick (the best guess) is a present value
    over None (a row kept rather than silently dropped), then the one with most ballots, then
    the earliest candidate's.
    """
    options: dict[Hashable, Option] = {}
    for voter, key, value in ballots:
        option = options.setdefault(key, Option(key, value))
        option.voters.append(voter)
        option.routes.add(routes[voter])
    by_routes = len({routes[voter] for voter, _, _ in ballots}) > 1
    ranked = sorted(
        options.values(),
        key=lambda o: (-_standing(o, by_routes), o.value is None, -len(o.voters), min(o.voters)),
    ) or [Option(None, None)]  # no ballot at all (every reading rejected): nothing was read
    how: How = "unanimous" if len(ranked) == 1 else "majority"
    vote = Vote(field_name, slot, pages, ranked, arithmetic, ranked[0], how)
    if len(vote.tied) > 1:
        vote.how = "disputed"  # until arithmetic separates the tie
    return vote


Score = Callable[[dict[int, Option]], tuple[int, ...]]
"""How inconsistent the statement built with the given overrides (vote index -> option) is,
compared in order, lower is better. The first element counts broken equations: a combination
that leaves any broken does not settle a tie (the arithmetic has not confirmed it)."""


def break_ties(votes: Sequence[Vote], score: Score) -> None:
    """Settle tied votes by arithmetic, in place; what stays tied keeps ``how="disputed"``.

    Ties are tried in combination, so two rows misread by different candidates are both
    repaired, and two self-consistent readings (one row against the same amount split in two)
    stay a dispute rather than whichever was tried first. All ties at once when the
    combinations are few (opening + sum = closing couples every row); otherwise groups of nearby
    ties, repeated while settling one group changes what the others see.
    """
    tied = [i for i, p in enumerate(votes) if len(p.tied) > 1 and p.arithmetic]
    if _combinations(tied, votes) <= _MAX_COMBINATIONS:
        _settle_together(tied, votes, score)
        return
    groups = _interacting_groups(tied, votes)
    for _ in range(_MAX_ROUNDS):
        settled_any = False
        for group in groups:
            open_before = sum(votes[i].how == "disputed" for i in group)
            if not open_before:
                continue
            if _combinations(group, votes) <= _MAX_COMBINATIONS:
                _settle_together(group, votes, score)
            else:
                for index in group:
                    _settle_together([index], votes, score)
            settled_any |= sum(votes[i].how == "disputed" for i in group) < open_before
        if not settled_any:
            return


def _combinations(indices: Sequence[int], votes: Sequence[Vote]) -> int:
    return math.prod(len(votes[i].tied) for i in indices)


def overrule(votes: Sequence[Vote], suspects: Sequence[int], score: Score) -> bool:
    """Let the arithmetic overrule a majority that breaks it, in place; True if it changed a
    value.

    Two routes can misread alike (both dropping one row), and a route voting alone is only as
    good as its passes. When the voted statement leaves equations broken and exactly one
    combination of the ``suspects``' other options (votes near the breaks) makes every
    equation hold, that combination wins, and a tie among them is settled. Anything less
    certain leaves the majority standing.
    """
    if score({})[0] == 0:
        return False
    contested = [i for i in suspects if votes[i].arithmetic and len(votes[i].options) > 1]
    if not contested or math.prod(len(votes[i].options) for i in contested) > _MAX_COMBINATIONS:
        return False
    combos = list(product(*(votes[i].options for i in contested)))
    scored = [(score(dict(zip(contested, combo, strict=True))), combo) for combo in combos]
    best = min(value for value, _ in scored)
    if best[0] > 0:
        return False
    winners = [combo for value, combo in scored if value == best]
    changed = False
    for position, index in enumerate(contested):
        if len({id(combo[position]) for combo in winners}) == 1:
            vote, winner = votes[index], winners[0][position]
            if winner is not vote.chosen or vote.how == "disputed":
                changed |= winner is not vote.chosen
                vote.chosen, vote.how = winner, "arithmetic"
    return changed


def _interacting_groups(tied: list[int], votes: Sequence[Vote]) -> list[list[int]]:
    """Header ties interact with everything: they join the first group. Row ties group by slot
    proximity."""
    headers = [i for i in tied if votes[i].slot is None]
    rows = sorted((i for i in tied if votes[i].slot is not None), key=lambda i: votes[i].slot or 0)
    groups: list[list[int]] = []
    for index in rows:
        slot = votes[index].slot or 0
        previous = votes[groups[-1][-1]].slot if groups else None
        if previous is not None and slot - previous <= _INTERACTING_SLOTS:
            groups[-1].append(index)
        else:
            groups.append([index])
    if headers:
        groups = [headers + (groups[0] if groups else []), *groups[1:]]
    return groups


def _settle_together(group: list[int], votes: Sequence[Vote], score: Score) -> None:
    if not group:
        return
    combos = list(product(*(votes[i].tied for i in group)))
    scored = [(score(dict(zip(group, combo, strict=True))), combo) for combo in combos]
    best = min(value for value, _ in scored)
    if best[0] > 0:
        return  # every combination leaves the arithmetic broken: nothing is confirmed
    winners = [combo for value, combo in scored if value == best]
    for position, index in enumerate(group):
        values = {id(combo[position]) for combo in winners}
        vote = votes[index]
        if len(values) == 1:
            vote.chosen, vote.how = winners[0][position], "arithmetic"
        else:
            vote.how = "disputed"
