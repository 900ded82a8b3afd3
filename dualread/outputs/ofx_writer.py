"""OFX 2.2 (XML) output, the format accounting packages import.

FITIDs are derived from the account, the row's content and position, so re-exporting the same
statement gives the same IDs and importers do not create duplicates. A file that holds several
accounts gives one statement response (``STMTTRNRS``) per account in one OFX document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from dualread.outputs.accounts import account_name
from dualread.statement import validate_output

_HEADER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
)


def _ofx_date(iso: str | None) -> str:
    return iso.replace("-", "") if iso else ""


def _fitid(account: str, index: int, row: dict[str, Any]) -> str:
    key = f"{account}|{index}|{row['date']}|{row['amount']}|{row['description']}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def render_ofx(documents: Sequence[dict[str, Any]]) -> str:
    """One file's output (the statement of each account it holds) as one OFX document."""
    validate_output(documents)
    ends = [_period(document)[1] for document in documents]
    lines = [
        _HEADER + "<OFX>",
        "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        f"<DTSERVER>{_ofx_date(max(ends))}</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS>"
        "</SIGNONMSGSRSV1>",
        "<BANKMSGSRSV1>",
    ]
    for number, document in enumerate(documents):
        lines += _statement_response(number, document)
    lines.append("</BANKMSGSRSV1></OFX>")
    return "\n".join(lines) + "\n"


def _period(document: dict[str, Any]) -> tuple[str, str]:
    """The statement's period, else the span of its rows' dates."""
    dates = sorted(r["date"] for r in document["transactions"])
    start = document.get("period_start") or (dates[0] if dates else "")
    end = document.get("period_end") or (dates[-1] if dates else "")
    return start, end


def _statement_response(number: int, document: dict[str, Any]) -> list[str]:
    account = account_name(document) or "UNKNOWN"
    start, end = _period(document)
    lines = [
        f"<STMTTRNRS><TRNUID>{number}</TRNUID>"
        "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><STMTRS>",
        f"<CURDEF>{escape(document.get('currency') or 'XXX')}</CURDEF>",
        f"<BANKACCTFROM><BANKID>{escape(document.get('bic') or '')}</BANKID>"
        f"<ACCTID>{escape(account)}</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>",
        f"<BANKTRANLIST><DTSTART>{_ofx_date(start)}</DTSTART><DTEND>{_ofx_date(end)}</DTEND>",
    ]
    for index, row in enumerate(document["transactions"]):
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
    lines.append("</STMTRS></STMTTRNRS>")
    return lines
