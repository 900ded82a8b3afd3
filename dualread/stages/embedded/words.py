"""Words with boxes from the PDF text layer, and a verdict on whether that layer can be trusted.

PDFium hands out characters in content-stream order, which is not reading order, and a diagonal
watermark ("Muster", "SYNTHETIC BENCHMARK DOCUMENT") interleaves its letters with the real text.
Pages whose text objects are all upright (most pages) take a fast path: the page text is cut at
whitespace and each word's box comes from its first and last character. Other pages are read
character by character: characters not on the page's dominant text direction are dropped (that
removes rotated watermarks and vertical margin notes), and the rest are cut into words at
whitespace and at gaps. Coordinates are PDF points from the page's top-left corner, the same frame
:class:`~dualread.documents.TextRun` uses; OCR words are converted into it too.
"""

from __future__ import annotations

import ctypes
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import pypdfium2.raw as pdfium_c

from dualread.documents import Document

WordSource = Literal["text", "rapidocr", "tesseract"]

ANGLE_TOLERANCE_DEG = 1.5  # a character this far off the dominant direction is not body text
WORD_GAP_EM = 0.3  # a gap this wide (in character heights) splits a word even without a space
MIN_TEXT_CHARS = 20  # fewer visible characters than this: a scanned page, not a text page
MAX_GARBAGE_SHARE = 0.05  # more undecodable glyphs than this: the text layer is broken
# PDFium marks a hyphenation point at a line end with U+FFFE; soft hyphens print nothing either.
_INVISIBLE = frozenset({"\ufffe", "\u00ad", "\u0002"})
_INVISIBLE_RE = re.compile("[\ufffe\u00ad\u0002]")
_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Word:
    """One word and its box, in PDF points from the page's top-left corner.

    ``slope`` is the tilt (dy/dx) of the printed line the word was found on: OCR knows it from
    the detected text box, and it lets a photographed page's rows be followed across the page.
    """

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    slope: float = 0.0

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def center_x(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True)
class PageWords:
    """The words of one page and where they came from."""

    number: int
    width: float
    height: float
    words: tuple[Word, ...]
    source: WordSource


# A character as (text, x0, top, x1, bottom, angle): plain tuples, because a page has thousands.
# The angle is in degrees, clockwise (PDFium's convention), in [0, 360).
_Char = tuple[str, float, float, float, float, float]


@dataclass(frozen=True)
class TextLayerQuality:
    """How much usable text a page's text layer has, and how much of it is undecodable."""

    visible_chars: int
    garbage_chars: int

    @property
    def has_text(self) -> bool:
        return self.visible_chars >= MIN_TEXT_CHARS

    @property
    def garbage_share(self) -> float:
        return self.garbage_chars / self.visible_chars if self.visible_chars else 0.0

    @property
    def usable(self) -> bool:
        return self.has_text and self.garbage_share <= MAX_GARBAGE_SHARE


def is_garbage_char(char: str) -> bool:
    """A glyph the font could not map to Unicode: U+FFFD, private use, controls, unassigned."""
    category = unicodedata.category(char)
    return (
        char == "\ufffd"
        or category in ("Co", "Cn", "Cs")
        or (category == "Cc" and not char.isspace())
    )


def _page_text(raw_page: object, count: int) -> str:
    """All characters of a text page in one call (one character per index)."""
    buffer = ctypes.create_string_buffer((count + 1) * 2)
    pdfium_c.FPDFText_GetText(
        raw_page, 0, count, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort))
    )
    text = buffer.raw[: count * 2].decode("utf-16-le", errors="replace")
    # GetText returns UTF-16 units; a character outside the BMP takes two, so the unit index
    # stops matching the character index. Then read characters one by one.
    if len(text) != count:
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw_page, i)) for i in range(count))
    return text


def _upright_only(raw_page: object) -> bool:
    """Is every text object drawn upright, directly on the page (no forms that could hide
    rotated text)? Then no character needs its own angle checked."""
    matrix = pdfium_c.FS_MATRIX()
    for index in range(pdfium_c.FPDFPage_CountObjects(raw_page)):
        obj = pdfium_c.FPDFPage_GetObject(raw_page, index)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            return False
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix))
            if abs(matrix.b) > 1e-6 or abs(matrix.c) > 1e-6 or matrix.a <= 0 or matrix.d <= 0:
                return False
    return True


def _words_by_spaces(raw_page: object, text: str, height: float) -> list[Word] | None:
    """Words of an upright page: whitespace-separated runs of the page text, each boxed by the
    loose boxes of its first and last character. None when a run is not one straight piece of
    line (then the page needs the character-by-character path)."""
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    loose_box = pdfium_c.FPDFText_GetLooseCharBox
    words = []
    for match in _WORD_RE.finditer(text):
        word = _INVISIBLE_RE.sub("", match.group())
        if not word:
            continue
        loose_box(raw_page, match.start(), rect_ref)
        x0, top, bottom = rect.left, height - rect.top, height - rect.bottom
        loose_box(raw_page, match.end() - 1, rect_ref)
        x1 = rect.right
        size = bottom - top
        if x1 < x0 - 0.5 * size or abs((height - rect.top) - top) > 0.3 * size:
            return None
        words.append(Word(word, x0, top, max(x0, x1), bottom))
    return words


