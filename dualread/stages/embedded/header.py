"""Header fields of a statement, found by labels and patterns in the lines outside the table.

Labels come in the five languages the table reader knows. A value sits either to the right of its
label on the same line ("IBAN: DE31 ...") or right below it, under the label (Postbank's "Alter
Kontostand" box). IBANs are accepted only with a valid mod-97 checksum; amounts and dates go
through the shared normalisers in :mod:`dualread.parsing`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Literal

from dualread.parsing import fold, normalize_iban, parse_date
from dualread.stages.embedded import vocabulary
from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.numbers import NumberFormat, find_dates, parse_money
from dualread.stages.embedded.words import Word

BalanceKind = Literal["opening", "closing"]


def _fold_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """Labels in the folded form line words are compared in."""
    return tuple(" ".join(fold(label).split()) for label in labels)


MAX_PERIOD_LINE_WORDS = 16  # a date range in a longer line is prose, not the period

_OPENING_LABELS = _fold_labels(vocabulary.OPENING_LABELS)
_CLOSING_LABELS = _fold_labels(vocabulary.CLOSING_LABELS)
# "Balance as of 01.10.2025": opening or closing depending on where the date falls.
_BALANCE_AS_OF = _fold_labels(vocabulary.BALANCE_AS_OF)
_HOLDER_LABELS = _fold_labels(vocabulary.HOLDER_LABELS)
_ACCOUNT_LABELS = _fold_labels(vocabulary.ACCOUNT_LABELS)
_BIC_LABELS = vocabulary.BIC_LABELS
_CURRENCY_LABELS = _fold_labels(vocabulary.CURRENCY_LABELS)
_PERIOD_LABELS = _fold_labels(vocabulary.PERIOD_LABELS)
_CARD_MARKERS = _fold_labels(vocabulary.CARD_MARKERS)
_STATEMENT_TITLES = _fold_labels(vocabulary.STATEMENT_TITLES)
# Two dates joined: '01.10.2025 - 31.10.2025', 'March 12, 2004 to April 12, 2004'.
_PERIOD_JOINER = re.compile(
    r"\d\s*(?:-|–|—|to|bis|au|t/m|tot|по|until|through)\s*(?:[^\W\d_]+\.?\s*)?\d",
    re.IGNORECASE,
)
# A date without its year right before a period's joiner: '1 May -', 'Dec 1 to', '01.12. bis'.
_YEARLESS_START = re.compile(
    r"(?<![\w.])(\d{1,2}\.?\s+[^\W\d_]{3,}\.?|[^\W\d_]{3,}\.?\s+\d{1,2}|\d{1,2}[./]\d{1,2}\.?)"
    r"\s*(?:-|–|—|to|bis|au|t/m|tot|по|until|through|thru)\s+",
    re.IGNORECASE,
)
_STARTS_WITH_DATE = re.compile(r"(?:[^\W\d_]+\.?\s*)?\d")  # 'Dec 31, 2022', '31.12.2024'
_CENTS = re.compile(r"\d[.,]\d{2}(?!\d)")
_MONEY_MARK = re.compile(r"[$€£¥₽]")
_BIC_SHAPE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")
_IBAN_START = re.compile(r"^[A-Z]{2}[0-9]{2}")
_BARE_DOLLAR = "$"
# Letters fused before a dollar sign name its country ('R$', 'NZ$'); none: a bare dollar.
_DOLLAR = re.compile(r"(?<![^\W\d_])([^\W\d_]{0,3})\$")
LETTERHEAD_SHARE = 0.3  # of the page's height, from the top: where a bank prints its address
_DOLLAR_COUNTRIES = [
    (re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w])"), code)
    for name, code in vocabulary.DOLLAR_COUNTRIES.items()
]


@dataclass(frozen=True)
class HeaderFields:
    bank_name: str | None = None
    account_holder: str | None = None
    account_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    currency: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    card_statement: bool = False
    # The balance at the period's start is printed with its date and no amount ('Kontostand am
    # 28.12.2024' and an empty cell): nothing, if the arithmetic agrees.
    opening_blank: bool = False


def _folded_words(line: Line) -> list[str]:
    return [fold(w.text).strip(":;,") for w in line.words]


def _find_label(line: Line, labels: Sequence[str]) -> tuple[int, int] | None:
    """(first word index, word count) of the longest label found in the line."""
    words = _folded_words(line)
    best: tuple[int, int] | None = None
    for label in labels:
        parts = label.split()
        for start in range(len(words) - len(parts) + 1):
            if words[start : start + len(parts)] == parts and (
                best is None or len(parts) > best[1]
            ):
                best = (start, len(parts))
    return best


@lru_cache(maxsize=4096)
def balance_label_kind(text: str) -> BalanceKind | None:
    """Whether a table row's text is an opening or closing balance label (not a booking)."""
    folded = " ".join(fold(text).replace(":", " ").split())
    for labels, kind in ((_OPENING_LABELS, "opening"), (_CLOSING_LABELS, "closing")):
        if any(folded == label or folded.startswith(label + " ") for label in labels):
            return kind  # type: ignore[return-value]
    return None


