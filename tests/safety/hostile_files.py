"""Small files that cost a careless reader a lot: generated here, a few KB each, never committed.

Each generator writes one file and returns its path. The PDFs are written object by object so
that they can claim what no PDF library would produce (a million pages); the TIFF is written IFD
by IFD so that 1200 large frames share one tiny compressed strip.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image
from reportlab.pdfgen import canvas


def raw_pdf(path: Path, objects: list[bytes]) -> Path:
    """A PDF of ``objects`` (object 1 is the catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def pdf_claiming_pages(path: Path, count: int = 1_000_000) -> Path:
    """One real page under a page tree that claims ``count`` pages (about 400 bytes)."""
    return raw_pdf(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % count,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ],
    )


def pdf_with_page_size(path: Path, width_pt: float, height_pt: float) -> Path:
    """A one-page PDF of the given page size, with a line of text (20000 x 20000 pt: 1 KB)."""
    pdf = canvas.Canvas(str(path), pagesize=(width_pt, height_pt), invariant=True)
    pdf.drawString(72, height_pt - 72, "Opening balance 1.234,56")
    pdf.showPage()
    pdf.save()
    return path


def _ifd(entries: list[tuple[int, int, int, int]], next_ifd: int) -> bytes:
    """A little-endian TIFF IFD: (tag, type, count, value) entries, sorted by tag."""
    body = struct.pack("<H", len(entries))
    for tag, kind, count, value in sorted(entries):
        body += struct.pack("<HHII", tag, kind, count, value)
    return body + struct.pack("<I", next_ifd)


def tiff_with_frames(path: Path, frames: int, width: int, height: int) -> Path:
    """A grey TIFF of ``frames`` frames of ``width`` x ``height`` pixels, all pointing at one
    deflate-compressed blank strip: 1200 frames of 4000 x 4000 take about 170 KB on disk and
    19 GB once decoded."""
    strip = zlib.compress(b"\xff" * (width * height), 9)
    short, long_ = 3, 4
    ifd_size = 2 + 9 * 12 + 4
    header = 8
    first_ifd = header + len(strip)
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + strip)
    for index in range(frames):
        offset = first_ifd + index * ifd_size
        next_ifd = offset + ifd_size if index + 1 < frames else 0
        entries = [
            (256, long_, 1, width),  # ImageWidth
            (257, long_, 1, height),  # ImageLength
            (258, short, 1, 8),  # BitsPerSample
            (259, short, 1, 8),  # Compression: deflate
            (262, short, 1, 1),  # PhotometricInterpretation: black is zero
            (273, long_, 1, header),  # StripOffsets
            (277, short, 1, 1),  # SamplesPerPixel
            (278, long_, 1, height),  # RowsPerStrip
            (279, long_, 1, len(strip)),  # StripByteCounts
        ]
        out += _ifd(entries, next_ifd)
    path.write_bytes(bytes(out))
    return path


def phone_photo(path: Path, width: int = 4000, height: int = 3000, shade: int = 0) -> Path:
    """A JPEG the size of a phone photo, smooth enough to stay small on disk (about 100 KB)."""
    gradient = Image.linear_gradient("L").resize((width, height))
    Image.merge("RGB", (gradient, gradient.point(lambda v: (v + shade) % 256), gradient)).save(
        path, quality=60
    )
    return path


def jpeg_named_pdf(path: Path) -> Path:
    """A real JPEG whose name says ``.pdf``."""
    Image.new("RGB", (300, 200), "white").save(path, format="JPEG")
    return path


def blank_pdf(path: Path) -> Path:
    """One empty A4 page: no text layer, nothing to see."""
    pdf = canvas.Canvas(str(path), invariant=True)
    pdf.showPage()
    pdf.save()
    return path


def letter_pdf(path: Path) -> Path:
    """A page of prose with a text layer and no transaction table: a letter, not a statement."""
    pdf = canvas.Canvas(str(path), invariant=True)
    lines = [
        "Dear customer,",
        "we are changing our terms and conditions from 1 April.",
        "You do not need to do anything. Kind regards, your bank",
    ]
    for number, line in enumerate(lines):
        pdf.drawString(72, 770 - 16 * number, line)
    pdf.showPage()
    pdf.save()
    return path


def blank_photo(path: Path) -> Path:
    """A plain white PNG: a scan of an empty sheet."""
    Image.new("RGB", (1240, 1754), "white").save(path)
    return path
