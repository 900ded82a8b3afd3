"""Per-document scores, pooling into summaries, and the rendered reports."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from rich.console import Console

from dualread.evaluate.report import print_tables, report_json, report_markdown
from dualread.evaluate.scores import (
    DocumentScore,
    score_document,
    summarize,
    summarize_groups,
    worst_first,
)
from dualread.evaluate.truth import Case, find_cases
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

(SAMPLE_CASE,) = find_cases([REPO_ROOT / "fixtures" / "sample"])


def _with_group(case: Case, group: str) -> Case:
    return Case(case.document, case.truth, case.password, group)


def _scores() -> list[DocumentScore]:
    truth = SAMPLE_CASE.truth.statement
    dropped = truth.model_copy(update={"transactions": truth.transactions[1:]})
    wrong_iban = truth.model_copy(update={"iban": "DE89370400440532013000"})
    return [
        score_document(_with_group(SAMPLE_CASE, "digital"), truth, pages=1, seconds=0.5, passes=2),
        score_document(_with_group(SAMPLE_CASE, "digital"), wrong_iban, pages=1, seconds=1.5),
        score_document(_with_group(SAMPLE_CASE, "scan"), dropped, pages=1, seconds=4.0, passes=3),
        score_document(_with_group(SAMPLE_CASE, "scan"), None, error="x.pdf: corrupt"),
    ]


def test_a_failed_extraction_scores_zero() -> None:
    failed = _scores()[3]
    assert failed.rows.f1 == 0.0 and failed.header_accuracy == 0.0 and not failed.arithmetic


def test_a_dropped_row_breaks_recall_and_arithmetic() -> None:
    dropped = _scores()[2]
    assert dropped.rows.precision == 1.0 and dropped.rows.recall < 1.0
    assert dropped.header_accuracy == 1.0
    assert not dropped.arithmetic


def test_worst_first_puts_failures_then_lowest_f1_first() -> None:
    scores = _scores()
    ordered = worst_first(scores)
    assert ordered[0] is scores[3] and ordered[1] is scores[2]
    assert ordered[2] is scores[1]  # same F1 as the perfect one, worse header


def test_summaries_pool_rows_and_fields() -> None:
    scores = _scores()
    summary = summarize(scores)
    rows = len(SAMPLE_CASE.truth.statement.transactions)
    assert summary.rows.expected == 4 * rows
    assert summary.rows.matched == 3 * rows - 1
    assert summary.failed == 1
    assert summary.header_correct == 10 + 9 + 10 + 0
    assert summary.arithmetic_pass_rate == 0.5
    assert summary.passes_per_document == 2.5
    assert summary.seconds_per_page == pytest.approx(6.0 / 3)
    assert set(summarize_groups(scores)) == {"digital", "scan"}


def test_silent_errors_count_wrong_rows_and_balances_under_a_checked_status() -> None:
    truth = SAMPLE_CASE.truth.statement
    first, *rest = truth.transactions
    misread = first.model_copy(update={"amount": first.amount + 1})
    off_balance = rest[0].model_copy(update={"balance": Decimal("0.01")})
    read = truth.model_copy(
        update={
            "transactions": [misread, off_balance, *rest[1:], rest[-1]],  # and one row twice
            "closing_balance": Decimal("0.02"),
        }
    )
    for status, silent in (("agreed", 4), ("resolved", 4), ("single", 4), ("unresolved", 0)):
        score = score_document(SAMPLE_CASE, read, status=status)
        assert (score.wrong_rows, score.wrong_balances) == (2, 2)
        assert score.silent_errors == silent
    assert score_document(SAMPLE_CASE, truth, status="agreed").silent_errors == 0
    assert score_document(SAMPLE_CASE, None, error="x.pdf: corrupt").silent_errors == 0
    scores = [score_document(SAMPLE_CASE, read, status=s) for s in ("agreed", "unverified")]
    summary = summarize(scores)
    assert (summary.silent_errors, summary.silent_documents) == (4, 1)
    report = json.loads(report_json(scores, "embedded"))
    assert report["summary"]["silent_errors"] == 4
    assert [d["silent_errors"] for d in report["documents"]] == [4, 0]
    summary_table, documents_table = report_markdown(scores, "embedded").split("\n\n")
    assert summary_table.splitlines()[-1].endswith("| 4 |")
    assert documents_table.splitlines()[2].endswith("| 4 |")  # worst first


def test_json_report() -> None:
    report = json.loads(report_json(_scores(), "embedded"))
    assert report["engine"] == "embedded"
    assert report["documents"][0]["error"] == "x.pdf: corrupt"
    assert report["groups"]["digital"]["row_f1"] == 1.0
    assert report["documents"][-2]["header_wrong"] == ["iban"]
    assert isinstance(Decimal(str(report["summary"]["row_f1"])), Decimal)


def test_markdown_and_tables() -> None:
    markdown = report_markdown(_scores(), "embedded").splitlines()
    assert markdown[0].startswith("| engine | fixtures |")
    summary, documents = markdown[: markdown.index("")], markdown[markdown.index("") + 1 :]
    assert [line.split("|")[2].strip() for line in summary[2:]] == ["digital", "scan", "all"]
    # Per document, worst first: the failed extraction, then the dropped row.
    assert documents[0].startswith("| document | status |")
    assert "failed: x.pdf: corrupt" in documents[2]
    assert documents[3].split("|")[4].strip() == f"{_scores()[2].rows.f1:.3f}"
    console = Console(record=True, width=220)
    print_tables(_scores(), console)
    text = console.export_text()
    assert "worst first" in text and "x.pdf: corrupt" in text and "100.0%" in text
