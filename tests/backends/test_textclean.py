"""<think> stripping and loop cutting: loops go, tables whose rows legitimately repeat stay."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualread.backends.textclean import DEFAULT_MAX_REPEATS, cut_repeated_lines, strip_think

pytestmark = pytest.mark.unit

HEAD = "<table>\n<tr><th>Date</th><th>Text</th><th>Amount</th></tr>"
FEE = "<tr><td>03.01.</td><td>Card fee</td><td>-1,00</td></tr>"
EMPTY_ROW = "<tr><td></td><td></td><td></td></tr>"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('<think>\nhmm {"a": 1}\n</think>\n\n{"b": 2}', '{"b": 2}'),
        ('<think></think>{"b": 2}', '{"b": 2}'),
        ('<THINK>x</THINK>{"b": 2}<think>again</think>', '{"b": 2}'),
        ('<think>\n{"b": 2}', '{"b": 2}'),  # unclosed leading tag
        ('reasoning the template opened\n</think>\n{"b": 2}', '{"b": 2}'),  # orphan close
        ('{"b": 2}', '{"b": 2}'),
    ],
)
def test_strip_think(raw: str, clean: str) -> None:
    assert strip_think(raw) == clean


@pytest.mark.parametrize("copies", [2, 3, 10, DEFAULT_MAX_REPEATS])
def test_rows_that_really_repeat_are_kept(copies: int) -> None:
    text = "\n".join([HEAD, *[FEE] * copies, "</table>", "Closing balance 10,00"])
    assert cut_repeated_lines(text) == text


def test_a_long_run_is_a_loop_anywhere() -> None:
    text = "\n".join([HEAD, FEE, *[EMPTY_ROW] * 60, "</table>", "Closing balance 10,00"])
    assert cut_repeated_lines(text) == "\n".join(
        [HEAD, FEE, EMPTY_ROW, "</table>", "Closing balance 10,00"]
    )


def test_a_repeated_block_of_lines_is_a_loop() -> None:
    block = ["<tr>", "<td>x</td>", "</tr>"]
    text = "\n".join(["start", *block * 40, "end"])
    assert cut_repeated_lines(text) == "\n".join(["start", *block, "end"])


def test_threshold_is_configurable() -> None:
    text = "\n".join([FEE] * 6)
    assert cut_repeated_lines(text, max_repeats=5) == FEE
    assert cut_repeated_lines(text, max_repeats=6) == text


def test_at_the_token_limit_a_short_repeating_tail_is_a_loop() -> None:
    text = "\n".join([HEAD, FEE, EMPTY_ROW, EMPTY_ROW, EMPTY_ROW, EMPTY_ROW]) + "\n<tr><td></"
    assert cut_repeated_lines(text, truncated=True) == "\n".join([HEAD, FEE, EMPTY_ROW])


def test_at_the_token_limit_two_copies_are_not_yet_a_loop() -> None:
    text = "\n".join([HEAD, FEE, FEE]) + "\n<tr><td>04.01.</td><td>Gro"
    assert cut_repeated_lines(text, truncated=True) == text


def test_a_repeating_tail_that_did_not_hit_the_limit_is_kept() -> None:
    text = "\n".join([HEAD, FEE, FEE, FEE, FEE])
    assert cut_repeated_lines(text, truncated=False) == text


def test_a_half_line_that_does_not_continue_the_loop_is_kept() -> None:
    text = "\n".join([HEAD, *[EMPTY_ROW] * 5, "Closing bal"])
    cut = cut_repeated_lines(text, truncated=True)
    assert cut == "\n".join([HEAD, *[EMPTY_ROW] * 5, "Closing bal"])


def test_an_in_line_loop_at_the_token_limit_is_cut() -> None:
    text = HEAD + "\n<tr>" + "<td></td>" * 300 + "<td></"
    cut = cut_repeated_lines(text, truncated=True)
    assert cut.startswith(HEAD + "\n<tr><td>")
    assert len(cut) < len(HEAD) + 40


def test_short_in_line_repetition_is_left_alone() -> None:
    text = "Saldo ...... 12,00"
    assert cut_repeated_lines(text, truncated=True) == text


rows = st.lists(st.sampled_from([FEE, EMPTY_ROW, "<tr><td>1</td></tr>", "", "text"]), max_size=60)


@given(rows)
def test_result_keeps_lines_in_order_and_is_stable(lines: list[str]) -> None:
    text = "\n".join(lines)
    cut = cut_repeated_lines(text)
    kept = iter(text.split("\n"))
    assert all(line in kept for line in cut.split("\n"))  # an order-preserving subsequence
    assert cut_repeated_lines(cut) == cut


@given(st.lists(st.integers(min_value=1, max_value=DEFAULT_MAX_REPEATS), max_size=8))
def test_runs_within_the_limit_are_never_cut(run_lengths: list[int]) -> None:
    lines = [f"<tr><td>{i}</td></tr>" for i, n in enumerate(run_lengths) for _ in range(n)]
    text = "\n".join(lines)
    assert cut_repeated_lines(text) == text
