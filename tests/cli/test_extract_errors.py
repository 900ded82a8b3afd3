"""The command line as a user meets it: exit codes, one-line errors, no tracebacks.

The commands run in this process through typer's runner (a subprocess per case would cost an
interpreter start and every import each time); one test starts ``python -m dualread`` for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from dualread.cli import app
from tests.test_documents import make_pdf

pytestmark = pytest.mark.unit


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> Ran:
    """``dualread ARGS`` in this process. An exception escaping the command (which a user would
    see as a traceback) is raised here, so it fails the test."""
    result = CliRunner().invoke(app, list(args), env={"DUALREAD_RETRIES": "0", **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_version_and_schema() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "dualread", "--version"], capture_output=True, text=True, timeout=120
    )
    assert version.returncode == 0 and version.stdout.startswith("dualread ")
    schema = run_cli("schema")
    assert json.loads(schema.stdout)["title"].startswith("dualread bank statement")


def test_help_explains_every_command() -> None:
    top = run_cli("--help")
    assert top.returncode == 0
    for command in ("extract", "schema"):
        assert command in top.stdout
    extract = run_cli("extract", "--help")
    assert "Exit codes" in extract.stdout and "--on-dispute" in extract.stdout


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.pdf", b"", "the file is empty"),
        ("corrupt.pdf", b"%PDF-1.4 nonsense", "not a readable PDF"),
        ("notes.docx", b"PK\x03\x04 not a statement", "unsupported or unreadable file"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = run_cli("extract", str(path), "--engine", "vlm", "--ollama-url", "http://127.0.0.1:9")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {problem}")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_encrypted_pdf_without_password(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "locked.pdf", pages=1, password="pw")
    result = run_cli("extract", str(path), "--engine", "vlm")
    assert result.returncode == 2
    assert (
        f"error: {path}: the PDF is encrypted; give its password with --password" in result.stderr
    )


def test_servers_down_exit_4(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "s.pdf", pages=1)
    result = run_cli(
        "extract",
        str(path),
        "--engine",
        "vlm",
        "--ollama-url",
        "http://127.0.0.1:9",
        "--vllm-url",
        "http://127.0.0.1:9/v1",
    )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr


def test_bad_config_value_is_a_usage_error(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "s.pdf", pages=1)
    result = run_cli("extract", str(path), env={"DUALREAD_MAX_PASSES": "many"})
    assert result.returncode == 2
    assert "DUALREAD_MAX_PASSES" in result.stderr and "Traceback" not in result.stderr
