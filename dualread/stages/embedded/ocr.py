"""OCR of page images into words with boxes: RapidOCR (default) or the Tesseract CLI.

RapidOCR 3.x runs PP-OCR models through onnxruntime; the detection, recognition and
orientation models ship inside the wheel, and the engine is pointed at that folder explicitly so
it never reaches for the network. Tesseract is lighter (1-2 s a page) but misreads digits more
often; the statement's arithmetic catches most of those.

Boxes come back in image pixels and are converted to PDF points with ``points_per_pixel``, so
OCR words and text-layer words share one coordinate frame.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import statistics
import subprocess
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, get_args

import numpy as np
from PIL import Image

from dualread.choices import OcrEngine
from dualread.stages.embedded.words import Word

OCR_ENGINES: tuple[OcrEngine, ...] = get_args(OcrEngine)

TESSERACT_TIMEOUT_S = 120
# Tesseract languages worth asking for, when their traineddata is installed.
TESSERACT_LANGUAGES = ("eng", "deu", "fra", "nld", "rus")
_RAPIDOCR_LOCK = threading.Lock()  # one onnxruntime session set; it already uses every core


class OcrUnavailableError(RuntimeError):
    """The chosen OCR engine cannot run here; the message says what to install."""


@cache
def _rapidocr() -> Any:
    try:
        import rapidocr
        from rapidocr import RapidOCR
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise OcrUnavailableError(f"RapidOCR is not importable ({error})") from None
    models = Path(rapidocr.__file__).parent / "models"
    return RapidOCR(
        params={
            "Global.log_level": "warning",
            # Pages are straightened before OCR and statements are never upside-down lines, so
            # the orientation classifier only costs time.
            "Global.use_cls": False,
            "Global.return_word_box": True,
            # The models bundled in the wheel; with this set RapidOCR never downloads.
            "Global.model_root_dir": str(models),
            # Detection at up to 1280 px a side finds 8-point print on an A4 page and costs
            # half of detection at 2000 px.
            "Det.limit_type": "max",
            "Det.limit_side_len": 1280,
            # onnxruntime sizes its pool by the machine's cores; a process limited to fewer
            # (taskset, a container's cpuset) would oversubscribe them.
            "EngineConfig.onnxruntime.intra_op_num_threads": len(os.sched_getaffinity(0)),
        }
    )


def _quad_slope(points: Any) -> float:
    """The tilt (dy/dx) of a detected text box's top edge."""
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    dx, dy = array[1] - array[0]
    return float(dy / dx) if dx > 0 else 0.0


def _quad_box(points: Any, scale: float) -> tuple[float, float, float, float]:
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return (
        float(array[:, 0].min()) * scale,
        float(array[:, 1].min()) * scale,
        float(array[:, 0].max()) * scale,
        float(array[:, 1].max()) * scale,
    )


def rapidocr_words(image: Image.Image, points_per_pixel: float) -> list[Word]:
    """Words with boxes from RapidOCR (detection + recognition, word boxes from CTC positions)."""
    engine = _rapidocr()
    with _RAPIDOCR_LOCK:
        # Every call names its steps: RapidOCR keeps the last call's choice as the new default.
        result = engine(np.asarray(image.convert("RGB")), use_det=True, use_cls=False, use_rec=True)
    if result.txts is None or result.boxes is None:
        return []
    words: list[Word] = []
    word_results = result.word_results if len(result.word_results) == len(result.txts) else None
    for index, (line_text, line_box) in enumerate(zip(result.txts, result.boxes, strict=True)):
        pieces = word_results[index] if word_results is not None else ()
        slope = _quad_slope(line_box)
        if pieces and all(piece[2] is not None for piece in pieces):
            for text, _score, box in pieces:
                if text.strip():
                    words.append(Word(text.strip(), *_quad_box(box, points_per_pixel), slope))
        else:
            words.extend(_split_line(line_text, _quad_box(line_box, points_per_pixel), slope))
    return words


def _split_line(text: str, box: tuple[float, float, float, float], slope: float) -> list[Word]:
    """A line without word boxes: share its width among the words by character count."""
    x0, top, x1, bottom = box
    tokens = text.split()
    total = len(text) or 1
    words, offset = [], 0
    for token in tokens:
        start = text.index(token, offset)
        offset = start + len(token)
        left, right = x0 + (x1 - x0) * start / total, x0 + (x1 - x0) * offset / total
        words.append(Word(token, left, top, right, bottom, slope))
    return words


def recognize_crops(crops: list[Image.Image]) -> list[str]:
    """RapidOCR recognition only (no detection) of line images: the text each one shows."""
    engine = _rapidocr()
    texts = []
    with _RAPIDOCR_LOCK:
        for crop in crops:
            result = engine(
                np.asarray(crop.convert("RGB")), use_det=False, use_cls=False, use_rec=True
            )
            texts.append("".join(result.txts or ()))
    return texts


@cache
def _tesseract_languages() -> tuple[str, ...]:
    """The languages of TESSERACT_LANGUAGES whose data is installed."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise OcrUnavailableError(
            "the tesseract command is not installed (Debian: apt-get install tesseract-ocr "
            "tesseract-ocr-eng tesseract-ocr-deu)"
        )
    listed = subprocess.run(
        [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.split()
    chosen = tuple(lang for lang in TESSERACT_LANGUAGES if lang in listed)
    if not chosen:
        raise OcrUnavailableError("tesseract has no language data installed (tesseract-ocr-eng)")
    return chosen


# Ink runs at least this long are rules, not letters: a share of the page side, and never less
# than the tallest letter a statement prints (about 80 pixels at 300 dpi).
RULE_SHARE_OF_WIDTH, RULE_SHARE_OF_HEIGHT = 1 / 30, 1 / 40
MIN_RULE_PIXELS = 100


def _long_runs(ink: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, start, end) of every horizontal run of ink at least ``length`` pixels long.

    Runs are found from the edges of each row (ink switching on or off), so the work is a few
    passes over the image plus one entry per run, whatever the run lengths.
    """
    edges = np.diff(ink.view(np.int8), axis=1, prepend=np.int8(0), append=np.int8(0))
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # row-major order: the n-th end closes the n-th start
    long = ends - starts >= length
    return rows[long], starts[long], ends[long]


