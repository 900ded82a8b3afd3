"""OCR engines: Tesseract's TSV parsed into words, RapidOCR working with the network cut off."""

from __future__ import annotations

import shutil
import socket
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from dualread.stages.embedded import ocr

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


@pytest.mark.unit
def test_missing_tesseract_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    ocr._tesseract_languages.cache_clear()
    try:
        with pytest.raises(ocr.OcrUnavailableError, match="apt-get install tesseract-ocr"):
            ocr.tesseract_words(_sample_image(), 0.5)
    finally:
        ocr._tesseract_languages.cache_clear()
