"""Small builders for statements and candidates, so each test states only what it is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from dualread.stages.candidate import Candidate
from dualread.statement import Statement, Transaction

OPENING = Decimal("1000.00")


def row(
    day: int,
    amount: str,
    balance: str | None = None,
    description: str = "",
    *,
    page: int = 1,
    month: int = 3,
) -> Transaction:
    return Transaction(
        date=dt.date(2024, month, day),
        amount=Decimal(amount),
        balance=None if balance is None else Decimal(balance),
        description=description,
        page=page,
    )


def chained(
    amounts: Sequence[str],
    *,
    opening: Decimal = OPENING,
    pages: Sequence[int] | None = None,
    balances: bool = True,
) -> list[Transaction]:
    """Rows on consecutive days whose balances follow from ``opening`` (one description each)."""
    rows = []
    running = opening
    for i, amount in enumerate(amounts):
        running += Decimal(amount)
        rows.append(
            row(
                i + 1,
                amount,
                str(running) if balances else None,
                f"booking {i + 1} shop{i}",
                page=pages[i] if pages else 1,
            )
        )
    return rows


def statement(rows: Sequence[Transaction], **header: object) -> Statement:
    """A statement around ``rows`` whose opening and closing balances fit them."""
    closing = OPENING + sum((r.amount for r in rows), Decimal(0))
    values: dict[str, object] = {
        "bank_name": "Testbank",
        "iban": "DE89370400440532013000",
        "currency": "EUR",
        "period_start": dt.date(2024, 3, 1),
        "period_end": dt.date(2024, 3, 31),
        "opening_balance": OPENING,
        "closing_balance": closing,
    }
    values.update(header)
    return Statement(**values, transactions=list(rows))


def candidate(route: str, content: Statement, pages: Sequence[int] = (1,)) -> Candidate:
    return Candidate(route=route, statement=content, pages=tuple(pages))


def with_rows(base: Statement, rows: Sequence[Transaction]) -> Statement:
    return base.model_copy(update={"transactions": list(rows)})
