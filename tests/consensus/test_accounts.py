"""Several accounts in one file: each decided on its own, never agreed for an account a reader
did not read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dualread.consensus import decide, decide_accounts, worst_status
from dualread.stages.candidate import Candidate
from dualread.statement import Statement
from tests.consensus.factories import candidate, chained, statement

pytestmark = pytest.mark.unit

SAVINGS_OPENING = Decimal("5000.00")
CURRENT = statement(chained(["-10.00", "250.00", "-35.50"], pages=[1, 1, 2]))
SAVINGS = statement(
    chained(["100.00", "-20.00"], opening=SAVINGS_OPENING, pages=[3, 3]),
    iban="GB82WEST12345698765432",
    currency="USD",
    opening_balance=SAVINGS_OPENING,
    closing_balance=SAVINGS_OPENING + Decimal("80.00"),
)
PAGES = (1, 2, 3)


def _embedded(*accounts: Statement) -> Candidate:
    first, *others = accounts
    return Candidate("embedded", first, PAGES, other_accounts=tuple(others))


def test_one_account_everywhere_is_decide_itself() -> None:
    readings = [candidate("visual", CURRENT, (1, 2)), candidate("ocr", CURRENT, (1, 2))]
    decided = decide_accounts(readings)
    assert decided.accounts == (decide(readings),)
    assert decided.status == "agreed"


def test_embedded_alone_gives_each_account_its_own_checked_statement() -> None:
    decided = decide_accounts([_embedded(CURRENT, SAVINGS)], readers=1)
    assert [d.statement.currency for d in decided.accounts] == ["EUR", "USD"]
    assert [len(d.statement.transactions) for d in decided.accounts] == [3, 2]
    assert [d.status for d in decided.accounts] == ["single", "single"]
    assert decided.accounts[1].statement.closing_balance == Decimal("5080.00")


def test_a_model_reading_of_the_whole_file_is_cut_to_the_account_it_names() -> None:
    """A route that read both accounts as one statement (the first one's header, every row)
    reads the account it names, on that account's pages; the other account it did not read."""
    merged = CURRENT.model_copy(
        update={"transactions": [*CURRENT.transactions, *SAVINGS.transactions]}
    )
    readings = [candidate("visual", merged, PAGES), _embedded(CURRENT, SAVINGS)]
    decided = decide_accounts(readings, readers=2)
    first, second = decided.accounts
    assert first.status == "agreed" and first.statement == CURRENT
    assert [t.amount for t in second.statement.transactions] == [Decimal("100.00"), -20]
    assert second.status == "unresolved"
    assert [d.reason for d in second.disputes if d.field == "account"] == [
        "route visual read this file, but none of its reading could be placed on this "
        "account: nothing it read confirms this account"
    ]
    assert decided.status == "unresolved"


def test_an_account_one_of_three_routes_did_not_read_is_not_agreed() -> None:
    current_only = candidate("ocr", CURRENT, (1, 2))
    savings_only = candidate("visual", SAVINGS, (3,))
    decided = decide_accounts([savings_only, current_only, _embedded(CURRENT, SAVINGS)], readers=3)
    assert [d.status for d in decided.accounts] == ["unresolved", "unresolved"]
    unread = [[str(x.reason) for x in d.disputes if x.field == "account"] for d in decided.accounts]
    assert [[reason.split()[1] for reason in reasons] for reasons in unread] == [
        ["visual"],
        ["ocr"],
    ]
    assert [x.field for x in decided.accounts[0].disputes] == ["account"]  # the rest agreed


def test_an_account_no_model_route_read_is_unresolved_never_agreed() -> None:
    readings = [candidate("visual", CURRENT, (1, 2)), _embedded(CURRENT, SAVINGS)]
    first, second = decide_accounts(readings, readers=2).accounts
    assert first.status == "agreed"
    assert second.status == "unresolved"  # only the embedded engine read it


def test_a_model_reading_that_names_an_account_reads_that_one() -> None:
    """A reading over pages of both accounts (they share page 2) is placed by the IBAN it names
    and cut to that account's pages."""
    on_one_page = SAVINGS.model_copy(
        update={"transactions": [t.model_copy(update={"page": 2}) for t in SAVINGS.transactions]}
    )
    readings = [candidate("visual", on_one_page, PAGES), _embedded(CURRENT, on_one_page)]
    first, second = decide_accounts(readings, readers=2).accounts
    assert second.status == "agreed"
    assert first.status == "unresolved"


def test_a_file_is_as_sure_as_its_least_sure_account() -> None:
    assert worst_status(["agreed", "single", "resolved"]) == "single"
    assert worst_status(["agreed", "unverified"]) == "unverified"
    assert worst_status(["unverified", "unresolved", "agreed"]) == "unresolved"
