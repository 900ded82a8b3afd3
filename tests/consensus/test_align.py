from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualread.consensus.align import align, align_pair
from dualread.statement import Transaction
from tests.consensus.factories import row

pytestmark = pytest.mark.unit

WORDS = [
    "REWE",
    "Markt",
    "Berlin",
    "Gehalt",
    "Miete",
    "BVG",
    "Shell",
    "Amazon",
    "Netflix",
    "PayPal",
]


@st.composite
def distinct_rows(draw: st.DrawFn, min_size: int = 1, max_size: int = 40) -> list[Transaction]:
    """Rows in date order with pairwise different amounts, so each has exactly one twin."""
    size = draw(st.integers(min_size, max_size))
    cents = draw(st.lists(st.integers(-500_000, 500_000).filter(bool), min_size=size,
                          max_size=size, unique=True))  # fmt: skip
    days = sorted(draw(st.lists(st.integers(0, 60), min_size=size, max_size=size)))
    words = draw(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
                          min_size=size, max_size=size))  # fmt: skip
    return [
        Transaction(
            date=dt.date(2024, 1, 1) + dt.timedelta(days=day),
            amount=Decimal(c).scaleb(-2),
            description=" ".join(w),
        )
        for c, day, w in zip(cents, days, words, strict=True)
    ]


def _pairs(slots: Sequence[tuple[int | None, ...]]) -> dict[int, int]:
    return {a: b for a, b in slots if a is not None and b is not None}


@settings(max_examples=50, deadline=None)
@given(rows=distinct_rows(), data=st.data())
def test_deleting_k_rows_leaves_every_other_row_with_its_twin(
    rows: list[Transaction], data: st.DataObject
) -> None:
    deleted = set(data.draw(st.sets(st.integers(0, len(rows) - 1), max_size=8)))
    kept = [i for i in range(len(rows)) if i not in deleted]
    pairs = _pairs(align_pair(rows, [rows[i] for i in kept]))
    assert pairs == {original: position for position, original in enumerate(kept)}


@settings(max_examples=50, deadline=None)
@given(rows=distinct_rows(), extra=distinct_rows(max_size=6), data=st.data())
def test_inserting_k_rows_leaves_every_original_row_with_its_twin(
    rows: list[Transaction], extra: list[Transaction], data: st.DataObject
) -> None:
    # Extra rows get amounts no original row has, as a hallucinated or duplicated line would.
    taken = {r.amount for r in rows}
    extra = [r for r in extra if r.amount not in taken]
    other = list(rows)
    inserted_at: list[int] = []
    for new in extra:
        at = data.draw(st.integers(0, len(other)))
        other.insert(at, new)
        inserted_at = [i + (i >= at) for i in inserted_at] + [at]
    originals = [i for i in range(len(other)) if i not in inserted_at]
    pairs = _pairs(align_pair(rows, other))
    for original, position in enumerate(originals):
        assert pairs.get(original) == position


@settings(max_examples=50, deadline=None)
@given(rows=distinct_rows(min_size=2), data=st.data())
def test_a_merged_pair_does_not_shift_the_rows_after_it(
    rows: list[Transaction], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(rows) - 2))
    first, second = rows[at], rows[at + 1]
    merged = first.model_copy(
        update={
            "amount": first.amount + second.amount,
            "description": f"{first.description} {second.description}",
        }
    )
    other = [*rows[:at], merged, *rows[at + 2 :]]
    pairs = _pairs(align_pair(rows, other))
    for original in range(len(rows)):
        if original < at:
            assert pairs.get(original) == original
        elif original > at + 1:
            assert pairs.get(original) == original - 1


@settings(max_examples=40, deadline=None)
@given(rows=distinct_rows(min_size=3), data=st.data())
def test_several_readings_align_progressively_row_for_row(
    rows: list[Transaction], data: st.DataObject
) -> None:
    dropped = data.draw(st.integers(0, len(rows) - 1))
    duplicated = data.draw(st.integers(0, len(rows) - 1))
    second = [r for i, r in enumerate(rows) if i != dropped]
    third = [*rows[: duplicated + 1], rows[duplicated], *rows[duplicated + 1 :]]
    slots = align([rows, second, third])
    for slot in slots:
        present = [
            reading[i] for reading, i in zip((rows, second, third), slot, strict=True)
            if i is not None
        ]  # fmt: skip
        assert len({(r.date, r.amount) for r in present}) == 1  # one booking per slot
    assert sum(1 for slot in slots if slot[0] is None) == 1  # only the duplicate is extra


def test_misread_amount_pairs_with_its_row_by_date_and_description() -> None:
    a = [row(1, "-10.00", description="REWE"), row(2, "-25.00", description="Shell Tankstelle")]
    b = [row(1, "-10.00", description="REWE"), row(2, "-52.00", description="Shell Tankstelle")]
    assert align_pair(a, b) == [(0, 0), (1, 1)]


def test_sign_flip_and_misread_date_still_pair() -> None:
    a = [row(1, "-10.00", description="REWE"), row(5, "-7.00", description="BVG")]
    b = [row(1, "10.00", description="REWE"), row(8, "-7.00", description="BVG")]
    assert align_pair(a, b) == [(0, 0), (1, 1)]


def test_unrelated_rows_are_not_forced_together() -> None:
    a = [row(1, "-10.00", description="REWE")]
    b = [row(9, "-99.00", description="Deutsche Bahn")]
    assert align_pair(a, b) == [(0, None), (None, 0)]


def test_identical_rows_pair_in_order() -> None:
    twice = [row(1, "-2.50", description="Coffee"), row(1, "-2.50", description="Coffee")]
    assert align_pair(twice, twice[:1]) == [(0, 0), (1, None)]


def test_partial_reading_aligns_only_against_its_pages() -> None:
    full = [
        row(1, "-5.00", description="Kiosk", page=1),
        row(2, "-5.00", description="Kiosk", page=2),
    ]
    page_two = [row(2, "-5.00", description="Kiosk", page=2)]
    slots = align([full, page_two], coverage=[None, frozenset({2})])
    assert slots == [(0, None), (1, 0)]


def test_rows_the_reference_missed_on_a_page_go_between_its_neighbours() -> None:
    full = [row(1, "-1.00", description="a", page=1), row(9, "-3.00", description="c", page=3)]
    page_two = [row(5, "-2.00", description="b", page=2)]
    slots = align([full, page_two], coverage=[None, frozenset({2})])
    assert slots == [(0, None), (None, 0), (1, None)]


def test_empty_inputs() -> None:
    assert align_pair([], []) == []
    assert align_pair([row(1, "1.00")], []) == [(0, None)]
    assert align_pair([], [row(1, "1.00")]) == [(None, 0)]
