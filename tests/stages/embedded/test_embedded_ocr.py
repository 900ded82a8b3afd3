"""OCR: the engines (Tesseract's TSV, RapidOCR offline), the page images they get, rule removal,
and the routing of untrustworthy text layers to OCR."""

from __future__ import annotations

import io
import shutil
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from dualread.documents import open_document
from dualread.evaluate.metrics import match_rows
from dualread.evaluate.truth import find_cases
from dualread.stages.embedded import DEFAULT_OCR_DPI, EmbeddedReadError, ocr, read_embedded
from dualread.stages.embedded import engine as engine_module
from dualread.stages.embedded.engine import MAX_OCR_SIDE_PX, ocr_image
from dualread.stages.embedded.textcheck import looks_like_text
from dualread.stages.embedded.words import PageWords, Word, text_layer_words
from dualread.testing.oracle import read_page_entry
from fixtures.generator.brokentext import garble
from fixtures.generator.corpus import CORPUS_DIR
from tests.stages.embedded.conftest import draw_statement, write_pdf

TSV = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    "1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n"
    "4\t1\t1\t1\t1\t0\t100\t200\t900\t40\t-1\t\n"
    "5\t1\t1\t1\t1\t1\t100\t200\t300\t40\t96.5\t01.02.2024\n"
    "5\t1\t1\t1\t1\t2\t450\t202\t200\t38\t91.0\tCoffee\n"
    "5\t1\t1\t1\t1\t3\t700\t200\t10\t40\t-1\t \n"
)


@pytest.mark.unit
def test_tesseract_tsv_words_in_points() -> None:
    words = ocr.parse_tesseract_tsv(TSV, points_per_pixel=0.24)
    assert [w.text for w in words] == ["01.02.2024", "Coffee"]
    first = words[0]
    assert (first.x0, first.top, first.x1, first.bottom) == pytest.approx((24, 48, 96, 57.6))


