from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from dualread.documents import DocumentError, open_document, parse_page_ranges

pytestmark = pytest.mark.unit


def make_pdf(path: Path, pages: int = 3, password: str | None = None) -> Path:
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=password, invariant=True)
    for number in range(1, pages + 1):
        pdf.drawString(72, 770, f"Page {number} Opening balance 1.234,56")
        pdf.drawString(72, 700, "02.01.2024  Rent  -950,00")
        pdf.showPage()
    pdf.save()
    return path


def test_pdf_pages_render_lazily_at_the_requested_dpi(tmp_path: Path) -> None:
    with open_document(make_pdf(tmp_path / "s.pdf")) as document:
        assert document.kind == "pdf"
        assert document.page_numbers == [1, 2, 3]
        image = document.render(2, dpi=100)
        assert image.mode == "RGB"
        assert abs(image.width - round(595.27 * 100 / 72)) <= 1


def test_pdf_text_layer_has_boxes_in_top_left_coordinates(tmp_path: Path) -> None:
    with open_document(make_pdf(tmp_path / "s.pdf")) as document:
        runs = document.text_runs(1)
    texts = " ".join(r.text for r in runs)
    assert "Opening balance" in texts and "Rent" in texts
    first = next(r for r in runs if "Page 1" in r.text)
    rent = next(r for r in runs if "Rent" in r.text)
    assert first.top < rent.top  # y grows downwards
    assert 60 < first.x0 < 80


def test_page_selection_and_limit(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "s.pdf", pages=5)
    with open_document(path, pages="1-2,5") as document:
        assert document.page_numbers == [1, 2, 5]
    with pytest.raises(DocumentError, match="over the limit of 4"):
        open_document(path, max_pages=4)
    with pytest.raises(DocumentError, match="page 9 does not exist"):
        open_document(path, pages="9")


@pytest.mark.parametrize(
    ("spec", "pages"),
    [("1-3,5", [1, 2, 3, 5]), ("4-", [4, 5, 6]), ("2", [2]), ("3,1-2", [1, 2, 3])],
)
def test_parse_page_ranges(spec: str, pages: list[int]) -> None:
    assert parse_page_ranges(spec, 6) == pages


def test_encrypted_pdf_needs_its_password(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "locked.pdf", pages=1, password="s3cret")
    with pytest.raises(DocumentError, match="encrypted; give its password with --password"):
        open_document(path)
    with pytest.raises(DocumentError, match="password is wrong"):
        open_document(path, password="nope")
    with open_document(path, password="s3cret") as document:
        assert "Rent" in " ".join(r.text for r in document.text_runs(1))


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "photo.jpg"
    image.save(path, exif=exif)
    with open_document(path) as document:
        assert document.render(1).size == (20, 40)


def test_multi_frame_tiff_and_webp(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (30, 30), color) for color in ("red", "green", "blue")]
    tiff = tmp_path / "scan.tiff"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    with open_document(tiff) as document:
        assert document.page_numbers == [1, 2, 3]
        assert document.render(3).getpixel((1, 1)) == (0, 0, 255)
    webp = tmp_path / "page.webp"
    frames[1].save(webp)
    with open_document(webp) as document:
        assert document.page_numbers == [1]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.pdf", b"", "the file is empty"),
        ("broken.pdf", b"%PDF-1.7\n garbage", "not a readable PDF"),
        ("notes.txt", b"hello", "unsupported or unreadable file"),
        ("truncated.png", b"\x89PNG\r\n\x1a\n\x00\x00", "unsupported or unreadable file"),
    ],
)
def test_bad_inputs_give_one_line_naming_the_file(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        open_document(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_unsupported_image_format(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    Image.new("RGB", (10, 10)).save(path)
    with pytest.raises(DocumentError, match="unsupported format GIF"):
        open_document(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        open_document(tmp_path / "nope.pdf")


def test_decompression_bomb_guard(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    buffer = io.BytesIO()
    Image.new("L", (3000, 3000)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(DocumentError, match="larger than the limit of 1000000 pixels"):
        open_document(path, max_pixels=1_000_000)


def test_render_caps_huge_pdf_pages(tmp_path: Path) -> None:
    """An extra pass at a higher DPI than the page was checked at is rendered within the limit."""
    path = make_pdf(tmp_path / "s.pdf", pages=1)
    with open_document(path, max_pixels=500_000, dpi=50) as document:
        image = document.render(1, dpi=600)
    assert image.width * image.height <= 500_000
