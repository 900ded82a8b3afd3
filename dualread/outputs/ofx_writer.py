"""OFX 2.2 (XML) output, the format accounting packages import.

FITIDs are derived from the row's content and position, so re-exporting the same statement gives
the same IDs and importers do not create duplicates.
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.sax.saxutils import escape

from dualread.statement import validate_document

_HEADER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
)


def _ofx_date(iso: str | None) -> str:
    return iso.replace("-", "") if iso else ""


def _fitid(account: str, index: int, row: dict[str, Any]) -> str:
    key = f"{account}|{index}|{row['date']}|{row['amount']}|{row['description']}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def render_ofx(document: dict[str, Any]) -> str:
    validate_document(document)
    account = document.get("iban") or document.get("account_number") or "UNKNOWN"
    rows = document["transactions"]
    dates = sorted(r["date"] for r in rows)
    start = document.get("period_start") or (dates[0] if dates else "")
    end = document.get("period_end") or (dates[-1] if dates else "")
    lines = [
        _HEADER + "<OFX>",
        "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        f"<DTSERVER>{_ofx_date(end)}</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>",
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>0</TRNUID>"
        "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><STMTRS>",
        f"<CURDEF>{escape(document.get('currency') or 'XXX')}</CURDEF>",
        f"<BANKACCTFROM><BANKID>{escape(document.get('bic') or '')}</BANKID>"
        f"<ACCTID>{escape(account)}</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>",
        f"<BANKTRANLIST><DTSTART>{_ofx_date(start)}</DTSTART><DTEND>{_ofx_date(end)}</DTEND>",
    ]
    for index, row in enumerate(rows):
        kind = "DEBIT" if row["amount"].startswith("-") else "CREDIT"
        memo = f"<MEMO>{escape(row['reference'])}</MEMO>" if row.get("reference") else ""
        name = row.get("counterparty") or row["description"]
        lines.append(
            f"<STMTTRN><TRNTYPE>{kind}</TRNTYPE><DTPOSTED>{_ofx_date(row['date'])}</DTPOSTED>"
            f"<TRNAMT>{row['amount']}</TRNAMT><FITID>{_fitid(account, index, row)}</FITID>"
            f"<NAME>{escape(name[:32])}</NAME>{memo}</STMTTRN>"
        )
    lines.append("</BANKTRANLIST>")
    if document.get("closing_balance") is not None:
        lines.append(
            f"<LEDGERBAL><BALAMT>{document['closing_balance']}</BALAMT>"
            f"<DTASOF>{_ofx_date(end)}</DTASOF></LEDGERBAL>"
        )
    lines.append("</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>")
    return "\n".join(lines) + "\n"
