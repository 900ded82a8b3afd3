"""Builders for the embedded engine's tests: words and lines by hand, small PDFs with reportlab."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.words import Word

CHAR_WIDTH = 5.0  # points per character of the hand-made words
LINE_HEIGHT = 10.0

DrawPage = Callable[[Canvas], None]


def line_at(top: float, *cells: tuple[float, str]) -> Line:
    """A line of words at ``top``; each cell is (x0, text), split into words one space apart."""
    words: list[Word] = []
    for x0, text in cells:
        x = x0
        for part in text.split():
            words.append(Word(part, x, top, x + CHAR_WIDTH * len(part), top + LINE_HEIGHT))
            x += CHAR_WIDTH * (len(part) + 1)
    return Line(tuple(sorted(words, key=lambda w: w.x0)))


def write_pdf(
    path: Path, pages: Sequence[DrawPage], size: tuple[float, float] = (595, 842)
) -> Path:
    canvas = Canvas(str(path), pagesize=size, invariant=1)
    for draw in pages:
        draw(canvas)
        canvas.showPage()
    canvas.save()
    return path


@pytest.fixture
def make_pdf(tmp_path: Path) -> Callable[..., Path]:
    """``make_pdf(name, [draw_page, ...])`` writes a PDF whose pages the callables draw."""

    def make(name: str, pages: Sequence[DrawPage], size: tuple[float, float] = (595, 842)) -> Path:
        return write_pdf(tmp_path / name, pages, size)

    return make


# A small English statement: header block, summary, a debit/credit table with a balance column
# and a two-line description. Its arithmetic holds: 1000.00 - 45.10 + 250.00 - 1200.00 = 4.90.
STATEMENT_ROWS = (
    ("03/02/2024", ("Card payment", "CORNER SHOP 12"), "45.10", "", "954.90"),
    ("03/05/2024", ("Salary",), "", "250.00", "1,204.90"),
    ("03/14/2024", ("Rent March",), "1,200.00", "", "4.90"),
)


def draw_statement(canvas: Canvas) -> None:
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(48, 800, "Example Savings Bank")
    canvas.setFont("Helvetica", 9)
    canvas.drawString(48, 770, "Account holder: Jane Q. Example")
    canvas.drawString(48, 758, "IBAN: GB33 BUKB 2020 1555 5555 55")
    canvas.drawString(48, 746, "Statement period: 03/01/2024 to 03/31/2024")
    canvas.drawString(330, 770, "Opening balance")
    canvas.drawRightString(545, 770, "1,000.00")
    canvas.drawString(330, 758, "Closing balance")
    canvas.drawRightString(545, 758, "4.90")
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawString(50, 700, "Date")
    canvas.drawString(120, 700, "Description")
    canvas.drawRightString(390, 700, "Debit")
    canvas.drawRightString(460, 700, "Credit")
    canvas.drawRightString(545, 700, "Balance")
    canvas.setFont("Helvetica", 8.5)
    y = 684.0
    for date, lines, debit, credit, balance in STATEMENT_ROWS:
        canvas.drawString(50, y, date)
        for offset, text in enumerate(lines):
            canvas.drawString(120, y - 10.5 * offset, text)
        canvas.drawRightString(390, y, debit)
        canvas.drawRightString(460, y, credit)
        canvas.drawRightString(545, y, balance)
        y -= 13 + 10.5 * (len(lines) - 1)
    canvas.setFont("Helvetica", 6.5)
    canvas.drawString(48, 40, "Example Savings Bank - please check this statement.")


def _rot13_cmap() -> bytes:
    """A ToUnicode CMap that maps every letter to the one 13 places on: the glyphs drawn are
    right, the text extracted is not (a 'broken' text layer)."""
    pairs = []
    for base in (ord("A"), ord("a")):
        for offset in range(26):
            pairs.append(f"<{base + offset:02X}> <{base + (offset + 13) % 26:04X}>")
    for code in [*range(0x20, 0x41), *range(0x5B, 0x61), *range(0x7B, 0x7F)]:
        pairs.append(f"<{code:02X}> <{code:04X}>")
    chunks = [pairs[i : i + 100] for i in range(0, len(pairs), 100)]
    body = "".join(f"{len(c)} beginbfchar\n" + "\n".join(c) + "\nendbfchar\n" for c in chunks)
    return (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CMapName /Rot13 def /CMapType 2 def\n"
        "1 begincodespacerange <00> <FF> endcodespacerange\n"
        f"{body}endcmap CMapName currentdict /CMap defineresource pop end end\n"
    ).encode()


def broken_font_pdf(lines: Sequence[tuple[float, float, str]]) -> bytes:
    """A one-page PDF in Helvetica whose ToUnicode map scrambles letters (digits stay right).
    ``lines`` are (x, y, text) in PDF points from the bottom left."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "".join(
        f"BT /F1 9 Tf 1 0 0 1 {x} {y} Tm ({escape(text)}) Tj ET\n" for x, y, text in lines
    ).encode()
    cmap = _rot13_cmap()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding "
        b"/ToUnicode 6 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