def _words_after(line: Line, start: int, count: int, *, stop_at_gap: bool = True) -> list[Word]:
    """The words right of a label; text values stop at a wide gap (the next box or column),
    amounts do not (summary boxes print them far right)."""
    words = list(line.words[start + count :])
    height = max(line.bottom - line.top, 1.0)
    kept: list[Word] = []
    previous = line.words[start + count - 1]
    for word in words:
        if stop_at_gap and word.x0 - previous.x1 > 6 * height:
            break
        kept.append(word)
        previous = word
    return kept


def _words_below(lines: Sequence[Line], index: int, start: int, count: int) -> list[Word]:
    """The words under a label on the next line, from the label's left edge rightwards."""
    line = lines[index]
    label_x0 = line.words[start].x0
    label_right = line.words[start + count - 1].x1
    next_label = next((w.x0 for w in line.words[start + count :] if w.x0 > label_right + 8), None)
    height = max(line.bottom - line.top, 1.0)
    for below in lines[index + 1 : index + 3]:
        if below.center_y - line.center_y > 2.2 * height:
            break
        chosen = [
            w
            for w in below.words
            if w.x1 > label_x0 - 2 and (next_label is None or w.x0 < next_label - 2)
        ]
        if chosen:
            return chosen
    return []


def _trailing_money(words: Sequence[Word], numbers: NumberFormat) -> Decimal | None:
    """The longest run of words at the end that reads as one amount with cents ('10 750,00 $').

    Cents are required: a balance is printed with them, a year or a count ('2025', '6') is not.
    Marks that are no words ('|', a box border OCR read as text) are passed over.
    """
    words = [w for w in words if _MONEY_MARK.search(w.text) or any(c.isalnum() for c in w.text)]
    best: Decimal | None = None
    for size in range(1, min(5, len(words)) + 1):
        text = " ".join(w.text for w in words[-size:])
        value = parse_money(text, numbers) if _CENTS.search(text) else None
        if value is not None:
            best = value
    return best


_GROUPED = re.compile(r"\d[.,'\u00a0 ]\d{3}[.,]\d{2}(?!\d)")  # '13,216.58', '1.250,00'


def _first_money(words: Sequence[Word], numbers: NumberFormat) -> Decimal | None:
    """The first amount with cents among the words, with its currency mark or sign before or
    after it: the amount a label names when other print follows it on the line. Only an amount
    that cannot be a date counts: a currency mark at it or digits grouped in thousands ('on
    12.03 Page 1' holds a day and month, not a balance)."""
    for end, word in enumerate(words):
        if not _CENTS.search(word.text):
            continue
        mark = words[end + 1 : end + 2]  # '1.250,00 EUR', '26,67 -': never a second number
        marks = [w.text for w in (*words[max(end - 1, 0) : end + 1], *mark)]
        if not (
            _GROUPED.search(word.text)
            or any(_MONEY_MARK.search(text) for text in marks)
            or (mark and mark[0].text.strip(".,:").upper() in vocabulary.ISO_CURRENCIES)
        ):
            continue
        if mark and not any(ch.isdigit() for ch in mark[0].text):
            value = _trailing_money([*words[: end + 1], *mark], numbers)
            if value is not None:
                return value
        value = _trailing_money(words[: end + 1], numbers)
        if value is not None:
            return value
    return None


