"""``dualread extract`` over several files at once: JSON Lines on stdout, one file per input in
an ``-o`` folder, a bad file reported and skipped, and the worst exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualread.cli import app

pytestmark = pytest.mark.unit

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample" / "statement.pdf"


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    """Two readable statements with a file that is no PDF between them."""
    first, bad, second = tmp_path / "first.pdf", tmp_path / "broken.pdf", tmp_path / "second.pdf"
    shutil.copy(SAMPLE, first)
    bad.write_text("not a statement\n")
    shutil.copy(SAMPLE, second)
    return [first, bad, second]


def _extract(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["extract", "--engine", "embedded", "--no-cache", *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def test_several_files_to_stdout_are_json_lines(inputs: list[Path]) -> None:
    code, stdout, stderr = _extract(*map(str, inputs))
    assert code == 2  # the worst code: the bad input (2) over two readable files (0)
    lines = stdout.splitlines()
    assert [json.loads(line)["extraction"]["source"] for line in lines] == [
        str(inputs[0]),
        str(inputs[2]),
    ]
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(inputs[1]) in errors[0]
    assert "Traceback" not in stderr


def test_several_files_to_a_folder_write_one_file_each(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = _extract(*map(str, inputs), "-o", str(out), "--format", "csv")
    assert code == 2, stderr
    assert stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["first.csv", "second.csv"]
    assert (out / "first.csv").read_text().startswith("date,value_date,description")
    assert (out / "first.csv").stat().st_mode & 0o077 == 0  # bank data: private