def without_rules(image: Image.Image) -> Image.Image:
    """The page in grey with its ruling lines (table borders, summary boxes) whitened.

    Tesseract drops text lines that touch a box border, such as the closing balance inside a
    summary box; letters are never this long, so removing long straight runs of ink is safe.
    """
    gray = np.array(image.convert("L"))
    ink = gray < 160
    height, width = gray.shape
    across = max(MIN_RULE_PIXELS, round(width * RULE_SHARE_OF_WIDTH))
    down = max(MIN_RULE_PIXELS, round(height * RULE_SHARE_OF_HEIGHT))
    # Both kinds of rule are found on the unchanged ink, then whitened: a crossing of a
    # horizontal and a vertical rule belongs to both.
    horizontal = _long_runs(ink, across)
    vertical = _long_runs(np.ascontiguousarray(ink.T), down)
    del ink
    for row, start, end in zip(*horizontal, strict=True):
        gray[row, start:end] = 255
    for column, start, end in zip(*vertical, strict=True):
        gray[start:end, column] = 255
    return Image.fromarray(gray)


def tesseract_words(
    image: Image.Image, points_per_pixel: float, languages: Sequence[str] | None = None
) -> list[Word]:
    """Words with boxes from ``tesseract --psm 6`` TSV output (one uniform block of text).

    ``languages``: those to try, of the installed ones (default: all of them). Each one more
    costs time: Tesseract tries the next language on every word the first reads poorly.
    """
    installed = _tesseract_languages()
    chosen = [lang for lang in languages or installed if lang in installed] or installed
    buffer = io.BytesIO()
    # Uncompressed: Tesseract decodes it at once, and zlib would cost more than the pipe saves.
    without_rules(image).save(buffer, format="PNG", compress_level=0)
    try:
        completed = subprocess.run(
            ["tesseract", "stdin", "stdout", "--psm", "6", "-l", "+".join(chosen), "tsv"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=TESSERACT_TIMEOUT_S,
            check=False,
            # Tesseract's OpenMP threads spin while they wait: on a busy machine they double its
            # CPU time for no gain. Pages are run side by side instead (engine.py).
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired:
        raise OcrUnavailableError(
            f"tesseract took over {TESSERACT_TIMEOUT_S} s on a page"
        ) from None
    if completed.returncode != 0:
        message = completed.stderr.decode(errors="replace").strip().splitlines()
        raise OcrUnavailableError(f"tesseract failed: {message[-1] if message else 'no output'}")
    return parse_tesseract_tsv(completed.stdout.decode("utf-8", errors="replace"), points_per_pixel)


def parse_tesseract_tsv(tsv: str, points_per_pixel: float) -> list[Word]:
    """Word rows (level 5) of Tesseract's TSV output as words in points.

    Words far flatter than the page's text are remnants of ruling lines, not print: dropped.
    """
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text or float(row.get("conf") or -1) < 0:
            continue
        left, top = float(row["left"]), float(row["top"])
        width, height = float(row["width"]), float(row["height"])
        words.append(
            Word(
                text,
                left * points_per_pixel,
                top * points_per_pixel,
                (left + width) * points_per_pixel,
                (top + height) * points_per_pixel,
            )
        )
    if not words:
        return words
    typical = statistics.median(w.height for w in words)
    return [w for w in words if w.height >= 0.4 * typical]


# An amount with two decimals and one full stop after it ("26,67."): no statement prints that;
# it is OCR's reading of a trailing sign mark that blur or low resolution shrank to a dot.
_AMOUNT_WITH_DOT = re.compile(r"^(?P<amount>\d{1,3}(?:[.,' ]?\d{3})*[.,]\d{2})\.$")
# "26.07." reads as a day and month ("DD.MM."), which the pattern above cannot tell apart.
_DAY_MONTH = re.compile(r"^(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.$")
_TRAILING_MINUS = re.compile(r"\d[.,]\d{2}-$")


def restore_trailing_signs(words: Sequence[Word]) -> list[Word]:
    """Words with the dot OCR made of an amount's trailing sign mark read back as that mark.

    Which mark it was, the page itself says: where other amounts were read with a trailing
    minus, the page prints its money out that way and the dot was a minus; otherwise the dot
    is dropped and the amount stays unsigned, for the statement's arithmetic to sign.
    """
    minus_style = any(_TRAILING_MINUS.search(word.text) for word in words)
    restored = []
    for word in words:
        found = _AMOUNT_WITH_DOT.match(word.text)
        if found and not _DAY_MONTH.match(word.text):
            text = found.group("amount") + ("-" if minus_style else "")
            word = Word(text, word.x0, word.top, word.x1, word.bottom, word.slope)
        restored.append(word)
    return restored


def ocr_words(image: Image.Image, engine: OcrEngine, points_per_pixel: float) -> list[Word]:
    """The words on an (upright) page image, by the chosen engine."""
    if engine == "tesseract":
        words = tesseract_words(image, points_per_pixel)
    else:
        words = rapidocr_words(image, points_per_pixel)
    return restore_trailing_signs(words)
