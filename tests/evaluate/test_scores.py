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
    assert [line.split("|")[2].strip() for line in markdown[2:]] == ["digital", "scan", "all"]
    console = Console(record=True, width=220)
    print_tables(_scores(), console)
    text = console.export_text()
    assert "worst first" in text and "x.pdf: corrupt" in text and "100.0%" in text
