"""Printed amounts into signed Decimals: every way statements write money."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from dualread.parsing.vocabulary import CREDIT_MARKERS, CURRENCY_WORDS, DEBIT_MARKERS

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
        if match and match.group(1).upper() in DEBIT_MARKERS | CREDIT_MARKERS:
            marker = match.group(1).upper()
            negative += marker in DEBIT_MARKERS
            positive += marker in CREDIT_MARKERS
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
    return (len(word) == 3 and word.isascii() and word.isupper()) or upper in CURRENCY_WORDS


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