def _page_chars(raw_page: object, text: str, height: float) -> list[_Char | None]:
    """Every character of a page with its loose (font-height) box and its rotation; None for
    whitespace.

    Loose boxes span the font's ascent to descent, so 'a', 'g' and '-' on one baseline share a
    top and bottom, which keeps row grouping stable. The rotation is asked for only where a
    character does not simply continue the one before it on its line, since all characters of
    one run share it.
    """
    chars: list[_Char | None] = []
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    loose_box = pdfium_c.FPDFText_GetLooseCharBox
    char_angle = pdfium_c.FPDFText_GetCharAngle
    previous: _Char | None = None
    for index, char in enumerate(text):
        if char.isspace():
            chars.append(None)
            continue
        if char in _INVISIBLE:
            continue
        loose_box(raw_page, index, rect_ref)
        x0, top, x1, bottom = rect.left, height - rect.top, rect.right, height - rect.bottom
        if previous is not None and _continues(previous, x0, top, x1, bottom):
            angle = previous[5]
        else:
            angle = math.degrees(char_angle(raw_page, index)) % 360
        previous = (char, x0, top, x1, bottom, angle)
        chars.append(previous)
    return chars


def _continues(previous: _Char, x0: float, top: float, x1: float, bottom: float) -> bool:
    """Does a box sit right after the previous character on the same upright line?"""
    size = previous[4] - previous[2]
    return (
        abs(top - previous[2]) < 0.2 * size
        and abs(bottom - previous[4]) < 0.2 * size
        and -0.2 * size <= x0 - previous[3] <= size
    )


def _dominant_angle(chars: list[_Char | None]) -> float:
    votes = Counter(round(c[5]) % 360 for c in chars if c is not None)
    return float(votes.most_common(1)[0][0]) if votes else 0.0


def _angle_distance(a: float, b: float) -> float:
    difference = abs(a - b) % 360
    return min(difference, 360 - difference)


def _upright(char: _Char, angle: float, width: float, height: float) -> _Char:
    """Turn a character of a page whose text runs at 90/180/270 degrees into upright coordinates.

    PDFium measures character angles clockwise, so text reading upwards reports 270.
    """
    quarter = round(-angle / 90) % 4
    if quarter == 0:
        return char
    text, x0, top, x1, bottom, _ = char
    corners = ((x0, top), (x1, bottom))
    if quarter == 1:  # text runs upwards: rotate the page clockwise
        points = [(height - y, x) for x, y in corners]
    elif quarter == 2:
        points = [(width - x, height - y) for x, y in corners]
    else:
        points = [(y, width - x) for x, y in corners]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (text, min(xs), min(ys), max(xs), max(ys), 0.0)


def _words_from_chars(chars: list[_Char | None]) -> list[Word]:
    """Cut characters, in stream order, into words at spaces, jumps back, line changes and gaps."""
    words: list[Word] = []
    parts: list[str] = []
    x0 = top = x1 = bottom = 0.0
    last: _Char | None = None
    for char in chars:
        if char is not None and last is not None:
            size = max(last[4] - last[2], 1.0)
            same_line = abs((char[2] + char[4]) - (last[2] + last[4])) < size
            gap = char[1] - last[3]
            if same_line and -0.5 * size <= gap <= WORD_GAP_EM * size:
                parts.append(char[0])
                top, x1, bottom = min(top, char[2]), max(x1, char[3]), max(bottom, char[4])
                last = char
                continue
        if parts:
            words.append(Word("".join(parts), x0, top, x1, bottom))
            parts = []
        last = char
        if char is not None:
            parts.append(char[0])
            _, x0, top, x1, bottom, _ = char
    if parts:
        words.append(Word("".join(parts), x0, top, x1, bottom))
    return words


def _quality(texts: list[str]) -> TextLayerQuality:
    visible = "".join(texts)
    garbage = sum(is_garbage_char(ch) for ch in visible if not ch.isalnum())
    return TextLayerQuality(len(visible), garbage)


def _upright_words(
    chars: list[_Char | None], width: float, height: float
) -> tuple[list[Word], float]:
    """Words of the characters on the page's dominant direction, turned upright; the angle."""
    angle = _dominant_angle(chars)
    kept = [
        c if c is None else _upright(c, angle, width, height)
        for c in chars
        if c is None or _angle_distance(c[5], angle) <= ANGLE_TOLERANCE_DEG
    ]
    return _words_from_chars(kept), angle


def text_layer_words(document: Document, number: int) -> tuple[PageWords, TextLayerQuality]:
    """The page's words from its text layer (upright body text only) and the layer's quality."""
    ref = document.ref(number)
    width, height = ref.width_pt, ref.height_pt
    words: list[Word] | None = []
    angle = 0.0
    with document.pdf_page(number) as page:
        if page is not None:
            textpage = page.get_textpage()
            try:
                count = pdfium_c.FPDFText_CountChars(textpage.raw)
                text = _page_text(textpage.raw, count) if count > 0 else ""
                words = None
                if _upright_only(page.raw):
                    words = _words_by_spaces(textpage.raw, text, height)
                if words is None:
                    chars = _page_chars(textpage.raw, text, height)
                    words, angle = _upright_words(chars, width, height)
            finally:
                textpage.close()
    if round(angle / 90) % 2:
        width, height = height, width
    page_words = PageWords(number, width, height, tuple(words or ()), "text")
    return page_words, _quality([w.text for w in page_words.words])