def _iban_in(line: Line) -> str | None:
    """A valid IBAN printed in the line, in groups of four or in one piece."""
    words = [w.text.strip(":,;") for w in line.words]
    for start, word in enumerate(words):
        if not _IBAN_START.match(word.upper()):
            continue
        found = None
        for end in range(start + 1, min(len(words), start + 10) + 1):
            candidate = normalize_iban("".join(words[start:end]))
            if candidate is not None:
                found = candidate
        if found:
            return found
    return None


def _text_value(
    line: Line, start: int, count: int, lines: Sequence[Line], index: int
) -> str | None:
    words = _words_after(line, start, count) or _words_below(lines, index, start, count)
    text = " ".join(w.text for w in words).strip(" :")
    return text or None


def _balance_as_of(line: Line, numbers: NumberFormat) -> tuple[dt.date, Decimal | None] | None:
    """'Balance as of 28.12.2024  207,55-': the date and the balance (None where the line
    leaves the amount empty)."""
    found = _find_label(line, _BALANCE_AS_OF)
    if found is None:
        return None
    after = list(line.words[found[0] + found[1] :])
    dates = find_dates(" ".join(w.text for w in after), numbers)
    if not dates:
        return None
    return dates[0], _trailing_money(after, numbers)


def _dates_of_period(line: Line, numbers: NumberFormat) -> list[dt.date]:
    """The full dates printed in a line, or a start printed without its year joined to the
    end ('Jun 1 - Jun 30, 2021', 'For Dec 1 to Dec 31, 2022') and the end: the start's year is
    the one that puts it in the year up to the end."""
    dates = find_dates(line.text, numbers)
    if len(dates) != 1:
        return dates
    (end,) = dates
    for match in _YEARLESS_START.finditer(line.text):
        rest = line.text[match.end() :]
        after = find_dates(rest, numbers) if _STARTS_WITH_DATE.match(rest) else []
        if after and after[0] == end:
            start = parse_date(
                match.group(1),
                period_start=end - dt.timedelta(days=365),
                period_end=end,
                dayfirst=numbers.dayfirst,
            )
            if start is not None:
                return [start, end]
    return dates


def _joined(line: Line) -> bool:
    return bool(_PERIOD_JOINER.search(line.text) or _YEARLESS_START.search(line.text))


def _periods(lines: Sequence[Line], numbers: NumberFormat) -> list[tuple[dt.date, dt.date]]:
    """The statement periods the lines print: two dates on one line joined by 'to'/'bis'/'au'/
    '-', labelled lines first. Several only where each starts the day after (or the day) the
    one before ends: consecutive statements of one account in one file; else the first."""
    candidates = []
    for line in lines:
        dates = _dates_of_period(line, numbers)
        if len(dates) == 2 and dates[0] <= dates[1]:
            labelled = _find_label(line, _PERIOD_LABELS) is not None
            if len(line.words) <= MAX_PERIOD_LINE_WORDS and (labelled or _joined(line)):
                candidates.append((not labelled, dates[0], dates[1]))
    if not candidates:
        return []
    best = min(unlabelled for unlabelled, _, _ in candidates)
    periods = sorted({(start, end) for unlabelled, start, end in candidates if unlabelled == best})
    chained = all(
        dt.timedelta(0) <= later[0] - earlier[1] <= dt.timedelta(days=1)
        for earlier, later in pairwise(periods)
    )
    if chained:
        return periods
    first = next((start, end) for unlabelled, start, end in candidates if unlabelled == best)
    return [first]


def find_period(lines: Sequence[Line], numbers: NumberFormat) -> tuple[dt.date, dt.date] | None:
    """The statement period; over consecutive statements in one file, from the first's start
    to the last's end."""
    return _span(_periods(lines, numbers))


