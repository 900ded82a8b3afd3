"""Issue 16, sections 2 and 3: outputs never destroy anything, and a batch always finishes.

Every failure here is one file's: one ``error:`` line naming it, exit 2, the other files written.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualread.documents import open_document
from dualread.outputs import render_csv
from tests.outputs.test_writers import sample_document
from tests.safety.cli import extract, extract_process, sample_copy
from tests.safety.hostile_files import blank_pdf, blank_photo, jpeg_named_pdf, letter_pdf

pytestmark = pytest.mark.unit


# --- 2. Outputs that never destroy anything ---------------------------------------------------


def test_same_named_inputs_in_two_folders_keep_their_relative_paths(tmp_path: Path) -> None:
    first = sample_copy(tmp_path / "a" / "statement.pdf")
    second = sample_copy(tmp_path / "b" / "statement.pdf")
    out = tmp_path / "out"
    outcome = extract(tmp_path, str(first), str(second), "-o", f"{out}/")
    assert outcome.exit_code == 0, outcome.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert written == ["a/statement.json", "b/statement.json"]
    for path in out.rglob("*.json"):
        assert json.loads(path.read_text())["extraction"]["source"].endswith("statement.pdf")
    assert f"{first}: written to {out / 'a' / 'statement.json'}" in outcome.stderr


def test_inputs_differing_only_by_extension_keep_it_in_the_output_name(tmp_path: Path) -> None:
    from dualread.outputs.targets import plan_outputs  # here: the probe runs against old trees

    sources = [tmp_path / "statement.pdf", tmp_path / "statement.png", tmp_path / "other.pdf"]
    plan = plan_outputs(sources, str(tmp_path / "out"), ".csv")
    assert plan.targets == {
        sources[0]: tmp_path / "out" / "statement.pdf.csv",
        sources[1]: tmp_path / "out" / "statement.png.csv",
        sources[2]: tmp_path / "out" / "other.csv",
    }
    assert len(set(plan.targets.values())) == len(sources)


def test_an_output_equal_to_the_input_is_refused(tmp_path: Path) -> None:
    source = sample_copy(tmp_path / "statement.pdf")
    before = source.read_bytes()
    outcome = extract(tmp_path, str(source), "-o", str(source))
    assert outcome.exit_code == 2
    assert outcome.errors == [
        f"error: -o {source} would overwrite the input {source}; choose another output"
    ]
    assert source.read_bytes() == before


def test_a_folder_output_that_would_land_on_an_input_is_refused(tmp_path: Path) -> None:
    from dualread.outputs.targets import OutputPlanError, plan_outputs

    sources = [tmp_path / "statement.json", tmp_path / "other.pdf"]  # an image named .json
    with pytest.raises(OutputPlanError, match="would overwrite the input"):
        plan_outputs(sources, str(tmp_path), ".json")


def test_an_output_that_is_no_regular_file_is_written_into_not_replaced(tmp_path: Path) -> None:
    """``-o /dev/null``, ``-o /dev/stdout``, a FIFO: renaming a temp file over one would put a
    JSON file where the device was (as root, in /dev itself) and the output would reach nobody.
    Probed with a FIFO: a regression must not replace the machine's /dev/null."""
    source = sample_copy(tmp_path / "statement.pdf")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open now, so the writer never waits
    try:
        outcome = extract(tmp_path, str(source), "-o", str(fifo))
        received = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert outcome.exit_code == 0, outcome.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert len(json.loads(received)["transactions"]) == 16


def test_output_to_stdout_redirected_onto_a_file_appends_to_it(tmp_path: Path) -> None:
    """``-o /dev/stdout >> all.json``: the shell's file keeps what it held, and the output goes
    after it. Renaming over the file the name resolves to would lose both."""
    source = sample_copy(tmp_path / "statement.pdf")
    collected = tmp_path / "all.json"
    collected.write_text("earlier line\n")
    outcome = extract_process(
        tmp_path, str(source), "-o", "/dev/stdout", shell_redirect=f">> {collected}"
    )
    assert outcome.returncode == 0, outcome.stderr
    earlier, written = collected.read_text().split("\n", 1)
    assert earlier == "earlier line"
    assert len(json.loads(written)["transactions"]) == 16


def test_an_output_through_a_link_replaces_the_file_and_keeps_the_link(tmp_path: Path) -> None:
    source = sample_copy(tmp_path / "statement.pdf")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "latest.json").write_text("{}")
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "runs" / "latest.json")
    outcome = extract(tmp_path, str(source), "-o", str(link))
    assert outcome.exit_code == 0, outcome.stderr
    assert link.is_symlink()
    assert len(json.loads(link.read_text())["transactions"]) == 16
    assert stat.S_IMODE(link.stat().st_mode) == 0o600


@pytest.mark.parametrize("make", [blank_pdf, blank_photo, letter_pdf])
def test_a_page_with_no_statement_is_still_written_with_exit_3(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    """The README's promise for exit 3: the output is written, here an empty statement
    flagged unresolved, with the reason on stderr and in the record."""
    suffix = ".png" if make is blank_photo else ".pdf"
    source = make(tmp_path / f"page{suffix}")
    out = tmp_path / "out"
    outcome = extract(tmp_path, str(source), "-o", f"{out}/")
    assert outcome.exit_code == 3, outcome.stderr
    assert len(outcome.errors) == 1 and str(source) in outcome.errors[0]
    document = json.loads((out / "page.json").read_text())
    record = document["extraction"]
    assert document["transactions"] == []
    assert record["status"] == "unresolved"
    assert any("no reader read a statement" in d.get("reason", "") for d in record["disputes"])
    assert record["failures"] and all(p.get("error") for p in record["passes"])


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
)
def test_csv_formula_injection_is_neutralised_and_readable(text: str) -> None:
    document: dict[str, Any] = sample_document()
    document["transactions"][1]["description"] = text
    rows = list(csv.DictReader(io.StringIO(render_csv([document]), newline="")))
    assert rows[1]["description"] == "'" + text
    assert [row["amount"] for row in rows] == ["1000.00", "-19.50"]  # numbers stay numbers


