"""Transaction-table headers: which line is one, and where each column sits.

A header line is recognised by its words, not by its position: column titles in English, German,
Russian, Dutch and French (plus the bilingual Chinese ones seen on Hong Kong statements) map to
roles. Titles are matched as phrases over the line's words, longest first, because adjacent titles
often sit closer together than the words inside one title ("Chèques et débits ($) Dépôts et
crédits ($)"). Each column keeps the horizontal span of its title; data words are assigned to the
column whose span they overlap most, else to the nearest one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from dualread.parsing import fold
from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.vocabulary import COLUMN_TITLES, TITLE_FILLER, Role
from dualread.stages.embedded.words import Word

MONEY_ROLES: frozenset[Role] = frozenset({"amount", "debit", "credit"})
NUMERIC_ROLES: frozenset[Role] = MONEY_ROLES | {"balance", "original_amount"}
TEXT_ROLES: frozenset[Role] = frozenset({"description", "counterparty", "reference"})
DATE_ROLES: frozenset[Role] = frozenset({"date", "posting_date", "value_date"})

MIN_TITLE_SHARE = 0.7  # of a header line's words that must be titles or filler
PHRASE_GAP = 0.8  # word heights: words of one phrase, or of one amount, are set closer


@lru_cache(maxsize=65536)
def _fold_token(text: str) -> str:
    token = fold(text).strip(":;,*()[]/")  # 'Deposits/' over 'Additions'
    return re.sub(r"^\((.*)\)$", r"\1", token)


_PHRASES: dict[tuple[str, ...], Role] = {
    tuple(_fold_token(part) for part in phrase.split()): role
    for role, phrases in COLUMN_TITLES.items()
    for phrase in phrases
}
_LONGEST_PHRASE = max(len(p) for p in _PHRASES)
_TITLE_WORDS = frozenset(token for phrase in _PHRASES for token in phrase)


@dataclass(frozen=True)
class Column:
    role: Role
    x0: float
    x1: float

    def distance(self, word: Word) -> float:
        """0 when the word overlaps the title span, else the horizontal gap."""
        return max(self.x0 - word.x1, word.x0 - self.x1, 0.0)

    def overlap(self, word: Word) -> float:
        return min(self.x1, word.x1) - max(self.x0, word.x0)


@dataclass(frozen=True)
class TableHeader:
    columns: tuple[Column, ...]
    text_columns: tuple[Column, ...] = field(init=False)  # where words that are no numbers go

    def __post_init__(self) -> None:
        text = tuple(c for c in self.columns if c.role not in NUMERIC_ROLES)
        object.__setattr__(self, "text_columns", text or self.columns)

    def has(self, role: Role) -> bool:
        return any(c.role == role for c in self.columns)

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(c.role for c in self.columns)


@dataclass(frozen=True)
class _Token:
    """A header word, or one part of a word written 'Vorgang/Buchungsinformation'."""

    key: str
    x0: float
    x1: float


def _tokens(words: Iterable[Word]) -> list[_Token]:
    tokens = []
    for word in words:
        parts = [p for p in re.split(r"(?<=\w)/(?=\w)", word.text) if p]
        width = (word.x1 - word.x0) / max(1, len(word.text))
        offset = 0
        for part in parts:
            start = word.text.index(part, offset)
            offset = start + len(part)
            tokens.append(
                _Token(_fold_token(part), word.x0 + start * width, word.x0 + offset * width)
            )
    return tokens


def _match_titles(tokens: Sequence[_Token]) -> tuple[list[Column], int]:
    """Longest-first phrase matches over the tokens; returns them and how many tokens they or
    filler words cover."""
    matches: list[Column] = []
    covered = 0
    index = 0
    while index < len(tokens):
        for length in range(min(_LONGEST_PHRASE, len(tokens) - index), 0, -1):
            key = tuple(t.key for t in tokens[index : index + length])
            role = _PHRASES.get(key)
            if role is not None:
                span = tokens[index : index + length]
                matches.append(Column(role, span[0].x0, span[-1].x1))
                covered += length
                index += length
                break
        else:
            covered += tokens[index].key in TITLE_FILLER or not re.search(r"\w", tokens[index].key)
            index += 1
    return matches, covered


def _merge_same_role(matches: list[Column], gap_limit: float) -> list[Column]:
    """'Merchant Name or Transaction Description': adjacent titles of one role are one column.
    Date titles stay apart: two dates side by side are two columns ('Date Processed', 'Date of
    Transaction'), the second the value date."""
    merged: list[Column] = []
    for column in sorted(matches, key=lambda c: c.x0):
        previous = merged[-1] if merged else None
        if (
            previous
            and previous.role == column.role
            and column.role not in DATE_ROLES
            and column.x0 - previous.x1 <= gap_limit
        ):
            merged[-1] = Column(column.role, previous.x0, column.x1)
        else:
            merged.append(column)
    return merged


def _resolve_dates(columns: list[Column]) -> list[Column]:
    """Several date columns: the transaction date is 'date', others become the value date.

    A posting date is the booking date when no transaction date is printed (Postbank's
    'Buchung'), and the value date beside one (a card's 'Post Date' next to 'Trans Date').
    """
    has_date = any(c.role == "date" for c in columns)
    resolved: list[Column] = []
    seen_date = False
    for column in columns:
        role = column.role
        if role == "posting_date":
            role = "value_date" if has_date else "date"
        if role == "date":
            role = "value_date" if seen_date else "date"
            seen_date = True
        resolved.append(Column(role, column.x0, column.x1))
    return resolved


def match_header(line: Line) -> TableHeader | None:
    """The table header this line is, or None.

    It must name a money column (amount, debit or credit) and a date or description column, and
    nearly all its words must be column titles: prose that mentions 'balance' and 'date' is not
    a header.
    """
    if len(line.words) > 24 or sum(_fold_token(w.text) in _TITLE_WORDS for w in line.words) < 2:
        return None  # the quick test that rejects nearly every line
    tokens = _tokens(line.words)
    if not tokens:
        return None
    matches, covered = _match_titles(tokens)
    if covered < MIN_TITLE_SHARE * len(tokens):
        return None
    height = max(line.bottom - line.top, 1.0)
    columns = _resolve_dates(_merge_same_role(matches, 1.5 * height))
    roles = {c.role for c in columns}
    if not roles & MONEY_ROLES or not roles & {"date", "description"} or len(columns) < 2:
        return None
    # Roles must not repeat (two "amount" columns would be ambiguous): keep the first of each.
    unique: list[Column] = []
    for column in columns:
        if all(c.role != column.role for c in unique):
            unique.append(column)
    return TableHeader(tuple(_widen_with_fillers(unique, line.words)))


def is_side_by_side(line: Line) -> bool:
    """Whether the line titles the same columns twice or more over ('Date Amount Date Amount'):
    narrow tables set side by side (daily balances, a checks summary), never the booking
    table."""
    if len(line.words) > 24 or sum(_fold_token(w.text) in _TITLE_WORDS for w in line.words) < 4:
        return False  # the quick test: two titles twice over are four title words at least
    tokens = _tokens(line.words)
    matches, covered = _match_titles(tokens)
    if not tokens or covered < 0.5 * len(tokens):
        return False
    roles = ["date" if c.role in DATE_ROLES else c.role for c in matches]
    if not any(role in NUMERIC_ROLES for role in roles):
        return False
    return any(
        len(roles) % width == 0 and roles == roles[:width] * (len(roles) // width)
        for width in range(2, len(roles) // 2 + 1)
    )


# Gaps (in word heights) at which a two-line header's first line is cut into titles: titles
# set apart as usual, and titles set as close as the words inside one ('Card Transaction' over
# 'ID Details').
TITLE_GAPS = (1.0, 0.5)


def stacked_header(line: Line, below: Line, *, below_is_header: bool = False) -> TableHeader | None:
    """A header printed over two lines ('ENTRADA DE' over 'DINERO'), or None.

    The first line's words are cut into titles at gaps wider than a word height (or half of
    one, where that names more columns); each word of the second line joins the title above it
    that it overlaps, and one under no title is a title printed on the second line only ('Date'
    beside 'Check' over 'Number'). The joined titles are then matched like a one-line header.
    Only a line set close under the first can be its second half; no word of it may sit under
    two titles, and each joined title must name one column: a section title over the titles
    below it ('Card withdrawals' over 'Date' and 'Description') is none of them.

    ``below_is_header``: the second line is a header by itself. Then the first only completes
    its titles, each of its own over one of them: a line set close above a header is more
    often a section's title ('Withdrawals', centred) than a header's top half.
    """
    height = max(line.bottom - line.top, 1.0)
    if below.top - line.bottom > 0.8 * height:
        return None
    found = [_stacked(line, below, gap * height, below_is_header) for gap in TITLE_GAPS]
    matched = [header for header in found if header is not None]
    return max(matched, key=lambda header: len(header.roles), default=None)


def _stacked(line: Line, below: Line, gap: float, below_is_header: bool) -> TableHeader | None:
    tops: list[list[Word]] = []
    for word in line.words:
        if tops and word.x0 - tops[-1][-1].x1 <= gap:
            tops[-1].append(word)
        else:
            tops.append([word])
    halves: list[list[Word]] = [[] for _ in tops]  # the second line's words under each title
    bottoms: list[list[Word]] = []  # titles printed on the second line only
    for word in below.words:
        above = [i for i, t in enumerate(tops) if min(t[-1].x1, word.x1) > max(t[0].x0, word.x0)]
        if len(above) > 1:
            return None
        if above:
            halves[above[0]].append(word)
        else:
            bottoms.append([word])
    if below_is_header and not all(halves):
        return None
    titles = [top + half for top, half in zip(tops, halves, strict=True)] + bottoms
    # Each word of a title gets the title's whole span: the titles match word by word.
    words = [
        Word(w.text, min(x.x0 for x in title), line.top, max(x.x1 for x in title), below.bottom)
        for title in sorted(titles, key=lambda title: min(x.x0 for x in title))
        for w in title
    ]
    header = match_header(Line(tuple(words)))
    if header is None or any(
        len({c.role for c in _match_titles(_tokens(title))[0]}) > 1 for title in titles
    ):
        return None
    return header


def _widen_with_fillers(columns: list[Column], words: Sequence[Word]) -> list[Column]:
    """Let '($)', '(-)' and the like that follow a title widen that title's span."""
    widened = list(columns)
    for word in words:
        if any(c.overlap(word) > 0 for c in widened):
            continue
        nearest = min(range(len(widened)), key=lambda i: widened[i].distance(word))
        column = widened[nearest]
        widened[nearest] = Column(column.role, min(column.x0, word.x0), max(column.x1, word.x1))
    return widened


# A currency mark printed before or after an amount: symbols (Unicode "Sc", and the box a font
# without the rupee glyph prints), ISO codes, and letter prefixes of a dollar ("R$", "US$", "C$").
_CURRENCY_MARK = r"(?:[A-Z]{0,3}[$\u00a3\u00a5\u20a0-\u20cf\u25a0]|[A-Z]{3})"
_NUMBERISH = re.compile(
    rf"^[-+(]?{_CURRENCY_MARK}?\s?[-+(]?[\d.,'\u00a0 ]*\d\)?\s?(?:{_CURRENCY_MARK}|[CD]R?)?[)\-+]?$"
    r"|^[-+$€£¥₽]$"
)
_CURRENCY_WORD = re.compile(rf"^{_CURRENCY_MARK}$")
# A debit/credit marker printed as its own word after an amount ("150,00 D", "12.00 CR").
_SIGN_MARKER = re.compile(r"^(?:[CD]R?|[CD])$")
_GROUP_HEAD = re.compile(r"^[-+(]?\d{1,3}$|^[-+]$")


def is_numberish(text: str) -> bool:
    """Whether a word reads as a number, with a currency mark or a debit/credit marker."""
    return _NUMBERISH.match(text) is not None


def _joins_number(left: Word, right: Word) -> bool:
    """'10' '662,91', '-' '580,06', 'R$' '150,00' or '150,00' 'D': one amount printed as two
    words (space-grouped, signed, with its currency or its debit/credit marker apart)."""
    gap = right.x0 - left.x1
    if gap > PHRASE_GAP * max(left.height, right.height) or gap < -0.5:
        return False
    if left.text in ("-", "+") or _CURRENCY_WORD.match(left.text):
        return bool(re.match(r"^[-+(]?\d", right.text))
    if _SIGN_MARKER.match(right.text) or _CURRENCY_WORD.match(right.text):
        return bool(re.search(r"\d[.,]\d{2}\)?$", left.text))
    return bool(_GROUP_HEAD.match(left.text) and re.match(r"^\d{3}(?:[.,]\d{1,2})?$", right.text))


def merge_number_parts(words: Sequence[Word]) -> list[Word]:
    """Join the words of amounts printed with spaces inside them, so each lands in one column."""
    merged: list[Word] = []
    for word in sorted(words, key=lambda w: w.x0):
        if merged and _joins_number(merged[-1], word):
            left = merged[-1]
            merged[-1] = Word(
                f"{left.text} {word.text}",
                left.x0,
                min(left.top, word.top),
                word.x1,
                max(left.bottom, word.bottom),
            )
        else:
            merged.append(word)
    return merged


def column_for(word: Word, header: TableHeader) -> Column:
    """The column a data word belongs to.

    A word overlapping a title span belongs to the column it overlaps most; words that are not
    numbers never go to a numeric column. A word in the gap after a left-aligned title (text
    and dates run rightwards from their title) belongs to it, unless it is a number and a
    right-aligned numeric title (amounts run leftwards) is nearer on the right.
    """
    numberish = is_numberish(word.text)
    candidates = header.columns if numberish else header.text_columns
    best, most = None, 0.0
    for column in candidates:
        overlap = min(column.x1, word.x1) - max(column.x0, word.x0)
        if overlap > most:
            best, most = column, overlap
    if best is not None:
        return best
    left = max((c for c in candidates if c.x1 <= word.x0), key=lambda c: c.x1, default=None)
    right = min((c for c in candidates if c.x0 >= word.x1), key=lambda c: c.x0, default=None)
    right_is_text = right is None or right.role not in NUMERIC_ROLES
    if left is not None and left.role not in NUMERIC_ROLES and (right_is_text or not numberish):
        return left
    return min(candidates, key=lambda c: c.distance(word))


def _one_phrase(words: Sequence[Word]) -> bool:
    """Whether the words follow each other as closely as the words of one phrase do."""
    return all(
        right.x0 - left.x1 <= PHRASE_GAP * max(left.height, right.height)
        for left, right in itertools.pairwise(words)
    )


def split_by_column(words: Sequence[Word], header: TableHeader) -> dict[Role, list[Word]]:
    """A line's words grouped by the column they fall in, each group left to right.

    Numbers set inside one text column's words, as close to them as the words of a phrase (a
    street number or a reference in a description), are that column's text, though they reach
    under a money column's title: an amount stands apart from the text beside it.
    """
    merged = merge_number_parts(words)
    columns = [column_for(word, header) for word in merged]
    start = 0
    while start < len(merged):
        end = start  # columns[start:end]: a run of words that went to numeric columns
        while end < len(merged) and columns[end].role in NUMERIC_ROLES:
            end += 1
        if (
            0 < start < end < len(merged)
            and columns[start - 1] == columns[end]
            and columns[end].role in TEXT_ROLES
            and _one_phrase(merged[start - 1 : end + 1])
        ):
            columns[start:end] = [columns[end]] * (end - start)
        start = end + 1
    cells: dict[Role, list[Word]] = {}
    for word, column in zip(merged, columns, strict=True):
        cells.setdefault(column.role, []).append(word)
    return cells
