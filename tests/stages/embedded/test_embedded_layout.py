"""Line grouping by position, overlaid texts kept apart, and straightening of tilted scans."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from dualread.stages.embedded.layout import deskew, estimate_skew, group_lines
from dualread.stages.embedded.words import Word

pytestmark = pytest.mark.unit


def test_words_group_into_lines_by_centre_not_by_order() -> None:
    words = [
        Word("12,00", 300, 101, 330, 111),
        Word("Coffee", 100, 100, 140, 110),
        Word("Second", 100, 114, 150, 124),
        Word("01.02.", 20, 99.5, 50, 109.5),
    ]
    lines = group_lines(words)
    assert [line.text for line in lines] == ["01.02. Coffee 12,00", "Second"]
    assert lines[0].top == 99.5 and lines[0].bottom == 111


def test_a_footer_printed_across_a_row_is_its_own_line() -> None:
    row = [Word("22", 40, 789.4, 48, 798.4), Word("okt", 50, 789.4, 60, 798.4)]
    row.append(Word("-25,75", 522, 789.4, 543, 798.4))
    footer = [Word("No", 40, 788.7, 48.5, 796.7), Word("rights", 50.3, 788.7, 67.8, 796.7)]
    lines = group_lines(row + footer)
    assert sorted(line.text for line in lines) == ["22 okt -25,75", "No rights"]


def test_group_lines_of_nothing() -> None:
    assert group_lines([]) == []


def _text_page(width: int = 1200, height: int = 1600) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    for row in range(30):
        draw.text(
            (80, 80 + row * 48),
            f"{row:02d}.03.2024  Card payment shop {row}  -12,{row:02d}",
            fill="black",
            font=font,
        )
    return image


@pytest.mark.parametrize("tilt", [-2.0, -0.7, 1.3])
def test_skew_is_measured_within_a_tenth_of_a_degree(tilt: float) -> None:
    tilted = _text_page().rotate(tilt, resample=Image.Resampling.BICUBIC, fillcolor="white")
    assert estimate_skew(tilted) == pytest.approx(tilt, abs=0.1)


def test_deskew_levels_a_tilted_page_and_leaves_a_straight_one_alone() -> None:
    page = _text_page()
    assert deskew(page) == (page, 0.0)
    straightened, angle = deskew(page.rotate(1.5, fillcolor="white"))
    assert angle == pytest.approx(1.5, abs=0.1)
    assert abs(estimate_skew(straightened)) < 0.1


def test_a_blank_page_has_no_skew() -> None:
    assert estimate_skew(Image.new("RGB", (400, 600), "white")) == 0.0