def _sample_image() -> Image.Image:
    image = Image.new("RGB", (900, 160), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    draw.text((30, 20), "Opening balance 1,234.56", fill="black", font=font)
    draw.text((30, 90), "Closing balance 99.10", fill="black", font=font)
    return image


@pytest.mark.slow
def test_rapidocr_runs_offline_from_the_bundled_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise OSError("network access attempted during OCR")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    ocr._rapidocr.cache_clear()  # load the models again, now without a network
    words = ocr.rapidocr_words(_sample_image(), points_per_pixel=0.5)
    assert " ".join(w.text for w in words) == "Opening balance 1,234.56 Closing balance 99.10"
    assert all(w.x1 > w.x0 and w.bottom > w.top for w in words)
    assert ocr.recognize_crops([_sample_image().crop((20, 10, 880, 80))]) == [
        "Opening balance 1,234.56"
    ]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_tesseract_reads_words() -> None:
    words = ocr.tesseract_words(_sample_image(), points_per_pixel=0.5)
    assert [w.text for w in words] == [
        "Opening",
        "balance",
        "1,234.56",
        "Closing",
        "balance",
        "99.10",
    ]


def _texts(*texts: str) -> list[str]:
    words = [Word(text, 10.0 * i, 0, 10.0 * i + 8, 10) for i, text in enumerate(texts)]
    return [word.text for word in ocr.restore_trailing_signs(words)]


@pytest.mark.unit
def test_a_dot_after_an_amount_is_the_trailing_sign_blurred_print_lost() -> None:
    # A page whose amounts carry a trailing minus: the dots were minus signs. Dates stay dates.
    assert _texts("25.07.", "26,67.", "146.29.", "1.234,56.", "269,98-", "10.05.") == [
        "25.07.",
        "26,67-",
        "146.29-",
        "1.234,56-",
        "269,98-",
        "10.05.",
    ]
    # No amount on the page shows a trailing minus: the dot is dropped, the sign left open.
    assert _texts("26,67.", "30.30.", "Total", "12.00") == ["26,67", "30.30", "Total", "12.00"]


@pytest.mark.unit
def test_missing_tesseract_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    ocr._tesseract_languages.cache_clear()
    try:
        with pytest.raises(ocr.OcrUnavailableError, match="apt-get install tesseract-ocr"):
            ocr.tesseract_words(_sample_image(), 0.5)
    finally:
        ocr._tesseract_languages.cache_clear()


@pytest.mark.unit
def test_rules_are_whitened_and_letters_kept() -> None:
    image = Image.new("L", (1200, 900), 255)
    draw = ImageDraw.Draw(image)
    draw.line((50, 100, 1150, 100), fill=0, width=3)  # a table border across the page
    draw.line((600, 150, 600, 850), fill=0, width=2)  # a column rule down it
    draw.line((50, 400, 120, 400), fill=0, width=3)  # a dash: shorter than any rule
    draw.text((100, 300), "Closing balance 4.90", fill=0, font=ImageFont.load_default(size=40))
    cleaned = np.asarray(ocr.without_rules(image))
    assert (cleaned[99:102, 50:1150] == 255).all()
    assert (cleaned[150:850, 599:601] == 255).all()
    assert (cleaned[399:402, 50:120] < 160).all()
    letters = np.asarray(image)[280:360, 90:600] < 160
    assert (cleaned[280:360, 90:600] < 160).sum() == letters.sum() > 500


@pytest.mark.unit
def test_a_layer_of_symbols_is_not_text() -> None:
    def page(*texts: str) -> PageWords:
        words = tuple(Word(t, 10.0 * i, 10, 10.0 * i + 8, 20) for i, t in enumerate(texts))
        return PageWords(1, 595, 842, words, "text")

    assert looks_like_text(page("03/02/2024", "Card", "payment", "-45.10", "954.90"))
    assert not looks_like_text(page(garble("03/02/2024"), garble("Card"), garble("-45.10")))


@pytest.mark.unit
def test_pages_drawn_large_are_rendered_no_larger_than_ocr_needs(tmp_path: Path) -> None:
    path = tmp_path / "large.pdf"
    canvas = Canvas(str(path), pagesize=(1758, 2275), invariant=1)  # a scan laid at 72 dpi
    canvas.drawString(100, 2000, "Statement")
    canvas.showPage()
    canvas.save()
    with open_document(path) as document:
        for engine, dpi in DEFAULT_OCR_DPI.items():
            image = ocr_image(document, 1, engine, dpi)
            assert max(image.size) <= MAX_OCR_SIDE_PX[engine]
            assert max(image.size) > 0.99 * MAX_OCR_SIDE_PX[engine]
    a4 = tmp_path / "a4.pdf"
    canvas = Canvas(str(a4), pagesize=(595, 842), invariant=1)
    canvas.drawString(100, 700, "Statement")
    canvas.showPage()
    canvas.save()
    with open_document(a4) as document:
        for engine, dpi in DEFAULT_OCR_DPI.items():  # A4 at the engines' DPI: as rendered
            assert ocr_image(document, 1, engine, dpi).size == document.render(1, dpi).size


@pytest.mark.slow
def test_a_text_layer_without_a_table_sends_the_page_to_ocr(tmp_path: Path) -> None:
    """A scanned statement whose only text layer is an archive stamp: OCR reads the table."""
    pdf = write_pdf(tmp_path / "digital.pdf", [draw_statement])
    with open_document(pdf) as document:
        image = document.render(1, 200)
    png = io.BytesIO()
    image.convert("L").save(png, format="PNG")
    stamped = tmp_path / "stamped.pdf"
    canvas = Canvas(str(stamped), pagesize=(595, 842), invariant=1)
    canvas.drawImage(ImageReader(png), 0, 0, 595, 842)
    canvas.setFont("Helvetica", 6)
    canvas.drawString(48, 20, "Archived copy 2024-04-02, page 1 of 1")
    canvas.showPage()
    canvas.save()
    candidate = read_embedded(open_document(stamped))
    assert candidate.notes["text_layer_check"] == "no table: read by OCR"
    assert candidate.notes["page_sources"] == {"1": "rapidocr"}
    assert [(t.date.isoformat(), str(t.amount)) for t in candidate.statement.transactions] == [
        ("2024-03-02", "-45.10"),
        ("2024-03-05", "250.00"),
        ("2024-03-14", "-1200.00"),
    ]


@pytest.mark.slow
def test_the_broken_text_fixture_is_read_by_ocr() -> None:
    case = next(c for c in find_cases([CORPUS_DIR]) if c.group == "broken_text")
    with open_document(case.document) as document:
        assert not looks_like_text(text_layer_words(document, 1)[0])
        candidate = read_embedded(document)
    assert candidate.notes["page_sources"] == {"1": "rapidocr"}
    truth = case.truth.statement.transactions
    matched = match_rows(truth, candidate.statement.transactions)
    assert len(matched) >= 0.9 * len(truth) and len(candidate.statement.transactions) == len(truth)


@pytest.mark.slow
def test_a_reader_kept_to_one_ocr_engine_asks_no_second_opinion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-ins' two OCR readers must stay independent: no Tesseract behind RapidOCR."""

    class AskedAgain(Exception):
        pass

    def reocr(*args: object) -> None:
        raise AskedAgain

    monkeypatch.setattr(engine_module, "_reocr", reocr)
    image = _sample_image()  # words but no table: a doubtful reading
    path = tmp_path / "page.png"
    image.save(path)
    with pytest.raises(EmbeddedReadError, match="no transaction table"):
        read_embedded(open_document(path), second_opinion=False)
    png = io.BytesIO()
    image.save(png, format="PNG")
    entry = read_page_entry(png.getvalue(), ocr="rapidocr")
    assert entry["truth"]["transactions"] == [] and "no transaction table" in entry["problem"]
    if shutil.which("tesseract"):
        with pytest.raises(AskedAgain):  # the default engine does ask for the second opinion
            read_embedded(open_document(path))
