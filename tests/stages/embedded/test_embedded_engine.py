"""The engine end to end: a document in, a Candidate out; OCR for scans and broken text layers."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from dualread.api import extract
from dualread.arithmetic import check
from dualread.config import Settings
from dualread.documents import open_document
from dualread.stages.embedded import EmbeddedReadError, OcrEngine, read_embedded
from dualread.stages.embedded.ocr import OCR_ENGINES
from dualread.statement import Statement, validate_document
from tests.stages.embedded.conftest import STATEMENT_ROWS, broken_font_pdf, draw_statement

EXPECTED = [
    (dt.date(2024, 3, 2), "Card payment CORNER SHOP 12", Decimal("-45.10"), Decimal("954.90")),
    (dt.date(2024, 3, 5), "Salary", Decimal("250.00"), Decimal("1204.90")),
    (dt.date(2024, 3, 14), "Rent March", Decimal("-1200.00"), Decimal("4.90")),
]


def rows(statement: Statement) -> list[tuple[dt.date, str, Decimal, Decimal | None]]:
    return [(t.date, t.description, t.amount, t.balance) for t in statement.transactions]


def assert_example_statement(statement: Statement) -> None:
    assert rows(statement) == EXPECTED
    assert statement.bank_name == "Example Savings Bank"
    assert statement.account_holder == "Jane Q. Example"
    assert statement.iban == "GB33BUKB20201555555555"
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("1000.00"),
        Decimal("4.90"),
    )
    assert (statement.period_start, statement.period_end) == (
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 31),
    )


@pytest.fixture
def statement_pdf(make_pdf: Callable[..., Path]) -> Path:
    return make_pdf("statement.pdf", [draw_statement])


@pytest.mark.unit
def test_digital_statement_is_read_exactly(statement_pdf: Path) -> None:
    candidate = read_embedded(open_document(statement_pdf))
    assert candidate.route == "embedded"
    assert candidate.pages == (1,)
    assert_example_statement(candidate.statement)
    assert candidate.notes["page_sources"] == {"1": "text"}
    assert candidate.notes["arithmetic"]["ok"] is True
    assert candidate.notes["text_layer_check"] == "skipped"
    assert candidate.other_accounts == ()
    assert {"text_layer", "embedded"} <= set(candidate.timings)
    assert "Card payment" in candidate.raw[0].text
    validate_document({"schema_version": "1", **candidate.statement.to_json_dict()})
    assert len(STATEMENT_ROWS) == len(candidate.statement.transactions)


@pytest.mark.unit
def test_a_document_without_a_table_is_a_one_line_error(make_pdf: Callable[..., Path]) -> None:
    def letter(canvas: Canvas) -> None:
        canvas.setFont("Helvetica", 10)
        canvas.drawString(50, 700, "Dear customer, your new card is on its way.")

    path = make_pdf("letter.pdf", [letter])
    with pytest.raises(EmbeddedReadError) as caught:
        read_embedded(open_document(path), verify_text_layer="never")
    message = str(caught.value)
    assert str(path) in message and "no transaction table" in message and "\n" not in message


def _scan_of(pdf: Path, tmp_path: Path, tilt: float) -> Path:
    """The PDF as a tilted, JPEG-compressed 200 dpi scan."""
    image = open_document(pdf).render(1, 200).rotate(tilt, fillcolor="white", expand=False)
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="JPEG", quality=70)
    path = tmp_path / "scan.jpg"
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.slow
@pytest.mark.parametrize("engine", OCR_ENGINES)
def test_a_tilted_scan_is_straightened_and_read(
    statement_pdf: Path, tmp_path: Path, engine: OcrEngine
) -> None:
    if engine == "tesseract" and shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    scan = _scan_of(statement_pdf, tmp_path, tilt=1.5)
    candidate = read_embedded(open_document(scan), ocr=engine)
    assert candidate.notes["page_sources"] == {"1": engine}
    assert candidate.notes["skew_degrees"]["1"] == pytest.approx(1.5, abs=0.15)
    statement = candidate.statement
    assert [(t.date, t.amount, t.balance) for t in statement.transactions] == [
        (date, amount, balance) for date, _, amount, balance in EXPECTED
    ]
    assert check(statement).ok is True


@pytest.mark.slow
def test_a_broken_text_layer_is_detected_and_read_by_ocr(tmp_path: Path) -> None:
    cells = [
        (50, 700, "Date"),
        (130, 700, "Description"),
        (330, 700, "Amount"),
        (430, 700, "Balance"),
    ]
    body = [
        ("01/02/2024", "Coffee shop", "-3.50", "96.50"),
        ("01/05/2024", "Book store", "-16.50", "80.00"),
        ("01/09/2024", "Refund", "20.00", "100.00"),
    ]
    for index, (date, text, amount, balance) in enumerate(body):
        y = 684 - 14 * index
        cells += [(50, y, date), (130, y, text), (330, y, amount), (430, y, balance)]
    path = tmp_path / "broken.pdf"
    path.write_bytes(broken_font_pdf(cells))
    candidate = read_embedded(open_document(path))
    assert candidate.notes["text_layer_check"] == "failed"
    assert candidate.notes["page_sources"] == {"1": "rapidocr"}
    assert [t.description for t in candidate.statement.transactions] == [
        "Coffee shop",
        "Book store",
        "Refund",
    ]


@pytest.mark.slow
def test_an_image_document_goes_straight_to_ocr(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("RGB", (400, 300), "white").save(path)
    with pytest.raises(EmbeddedReadError, match="no transaction table"):
        read_embedded(open_document(path))


def test_a_statement_printing_no_balance_is_unverified_and_needs_review(
    make_pdf: Callable[..., Path],
) -> None:
    def purchases(canvas: Canvas) -> None:
        canvas.setFont("Helvetica", 10)
        canvas.drawString(50, 760, "Statement period 01/10/2025 to 31/10/2025")
        for x, title in ((50, "Date"), (150, "Description"), (450, "Amount")):
            canvas.drawString(x, 700, title)
        for y, (day, text, amount) in zip(
            (680, 665),
            (("03/10/2025", "BOOKSHOP", "12.00"), ("08/10/2025", "CAFE", "3.50")),
            strict=True,
        ):
            canvas.drawString(50, y, day)
            canvas.drawString(150, y, text)
            canvas.drawRightString(490, y, amount)

    result = extract(
        make_pdf("no-balances.pdf", [purchases]),
        settings=Settings(use_cache=False),
        engine="embedded",
    )
    assert result.document is not None, result.error
    record = result.document["extraction"]
    assert record["status"] == "unverified" and result.exit_code == 3
    assert "no running balance" in record["review"]
    assert all(c < 0.5 for c in record["confidence"]["transactions"])
    validate_document(result.document)
