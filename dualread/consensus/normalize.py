"""Normalise what a reader printed into comparable values: amounts, dates, IBANs, descriptions.

Two readers of the same statement rarely write a value the same way (``1.234,56`` against
``1234.56 EUR``, ``2 okt`` against ``2024-10-02``). Consensus compares values, not spellings, so
every candidate passes through these functions first. Each returns ``None`` rather than guessing
when the text is not what it is asked to parse.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import lru_cache

from dualread.statement import Statement

# --------------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------------

# Markers that say which way money moved. CR/H(aben) credit the account, DR/S(oll) debit it.
_NEGATIVE_SUFFIXES = frozenset({"DR", "D", "S", "SOLL", "DEBIT", "DB"})
_POSITIVE_SUFFIXES = frozenset({"CR", "C", "H", "HABEN", "CREDIT", "KT"})
# Local currency abbreviations that are not ISO codes or Unicode currency symbols.
_CURRENCY_WORDS = frozenset(
    {"РУБ", "Р", "ZŁ", "ZL", "KR", "FR", "SFR", "KČ", "FT", "LEI", "TL", "GRN", "ГРН"}
)
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'", "´": "'"})
_MINUSES = str.maketrans({"−": "-", "–": "-", "—": "-", "‒": "-", "‐": "-", "‑": "-"})
_NUMBER_CORE = re.compile(r"[0-9][0-9 .,']*[0-9]|[0-9]|[.,][0-9]+")
_WHOLE_UNITS = re.compile(r"^(?P<int>[0-9 .,']+?)[.,]-{1,2}$")  # German "12,-" / "12,--"
_GROUPED = re.compile(r"^[0-9]{1,3}(?:(?P<sep>[ .,'])[0-9]{3})(?:(?P=sep)[0-9]{3})*$")
_GROUPED_INDIAN = re.compile(r"^[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}$")


def _strip_affixes(text: str) -> tuple[str, int, int] | None:
    """Peel signs, parentheses, debit/credit markers and currencies off both ends.

    Returns the remaining core with the count of negative and positive markers seen, or None
    when something other than those stays around the number.
    """
    negative = positive = 0
    core = text.strip()
    while True:
        before = core
        if core.startswith("(") and core.endswith(")"):
            core, negative = core[1:-1].strip(), negative + 1
        if core[:1] in ("-", "+"):
            negative, positive = negative + (core[0] == "-"), positive + (core[0] == "+")
            core = core[1:].strip()
        if core[-1:] in ("-", "+") and not _WHOLE_UNITS.match(core):
            negative, positive = negative + (core[-1] == "-"), positive + (core[-1] == "+")
            core = core[:-1].strip()
        core = _strip_currency(core)
        match = re.search(r"(?<![A-Za-zÀ-ÿ])([A-Za-z]+)\.?$", core)
        if match and match.group(1).upper() in _NEGATIVE_SUFFIXES | _POSITIVE_SUFFIXES:
            marker = match.group(1).upper()
            negative += marker in _NEGATIVE_SUFFIXES
            positive += marker in _POSITIVE_SUFFIXES
            core = core[: match.start()].strip()
        if core == before:
            return (core, negative, positive) if core else None


def _strip_currency(core: str) -> str:
    """Remove currency symbols (Unicode category Sc), ISO codes and local abbreviations."""
    while core and unicodedata.category(core[0]) == "Sc":
        core = core[1:].strip()
    while core and unicodedata.category(core[-1]) == "Sc":
        core = core[:-1].strip()
    head = re.match(r"^([^\W\d_]{1,4})\.?\s*(?=[-+(0-9.,])", core)
    if head and _is_currency_word(head.group(1)):
        core = core[head.end() :].strip()
    tail = re.search(r"(?<=[0-9)\s.,+-])\s*([^\W\d_]{1,4})\.?$", core)
    if tail and _is_currency_word(tail.group(1)):
        core = core[: tail.start()].strip()
    return core


def _is_currency_word(word: str) -> bool:
    upper = word.upper()
    return (len(word) == 3 and word.isascii() and word.isupper()) or upper in _CURRENCY_WORDS


def _split_number(core: str, decimal_comma: bool | None) -> tuple[str, str] | None:
    """Split a digits-and-separators core into (integer digits, fraction digits)."""
    whole = _WHOLE_UNITS.match(core)
    if whole:
        core = whole.group("int").strip()
        if not core:
            return None
    marks = [(i, ch) for i, ch in enumerate(core) if ch in ".,"]
    decimal_at: int | None = None
    if marks:
        last_index, last_mark = marks[-1]
        if any(ch != last_mark for _, ch in marks):
            decimal_at = last_index  # both '.' and ',' present: the last one is the decimal mark
        elif len(marks) == 1:
            decimal_at = _single_mark_is_decimal(core, last_index, last_mark, decimal_comma)
    integer, fraction = (
        (core, "") if decimal_at is None else (core[:decimal_at], core[decimal_at + 1 :])
    )
    if not fraction.isdigit() and fraction:
        return None
    integer = integer.strip()
    if integer and not (integer.isdigit() or _valid_grouping(integer)):
        return None
    if not integer and not fraction:
        return None
    return integer, fraction


def _single_mark_is_decimal(
    core: str, index: int, mark: str, decimal_comma: bool | None
) -> int | None:
    """One lone '.' or ',': decimal mark or thousands separator?

    Only exactly three digits after it are ambiguous (``1,234``). The locale hint decides; without
    one, statements print money with two decimals, so three digits mean a thousands group --
    unless the part before could not be a group (``0,125`` or ``1234,567``).
    """
    after = core[index + 1 :]
    before = core[:index].replace(" ", "").replace("'", "")
    if len(after) != 3 or not after.isdigit():
        return index
    if before in {"", "0"} or len(before) > 3 or " " in core[:index] or "'" in core[:index]:
        return index
    if decimal_comma is not None:
        return index if (mark == ",") == decimal_comma else None
    return None


def _valid_grouping(integer: str) -> bool:
    return bool(_GROUPED.match(integer) or _GROUPED_INDIAN.match(integer))


def parse_amount(text: str, *, decimal_comma: bool | None = None) -> Decimal | None:
    """Parse a printed amount into a signed Decimal (money out negative), or None.

    Accepts ``1.234,56``, ``1 234,56`` (any space, NBSP included), ``1'234.56``, ``(12.00)``,
    ``12,00-``, ``-12.00``, ``+ 2.853,82``, ``12.00 CR``/``DR``, ``S``/``H`` (Soll/Haben) suffixes
    and currency symbols or codes on either side. ``decimal_comma`` is the locale hint for the
    ambiguous ``1,234``/``1.234``; without it a lone mark followed by three digits is a
    thousands separator.
    """
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).translate(_MINUSES)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return None
    peeled = _strip_affixes(text)
    if peeled is None:
        return None
    core, negative, positive = peeled
    if (
        (negative and positive)
        or negative > 1
        or not (_NUMBER_CORE.fullmatch(core) or _WHOLE_UNITS.match(core))
    ):
        return None
    parts = _split_number(core, decimal_comma)
    if parts is None:
        return None
    integer, fraction = parts
    digits = re.sub(r"[^0-9]", "", integer) or "0"
    try:
        value = Decimal(f"{digits}.{fraction}" if fraction else digits)
    except InvalidOperation:
        return None
    return -value if negative else value


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

# Full month names (and the genitive forms Russian dates use), by month number. A printed
# month token matches a month when it is a prefix (3+ letters) of one of its names and of no
# other month's: "okt", "janv", "févr", "марта", "mei", "Dez" all resolve; "jui" does not.
_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: (
        "january",
        "januar",
        "janvier",
        "januari",
        "janeiro",
        "enero",
        "gennaio",
        "январь",
        "января",
        "jänner",
    ),
    2: ("february", "februar", "fevrier", "februari", "febrero", "febbraio", "февраль", "февраля"),
    3: ("march", "marz", "maerz", "mars", "maart", "marzo", "март", "марта"),
    4: ("april", "avril", "abril", "aprile", "апрель", "апреля"),
    5: ("may", "mai", "mei", "mayo", "maggio", "май", "мая"),
    6: ("june", "juni", "juin", "junio", "giugno", "июнь", "июня"),
    7: ("july", "juli", "juillet", "julio", "luglio", "июль", "июля"),
    8: ("august", "aout", "augustus", "agosto", "август", "августа"),
    9: ("september", "septembre", "septiembre", "settembre", "сентябрь", "сентября"),
    10: ("october", "oktober", "octobre", "octubre", "ottobre", "октябрь", "октября"),
    11: ("november", "novembre", "noviembre", "ноябрь", "ноября"),
    12: ("december", "dezember", "decembre", "diciembre", "dicembre", "декабрь", "декабря"),
}
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$")
_NUMERIC = re.compile(r"^(\d{1,2})\s*([./-])\s*(\d{1,2})(?:\s*\2\s*(\d{2}|\d{4}))?\s*\.?$")
_DAY_MONTH_NAME = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th|er|e)?\.?[\s\-/]*([^\W\d_]{3,})\.?(?:[\s\-/,]*(\d{4}|\d{2}))?$"
)
_MONTH_NAME_DAY = re.compile(r"^([^\W\d_]{3,})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?$")
_YEAR_WORDS = re.compile(r"\s*(?:г\.?|года|год)$")


def _fold(text: str) -> str:
    """Casefold and drop diacritics, so 'Févr.' and 'fevr' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ё", "е")


