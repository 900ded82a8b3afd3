"""Issue 16, section 1 (in part): readers that agree on nonsense settle nothing; no reading,
however malformed, crashes the consensus; a damaged cache entry is a miss."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualread.cache import AnswerCache, candidate_from_dict
from dualread.consensus import decide
from dualread.stages.candidate import Candidate
from dualread.statement import Statement, Transaction
from tests.consensus.factories import candidate, chained, statement, with_rows

pytestmark = pytest.mark.unit

PAGES = (1, 2)


def _truth() -> Statement:
    return statement(chained(["-10.00", "250.00", "-3.20", "-47.80"], pages=[1, 1, 2, 2]))


def _agreeing(content: Statement) -> list[Candidate]:
    """Both routes and the embedded engine read exactly ``content``: full agreement."""
    return [
        candidate("visual", content, PAGES),
        candidate("ocr", content, PAGES),
        candidate("embedded", content, PAGES),
    ]


def _reasons(content: Statement) -> tuple[str, list[str]]:
    decision = decide(_agreeing(content))
    return decision.status, [d.reason or "" for d in decision.disputes]


def test_the_truth_read_alike_is_agreed() -> None:
    assert _reasons(_truth()) == ("agreed", [])


def _row_changed(index: int, **update: object) -> Statement:
    truth = _truth()
    rows = list(truth.transactions)
    rows[index] = rows[index].model_copy(update=update)
    return with_rows(truth, rows)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (_truth().model_copy(update={"closing_balance": Decimal("0.01")}), "arithmetic"),
        (_row_changed(1, amount=Decimal("250.00001"), balance=None), "more decimals"),
        (_row_changed(1, amount=Decimal("-0.00"), balance=None), "negative zero"),
        (_row_changed(1, amount=Decimal("1" * 40 + ".00"), balance=None), "digits before"),
        (_row_changed(2, date=dt.date(1971, 3, 4)), "far outside the period"),
    ],
    ids=["closing-0.01", "5-decimals", "negative-zero", "40-digits", "date-decades-off"],
)
def test_agreement_on_an_impossible_value_is_unresolved(content: Statement, reason: str) -> None:
    status, reasons = _reasons(content)
    assert status == "unresolved"
    assert any(reason in text for text in reasons), reasons


def test_ten_thousand_rows_on_a_fourteen_row_page_are_unresolved() -> None:
    invented = [
        Transaction(date=dt.date(2024, 3, 5), amount=Decimal("1.00"), description="x", page=1)
        for _ in range(10_000)
    ]
    status, reasons = _reasons(with_rows(_truth(), invented))
    assert status == "unresolved"
    assert any("more than a page holds" in text for text in reasons)


def test_every_iban_reading_failing_its_checksum_is_a_dispute_not_a_crash() -> None:
    truth = _truth()
    a = truth.model_copy(update={"iban": "DE00370400440532013000"})
    b = truth.model_copy(update={"iban": "DE11370400440532013000"})
    decision = decide([candidate("visual", a, PAGES), candidate("ocr", b, PAGES)])
    assert decision.status == "unresolved"
    assert decision.statement.iban is None
    assert [d.field for d in decision.disputes] == ["iban"]


_money = st.one_of(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6
    ),
    st.sampled_from([Decimal("-0.00"), Decimal("1" * 40), Decimal("0.00001"), Decimal(0)]),
)
_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
_ibans = st.one_of(
    st.none(),
    st.sampled_from(["DE89370400440532013000", "DE00370400440532013000", "GB82WEST12345698765432"]),
    st.text(alphabet="ABCDEFGHIJ0123456789 ", max_size=34),
)
_rows = st.builds(
    Transaction,
    date=_dates,
    amount=_money,
    balance=st.one_of(st.none(), _money),
    description=st.text(max_size=20),
    page=st.one_of(st.none(), st.integers(1, 3)),
)
_statements = st.builds(
    Statement,
    iban=_ibans,
    currency=st.sampled_from([None, "EUR", "JPY", "BHD", "XXX"]),
    period_start=st.one_of(st.none(), _dates),
    period_end=st.one_of(st.none(), _dates),
    opening_balance=st.one_of(st.none(), _money),
    closing_balance=st.one_of(st.none(), _money),
    transactions=st.lists(_rows, max_size=8),
)
_candidates = st.lists(
    st.builds(
        Candidate,
        route=st.sampled_from(["visual", "ocr", "embedded"]),
        statement=_statements,
        pages=st.sampled_from([(1,), (1, 2), (1, 2, 3), (3,)]),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_candidates, st.sampled_from(["null", "best"]))
def test_the_consensus_never_raises_on_random_and_hostile_readings(
    candidates: list[Candidate], on_dispute: str
) -> None:
    decision = decide(candidates, on_dispute="best" if on_dispute == "best" else "null")
    assert decision.status in ("agreed", "resolved", "unresolved", "single", "unverified")
    json.dumps(decision.to_dict(), default=str)


def test_a_damaged_cache_entry_that_is_still_json_is_a_miss(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "cache")
    key = cache.key(file="abc", stage="visual_json")
    cache.put(key, {"route": "visual", "statement": {"transactions": "not a list"}})
    assert cache.load(key, candidate_from_dict) is None
    cache.put(key, ["valid", "json", "wrong", "shape"])
    assert cache.load(key, candidate_from_dict) is None


def test_an_empty_reading_of_pages_with_rows_is_a_failed_route_not_a_vote() -> None:
    """Two routes answering "no rows" must not outvote the engine that read the rows."""
    empty = with_rows(_truth(), [])
    decision = decide(
        [
            candidate("visual", empty, PAGES),
            candidate("ocr", empty, PAGES),
            candidate("embedded", _truth(), PAGES),
        ]
    )
    assert decision.status == "unresolved"  # one reader left: nothing confirms it
    assert len(decision.statement.transactions) == len(_truth().transactions)
    reasons = [d.reason or "" for d in decision.disputes]
    assert any("visual" in r and "read no rows" in r for r in reasons), reasons
    assert any("ocr" in r and "read no rows" in r for r in reasons), reasons


def test_readers_agreeing_on_no_rows_without_balances_to_confirm_it_are_unresolved() -> None:
    """Agreement on an empty table is evidence of nothing when no printed balance confirms it."""
    nothing = Statement(transactions=[])
    status, reasons = _reasons(nothing)
    assert status == "unresolved"
    assert any("no transactions" in r for r in reasons), reasons


def test_an_empty_statement_whose_balances_confirm_it_may_be_agreed() -> None:
    quiet = statement([], opening_balance=Decimal("100.00"), closing_balance=Decimal("100.00"))
    assert _reasons(quiet) == ("agreed", [])
