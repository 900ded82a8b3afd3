"""The embedded CPU engine: a document in, a :class:`Candidate` out, no model server involved.

Per page it takes the PDF text layer when that layer is usable, else OCR of the page image
(straightened first). When the reading is doubtful (no table, broken arithmetic, undecodable
glyphs) and a text layer was used, a sample of its words is checked against OCR; a layer that
does not say what the page shows is dropped and those pages are read by OCR instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from dualread.consensus.arithmetic import ArithmeticReport, check
from dualread.documents import Document, DocumentError
from dualread.stages.candidate import Candidate, PassParams, RawOutput
from dualread.stages.embedded.layout import Line, deskew, group_lines
from dualread.stages.embedded.ocr import OcrEngine, OcrUnavailableError, ocr_words
from dualread.stages.embedded.reader import NoStatementTableError, Reading, read_statement
from dualread.stages.embedded.textcheck import text_layer_matches_image
from dualread.stages.embedded.words import PageWords, TextLayerQuality, text_layer_words

# RapidOCR's detector works on at most 2000 pixels a side, which an A4 page reaches at 170 dpi:
# rendering finer only costs time. Tesseract reads small print better at 300 dpi.
DEFAULT_OCR_DPI: dict[OcrEngine, int] = {"rapidocr": 200, "tesseract": 300}
CHECK_RENDER_DPI = 200  # enough for recognising single word crops
TextCheck = Literal["auto", "always", "never"]


class EmbeddedReadError(Exception):
    """The embedded engine could not read a statement; ``str()`` is one line naming the file."""


@dataclass
class _Pages:
    words: dict[int, PageWords]
    quality: dict[int, TextLayerQuality]
    skew: dict[int, float]


def _ocr_page(
    document: Document, number: int, engine: OcrEngine, dpi: int
) -> tuple[PageWords, float]:
    ref = next(p for p in document.pages if p.number == number)
    straight, angle = deskew(document.render(number, dpi))
    words = ocr_words(straight, engine, ref.width_pt / straight.width)
    return PageWords(number, ref.width_pt, ref.height_pt, tuple(words), engine), angle


PageLines = list[tuple[int, list[Line]]]


def _lines(pages: dict[int, PageWords]) -> PageLines:
    return [
        (number, group_lines(pages[number].words, follow_slope=pages[number].source != "text"))
        for number in sorted(pages)
    ]


def _read(pages: dict[int, PageWords]) -> tuple[Reading | None, str | None, PageLines]:
    """The reading of the pages (or why there is none), and the lines it was read from."""
    lines = _lines(pages)
    try:
        return read_statement(lines, pages[min(pages)].height), None, lines
    except NoStatementTableError as error:
        return None, str(error), lines


def _doubtful(reading: Reading | None, report: ArithmeticReport | None, pages: _Pages) -> bool:
    if reading is None or report is None:
        return True
    garbage = any(q.garbage_chars for q in pages.quality.values())
    return bool(report.violations or reading.primary.rows_without_amount or garbage)


def _report(reading: Reading | None) -> ArithmeticReport | None:
    return None if reading is None else check(reading.primary.statement)


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
) -> Candidate:
    """Read a statement with the embedded engine (PDF text layer, else OCR; rule-based reader).

    ``dpi`` is the render resolution for OCR (default: 200 for RapidOCR, 300 for Tesseract).
    ``verify_text_layer``: "auto" checks the text
    layer against OCR only when the reading is doubtful, "always" on every document, "never"
    trusts it. Raises :class:`EmbeddedReadError` (one line, naming the file) when no statement
    table is found or OCR cannot run.
    """
    started = time.perf_counter()
    dpi = dpi or DEFAULT_OCR_DPI[ocr]
    timings: dict[str, float] = {}
    try:
        pages = _collect_pages(document, ocr, dpi, timings)
        reading, problem, lines = _read(pages.words)
        report = _report(reading)
        check_result = "skipped"
        text_pages = [n for n, w in pages.words.items() if w.source == "text"]
        wants_check = verify_text_layer == "always" or (
            verify_text_layer == "auto" and _doubtful(reading, report, pages)
        )
        if text_pages and wants_check:
            check_started = time.perf_counter()
            first = text_pages[0]
            matches = text_layer_matches_image(
                pages.words[first], document.render(first, CHECK_RENDER_DPI)
            )
            check_result = "failed" if matches is False else "passed"
            if matches is False:
                for number in text_pages:
                    pages.words[number], pages.skew[number] = _ocr_page(document, number, ocr, dpi)
                reading, problem, lines = _read(pages.words)
                report = _report(reading)
            timings["text_layer_check"] = time.perf_counter() - check_started
    except OcrUnavailableError as error:
        raise EmbeddedReadError(f"{document.path}: OCR failed: {error}") from None
    except DocumentError as error:
        raise EmbeddedReadError(str(error)) from None
    if reading is None or report is None:
        raise EmbeddedReadError(f"{document.path}: {problem}")
    elapsed = time.perf_counter() - started
    timings["embedded"] = elapsed
    return Candidate(
        route="embedded",
        statement=reading.primary.statement,
        pages=tuple(document.page_numbers),
        params=PassParams(dpi=dpi),
        raw=_raw(pages.words, lines, elapsed),
        timings=timings,
        notes=_notes(reading, report, pages, check_result),
    )


def _collect_pages(
    document: Document, ocr: OcrEngine, dpi: int, timings: dict[str, float]
) -> _Pages:
    pages = _Pages({}, {}, {})
    started = time.perf_counter()
    for number in document.page_numbers:
        words, quality = text_layer_words(document, number)
        pages.quality[number] = quality
        if quality.usable:
            pages.words[number] = words
    timings["text_layer"] = time.perf_counter() - started
    missing = [n for n in document.page_numbers if n not in pages.words]
    if missing:
        started = time.perf_counter()
        for number in missing:
            pages.words[number], pages.skew[number] = _ocr_page(document, number, ocr, dpi)
        timings["ocr"] = time.perf_counter() - started
    return pages


def _sources(pages: Iterable[PageWords]) -> dict[str, str]:
    return {str(p.number): p.source for p in pages}


def _notes(
    reading: Reading, report: ArithmeticReport, pages: _Pages, check_result: str
) -> dict[str, Any]:
    return {
        "page_sources": _sources(pages.words.values()),
        "skew_degrees": {str(n): angle for n, angle in pages.skew.items() if angle},
        "text_layer_check": check_result,
        "arithmetic": report.to_dict(),
        "card_statement": reading.primary.card_statement,
        "rows_without_amount": reading.primary.rows_without_amount,
        "other_accounts": [a.statement.to_json_dict() for a in reading.accounts[1:]],
    }