def _span(periods: Sequence[tuple[dt.date, dt.date]]) -> tuple[dt.date, dt.date] | None:
    return (periods[0][0], periods[-1][1]) if periods else None


def _currency(lines: Sequence[Line], letterhead: Sequence[Line]) -> str | None:
    """The currency a label, an ISO code or a symbol names; a bare '$' names the country's
    dollar only where the ``letterhead`` (the top of page one: bank, address) names one."""
    for line in lines:
        found = _find_label(line, _CURRENCY_LABELS)
        if found is None:
            continue
        for word in line.words[found[0] + found[1] :]:
            code = word.text.strip(":.,()").upper()
            if code in vocabulary.ISO_CURRENCIES:
                return code
    codes = Counter(
        w.text.strip(":.,()")
        for line in lines
        for w in line.words
        if w.text.strip(":.,()") in vocabulary.ISO_CURRENCIES
    )
    if codes:
        return codes.most_common(1)[0][0]
    symbols = Counter(
        symbol for line in lines for w in line.words if (symbol := _symbol_currency(w.text))
    )
    if not symbols:
        return None
    common = symbols.most_common(1)[0][0]
    return _bare_dollar(letterhead) if common == _BARE_DOLLAR else common


def _symbol_currency(text: str) -> str | None:
    """The currency a word's symbol or name names; ``_BARE_DOLLAR`` for a '$' no letters
    qualify."""
    folded = text.casefold()
    dollar = _DOLLAR.search(folded)
    if dollar:
        return vocabulary.LETTERED_DOLLARS.get(dollar.group(1), _BARE_DOLLAR)
    named = vocabulary.CURRENCY_NAMES.get(fold(text).strip(":.,()"))
    return named or next(
        (code for s, code in vocabulary.CURRENCY_SYMBOLS.items() if s in folded), None
    )


def _letterhead(first_page: Sequence[Line], page_height: float) -> list[Line]:
    """The top of the first page: where a bank prints its name and address. A country named
    further down ('Outside Canada, call ...') says nothing of the account's currency."""
    return [line for line in first_page if line.top < page_height * LETTERHEAD_SHARE]


def _bare_dollar(lines: Sequence[Line]) -> str | None:
    """The dollar of the one country the statement names most; none named, or two as often:
    unknown. A dozen countries print a bare '$', and a guessed currency would be a silent error."""
    named = Counter(
        code
        for line in lines
        for pattern, code in _DOLLAR_COUNTRIES
        for _ in pattern.finditer(fold(line.text))
    )
    if not named:
        return None
    (first, count), *rest = named.most_common(2)
    return first if not rest or rest[0][1] < count else None


def _bank_name(first_page: Sequence[Line], page_height: float) -> str | None:
    """The first run of large print near the top of page one that is not the document's title.

    Banks print their name larger than anything else but the title; with no large print there
    is no name to trust.
    """
    large = 1.2 * _typical_height(first_page)
    for line in first_page:
        if line.top >= page_height * 0.2:
            continue
        runs: list[list[Word]] = []
        for word in line.words:
            if word.height < large:
                continue
            if runs and word.x0 - runs[-1][-1].x1 <= 1.5 * word.height:
                runs[-1].append(word)
            else:
                runs.append([word])
        for run in runs:
            text = " ".join(w.text for w in run)
            if not any(title in fold(text) for title in _STATEMENT_TITLES) and re.search(
                r"[^\W\d_]{2}", text
            ):
                return text
    return None