# --- 3. A batch always finishes -----------------------------------------------------------------


def _deny_reading(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``path`` unreadable: mode 000, and (as root, who ignores modes) the open refused."""
    path.chmod(0)
    if os.geteuid() == 0:
        real_open = Path.open

        def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self == path:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", open_)


def test_an_unreadable_input_is_that_files_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = sample_copy(tmp_path / "locked.pdf")
    good = sample_copy(tmp_path / "good.pdf")
    _deny_reading(locked, monkeypatch)
    outcome = extract(tmp_path, str(locked), str(good), "-o", str(tmp_path / "out"))
    assert outcome.exit_code == 2
    assert outcome.errors == [f"error: {locked}: cannot read the file (Permission denied)"]
    assert (tmp_path / "out" / "good.json").is_file()


def test_a_read_only_output_folder_is_that_files_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = sample_copy(tmp_path / "statement.pdf")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root writes anywhere: refuse as the kernel would for anyone else
        real_mkstemp = tempfile.mkstemp

        def mkstemp(suffix: str, prefix: str, dir: Path) -> tuple[int, str]:
            if Path(dir) == folder:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            return real_mkstemp(suffix=suffix, prefix=prefix, dir=dir)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    outcome = extract(tmp_path, str(source), "-o", str(folder / "s.json"))
    assert outcome.exit_code == 2
    assert outcome.errors == [
        f"error: {source}: cannot write {folder / 's.json'} (Permission denied)"
    ]


def test_a_directory_in_the_way_is_that_files_error(tmp_path: Path) -> None:
    first = sample_copy(tmp_path / "in" / "first.pdf")
    second = sample_copy(tmp_path / "in" / "second.pdf")
    out = tmp_path / "out"
    (out / "first.json").mkdir(parents=True)
    outcome = extract(tmp_path, str(first), str(second), "-o", str(out))
    assert outcome.exit_code == 2
    assert outcome.errors == [f"error: {first}: cannot write {out / 'first.json'} (Is a directory)"]
    assert json.loads((out / "second.json").read_text())["transactions"]


def test_a_full_disk_is_that_files_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = sample_copy(tmp_path / "statement.pdf")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    outcome = extract(tmp_path, str(source), "-o", str(tmp_path / "s.json"))
    assert outcome.exit_code == 2
    assert outcome.errors == [
        f"error: {source}: cannot write {tmp_path / 's.json'} (No space left on device)"
    ]
    assert list(tmp_path.glob(".s.json.*")) == []  # no temp file left behind


@pytest.mark.parametrize(
    ("redirect", "problem"),
    [(">&-", "stdout is closed"), (">/dev/full", "No space left on device")],
)
def test_stdout_closed_or_full_is_an_error_not_a_traceback(
    tmp_path: Path, redirect: str, problem: str
) -> None:
    source = sample_copy(tmp_path / "statement.pdf")
    result = extract_process(tmp_path, str(source), shell_redirect=redirect)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: cannot write the output to stdout ({problem})"]


@pytest.mark.parametrize(
    ("failure", "shown"),
    [
        pytest.param(
            RuntimeError(
                'Traceback (most recent call last):\n  File "main.py", line 98, in __call__\n'
                "onnxruntime.RuntimeException: Conv node: std::bad_alloc\n"
            ),
            "onnxruntime.RuntimeException: Conv node: std::bad_alloc",
            id="traceback-in-the-message",
        ),
        pytest.param(MemoryError(), "MemoryError", id="empty-message"),
    ],
)
def test_a_reader_failing_with_a_traceback_or_nothing_is_one_short_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception, shown: str
) -> None:
    """Out of memory in the OCR (RapidOCR passes onnxruntime's traceback as its message), or a
    bare MemoryError: the error line says what failed, not a traceback and not nothing."""

    def fail(*args: Any, **kwargs: Any) -> None:
        raise failure

    monkeypatch.setattr("dualread.readers.read_embedded", fail)
    source = sample_copy(tmp_path / "statement.pdf")
    outcome = extract(tmp_path, str(source), "-o", str(tmp_path / "s.json"))
    assert outcome.exit_code == 3, outcome.stderr
    assert outcome.errors == [f"error: {source}: embedded: {shown}"]
    assert (tmp_path / "s.json").is_file()


def test_a_jpeg_named_pdf_is_read_as_an_image(tmp_path: Path) -> None:
    with open_document(jpeg_named_pdf(tmp_path / "scan.pdf")) as document:
        assert document.kind == "image"
        assert document.render(1).size == (300, 200)


def test_a_newline_in_a_file_name_does_not_split_the_error_line(tmp_path: Path) -> None:
    hostile = tmp_path / "bad\nerror: forged.pdf"
    hostile.write_bytes(b"%PDF-1.4 nonsense")
    outcome = extract(tmp_path, str(hostile))
    assert outcome.exit_code == 2
    assert outcome.errors == [
        f"error: {tmp_path}/bad\\nerror: forged.pdf: not a readable PDF (corrupt or truncated)"
    ]
