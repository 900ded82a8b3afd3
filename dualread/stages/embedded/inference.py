"""Columns of a table whose header cannot be read, inferred from its rows.

OCR garbles a bold header over a rule line, a Latin-only OCR model cannot read a Cyrillic one,
and some statements use words no vocabulary lists. The rows still show their structure: a date
at the left, amounts right-aligned in one to three columns. Rows that start with a date and
carry an amount with cents give the columns; right edges of the amounts cluster into the money
columns, and their count and signs say which is which.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from dualread.stages.embedded.columns import (
    Column,
    TableHeader,
    is_numberish,
    merge_number_parts,
)
from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.numbers import NumberFormat, parse_day
from dualread.stages.embedded.vocabulary import Role
from dualread.stages.embedded.words import Word

MIN_ROWS = 3  # fewer dated rows with amounts than this is not a table
_CENTS = re.compile(r"\d[.,]\d{2}(?!\d)")


def _is_money(text: str) -> bool:
    """An amount with cents (a count, a year or a reference number has none)."""
    return is_numberish(text) and _CENTS.search(text) is not None


@dataclass(frozen=True)
class _Row:
    index: int
    date: tuple[float, float]
    value_date: tuple[float, float] | None
    money: tuple[Word, ...]


def _leading_dates(
    words: Sequence[Word], numbers: NumberFormat
) -> tuple[list[tuple[float, float]], int]:
    """Spans of up to two dates at the start of a line, and how many words they use."""
    spans: list[tuple[float, float]] = []
    used = 0
    while len(spans) < 2:
        for size in (3, 2, 1):
            part = words[used : used + size]
            if len(part) == size and parse_day(" ".join(w.text for w in part), numbers):
                spans.append((part[0].x0, part[-1].x1))
                used += size
                break
        else:
            break
    return spans, used


def _dated_rows(lines: Sequence[Line], numbers: NumberFormat) -> list[_Row]:
    rows = []
    for index, line in enumerate(lines):
        words = merge_number_parts(line.words)
        spans, used = _leading_dates(words, numbers)
        money = tuple(w for w in words[used:] if _is_money(w.text))
        if spans and money:
            rows.append(_Row(index, spans[0], spans[1] if len(spans) > 1 else None, money))
    return rows


def _clusters(words: Sequence[Word], tolerance: float) -> list[list[Word]]:
    """Right-aligned amounts share a right edge: group them by it."""
    groups: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.x1):
        if groups and word.x1 - groups[-1][-1].x1 <= tolerance:
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def _money_roles(clusters: list[list[Word]], rows: Sequence[_Row]) -> list[Role]:
    """Which money column is which, from how many there are and how rows fill them."""
    count = len(clusters)
    if count == 1:
        return ["amount"]
    signed = any(
        w.text.lstrip("(").startswith("-") or w.text.endswith(("-", ")")) for w in clusters[0]
    )
    per_row = statistics.median(len(r.money) for r in rows)
    if count == 2:
        return ["amount", "balance"] if per_row >= 2 or signed else ["debit", "credit"]
    return ["debit", "credit", "balance"]


def infer_header(lines: Sequence[Line], numbers: NumberFormat) -> tuple[int, TableHeader] | None:
    """(index of the first row, columns) of a table with no readable header, or None."""
    rows = _dated_rows(lines, numbers)
    if len(rows) < MIN_ROWS:
        return None
    height = statistics.median(w.height for r in rows for w in r.money)
    clusters = _clusters([w for r in rows for w in r.money], 1.5 * height)
    # A column must be filled by several rows; a stray number is no column.
    clusters = [c for c in clusters if len(c) >= max(2, len(rows) // 5)][-3:]
    if not clusters:
        return None
    roles = _money_roles(clusters, rows)
    date_x0 = min(r.date[0] for r in rows)
    date_x1 = statistics.median(r.date[1] for r in rows)
    columns = [Column("date", date_x0, date_x1)]
    text_x0 = date_x1
    value_dates = [r.value_date for r in rows if r.value_date is not None]
    if len(value_dates) * 2 >= len(rows):
        value_x1 = statistics.median(v[1] for v in value_dates)
        columns.append(Column("value_date", min(v[0] for v in value_dates), value_x1))
        text_x0 = value_x1
    money_x0 = min(w.x0 for w in clusters[0])
    columns.append(
        Column("description", text_x0 + height, max(text_x0 + height, money_x0 - height))
    )
    for role, cluster in zip(roles, clusters, strict=True):
        columns.append(Column(role, min(w.x0 for w in cluster), max(w.x1 for w in cluster)))
    return rows[0].index, TableHeader(tuple(columns))
