"""The embedded CPU engine: a document in, a :class:`Candidate` out, no model server involved.

Per page it takes the PDF text layer when that layer is usable, else OCR of the page image
(straightened first). A reading is doubtful when it finds no table, its arithmetic fails, rows
lack amounts, glyphs are undecodable, or no header line could be read. Then:

- if a text layer was used, a sample of its words is checked against OCR; a layer that does not
  say what the page shows is dropped and those pages are read by OCR instead;
- if OCR was used, the pages are read again by the other OCR engine (where installed: Tesseract
  also reads Cyrillic, which RapidOCR's bundled models do not) and the better reading is kept.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image

from dualread.arithmetic import ArithmeticReport, check
from dualread.choices import OcrEngine
from dualread.documents import PDF_POINTS_PER_INCH, Document, DocumentError
from dualread.stages.candidate import Candidate, PassParams, RawOutput
from dualread.stages.embedded.accounts import has_content
from dualread.stages.embedded.layout import Line, deskew, group_lines
from dualread.stages.embedded.ocr import OcrUnavailableError, ocr_words
from dualread.stages.embedded.reader import NoStatementTableError, Reading, read_statement
from dualread.stages.embedded.textcheck import looks_like_text, text_layer_matches_image
from dualread.stages.embedded.words import PageWords, TextLayerQuality, text_layer_words
from dualread.statement import Statement

# RapidOCR's detector works on at most 2000 pixels a side, which an A4 page reaches at 170 dpi:
# rendering finer only costs time. Tesseract reads small print better at 300 dpi.
DEFAULT_OCR_DPI: dict[OcrEngine, int] = {"rapidocr": 200, "tesseract": 300}
# The longest side of a page image sent to OCR, in pixels: an A4 or Letter page at the engine's
# DPI fits. A page drawn larger (a scan laid on a 24-inch page at 72 dpi) is rendered at the DPI
# that fits: its own pixels hold no more detail, while OCR time and memory grow with the area.
MAX_OCR_SIDE_PX: dict[OcrEngine, int] = {"rapidocr": 2480, "tesseract": 3520}
CHECK_RENDER_DPI = 200  # enough for recognising single word crops
TextCheck = Literal["auto", "always", "never"]


class EmbeddedReadError(Exception):
    """The embedded engine could not read a statement; ``str()`` is one line naming the file.
    ``header``: where pages were read but held no transaction table, what they print outside
    one, as a statement without rows (a model reading a summary page still answers that)."""

    def __init__(self, message: str, header: Statement | None = None) -> None:
        super().__init__(message)
        self.header = header


@dataclass
class _Pages:
    words: dict[int, PageWords]
    quality: dict[int, TextLayerQuality]
    skew: dict[int, float]


def ocr_image(document: Document, number: int, engine: OcrEngine, dpi: int) -> Image.Image:
    """The page rendered for OCR: at ``dpi``, or smaller where its longest side would pass
    MAX_OCR_SIDE_PX (an image document's own pixels are scaled down the same way)."""
    ref = document.ref(number)
    limit = MAX_OCR_SIDE_PX[engine]
    fitting = math.floor(limit * PDF_POINTS_PER_INCH / max(ref.width_pt, ref.height_pt))
    image = document.render(number, max(1, min(dpi, fitting)))
    if max(image.size) > limit:
        scale = limit / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def _ocr_page(
    document: Document, number: int, engine: OcrEngine, dpi: int
) -> tuple[PageWords, float]:
    ref = document.ref(number)
    straight, angle = deskew(ocr_image(document, number, engine, dpi))
    words = ocr_words(straight, engine, ref.width_pt / straight.width)
    return PageWords(number, ref.width_pt, ref.height_pt, tuple(words), engine), angle


PageLines = list[tuple[int, list[Line]]]


def _lines(pages: dict[int, PageWords]) -> PageLines:
    return [
        (number, group_lines(pages[number].words, follow_slope=pages[number].source != "text"))
        for number in sorted(pages)
    ]


@dataclass
class _Attempt:
    """One reading of the pages, or why there is none, with what it was read from."""

    pages: _Pages
    lines: PageLines
    reading: Reading | None
    problem: str | None
    report: ArithmeticReport | None
    header: Statement | None = None  # without a reading: the header fields the pages print

    @property
    def doubtful(self) -> bool:
        if self.reading is None or self.report is None:
            return True
        garbage = any(q.garbage_chars for q in self.pages.quality.values())
        rows = len(self.reading.primary.statement.transactions)
        return bool(
            self.report.violations
            or self.reading.primary.rows_without_amount
            or self.reading.columns_inferred
            or garbage
            # OCR models without the script's letters read text as punctuation, numbers intact.
            or self.wordless_rows * 2 > rows
        )

    def pages_in_doubt(self, candidates: list[int]) -> list[int]:
        """The pages among ``candidates`` that the doubt is about.

        When the only trouble is the running balance, it is placed: the page of each row whose
        balance does not follow, and of the row before it (a row lost at the foot of a page
        breaks the chain on the next), and each page whose first balance does not follow the
        page before. Any other doubt concerns the whole reading: every candidate.
        """
        if self.reading is None or self.report is None:
            return candidates
        rows = self.reading.primary.statement.transactions
        breaks = self.report.chain_breaks
        whole = (
            self.reading.primary.rows_without_amount
            or self.reading.columns_inferred
            or any(q.garbage_chars for q in self.pages.quality.values())
            or self.wordless_rows * 2 > len(rows)
            or not (breaks or self.report.page_breaks)
        )
        if whole:
            return candidates
        placed: set[int | None] = {*self.report.page_breaks}
        placed |= {p - 1 for p in self.report.page_breaks}
        for index in breaks:
            placed |= {rows[i].page for i in (index - 1, index) if 0 <= i < len(rows)}
        if None in placed:
            return candidates
        return [n for n in candidates if n in placed]

    @property
    def wordless_rows(self) -> int:
        """Rows whose description holds no letter at all."""
        if self.reading is None:
            return 0
        rows = self.reading.primary.statement.transactions
        return sum(1 for row in rows if not any(c.isalpha() for c in row.description))

    def rank(self) -> tuple[bool, bool, bool, int, int]:
        """Better readings rank higher: a table at all, arithmetic that holds, a header that
        could be read, descriptions with words, more rows."""
        if self.reading is None or self.report is None:
            return (False, False, False, 0, 0)
        rows = len(self.reading.primary.statement.transactions)
        return (
            True,
            not self.report.violations,
            not self.reading.columns_inferred,
            -self.wordless_rows,
            rows,
        )


def _attempt(pages: _Pages) -> _Attempt:
    lines = _lines(pages.words)
    try:
        reading = read_statement(lines, pages.words[min(pages.words)].height)
    except NoStatementTableError as error:
        return _Attempt(pages, lines, None, str(error), None, error.header)
    return _Attempt(pages, lines, reading, None, check(reading.primary.statement))


def _ocr_pages(
    document: Document, numbers: list[int], engine: OcrEngine, dpi: int
) -> list[tuple[int, PageWords, float]]:
    """The given pages read by OCR with ``engine``: (number, words, skew angle) in order.

    Tesseract reads one page per core at a time (each run single-threaded, see ocr.py);
    RapidOCR already spreads one page over every core. Each page image is let go as soon as
    its words are read.
    """
    workers = len(os.sched_getaffinity(0)) if engine == "tesseract" else 1
    with ThreadPoolExecutor(max(1, min(workers, len(numbers)))) as pool:
        read = pool.map(lambda number: _ocr_page(document, number, engine, dpi), numbers)
        return [(n, words, angle) for n, (words, angle) in zip(numbers, read, strict=True)]


def _reocr(
    document: Document, pages: _Pages, numbers: list[int], engine: OcrEngine, dpi: int
) -> _Pages:
    """A copy of ``pages`` with the given pages read by OCR with ``engine``."""
    again = _Pages(dict(pages.words), dict(pages.quality), dict(pages.skew))
    for number, words, angle in _ocr_pages(document, numbers, engine, dpi):
        again.words[number], again.skew[number] = words, angle
    return again


def _raw(pages: dict[int, PageWords], lines: PageLines, elapsed: float) -> list[RawOutput]:
    """The words each page gave, as text lines: what the reader saw, for --explain."""
    share = elapsed / len(lines)
    return [
        RawOutput(
            "embedded",
            (number,),
            "\n".join(line.text for line in page_lines),
            pages[number].source,
            share,
        )
        for number, page_lines in lines
    ]


def read_embedded(
    document: Document,
    *,
    ocr: OcrEngine = "rapidocr",
    dpi: int | None = None,
    verify_text_layer: TextCheck = "auto",
    second_opinion: bool = True,
) -> Candidate:
    """Read a statement with the embedded engine (PDF text layer, else OCR; rule-based reader).

    ``second_opinion=False`` keeps to the one OCR engine (a reader that must stay independent
    of the other, as the stand-ins' two OCR readers are).

    ``dpi`` is the render resolution for OCR (default: 200 for RapidOCR, 300 for Tesseract).
    ``verify_text_layer``: "auto" checks the text layer against OCR only when the reading is
    doubtful, "always" on every document, "never" trusts it. A doubtful reading of OCR pages
    is repeated with the other OCR engine, where installed, and the better one kept. Raises
    :class:`EmbeddedReadError` (one line, naming the file) when no statement table is found or
    OCR cannot run.
    """
    started = time.perf_counter()
    dpi = dpi or DEFAULT_OCR_DPI[ocr]
    timings: dict[str, float] = {}
    notes: dict[str, Any] = {"text_layer_check": "skipped", "second_ocr": None}
    try:
        attempt = _attempt(_collect_pages(document, ocr, dpi, timings))
        text_pages = [n for n, w in attempt.pages.words.items() if w.source == "text"]
        if text_pages and (
            verify_text_layer == "always" or (verify_text_layer == "auto" and attempt.doubtful)
        ):
            attempt = _check_text_layer(document, attempt, text_pages, ocr, dpi, notes, timings)
        if second_opinion:
            attempt = _second_opinion(document, attempt, ocr, notes, timings)
    except OcrUnavailableError as error:
        raise EmbeddedReadError(f"{document.path}: OCR failed: {error}") from None
    except DocumentError as error:
        raise EmbeddedReadError(str(error)) from None
    if attempt.reading is None or attempt.report is None:
        raise EmbeddedReadError(f"{document.path}: {attempt.problem}", attempt.header)
    elapsed = time.perf_counter() - started
    timings["embedded"] = elapsed
    # Each account the reader told apart is its own statement (see accounts.py).
    first, *others = [a.statement for a in attempt.reading.accounts if has_content(a.statement)]
    return Candidate(
        route="embedded",
        statement=first,
        pages=tuple(document.page_numbers),
        params=PassParams(dpi=dpi),
        raw=_raw(attempt.pages.words, attempt.lines, elapsed),
        timings=timings,
        notes={**notes, **_notes(attempt.reading, attempt.report, attempt.pages)},
        other_accounts=tuple(others),
    )


def _check_text_layer(
    document: Document,
    attempt: _Attempt,
    text_pages: list[int],
    ocr: OcrEngine,
    dpi: int,
    notes: dict[str, Any],
    timings: dict[str, float],
) -> _Attempt:
    """Compare the first text page's layer with OCR; a layer that fails is replaced by OCR.

    A text layer with no table at all is read by OCR without comparing: it may hold only part
    of what the page shows (a scan under a stamped footer or a partial OCR layer). The OCR
    reading is kept when it ranks higher.
    """
    started = time.perf_counter()
    if attempt.reading is None:
        notes["text_layer_check"] = "no table"
        again = _attempt(_reocr(document, attempt.pages, text_pages, ocr, dpi))
        if again.rank() > attempt.rank():
            notes["text_layer_check"] = "no table: read by OCR"
            attempt = again
    else:
        first = text_pages[0]
        matches = text_layer_matches_image(
            attempt.pages.words[first], document.render(first, CHECK_RENDER_DPI)
        )
        notes["text_layer_check"] = "failed" if matches is False else "passed"
        if matches is False:
            attempt = _attempt(_reocr(document, attempt.pages, text_pages, ocr, dpi))
    timings["text_layer_check"] = time.perf_counter() - started
    return attempt


def _second_opinion(
    document: Document,
    attempt: _Attempt,
    ocr: OcrEngine,
    notes: dict[str, Any],
    timings: dict[str, float],
) -> _Attempt:
    """A doubtful reading of OCR pages, read again by the other OCR engine if it is installed;
    the better of the two is kept. Only the pages the doubt is about are read again."""
    ocr_pages = [n for n, w in attempt.pages.words.items() if w.source == ocr]
    other: OcrEngine = "rapidocr" if ocr == "tesseract" else "tesseract"
    if not ocr_pages or not attempt.doubtful or not shutil.which("tesseract"):
        return attempt
    started = time.perf_counter()
    pages = attempt.pages_in_doubt(sorted(ocr_pages))
    notes["second_ocr_pages"] = pages
    try:
        second = _attempt(_reocr(document, attempt.pages, pages, other, DEFAULT_OCR_DPI[other]))
    except OcrUnavailableError:
        return attempt  # the second opinion is a bonus; the first reading stands
    finally:
        timings["second_ocr"] = time.perf_counter() - started
    if second.rank() > attempt.rank():
        notes["second_ocr"] = other
        return second
    return attempt


def _collect_pages(
    document: Document, ocr: OcrEngine, dpi: int, timings: dict[str, float]
) -> _Pages:
    pages = _Pages({}, {}, {})
    started = time.perf_counter()
    for number in document.page_numbers:
        words, quality = text_layer_words(document, number)
        pages.quality[number] = quality
        if quality.usable and looks_like_text(words):
            pages.words[number] = words
    timings["text_layer"] = time.perf_counter() - started
    missing = [n for n in document.page_numbers if n not in pages.words]
    if missing:
        started = time.perf_counter()
        for number, words, angle in _ocr_pages(document, missing, ocr, dpi):
            pages.words[number], pages.skew[number] = words, angle
        timings["ocr"] = time.perf_counter() - started
    return pages


def _sources(pages: Iterable[PageWords]) -> dict[str, str]:
    return {str(p.number): p.source for p in pages}


def _notes(reading: Reading, report: ArithmeticReport, pages: _Pages) -> dict[str, Any]:
    return {
        "page_sources": _sources(pages.words.values()),
        "skew_degrees": {str(n): angle for n, angle in pages.skew.items() if angle},
        "arithmetic": report.to_dict(),
        "card_statement": reading.primary.card_statement,
        "columns_inferred": reading.columns_inferred,
        "rows_without_amount": reading.primary.rows_without_amount,
    }
