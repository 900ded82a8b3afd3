"""Real-world statements nobody on this project made (``../shared/realworld``), read by the
embedded engine. They are not committed: the tier skips where the folder is absent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from dualread.arithmetic import check
from dualread.documents import open_document
from dualread.evaluate.truth import load_truth
from dualread.parsing import normalize_description
from dualread.stages.embedded import read_embedded
from tests.conftest import BANKSTATEMENTLY_PRINTS_BOTH_BALANCES, SHARED

pytestmark = pytest.mark.accuracy

REALWORLD = SHARED / "realworld"
POSTBANK = REALWORLD / "postbank-demo" / "PB_KAZ_KtoNr_9999999999_06-04-2017_1200.pdf"
BANKSTATEMENTLY = sorted((REALWORLD / "bankstatemently").glob("bsb-*-statement.pdf"))


@pytest.fixture(scope="module", autouse=True)
def _realworld_present() -> None:
    if not REALWORLD.is_dir():
        pytest.skip(f"{REALWORLD} is absent (real-world statements are not in the repository)")


def _expected_text(text: str) -> str:
    # The upstream expected JSON's sixth booking ends in "Muster": the diagonal watermark,
    # which that project's extractor read into the booking text. It is not booking text.
    return normalize_description(text.removesuffix(" Muster"))


def test_postbank_demo_every_booking_and_both_balances() -> None:
    truth = load_truth(POSTBANK.with_name(POSTBANK.stem + "-expected.json")).statement
    got = read_embedded(open_document(POSTBANK)).statement
    assert [(t.date, t.amount) for t in got.transactions] == [
        (t.date, t.amount) for t in truth.transactions
    ]
    assert [normalize_description(t.description) for t in got.transactions] == [
        _expected_text(t.description) for t in truth.transactions
    ]
    assert (got.opening_balance, got.closing_balance) == (Decimal("2853.82"), Decimal("5314.05"))
    assert (got.iban, got.bic) == (truth.iban, truth.bic)
    assert (got.period_start, got.period_end) == (truth.period_start, truth.period_end)


@pytest.mark.parametrize("pdf", BANKSTATEMENTLY, ids=lambda p: p.name[:7])
def test_bankstatemently_counts_and_balances(pdf: Path) -> None:
    info = json.loads(pdf.with_name(pdf.name.replace(".pdf", "-info.json")).read_text())
    candidate = read_embedded(open_document(pdf))
    statement = candidate.statement
    count = len(statement.transactions) + sum(len(a.transactions) for a in candidate.other_accounts)
    assert count == info["transactionCount"]
    report = check(statement)
    if info["id"] in BANKSTATEMENTLY_PRINTS_BOTH_BALANCES:
        assert statement.opening_balance is not None and statement.closing_balance is not None
        assert report.totals_ok is True, report.to_dict()
    assert not report.chain_breaks, report.to_dict()
