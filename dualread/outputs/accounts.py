"""How the writers name the account a statement belongs to.

A file that holds several accounts gives one statement per account (schema revision 1.2); the
CSV rows and OFX statements of each must say which account they are. The IBAN names it, else
the account number; a statement that prints neither is named by its position in the file
(``#2``) when there are several, so two accounts never share a name.
"""

from __future__ import annotations

from typing import Any


def account_name(document: dict[str, Any]) -> str | None:
    """The account's IBAN, account number or position in the file; None for a file's only
    account that prints no identifier."""
    named = document.get("iban") or document.get("account_number")
    if named:
        return str(named)
    position = document.get("extraction", {}).get("account")
    return f"#{position['index']}" if position else None
