"""A file that holds two accounts in two currencies, end to end: the embedded engine tells them
apart, ``dualread extract`` writes one statement per account in every format, and
``dualread eval`` scores each against its truth (an array of statements)."""

from __future__ import annotations

import csv
import io
import json
import xml.dom.minidom
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualread.api import extract
from dualread.cli import app
from dualread.evaluate.scores import score_accounts
from dualread.evaluate.truth import TruthError, find_cases, load_truth
from dualread.statement import SCHEMA_VERSION
from dualread.testing.fixtures import StartRoutes
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

CORPUS = REPO_ROOT / "fixtures" / "corpus"
TWO_CURRENCIES = CORPUS / "d24-two-currencies-en-GB.pdf"


def _extract(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["extract", "--engine", "embedded", "--no-cache", *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def test_truth_of_two_accounts_is_an_array_of_statements() -> None:
    truth = load_truth(CORPUS / "d24-two-currencies-en-GB.truth.json")
    assert [a.currency for a in truth.accounts] == ["GBP", "USD"]
    assert truth.statement is truth.accounts[0]
    assert {t.page for t in truth.accounts[1].transactions} == {2}


def test_a_truth_array_of_one_statement_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.truth.json"
    single = json.loads((REPO_ROOT / "fixtures" / "sample" / "statement.truth.json").read_text())
    path.write_text(json.dumps([single]))
    with pytest.raises(TruthError, match=str(path)):
        load_truth(path)


def test_extract_writes_one_statement_per_account(tmp_path: Path) -> None:
    code, stdout, stderr = _extract(str(TWO_CURRENCIES))
    assert code == 0, stderr
    written = json.loads(stdout)
    truth = json.loads((CORPUS / "d24-two-currencies-en-GB.truth.json").read_text())
    assert [d["extraction"]["account"] for d in written] == [
        {"index": 1, "count": 2},
        {"index": 2, "count": 2},
    ]
    assert [d["currency"] for d in written] == ["GBP", "USD"]
    for got, expected in zip(written, truth, strict=True):
        assert got["schema_version"] == SCHEMA_VERSION
        assert got["extraction"]["status"] == "single"
        assert [(t["date"], t["amount"]) for t in got["transactions"]] == [
            (t["date"], t["amount"]) for t in expected["transactions"]
        ]
        assert (got["opening_balance"], got["closing_balance"]) == (
            expected["opening_balance"],
            expected["closing_balance"],
        )
    assert "(account 2 of 2): single" in stderr

    code, _, stderr = _extract(str(TWO_CURRENCIES), "-f", "csv", "-o", str(tmp_path / "t.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert code == 0, stderr
    assert {(r["account"], r["currency"]) for r in rows} == {
        (d["iban"] or d["account_number"], d["currency"]) for d in truth
    }
    assert len(rows) == sum(len(d["transactions"]) for d in truth)

    code, _, stderr = _extract(str(TWO_CURRENCIES), "-f", "ofx", "-o", str(tmp_path / "t.ofx"))
    dom = xml.dom.minidom.parse(str(tmp_path / "t.ofx"))
    assert code == 0, stderr
    assert len(dom.getElementsByTagName("STMTRS")) == 2


def test_eval_scores_every_account_against_its_truth() -> None:
    (case,) = [c for c in find_cases([CORPUS]) if c.document == TWO_CURRENCIES]
    first, second = case.truth.accounts
    whole = score_accounts(case, [(first, "single"), (second, "single")], status="single")
    assert whole.rows.f1 == 1.0 and whole.silent_errors == 0
    assert whole.header["currency (account 2)"] is True
    # The second account not read: its rows missed, its header wrong, nothing silent about it.
    half = score_accounts(case, [(first, "single")], status="single")
    assert half.rows.expected == len(first.transactions) + len(second.transactions)
    assert half.rows.matched == len(first.transactions)
    assert half.header["currency (account 2)"] is False
    assert half.silent_errors == 0
    # The second account read as the first: its rows are wrong under a checked status.
    swapped = score_accounts(case, [(first, "single"), (first, "agreed")], status="agreed")
    assert swapped.silent_errors >= len(second.transactions)
    flagged = score_accounts(case, [(first, "single"), (first, "unresolved")], status="unresolved")
    assert flagged.silent_errors == 0


def test_eval_command_reads_the_array_truth() -> None:
    result = CliRunner().invoke(
        app,
        ["eval", str(TWO_CURRENCIES), "--engine", "embedded", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    (document,) = report["documents"]
    assert document["rows"]["f1"] == 1.0
    assert document["silent_errors"] == 0


@pytest.mark.contract
def test_model_routes_read_one_statement_and_confirm_only_the_account_they_read(
    standin_routes: StartRoutes,
) -> None:
    """Both model routes answer one statement for the whole file (the stand-ins read it page by
    page: the first account's header, the second's closing balance from the last page, every
    row): it is placed on the first account, whose wrong closing balance the vote and the
    arithmetic outweigh; the second only the embedded engine read, so it is unresolved with a
    dispute per route, never agreed."""
    routes = standin_routes([TWO_CURRENCIES])
    result = extract(TWO_CURRENCIES, settings=routes.settings, engine="vlm")
    first, second = (account.record for account in result.accounts)
    assert first.status == "resolved" and first.disputes == [], first.disputes
    assert second.status == "unresolved"
    assert sorted(d.reason or "" for d in second.disputes if d.field == "account") == [
        f"route {route} read this file, but none of its reading could be placed on this "
        "account: nothing it read confirms this account"
        for route in ("ocr", "visual")
    ]
    truth = load_truth(CORPUS / "d24-two-currencies-en-GB.truth.json")
    assert [len(a.document["transactions"]) for a in result.accounts] == [
        len(account.transactions) for account in truth.accounts
    ]
    assert result.exit_code == 3
    assert sorted(p.route for p in first.passes) == ["embedded", "ocr", "visual"]  # no re-read
