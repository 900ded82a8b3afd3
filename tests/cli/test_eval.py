"""``dualread eval`` end to end on the bundled sample, read by the embedded engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualread.cli import app
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

SAMPLE_DIR = REPO_ROOT / "fixtures" / "sample"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["eval", *args])
    return result.exit_code, result.stdout, result.stderr


def test_table_on_stdout_and_threshold_met() -> None:
    code, out, err = run(str(SAMPLE_DIR), "--engine", "embedded", "--min-row-f1", "1")
    assert code == 0, err
    assert "worst first" in out and "Summary" in out and "100.0%" in out
    assert "statement.pdf: row F1 1.000" in err


def test_json_report() -> None:
    code, out, _ = run(str(SAMPLE_DIR / "statement.pdf"), "--engine", "embedded", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["summary"]["row_f1"] == 1.0
    assert report["summary"]["header_accuracy"] == 1.0
    assert report["documents"][0]["arithmetic_ok"] is True
    assert report["documents"][0]["pages"] == 1


def test_markdown_summary() -> None:
    code, out, _ = run(str(SAMPLE_DIR), "--engine", "embedded", "--markdown")
    assert code == 0
    assert out.splitlines()[2].startswith("| embedded | sample | 1 | 100.0% |")


def test_exit_1_below_thresholds(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_DIR / "statement.pdf", tmp_path / "statement.pdf")
    truth = json.loads((SAMPLE_DIR / "statement.truth.json").read_text())
    truth["transactions"][0]["amount"] = "1.00"  # the reader will disagree with this truth
    truth["opening_balance"] = "0.01"
    (tmp_path / "statement.truth.json").write_text(json.dumps(truth))
    code, _, err = run(
        str(tmp_path), "--engine", "embedded", "--min-row-f1", "0.99",
        "--min-header-accuracy", "1",
    )  # fmt: skip
    assert code == 1
    assert "is below --min-row-f1 0.99" in err
    assert "is below --min-header-accuracy 1" in err


def test_missing_truth_is_a_one_line_usage_error(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_DIR / "statement.pdf", tmp_path / "other.pdf")
    code, out, err = run(str(tmp_path / "other.pdf"), "--engine", "embedded")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: {tmp_path / 'other.pdf'}: no ground truth beside it "
        "(expected other.truth.json or other-expected.json)"
    ]
    code, _, err = run(str(tmp_path / "empty"), "--engine", "embedded")
    assert code == 2 and "no such file or folder" in err
