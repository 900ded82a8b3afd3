"""Cleaning raw model text: ``<think>`` blocks out, runaway repetition loops cut.

Loops. Vision OCR models sometimes repeat one line (often an empty table row) until
``max_tokens``. A repetition penalty would stop that but also corrupts bank tables, whose rows
legitimately repeat (the same card fee three times in a month). So the output is cut afterwards,
with rules that tell a loop from a table:

* anywhere, a line or a block of up to :data:`MAX_BLOCK_LINES` lines repeated consecutively more
  than ``max_repeats`` times (default 20) is a loop: no statement prints twenty identical rows in
  a row, a loop prints hundreds;
* when the answer was cut at the token limit, a block that repeats at least
  :data:`TRUNCATED_TAIL_REPEATS` times up to the very end is a loop too: the model was repeating
  when it ran out, and rows that really repeat are followed by other rows, not by the limit;
* likewise, at the limit, a stretch of at least :data:`MIN_INLINE_LOOP_CHARS` characters that
  repeats three times at the end of the last line (``<td></td><td></td>…`` with no line breaks).

A loop is cut down to its first copy (it may be real; the rest is not).
"""

from __future__ import annotations

import re

DEFAULT_MAX_REPEATS = 20
MAX_BLOCK_LINES = 8
TRUNCATED_TAIL_REPEATS = 3
MIN_INLINE_LOOP_CHARS = 32  # an in-line tail loop shorter than this is left alone
MAX_INLINE_PERIOD = 2000

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"^\s*<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)


def strip_think(text: str) -> str:
    """Remove reasoning: closed ``<think>…</think>`` blocks, a stray leading ``<think>`` tag, and
    everything before an orphan ``</think>`` (some chat templates open the block in the prompt)."""
    text = _THINK_BLOCK.sub("", text)
    orphan = _THINK_CLOSE.search(text)
    if orphan is not None:
        text = text[orphan.end() :]
    return _THINK_OPEN.sub("", text).strip()


def cut_repeated_lines(
    text: str, *, truncated: bool = False, max_repeats: int = DEFAULT_MAX_REPEATS
) -> str:
    """``text`` with repetition loops cut to one copy (see the module docstring for the rules).

    ``truncated`` says the answer stopped at the token limit (``finish_reason == "length"``); it
    enables the end-of-answer rules, and lets a half-written last line that continues the loop go.
    """
    lines = text.split("\n")
    partial = lines.pop() if truncated and not text.endswith("\n") else ""
    keys = [line.strip() for line in lines]
    end = len(keys)
    while end and not keys[end - 1]:
        end -= 1  # blank lines after the last copy do not stop a loop from reaching the end
    kept: list[str] = []
    index = 0
    partial_continues_loop = False
    while index < len(lines):
        found = _loop_at(keys, index, end, max_repeats, truncated, partial.strip())
        if found is None:
            kept.append(lines[index])
            index += 1
            continue
        size, copies = found
        kept.extend(lines[index : index + size])
        index += size * copies
        partial_continues_loop = index == end and keys[index - size].startswith(partial.strip())
    if partial and not partial_continues_loop:
        kept.append(partial)
    result = "\n".join(kept)
    return _cut_inline_tail(result) if truncated else result


def _loop_at(
    keys: list[str], start: int, end: int, max_repeats: int, truncated: bool, partial: str
) -> tuple[int, int] | None:
    """(block size, copies) of a loop starting at ``start``, smallest block first; else None.

    ``end``: where the answer's last non-blank line ends; ``partial``: the half-written line after
    it when the answer was truncated ("" when none). A run up to ``end`` is a loop that ran into
    the limit only if the half line, if any, starts the block once more.
    """
    for size in range(1, MAX_BLOCK_LINES + 1):
        block = keys[start : start + size]
        if len(block) < size:
            break
        copies = 1
        while keys[start + copies * size : start + (copies + 1) * size] == block:
            copies += 1
        into_the_limit = (
            truncated
            and start + copies * size == end
            and copies >= TRUNCATED_TAIL_REPEATS
            and any(block)
            and block[0].startswith(partial)
        )
        if copies > max_repeats or into_the_limit:
            return size, copies
    return None


def _cut_inline_tail(text: str) -> str:
    """Cut a loop that ran to the token limit inside the last line (``<td></td><td></td>…`` with
    no line breaks) to one copy."""
    body, newline, last = text.rpartition("\n")
    period, copies = _tail_period(last, TRUNCATED_TAIL_REPEATS)
    if period == 0:
        return text
    return body + newline + last[: len(last) - period * (copies - 1)]


def _tail_period(line: str, needed_copies: int) -> tuple[int, int]:
    """The shortest period p whose copies fill the end of ``line`` at least ``needed_copies``
    times, spanning at least :data:`MIN_INLINE_LOOP_CHARS`; (0, 0) if none.

    Uses the Z-function of the reversed line: z[p] is how far the reversed line agrees with
    itself shifted by p, so the periodic tail with period p is p + z[p] characters long.
    """
    reversed_line = line[::-1]
    z = _z_function(reversed_line)
    for period in range(1, min(len(line) // needed_copies, MAX_INLINE_PERIOD) + 1):
        span = period + z[period]
        copies = span // period
        if copies >= needed_copies and period * copies >= MIN_INLINE_LOOP_CHARS:
            return period, copies
    return 0, 0


def _z_function(text: str) -> list[int]:
    """z[i] = length of the longest common prefix of ``text`` and ``text[i:]`` (z[0] = len)."""
    n = len(text)
    z = [0] * (n + 1)
    if n:
        z[0] = n
    left = right = 0
    for i in range(1, n):
        if i < right:
            z[i] = min(right - i, z[i - left])
        while i + z[i] < n and text[z[i]] == text[i + z[i]]:
            z[i] += 1
        if i + z[i] > right:
            left, right = i, i + z[i]
    return z
