"""Finding ground truth, our schema and the Postbank adapter, and their one-line errors."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from dualread.evaluate.truth import (
    DEVSET_FIELDS,
    POSTBANK_FIELDS,
    TruthError,
    find_cases,
    load_truth,
)
from dualread.statement import HEADER_FIELDS
from tests.conftest import REPO_ROOT, SHARED

pytestmark = pytest.mark.unit

SAMPLE = REPO_ROOT / "fixtures" / "sample"
CORPUS = REPO_ROOT / "fixtures" / "corpus"
POSTBANK_EXPECTED = {
    "filename": "statement.pdf",
    "bankId": "PBNKDEFF",
    "accountId": "DE31200100209999999999",
    "fromDate": "2020-01-01",
    "toDate": "2020-02-02",
    "balanceOld": 2853.82,
    "balanceNew": 3007.82,
    "bookings": [
        {
            "postDate": "2020-01-19",
            "valueDate": "2020-01-19",
            "info": ["Gutschr. SEPA", "Referenz T150 ", "ARBEITSAMT  BONN"],
            "amount": 154.0,
            "type": "CREDIT",
        }
    ],
}


def test_our_schema_truth_states_every_header_field() -> None:
    truth = load_truth(SAMPLE / "statement.truth.json")
    assert truth.known_fields == HEADER_FIELDS
    assert truth.statement.transactions[0].page == 1


def test_postbank_adapter(tmp_path: Path) -> None:
    path = tmp_path / "statement-expected.json"
    path.write_text(json.dumps(POSTBANK_EXPECTED))
    truth = load_truth(path)
    assert truth.known_fields == POSTBANK_FIELDS
    statement = truth.statement
    assert (statement.iban, statement.bic) == ("DE31200100209999999999", "PBNKDEFF")
    assert statement.opening_balance == Decimal("2853.82")
    (booking,) = statement.transactions
    assert booking.amount == Decimal("154.0")
    assert booking.description == "Gutschr. SEPA Referenz T150 ARBEITSAMT BONN"
    assert str(booking.value_date) == "2020-01-19"


@pytest.mark.skipif(not (SHARED / "realworld").is_dir(), reason="../shared/realworld is absent")
def test_real_postbank_expected_file_loads() -> None:
    (path,) = (SHARED / "realworld" / "postbank-demo").glob("*-expected.json")
    statement = load_truth(path).statement
    total = statement.opening_balance + sum(t.amount for t in statement.transactions)  # type: ignore[operator]
    assert total == statement.closing_balance


def test_folders_are_searched_and_the_manifest_gives_passwords_and_groups() -> None:
    cases = {case.document.name: case for case in find_cases([CORPUS])}
    assert len(cases) == len(json.loads((CORPUS / "manifest.json").read_text())["cases"])
    encrypted = cases["e01-debit-credit-de-DE.pdf"]
    assert encrypted.password == "pw-e01-debit-credit-de-DE"
    assert encrypted.group == "encrypted"
    assert cases["p01-signed-en-GB.jpg"].group == "photo"


def test_a_file_without_truth_is_a_one_line_error(tmp_path: Path) -> None:
    document = tmp_path / "lonely.pdf"
    shutil.copy(SAMPLE / "statement.pdf", document)
    with pytest.raises(TruthError, match=r"lonely.pdf: no ground truth beside it"):
        find_cases([document])
    assert find_cases([tmp_path]) == []  # in a folder it is simply not a case
    with pytest.raises(TruthError, match="no such file or folder"):
        find_cases([tmp_path / "missing"])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "unreadable truth file"),
        ("3", "must be a JSON object"),
        ("[]", "too short"),  # an array holds a file's several accounts: two or more
        ('{"transactions": "x"}', "schema violation"),
        ('{"bookings": [{"amount": 1}]}', "not a statement truth file"),
    ],
)
def test_bad_truth_files(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "x.truth.json"
    path.write_text(content)
    with pytest.raises(TruthError, match=problem) as raised:
        load_truth(path)
    assert "\n" not in str(raised.value)


def test_devset_truth_sets_its_annotations_aside(tmp_path: Path) -> None:
    # The real-world devset's truth: our schema's keys plus notes for people.
    path = tmp_path / "statement.truth.json"
    truth_document = {
        "source": {"repo": "someone/somewhere", "commit": "0" * 40, "path": "x.pdf"},
        "bank": "A fictional bank",
        "traps": "dates without a year",
        "complete": True,
        "reconciles": True,
        "currency": "EUR",
        "opening_balance": "4.02",
        "closing_balance": "4.09",
        "period_start": "2026-05-01",
        "period_end": "2026-05-31",
        "transactions": [
            {"date": "2026-05-01", "amount": "0.07", "balance": "4.09", "description": "Interest"}
        ],
    }
    path.write_text(json.dumps(truth_document))
    truth = load_truth(path)
    assert truth.known_fields == DEVSET_FIELDS
    assert truth.statement.opening_balance == Decimal("4.02")
    assert truth.statement.transactions[0].amount == Decimal("0.07")
