"""Free text as it is compared: descriptions normalised, their similarity, and balance lines
("Übertrag", "Balance brought forward") told apart from transactions."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from dualread.parsing.vocabulary import CARRIED_FILLER, CARRIED_STRONG, CARRIED_WEAK


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Casefold and drop diacritics, so 'Févr.' and 'fevr', 'Débits' and 'debits', 'Ё' and 'е'
    compare equal. NFKC first, so compatibility letters ('ℌ', fullwidth 'Ｂ') fold to lower case."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


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


_FILLER_FOLDED = frozenset(map(fold, CARRIED_FILLER))


@lru_cache(maxsize=8192)
def is_carried_forward(description: str) -> bool:
    """True for balance lines that are not transactions ("Übertrag", "Balance brought forward",
    "Saldo vorher", "Solde reporté", "Перенос", "Saldo vorige", ...)."""
    text = fold(normalize_description(description))
    text = re.sub(r"[0-9]+", " ", text)
    text = " ".join(re.sub(r"[^\w/ ]", " ", text).split())
    for phrase in map(fold, CARRIED_STRONG):
        if text == phrase or text.startswith(phrase + " "):
            return len(text[len(phrase) :].split()) <= 5
    for phrase in map(fold, CARRIED_WEAK):
        if text == phrase or text.startswith(phrase + " "):
            return all(word in _FILLER_FOLDED for word in text[len(phrase) :].split())
    return False
