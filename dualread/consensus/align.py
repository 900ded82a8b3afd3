"""Align transaction rows of several readings by sequence, not by index.

A reader that drops, adds or merges one row must not shift every later row out of step, which
index-by-index comparison would. Rows are matched by dynamic programming (the
Needleman-Wunsch recurrence with free gaps): pairs score by (date, amount) with description
similarity breaking ties, and the best-scoring monotone matching wins. Several readings are
aligned progressively: each joins the slots built so far.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from functools import lru_cache

from dualread.parsing import normalize_description
from dualread.statement import Transaction

Slot = tuple[int | None, ...]  # per candidate: the index of its row in this slot, or None

# Pair scores: a full (date, amount) match outranks any partial one, so a partial match is chosen
# only where no full one fits. Rows differing in both date and amount (other than by sign) never
# pair: as two gaps they become two present-or-absent votes, which the arithmetic settles.
_FULL_MATCH = 4.0
_AMOUNT_ONLY = 2.0  # a misread date
_SIGN_ONLY = 2.0  # the sign flipped (one less when the date is misread too)
_DATE_ONLY = 1.0  # a misread amount: needs a similar description too
_DATE_ONLY_MIN_SIMILARITY = 0.5
_OTHER_PAGE_PENALTY = 1.0  # readers agree on pages; prefer a same-page partner among equals


@dataclass(frozen=True)
class RowKey:
    """What alignment looks at in a row, computed once per row."""

    date: dt.date
    amount: Decimal
    description: str  # normalised
    page: int | None

    @classmethod
    def of(cls, row: Transaction) -> RowKey:
        return cls(row.date, row.amount, normalize_description(row.description), row.page)


@lru_cache(maxsize=65536)
def _similarity(a: str, b: str, floor: float = 0.0) -> float:
    """Ratio of two normalised descriptions; 0.0 early when the cheap upper bounds fall below
    ``floor`` (most pairs in a table are unrelated, and the full ratio is quadratic)."""
    if a == b:
        return 1.0
    if not a or not b or 2 * min(len(a), len(b)) / (len(a) + len(b)) < floor:
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def pair_score(x: RowKey, y: RowKey) -> float | None:
    """How strongly two rows look like the same booking; None when they must not be paired."""
    same_date, same_amount = x.date == y.date, x.amount == y.amount
    if same_date and same_amount:
        score = _FULL_MATCH + _similarity(x.description, y.description)
    elif same_amount:
        score = _AMOUNT_ONLY + _similarity(x.description, y.description)
    elif x.amount == -y.amount:
        score = _SIGN_ONLY + _similarity(x.description, y.description) - (not same_date)
    elif same_date:
        similarity = _similarity(x.description, y.description, _DATE_ONLY_MIN_SIMILARITY)
        if similarity < _DATE_ONLY_MIN_SIMILARITY:
            return None
        score = _DATE_ONLY + similarity
    else:
        return None  # date and amount both differ: not the same booking, or not recognisably
    if x.page is not None and y.page is not None and x.page != y.page:
        score -= _OTHER_PAGE_PENALTY
    return score if score > 0 else None


def align_pair(
    a: Sequence[Transaction], b: Sequence[Transaction]
) -> list[tuple[int | None, int | None]]:
    """Align two row lists; each result pair holds the row index in ``a`` and in ``b`` (or None)."""
    return [(slot[0], slot[1]) for slot in align([a, b])]


@dataclass
class _Column:
    """One slot while aligning: per candidate, the index of its row here (or None)."""

    members: list[int | None]

    def keys(self, keys: Sequence[Sequence[RowKey]]) -> list[RowKey]:
        return [keys[k][i] for k, i in enumerate(self.members) if i is not None]


# Cells farther than this (plus the length difference) from the diagonal are not scored: readers
# drop or add a few rows, not dozens at once on both sides, and the band keeps long statements
# linear instead of quadratic.
_BAND = 40


def _match(
    columns: Sequence[list[RowKey]], rows: Sequence[RowKey]
) -> list[tuple[int | None, int | None]]:
    """Best monotone matching of rows to columns; gaps are free, so only positive pairs join.

    Returns the merged order: (column index, row index) with None on the side that has a gap.
    The table holds the best score of each pair of suffixes, so reading it front to back pairs
    identical rows in order and lists a run of unmatched column rows before unmatched new ones.
    Only a band of each row's columns is kept (memory and time linear in the rows, not
    quadratic): scores never increase as the remaining rows shrink, so a cell left of a row's band
    repeats the band's first score, and a cell right of it repeats the row below.
    """
    n, m = len(columns), len(rows)
    band = _BAND + abs(n - m)
    low = [0] * n  # row i keeps the scores of columns low[i] .. high[i] + 1
    high = [-1] * n
    kept: list[list[float]] = [[] for _ in range(n)]
    pair: dict[tuple[int, int], float] = {}

    def best(i: int, j: int) -> float:
        if i < n and low[i] <= j <= high[i] + 1 and kept[i]:
            return kept[i][j - low[i]]
        # The first row from i on whose kept columns reach j (rows before it repeat it there).
        i = bisect_left(high, j - 1, i, n) if j < m else n
        if i == n:
            return 0.0
        return kept[i][max(j, low[i]) - low[i]]

    for i in range(n - 1, -1, -1):
        centre, column = i * m // max(n, 1), columns[i]
        low[i], high[i] = max(0, centre - band), min(m - 1, centre + band)
        here = [best(i + 1, high[i] + 1)]
        for j in range(high[i], low[i] - 1, -1):
            value = max(best(i + 1, j), here[-1])
            found = [s for r in column if (s := pair_score(r, rows[j])) is not None]
            if found:
                pair[i, j] = max(found)
                value = max(value, best(i + 1, j + 1) + pair[i, j])
            here.append(value)
        here.reverse()
        kept[i] = here
    merged: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < n or j < m:
        if (i, j) in pair and best(i, j) == best(i + 1, j + 1) + pair[i, j]:
            merged.append((i, j))
            i, j = i + 1, j + 1
        elif i < n and best(i, j) == best(i + 1, j):
            merged.append((i, None))
            i += 1
        else:
            merged.append((None, j))
            j += 1
    return merged


def align(
    candidates: Sequence[Sequence[Transaction]],
    *,
    coverage: Sequence[frozenset[int] | None] | None = None,
) -> list[Slot]:
    """Align several row lists progressively to the first one; returns one tuple per slot.

    ``coverage[k]`` names the pages candidate ``k`` read (None: all). A candidate that read only
    some pages is aligned only against slots on those pages, so it cannot claim a row elsewhere,
    and its None in other slots means "not read" rather than "no such row".
    """
    count = len(candidates)
    keys = [[RowKey.of(row) for row in rows] for rows in candidates]
    columns = [_Column([i] + [None] * (count - 1)) for i in range(len(keys[0]) if keys else 0)]
    for k in range(1, count):
        pages = coverage[k] if coverage is not None else None
        eligible = [c for c in columns if pages is None or _on_pages(c.keys(keys), pages)]
        merged = _match([c.keys(keys) for c in eligible], keys[k])
        inserted: dict[int, list[_Column]] = {}  # new columns, keyed by the eligible column before
        last_seen = -1
        for column_index, row_index in merged:
            if column_index is not None:
                last_seen = column_index
                if row_index is not None:
                    eligible[column_index].members[k] = row_index
            elif row_index is not None:
                members: list[int | None] = [None] * count
                members[k] = row_index
                inserted.setdefault(last_seen, []).append(_Column(members))
        columns = _splice(columns, eligible, inserted, keys)
    return [tuple(c.members) for c in columns]


def _on_pages(rows: list[RowKey], pages: frozenset[int]) -> bool:
    known = [r.page for r in rows if r.page is not None]
    return not known or any(p in pages for p in known)


def _splice(
    columns: list[_Column],
    eligible: list[_Column],
    inserted: dict[int, list[_Column]],
    keys: Sequence[Sequence[RowKey]],
) -> list[_Column]:
    """Put new columns right after the eligible column they followed (key -1: before the first).

    With no eligible column at all (the reference missed every row of the pages read), the new
    columns go after the last column on an earlier page, keeping page order.
    """
    if not eligible:
        new = inserted.get(-1, [])
        first_page = min((r.page for c in new for r in c.keys(keys) if r.page), default=None)
        cut = len(columns)
        if first_page is not None:
            cut = sum(1 for c in columns if any((r.page or 0) < first_page for r in c.keys(keys)))
        return columns[:cut] + new + columns[cut:]
    before = {id(eligible[0]): inserted.get(-1, [])}
    after = {id(eligible[i]): new for i, new in inserted.items() if i >= 0}
    result: list[_Column] = []
    for column in columns:
        result.extend(before.get(id(column), []))
        result.append(column)
        result.extend(after.get(id(column), []))
    return result
