"""IBANs: compact form and the ISO 13616 mod-97 check."""

from __future__ import annotations

import re
import unicodedata

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
