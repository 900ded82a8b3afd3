"""Page geometry: straighten scans, and group words into lines by position.

Statement tables are read line by line, and a line is "the words whose vertical centres agree".
That only works on an upright page, so a scan is straightened first: the skew angle is the one at
which the dark pixels, projected onto the vertical axis, pile up into the sharpest text lines.
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from dualread.stages.embedded.words import Word

MAX_SKEW_DEG = 5.0  # phone photos and feeder scans stay well inside this
SKEW_ANALYSIS_WIDTH = 800  # pixels; enough to resolve text lines, small enough to stay fast
SKEW_SAMPLE_PIXELS = 40_000  # ink pixels used per angle tried; more adds time, not precision
MIN_SKEW_DEG = 0.1  # below this, rotating would blur the image for nothing
LINE_TOLERANCE = 0.45  # words whose centres differ by less than this many word heights share a line


@dataclass(frozen=True)
class Line:
    """Words sharing a text line, left to right, with the line's extent (computed once: the
    reader asks for it many times)."""

    words: tuple[Word, ...]
    top: float = field(init=False)
    bottom: float = field(init=False)
    center_y: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "top", min(w.top for w in self.words))
        object.__setattr__(self, "bottom", max(w.bottom for w in self.words))
        object.__setattr__(self, "center_y", statistics.median(w.center_y for w in self.words))

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def group_lines(words: Sequence[Word], *, follow_slope: bool = False) -> list[Line]:
    """Group words into lines, top to bottom; words in a line left to right.

    On a text layer, lines are horizontal and words group by vertical centre. On a photographed
    or scanned page (``follow_slope``) a row may still tilt after straightening, and tilt
    differently at the top and the bottom (perspective): each line is then followed from word
    to word along the local tilt of the text around it.
    """
    if not words:
        return []
    typical_height = statistics.median(w.height for w in words) or 1.0
    tolerance = LINE_TOLERANCE * typical_height
    if follow_slope:
        chained = [Line(tuple(line)) for line in _chain_lines(words, tolerance)]
        return sorted(chained, key=lambda line: line.center_y)
    lines: list[list[Word]] = []
    center = total = 0.0
    for word in sorted(words, key=lambda w: w.center_y):
        word_center = word.center_y
        if lines and abs(word_center - center) <= tolerance:
            lines[-1].append(word)
            total += word_center
            center = total / len(lines[-1])
        else:
            lines.append([word])
            center = total = word_center
    split = [Line(tuple(part)) for line in lines for part in _split_overlaid(line)]
    return sorted(split, key=lambda line: line.center_y)


def _local_slopes(words: Sequence[Word]) -> list[tuple[float, float]]:
    """(centre y, slope) of the words on long detected lines, whose tilt is measured well."""
    return sorted((w.center_y, w.slope) for w in words if w.x1 - w.x0 >= 3 * w.height)


def _slope_at(slopes: list[tuple[float, float]], y: float, band: float) -> float:
    """The median tilt of the text within ``band`` above and below ``y``."""
    low = bisect.bisect_left(slopes, (y - band, -math.inf))
    high = bisect.bisect_right(slopes, (y + band, math.inf))
    nearby = [s for _, s in slopes[low:high]] or [s for _, s in slopes]
    return statistics.median(nearby) if nearby else 0.0


def _chain_lines(words: Sequence[Word], tolerance: float) -> list[list[Word]]:
    """Follow each line from left to right: a word joins the line whose course, its words'
    mean centre extended along the local tilt, passes closest through the word's centre. The
    mean (not the last word) keeps one tall or stray mark from steering the line."""
    slopes = _local_slopes(words)
    band = 8 * tolerance / LINE_TOLERANCE  # about eight text lines above and below
    lines: list[list[Word]] = []
    # Per line: sum of centre x, sum of centre y, and the local tilt at its mean centre (kept
    # up to date as words join, so a page of many words costs one median per word).
    courses: list[list[float]] = []
    for word in sorted(words, key=lambda w: w.x0):
        best: int | None = None
        best_offset = tolerance
        for index, line in enumerate(lines):
            last = line[-1]
            if word.x0 < last.x1 - 0.3 * min(last.x1 - last.x0, word.x1 - word.x0):
                continue  # overlapping: a word of another line
            sum_x, sum_y, slope = courses[index]
            mean_x, mean_y = sum_x / len(line), sum_y / len(line)
            offset = abs(word.center_y - (mean_y + slope * (word.center_x - mean_x)))
            if offset <= best_offset:
                best, best_offset = index, offset
        if best is None:
            lines.append([word])
            courses.append([word.center_x, word.center_y, _slope_at(slopes, word.center_y, band)])
        else:
            line, course = lines[best], courses[best]
            line.append(word)
            course[0] += word.center_x
            course[1] += word.center_y
            course[2] = _slope_at(slopes, course[1] / len(line), band)
    return lines


def _overlapping(a: Word, b: Word) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.3 * min(a.x1 - a.x0, b.x1 - b.x0)


def _split_overlaid(words: list[Word]) -> list[list[Word]]:
    """Separate two texts printed over one another in the same band (a footer across a row).

    Words of one text never overlap each other, so words are dealt into as few non-overlapping
    groups as possible, those sharing a font box (same top and bottom) kept together.
    """
    ordered = sorted(words, key=lambda w: w.x0)
    if not any(_overlapping(a, b) for a, b in itertools.pairwise(ordered)):
        return [ordered]
    runs: dict[tuple[float, float], list[Word]] = {}
    for word in ordered:
        runs.setdefault((round(word.top, 1), round(word.bottom, 1)), []).append(word)
    groups: list[list[Word]] = []
    for run in sorted(runs.values(), key=len, reverse=True):
        target = next(
            (g for g in groups if not any(_overlapping(a, b) for a in g for b in run)), None
        )
        if target is None:
            groups.append(list(run))
        else:
            target.extend(run)
    return [sorted(group, key=lambda w: w.x0) for group in groups]


def _dark_pixel_coordinates(image: Image.Image) -> tuple[np.ndarray, np.ndarray, int]:
    scale = min(1.0, SKEW_ANALYSIS_WIDTH / image.width)
    small = image.convert("L")
    if scale < 1.0:
        small = small.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        )
    pixels = np.asarray(small, dtype=np.uint8)
    threshold = min(128, int(pixels.mean()) - 40)  # ink, not paper texture or JPEG noise
    ys, xs = np.nonzero(pixels < threshold)
    if xs.size > SKEW_SAMPLE_PIXELS:
        # An even stride keeps the sample spread over the whole page and deterministic.
        step = xs.size // SKEW_SAMPLE_PIXELS
        xs, ys = xs[::step], ys[::step]
    return xs.astype(np.float64), ys.astype(np.float64), pixels.shape[0]


def _line_sharpness(xs: np.ndarray, ys: np.ndarray, height: int, degrees: float) -> float:
    """How sharply ink piles into rows when the page is turned by ``degrees``."""
    radians = np.deg2rad(degrees)
    rows = np.round(ys * np.cos(radians) - xs * np.sin(radians)).astype(np.int64)
    rows -= rows.min()
    profile = np.bincount(rows, minlength=height).astype(np.float64)
    return float(np.sum(np.diff(profile) ** 2))


def estimate_skew(image: Image.Image) -> float:
    """The angle in degrees (counter-clockwise positive) by which the text lines are tilted."""
    xs, ys, height = _dark_pixel_coordinates(image)
    if xs.size < 100:
        return 0.0
    best = 0.0
    for step, span in ((0.5, MAX_SKEW_DEG), (0.1, 0.4), (0.025, 0.075)):
        candidates = np.arange(best - span, best + span + step / 2, step)
        scores = [_line_sharpness(xs, ys, height, float(a)) for a in candidates]
        best = float(candidates[int(np.argmax(scores))])
    # The sweep turns the ink back to level, so the tilt is the opposite of the best turn.
    return round(-best, 2) + 0.0


def deskew(image: Image.Image) -> tuple[Image.Image, float]:
    """The image turned upright, and the angle it was turned by (degrees, 0.0 when untouched)."""
    angle = estimate_skew(image)
    if abs(angle) < MIN_SKEW_DEG:
        return image, 0.0
    # PIL turns counter-clockwise for positive angles, so -angle levels the text. White fill
    # keeps the corners from reading as ink.
    turned = image.rotate(-angle, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
    return turned, angle