_MONTHS_FOLDED = {m: tuple(_fold(n) for n in names) for m, names in _MONTH_NAMES.items()}


def month_from_name(token: str) -> int | None:
    """Month number for a month name or abbreviation in en/de/fr/nl/ru/es/it, or None."""
    word = _fold(token).rstrip(".")
    if len(word) < 3:
        return None
    found = {m for m, names in _MONTHS_FOLDED.items() if any(n.startswith(word) for n in names)}
    return found.pop() if len(found) == 1 else None


def _expand_year(year: int, period_start: dt.date | None, period_end: dt.date | None) -> int:
    """Two-digit year -> four digits: the century nearest the period, else 1970-2069."""
    if year >= 100:
        return year
    anchor = period_end or period_start
    if anchor is None:
        return 2000 + year if year < 70 else 1900 + year
    century = anchor.year - anchor.year % 100
    return min(
        (century - 100 + year, century + year, century + 100 + year),
        key=lambda y: abs(y - anchor.year),
    )


def _year_from_period(
    month: int, day: int, period_start: dt.date | None, period_end: dt.date | None
) -> dt.date | None:
    """A date printed without its year: choose the year that puts it inside the period.

    A period spanning New Year (15 Dec - 14 Jan) has two candidate years; the one that lands
    inside the period (or nearest to it) wins.
    """
    years = sorted({d.year for d in (period_start, period_end) if d is not None})
    if not years:
        return None
    if len(years) == 2 and years[1] - years[0] > 1:
        years = list(range(years[0], years[1] + 1))
    options = [d for y in years if (d := _safe_date(y, month, day)) is not None]
    if not options:
        return None
    low = period_start or period_end
    high = period_end or period_start
    assert low is not None and high is not None

    def distance(d: dt.date) -> int:
        return 0 if low <= d <= high else min(abs((d - low).days), abs((d - high).days))

    return min(options, key=distance)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _in_period(d: dt.date, period_start: dt.date | None, period_end: dt.date | None) -> bool:
    return (period_start is None or d >= period_start) and (period_end is None or d <= period_end)


