"""Several accounts in one file: each is its own statement, decided on its own.

A reader that tells accounts apart (the embedded engine) gives one statement per account: its
``statement`` and then its ``other_accounts``. The file's accounts are those of the reading that
found the most; with one account everywhere, :func:`decide_accounts` is :func:`decide`.

Otherwise each account is voted with the readings of it:

- a reading that found as many accounts reads each in the same position;
- a reading of one statement (a model route's: its schema holds one account) reads an account
  when all its pages are that account's pages, or when it names that account's IBAN, account
  number or (where no other account has it) currency. It is cut to that account's pages: its
  rows there, its header as it read it. On a page two accounts share, the other account's rows
  are extra rows, disputed. A reading whose rows name no page reads no account.

An account that a route read the file without reading is "unresolved", with a dispute saying
so: never "agreed" (nor "resolved") for an account a reader did not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from dualread.choices import OnDispute, Status
from dualread.consensus.compare import DESCRIPTION_THRESHOLD, CandidateLike, pages_read
from dualread.consensus.decider import decide
from dualread.consensus.normalize import field_key
from dualread.consensus.result import Decision, Dispute
from dualread.statement import Statement

# Statuses from the best to the worst: a file is as sure as its least sure account.
_STATUS_ORDER: tuple[Status, ...] = ("agreed", "resolved", "single", "unverified", "unresolved")
_IDENTIFIERS = ("iban", "account_number")


def worst_status(statuses: Sequence[Status]) -> Status:
    """The status of a file from its accounts' statuses: the least sure one."""
    return max(statuses, key=_STATUS_ORDER.index)


@dataclass(frozen=True)
class FileDecision:
    """Consensus for one file: one decision per account, in the order the file prints them."""

    accounts: tuple[Decision, ...]

    @property
    def status(self) -> Status:
        return worst_status([account.status for account in self.accounts])

    @property
    def disputed_pages(self) -> frozenset[int]:
        """Pages another route-A pass could still settle, over every account."""
        return frozenset[int]().union(*(a.disputed_pages for a in self.accounts))


@dataclass
class AccountReading:
    """One reading cut down to one account (a :class:`CandidateLike`)."""

    route: str
    statement: Statement
    pages: tuple[int, ...]
    params: Any = None  # how the reading's pass asked, for the dispute labels


def accounts_of(reading: CandidateLike) -> tuple[Statement, ...]:
    """Every account a reading found, in print order."""
    return (reading.statement, *getattr(reading, "other_accounts", ()))


def decide_accounts(
    candidates: Sequence[CandidateLike],
    *,
    on_dispute: OnDispute = "null",
    readers: int | None = None,
    description_threshold: float = DESCRIPTION_THRESHOLD,
) -> FileDecision:
    """:func:`decide` for each account the readings found (see the module's docstring)."""
    asked = readers if readers is not None else len({c.route for c in candidates})
    layout = max((accounts_of(c) for c in candidates), key=len, default=())
    if len(layout) <= 1:  # one account, or none read (decide says so)
        groups: list[list[CandidateLike]] = [list(candidates)]
    else:
        groups = _readings_per_account(candidates, layout)
    routes = {c.route for c in candidates}
    # Every group holds at least the reading that found the layout.
    decisions = [
        _unread_by(
            routes - {r.route for r in readings},
            decide(
                readings,
                on_dispute=on_dispute,
                readers=asked,
                description_threshold=description_threshold,
            ),
        )
        for readings in groups
    ]
    return FileDecision(tuple(decisions))


def _unread_by(routes: set[str], decision: Decision) -> Decision:
    """An account some route read the file without reading: unresolved, and why."""
    if not routes:
        return decision
    missing = [
        Dispute.of_reason(
            f"route {route} read this file, but none of its reading could be placed on this "
            "account: nothing it read confirms this account",
            field="account",
        )
        for route in sorted(routes)
    ]
    return replace(decision, status="unresolved", disputes=[*decision.disputes, *missing])


def _pages_of(account: Statement) -> tuple[int, ...]:
    return tuple(sorted({t.page for t in account.transactions if t.page is not None}))


def _reading(candidate: CandidateLike, statement: Statement, pages: Sequence[int]) -> CandidateLike:
    params = getattr(candidate, "params", None)
    return AccountReading(candidate.route, statement, tuple(pages) or (1,), params)


def _readings_per_account(
    candidates: Sequence[CandidateLike], layout: tuple[Statement, ...]
) -> list[list[CandidateLike]]:
    pages = [frozenset(_pages_of(account)) for account in layout]
    groups: list[list[CandidateLike]] = [[] for _ in layout]
    for candidate in candidates:
        found = accounts_of(candidate)
        if len(found) == len(layout):
            for index, account in enumerate(found):
                groups[index].append(_reading(candidate, account, _pages_of(account)))
            continue
        placed = _account_read(candidate, layout, pages) if len(found) == 1 else None
        rows = candidate.statement.transactions
        if placed is None or any(t.page is None for t in rows):
            continue  # no account to pair it with, or rows it cannot place on pages
        read = frozenset(pages_read(candidate)) & pages[placed]
        if read:
            cut = [t for t in rows if t.page in read]
            statement = candidate.statement.model_copy(update={"transactions": cut})
            groups[placed].append(_reading(candidate, statement, sorted(read)))
    return groups


def _account_read(
    candidate: CandidateLike, layout: tuple[Statement, ...], pages: list[frozenset[int]]
) -> int | None:
    """The account a one-statement reading read: by its pages, else by what it names."""
    read = frozenset(pages_read(candidate))
    within = [i for i, account_pages in enumerate(pages) if read <= account_pages]
    if len(within) == 1:
        return within[0]
    statement = candidate.statement
    for name in _IDENTIFIERS:
        value = getattr(statement, name)
        if value is None:
            continue
        named = [i for i, a in enumerate(layout) if _same(name, getattr(a, name), value)]
        if len(named) == 1:
            return named[0]
    same_currency = [i for i, a in enumerate(layout) if a.currency == statement.currency]
    if statement.currency is not None and len(same_currency) == 1:
        return same_currency[0]
    return None


def _same(name: str, left: str | None, right: str) -> bool:
    return left is not None and field_key(name, left) == field_key(name, right)