def _typical_height(lines: Sequence[Line]) -> float:
    heights = sorted(w.height for line in lines for w in line.words)
    return heights[len(heights) // 2] if heights else 1.0


def read_header(
    pages: Sequence[Sequence[Line]], page_height: float, numbers: NumberFormat
) -> HeaderFields:
    """Header fields from the non-table lines of a statement (or of one account section)."""
    lines = [line for page in pages for line in page]
    fields = HeaderFields()
    as_of: list[tuple[dt.date, Decimal | None]] = []
    for page in pages:
        for index, line in enumerate(page):
            fields = _read_line(fields, page, index, numbers)
            found = _balance_as_of(line, numbers)
            if found:
                as_of.append(found)
    periods = _periods(lines, numbers)
    if len(periods) > 1:
        closings = _labelled_closings(pages, numbers)
        if len(closings) >= len(periods):  # consecutive statements, each with its own closing
            fields = replace(fields, closing_balance=closings[-1])
        else:  # one statement naming another's period ('Next statement period ...') in passing
            periods = periods[:1]
    period = _span(periods)
    as_of_dates = sorted({date for date, _ in as_of})
    if period is None and len(as_of_dates) >= 2:
        period = (as_of_dates[0], as_of_dates[-1])  # the balances at its start and its end
    if period:
        fields = replace(fields, period_start=period[0], period_end=period[1])
    as_of.sort(key=lambda found: found[0])
    if len(as_of_dates) >= 2 and as_of[0][1] is None and fields.opening_balance is None:
        fields = replace(fields, opening_blank=True)
    valued = [(date, value) for date, value in as_of if value is not None]
    if valued:
        if fields.opening_balance is None and len(valued) >= 2:
            fields = replace(fields, opening_balance=valued[0][1])
        if fields.closing_balance is None:
            fields = replace(fields, closing_balance=valued[-1][1])
    card = any(marker in fold(line.text) for line in lines for marker in _CARD_MARKERS)
    first_page = next((page for page in pages if page), [])  # the first that prints anything
    return replace(
        fields,
        currency=_currency(lines, _letterhead(first_page, page_height)),
        bank_name=_bank_name(first_page, page_height),
        card_statement=card,
    )


def _labelled_closings(pages: Sequence[Sequence[Line]], numbers: NumberFormat) -> list[Decimal]:
    """Every labelled closing balance the pages print, in order."""
    return [
        value
        for page in pages
        for index in range(len(page))
        if (value := _labelled_money(page, index, _CLOSING_LABELS, numbers)) is not None
    ]


def _read_line(
    fields: HeaderFields, page: Sequence[Line], index: int, numbers: NumberFormat
) -> HeaderFields:
    """Fill whichever still-empty fields this line labels."""
    line = page[index]
    if fields.iban is None and (iban := _iban_in(line)):
        fields = replace(fields, iban=iban)
    if fields.bic is None and (found := _find_label(line, _BIC_LABELS)):
        value_words = [*_words_after(line, *found), *_words_below(page, index, *found)]
        bic = next((w.text for w in value_words if _BIC_SHAPE.match(w.text)), None)
        if bic:
            fields = replace(fields, bic=bic)
    if fields.account_holder is None and (found := _find_label(line, _HOLDER_LABELS)):
        fields = replace(fields, account_holder=_text_value(line, *found, page, index))
    if fields.account_number is None and (found := _find_label(line, _ACCOUNT_LABELS)):
        value = _text_value(line, *found, page, index)
        if value and re.search(r"\d", value):
            fields = replace(fields, account_number=value)
    if fields.opening_balance is None:
        fields = replace(
            fields, opening_balance=_labelled_money(page, index, _OPENING_LABELS, numbers)
        )
    if fields.closing_balance is None:
        fields = replace(
            fields, closing_balance=_labelled_money(page, index, _CLOSING_LABELS, numbers)
        )
    return fields


def _labelled_money(
    page: Sequence[Line], index: int, labels: Sequence[str], numbers: NumberFormat
) -> Decimal | None:
    """The amount a label in this line names: right of it, or under it when nothing is right."""
    found = _find_label(page[index], labels)
    if found is None:
        return None
    after = _words_after(page[index], *found, stop_at_gap=False)
    value = _trailing_money(after, numbers) if after else None
    if value is None:  # other text after the amount: a box beside ('$13,216.58  Rachael Dean')
        value = _first_money(after, numbers)
    if value is None:  # a summary box: the label is one of several titles, the value under it
        value = _trailing_money(_words_below(page, index, *found), numbers)
    return value
