"""What statements print, parsed into values: amounts, dates, IBANs and text.

Shared knowledge of every reader and of consensus: the embedded engine parses the page with it,
consensus compares readings with it, the arithmetic skips balance lines with it. It imports
nothing else of dualread, so any layer may use it. Each parser returns ``None`` rather than
guessing when the text is not what it is asked to parse.
"""

from dualread.parsing.amounts import parse_amount
from dualread.parsing.dates import month_from_name, parse_date, year_in_period
from dualread.parsing.iban import iban_is_valid, normalize_iban
from dualread.parsing.text import (
    description_similarity,
    fold,
    is_carried_forward,
    normalize_description,
)

__all__ = [
    "description_similarity",
    "fold",
    "iban_is_valid",
    "is_carried_forward",
    "month_from_name",
    "normalize_description",
    "normalize_iban",
    "parse_amount",
    "parse_date",
    "year_in_period",
]