def _numeric_date(
    first: int,
    second: int,
    separator: str,
    year_text: str | None,
    period_start: dt.date | None,
    period_end: dt.date | None,
    dayfirst: bool | None,
) -> dt.date | None:
    """D/M or M/D with an optional year. '.' always means day first (de, ru, nl ...)."""
    if separator == ".":
        dayfirst = True
    orders = [(first, second), (second, first)]  # (day, month) interpretations
    if dayfirst is False:
        orders.reverse()
    dates: list[dt.date] = []
    for day, month in orders:
        if year_text is None:
            found = _year_from_period(month, day, period_start, period_end)
        else:
            found = _safe_date(_expand_year(int(year_text), period_start, period_end), month, day)
        if found is not None:
            dates.append(found)
        if dayfirst is not None and dates:
            break  # the hint fixes the order; fall back only when it gives no valid date
    if not dates:
        return None
    in_period = [d for d in dates if _in_period(d, period_start, period_end)]
    return (in_period or dates)[0]


def parse_date(
    text: str,
    *,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    dayfirst: bool | None = None,
) -> dt.date | None:
    """Parse a printed date, or None.

    Handles ISO, ``DD.MM.YYYY``, ``DD/MM/YY``, ``MM/DD/YYYY`` (``dayfirst=False``, or when the
    day cannot be a month), ``DD.MM.`` without a year (the year comes from the statement
    period, spanning New Year included), and month names in English, German, French, Dutch,
    Russian, Spanish and Italian (``2 okt``, ``12 Jan 2024``, ``janv.``, ``12 марта 2024 г.``).
    Without a hint, ``/`` dates are read day first unless only month-first is valid or only
    month-first falls inside the period.
    """
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().rstrip(",")
    text = _YEAR_WORDS.sub("", text)
    if not text:
        return None
    if iso := _ISO.match(text):
        return _safe_date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    if numeric := _NUMERIC.match(text):
        first, separator, second, year_text = numeric.groups()
        return _numeric_date(
            int(first), int(second), separator, year_text, period_start, period_end, dayfirst
        )
    for pattern, day_group, month_group in ((_DAY_MONTH_NAME, 1, 2), (_MONTH_NAME_DAY, 2, 1)):
        named = pattern.match(text)
        if named is None:
            continue
        month = month_from_name(named.group(month_group))
        if month is None:
            return None
        day, year_text = int(named.group(day_group)), named.group(3)
        if year_text is None:
            return _year_from_period(month, day, period_start, period_end)
        return _safe_date(_expand_year(int(year_text), period_start, period_end), month, day)
    return None


