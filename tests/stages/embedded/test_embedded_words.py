"""Text-layer words: built from characters, watermarks and margin notes dropped, quality judged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from dualread.documents import open_document
from dualread.stages.embedded.layout import group_lines
from dualread.stages.embedded.words import TextLayerQuality, is_garbage_char, text_layer_words

pytestmark = pytest.mark.unit


def _body_with_watermark(canvas: Canvas) -> None:
    canvas.setFont("Helvetica", 10)
    canvas.drawString(50, 700, "Date Description Amount")
    # The watermark is drawn between the two body lines, so its characters sit in the middle
    # of the content stream, as in the statements that motivated the filter.
    canvas.saveState()
    canvas.translate(300, 500)
    canvas.rotate(30)
    canvas.setFont("Helvetica", 60)
    canvas.drawString(-150, 0, "MUSTER")
    canvas.restoreState()
    canvas.drawString(50, 686, "01.02.2024 Coffee 3,50")
    canvas.saveState()
    canvas.translate(20, 400)
    canvas.rotate(90)
    canvas.setFont("Helvetica", 6)
    canvas.drawString(0, 0, "Bank Ltd registered in Nowhere")
    canvas.restoreState()


def test_watermark_and_margin_text_are_dropped(make_pdf: Callable[..., Path]) -> None:
    document = open_document(make_pdf("watermark.pdf", [_body_with_watermark]))
    page, quality = text_layer_words(document, 1)
    assert [line.text for line in group_lines(page.words)] == [
        "Date Description Amount",
        "01.02.2024 Coffee 3,50",
    ]
    assert quality.usable and quality.garbage_chars == 0
    assert page.source == "text"


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_text_drawn_rotated_is_turned_upright(make_pdf: Callable[..., Path], degrees: int) -> None:
    def draw(canvas: Canvas) -> None:
        canvas.translate(297, 421)
        canvas.rotate(degrees)
        canvas.translate(-297, -421)
        canvas.setFont("Helvetica", 10)
        canvas.drawString(150, 500, "Hello world 12,34")
        canvas.drawString(150, 480, "Second line")

    page, _ = text_layer_words(open_document(make_pdf("turned.pdf", [draw])), 1)
    assert [line.text for line in group_lines(page.words)] == ["Hello world 12,34", "Second line"]


def test_words_split_at_gaps_without_spaces(make_pdf: Callable[..., Path]) -> None:
    def draw(canvas: Canvas) -> None:
        canvas.setFont("Helvetica", 10)
        canvas.drawString(50, 700, "Amount")
        canvas.drawString(120, 700, "12,00")  # no space character between the two runs

    page, _ = text_layer_words(open_document(make_pdf("gap.pdf", [draw])), 1)
    assert [w.text for w in page.words] == ["Amount", "12,00"]


def test_a_page_without_text_is_not_a_text_page(make_pdf: Callable[..., Path]) -> None:
    def draw(canvas: Canvas) -> None:
        canvas.rect(50, 50, 100, 100, fill=1)

    page, quality = text_layer_words(open_document(make_pdf("blank.pdf", [draw])), 1)
    assert page.words == () and not quality.has_text and not quality.usable


def test_an_image_file_has_no_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    Image.new("RGB", (200, 100), "white").save(path)
    page, quality = text_layer_words(open_document(path), 1)
    assert page.words == () and quality.visible_chars == 0


@pytest.mark.parametrize(
    ("char", "garbage"),
    [("\ufffd", True), ("\ue000", True), ("\x07", True), ("a", False), ("€", False), ("Ж", False)],
)
def test_garbage_chars(char: str, garbage: bool) -> None:
    assert is_garbage_char(char) is garbage


def test_quality_thresholds() -> None:
    assert TextLayerQuality(1000, 10).usable
    assert not TextLayerQuality(1000, 80).usable  # 8% undecodable: broken fonts
    assert not TextLayerQuality(5, 0).usable  # a scan with a page number on it