# --------------------------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------------------------

_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def normalize_iban(text: str) -> str | None:
    """Spaces (and an 'IBAN' label) removed, upper-cased; None unless mod-97 (ISO 13616) holds."""
    compact = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text)).upper()
    compact = re.sub(r"^IBAN:?", "", compact)
    if not _IBAN_SHAPE.match(compact):
        return None
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return compact if int(digits) % 97 == 1 else None


def iban_is_valid(text: str) -> bool:
    return normalize_iban(text) is not None


# --------------------------------------------------------------------------------------------
# Descriptions
# --------------------------------------------------------------------------------------------


def normalize_description(text: str) -> str:
    """NFKC, casefolded, whitespace collapsed: the form descriptions are compared in."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def description_similarity(a: str, b: str) -> float:
    """Similarity of two descriptions in [0, 1] after normalisation (1.0 when both are empty).

    A character-level ratio, so an OCR slip ('0' for 'O') or a truncated line costs a little,
    not everything.
    """
    left, right = normalize_description(a), normalize_description(b)
    if left == right:
        return 1.0
    if not left or not right:
        return 0.0
    return SequenceMatcher(None, left, right, autojunk=False).ratio()


# Balance lines that readers often emit as rows. "Strong" phrases mark a balance line even with
# a few more words after them ("Balance brought forward from page 1"); "weak" ones are also
# ordinary words ("Übertrag auf Sparkonto" is a real transfer), so only filler may follow them.
_CARRIED_STRONG = (
    "balance brought forward",
    "brought forward",
    "balance carried forward",
    "carried forward",
    "balance forward",
    "opening balance",
    "closing balance",
    "previous balance",
    "saldo vorher",
    "saldo vortrag",
    "saldovortrag",
    "alter saldo",
    "neuer saldo",
    "anfangssaldo",
    "endsaldo",
    "solde reporte",
    "solde precedent",
    "ancien solde",
    "nouveau solde",
    "report a nouveau",
    "saldo vorige",
    "saldo van vorige pagina",
    "saldo naar volgende pagina",
    "a reporter",
    "vorig saldo",
    "nieuw saldo",
    "beginsaldo",
    "eindsaldo",
    "saldo anterior",
    "saldo precedente",
    "saldo iniziale",
    "saldo finale",
    "входящий остаток",
    "исходящий остаток",
    "остаток на начало",
    "остаток на конец",
)
_CARRIED_WEAK = ("ubertrag", "uebertrag", "vortrag", "report", "перенос", "b/f", "c/f")
_CARRIED_FILLER = frozenset(
    _fold(word)
    for word in [
        "a",
        "au",
        "aus",
        "auf",
        "de",
        "der",
        "des",
        "du",
        "from",
        "la",
        "le",
        "nouveau",
        "page",
        "pagina",
        "previous",
        "seite",
        "van",
        "vom",
        "von",
        "vorige",
        "vorherige",
        "vorheriger",
        "blad",
        "с",
        "со",
        "страницы",
        "страницу",
        "следующую",
        "предыдущей",
        "на",
    ]
)


@lru_cache(maxsize=8192)
def is_carried_forward(description: str) -> bool:
    """True for balance lines that are not transactions ("Übertrag", "Balance brought forward",
    "Saldo vorher", "Solde reporté", "Перенос", "Saldo vorige", ...)."""
    text = _fold(normalize_description(description))
    text = re.sub(r"[0-9]+", " ", text)
    text = " ".join(re.sub(r"[^\w/ ]", " ", text).split())
    for phrase in map(_fold, _CARRIED_STRONG):
        if text == phrase or text.startswith(phrase + " "):
            return len(text[len(phrase) :].split()) <= 5
    for phrase in map(_fold, _CARRIED_WEAK):
        if text == phrase or text.startswith(phrase + " "):
            return all(word in _CARRIED_FILLER for word in text[len(phrase) :].split())
    return False


# --------------------------------------------------------------------------------------------
# Whole statements
# --------------------------------------------------------------------------------------------

_COMPACT_FIELDS = frozenset({"account_number", "iban", "bic"})


def field_key(field: str, value: object) -> object:
    """The form a header value is compared in: identifiers without spaces or punctuation and
    upper-cased, other text normalised like descriptions, dates and money as they are."""
    if not isinstance(value, str):
        return value
    if field in _COMPACT_FIELDS:
        return re.sub(r"[\W_]", "", value).upper()
    return normalize_description(value)


def normalize_statement(statement: Statement) -> Statement:
    """A reader's statement in canonical form, ready to compare with another reader's.

    IBANs are compacted and kept only when mod-97 holds; BIC and currency upper-cased; text
    whitespace collapsed (case kept: it is what the output shows); carried-forward rows dropped.
    """
    iban = None if statement.iban is None else normalize_iban(statement.iban)
    header = {
        "bank_name": _clean_text(statement.bank_name),
        "account_holder": _clean_text(statement.account_holder),
        "account_number": _clean_text(statement.account_number),
        "iban": iban,
        "bic": None if statement.bic is None else re.sub(r"\s", "", statement.bic).upper() or None,
        "currency": None if statement.currency is None else statement.currency.strip().upper(),
    }
    rows = [
        row.model_copy(
            update={
                "description": " ".join(row.description.split()),
                "counterparty": _clean_text(row.counterparty),
                "reference": _clean_text(row.reference),
            }
        )
        for row in statement.transactions
        if not is_carried_forward(row.description)
    ]
    return statement.model_copy(update={**header, "transactions": rows})


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(unicodedata.normalize("NFKC", value).split()) or None
