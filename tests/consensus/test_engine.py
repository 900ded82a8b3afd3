from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dualread.consensus import decide
from dualread.stages.candidate import PassParams
from dualread.statement import Statement, Transaction, validate_document
from tests.consensus.factories import candidate, chained, statement, with_rows

pytestmark = pytest.mark.unit

AMOUNTS = ["-10.00", "250.00", "-35.50", "-4.50", "-12.00", "-80.00"]
PAGES = [1, 1, 2, 2, 3, 3]
ALL = (1, 2, 3)


def _truth(*, balances: bool = True) -> Statement:
    return statement(chained(AMOUNTS, pages=PAGES, balances=balances))


def _changed(base: Statement, index: int, **update: object) -> Statement:
    rows = list(base.transactions)
    rows[index] = rows[index].model_copy(update=update)
    return with_rows(base, rows)


def _without(base: Statement, index: int) -> Statement:
    return with_rows(base, [t for i, t in enumerate(base.transactions) if i != index])


def _pair(a: Statement, b: Statement, pages: tuple[int, ...] = ALL):  # type: ignore[no-untyped-def]
    return [candidate("visual", a, pages), candidate("ocr", b, pages)]


def test_agreeing_routes_take_the_fast_path() -> None:
    truth = _truth()
    decision = decide(_pair(truth, truth))
    assert decision.status == "agreed"
    assert decision.disputes == []
    assert decision.statement == truth
    assert set(decision.field_confidence.values()) == {1.0}
    assert decision.row_confidence == [1.0] * len(AMOUNTS)
    assert decision.disputed_pages == frozenset()
    assert decision.arithmetic.ok is True


def test_dropped_row_is_restored_by_the_running_balance() -> None:
    truth = _truth()
    decision = decide(_pair(truth, _without(truth, 3)))
    assert decision.status == "resolved"
    assert decision.statement.transactions == truth.transactions
    assert decision.row_confidence[3] == pytest.approx(0.95)  # one vote, confirmed by the chain


def test_dropped_row_is_restored_by_the_totals_without_balances() -> None:
    truth = _truth(balances=False)
    decision = decide(_pair(_without(truth, 2), truth))
    assert decision.status == "resolved"
    assert decision.statement.transactions == truth.transactions


def test_duplicated_row_is_removed() -> None:
    truth = _truth()
    rows = list(truth.transactions)
    doubled = with_rows(truth, [*rows[:2], rows[1], *rows[2:]])
    decision = decide(_pair(doubled, truth))
    assert decision.status == "resolved"
    assert decision.statement.transactions == truth.transactions


def test_sign_flip_on_one_route_is_caught() -> None:
    truth = _truth()
    flipped = _changed(truth, 1, amount=Decimal("-250.00"))
    decision = decide(_pair(flipped, truth))
    assert decision.status == "resolved"
    assert decision.statement.transactions[1].amount == Decimal("250.00")
    assert decision.arithmetic.ok is True


def test_misread_balance_is_settled_by_the_chain() -> None:
    truth = _truth()
    decision = decide(_pair(truth, _changed(truth, 4, balance=Decimal("1881.00"))))
    assert decision.status == "resolved"
    assert decision.statement.transactions[4].balance == truth.transactions[4].balance


def test_merged_rows_lose_to_the_reading_whose_balances_confirm_both() -> None:
    truth = _truth()
    rows = list(truth.transactions)
    merged = rows[2].model_copy(
        update={"amount": rows[2].amount + rows[3].amount, "balance": rows[3].balance}
    )
    decision = decide(_pair(with_rows(truth, [*rows[:2], merged, *rows[4:]]), truth))
    assert decision.status == "resolved"
    assert decision.statement.transactions == truth.transactions


def test_merged_rows_without_balances_stay_disputed() -> None:
    truth = _truth(balances=False)
    rows = list(truth.transactions)
    merged = rows[2].model_copy(update={"amount": rows[2].amount + rows[3].amount})
    decision = decide(_pair(with_rows(truth, [*rows[:2], merged, *rows[4:]]), truth))
    assert decision.status == "unresolved"
    assert {d.field for d in decision.disputes} == {"amount", "row"}
    assert decision.disputed_pages == frozenset({2})
    [row_dispute] = [d for d in decision.disputes if d.field == "row"]
    said = {c["route"]: c["value"] for c in row_dispute.candidates}
    assert said["visual"] is None
    assert said["ocr"]["amount"] == "-4.50"


def test_both_routes_wrong_on_one_field_is_unresolved_and_listed() -> None:
    truth = _truth()
    a = truth.model_copy(update={"closing_balance": Decimal("1101.00")})
    b = truth.model_copy(update={"closing_balance": Decimal("1110.00")})
    decision = decide(_pair(a, b))
    assert decision.status == "unresolved"
    [dispute] = decision.disputes
    assert dispute.field == "closing_balance"
    assert dispute.page == 3
    assert [(c["route"], c["value"]) for c in dispute.candidates] == [
        ("visual", "1101.00"),
        ("ocr", "1110.00"),
    ]
    assert dispute.chosen is None
    assert decision.statement.closing_balance is None
    assert decision.field_confidence["closing_balance"] == 0.0
    assert decision.disputed_pages == frozenset({3})
    best = decide(_pair(a, b), on_dispute="best")
    assert best.statement.closing_balance == Decimal("1101.00")
    assert best.disputes[0].chosen == "1101.00"


def test_a_third_reading_settles_the_dispute_by_majority() -> None:
    truth = _truth()
    a = truth.model_copy(update={"closing_balance": Decimal("1101.00")})
    b = truth.model_copy(update={"closing_balance": Decimal("1110.00")})
    third = candidate("visual", with_rows(truth, truth.transactions[4:]), pages=(3,))
    decision = decide([*_pair(a, b), third])
    assert decision.status == "resolved"
    assert decision.statement.closing_balance == truth.closing_balance


def test_arithmetic_overrules_a_repeated_mistake() -> None:
    """Two passes of one model flip the same sign; the other route and the balances agree."""
    truth = _truth()
    flipped = _changed(truth, 1, amount=Decimal("-250.00"))
    again = candidate("visual", with_rows(truth, flipped.transactions[:2]), pages=(1,))
    decision = decide([*_pair(flipped, truth), again])
    assert decision.status == "resolved"
    assert decision.statement.transactions[1].amount == Decimal("250.00")
    assert decision.arithmetic.ok is True


def _unbalanced(base: Statement) -> Statement:
    """No printed balances and no closing balance: nothing the arithmetic could confirm."""
    rows = [t.model_copy(update={"balance": None}) for t in base.transactions]
    return with_rows(base, rows).model_copy(update={"closing_balance": None})


def test_repeated_passes_of_one_route_do_not_outvote_the_other_route() -> None:
    """Route A's mistake twice against route B, and no arithmetic to confirm either: open."""
    truth = _unbalanced(_truth())
    wrong = _changed(truth, 1, amount=Decimal("-250.00"))
    decision = decide([*_pair(wrong, truth), candidate("visual", wrong, ALL)])
    assert decision.status == "unresolved"
    [dispute] = decision.disputes
    assert (dispute.field, dispute.row) == ("amount", 1)
    assert [(c["route"], c["pass"], c["value"]) for c in dispute.candidates] == [
        ("visual", 1, "-250.00"),
        ("ocr", 1, "250.00"),
        ("visual", 2, "-250.00"),
    ]
    assert dispute.chosen == "-250.00"  # the best guess: more ballots; required, so kept
    assert decision.row_confidence[1] == 0.0
    # Route A gave its value twice: a third identical answer could not settle it.
    assert not dispute.reread_may_settle
    assert decision.disputed_pages == frozenset()


def test_repeated_passes_of_one_route_against_route_b_yield_to_the_arithmetic() -> None:
    """The same two-against-one, but opening + sum = closing confirms route B's value."""
    truth = _truth(balances=False)
    wrong = _changed(truth, 1, amount=Decimal("-250.00"))
    decision = decide([*_pair(wrong, truth), candidate("visual", wrong, ALL)])
    assert decision.status == "resolved"
    assert decision.statement.transactions[1].amount == Decimal("250.00")
    assert decision.arithmetic.totals_ok is True


def test_a_value_both_routes_read_wins_over_one_routes_other_pass() -> None:
    truth = _unbalanced(_truth())
    wrong = _changed(truth, 1, amount=Decimal("-250.00"))
    decision = decide([*_pair(truth, truth), candidate("visual", wrong, ALL)])
    assert decision.status == "resolved"
    assert decision.statement.transactions[1].amount == Decimal("250.00")
    decision = decide([*_pair(wrong, truth), candidate("visual", truth, ALL)])
    assert decision.status == "resolved"
    assert decision.statement.transactions[1].amount == Decimal("250.00")


def test_closing_balance_repeated_by_one_route_and_unconfirmed_stays_disputed() -> None:
    """Route A always reads one closing balance, route B another, and neither balances."""
    truth = _truth()
    a = truth.model_copy(update={"closing_balance": Decimal("1101.00")})
    b = truth.model_copy(update={"closing_balance": Decimal("1110.00")})
    again = candidate("visual", with_rows(a, a.transactions[4:]), pages=(3,))
    passes = [*_pair(a, b), again, again]
    decision = decide(passes)
    assert decision.status == "unresolved"
    [dispute] = decision.disputes
    assert dispute.field == "closing_balance"
    assert [(c["route"], c["pass"], c["value"]) for c in dispute.candidates] == [
        ("visual", 1, "1101.00"),
        ("ocr", 1, "1110.00"),
        ("visual", 2, "1101.00"),
        ("visual", 3, "1101.00"),
    ]
    assert decision.statement.closing_balance is None
    assert decision.arithmetic.totals_ok is None  # nothing unconfirmed is checked against
    assert decision.disputed_pages == frozenset()  # route A said 1101.00 three times
    best = decide(passes, on_dispute="best")
    assert best.status == "unresolved"
    assert best.statement.closing_balance == Decimal("1101.00")


def test_closing_balance_repeated_by_one_route_and_confirmed_is_resolved() -> None:
    truth = _truth()
    b = truth.model_copy(update={"closing_balance": Decimal("1110.00")})
    again = candidate("visual", with_rows(truth, truth.transactions[4:]), pages=(3,))
    decision = decide([*_pair(truth, b), again])
    assert decision.status == "resolved"
    assert decision.statement.closing_balance == truth.closing_balance
    assert decision.field_confidence["closing_balance"] == pytest.approx(0.95)


def test_a_row_dropped_twice_by_one_route_stays_disputed_without_arithmetic() -> None:
    truth = _unbalanced(_truth())
    dropped = _without(truth, 2)
    decision = decide([*_pair(dropped, truth), candidate("visual", dropped, ALL)])
    assert decision.status == "unresolved"
    [dispute] = decision.disputes
    assert (dispute.field, dispute.row) == ("row", 2)
    assert [c["value"] is None for c in dispute.candidates] == [True, False, True]
    assert decision.statement.transactions == truth.transactions  # required: the best guess
    assert not dispute.reread_may_settle  # route A left it out twice
    assert decision.disputed_pages == frozenset()


def test_a_row_dropped_twice_by_one_route_is_restored_by_the_totals() -> None:
    truth = _truth(balances=False)
    dropped = _without(truth, 2)
    decision = decide([*_pair(dropped, truth), candidate("visual", dropped, ALL)])
    assert decision.status == "resolved"
    assert decision.statement.transactions == truth.transactions


def test_a_description_repeated_by_one_route_against_the_other_is_a_soft_dispute() -> None:
    """The text is listed and its row's confidence lowered, but the numbers are settled: the
    document is resolved, and route A having read the page twice, no page is worth re-reading."""
    truth = _unbalanced(_truth())
    renamed = _changed(truth, 3, description="standing order landlord")
    decision = decide([*_pair(renamed, truth), candidate("visual", renamed, ALL)])
    assert decision.status == "resolved"
    [dispute] = decision.disputes
    assert (dispute.field, dispute.row, dispute.severity) == ("description", 3, "text")
    assert dispute.to_dict()["severity"] == "text"
    assert dispute.chosen == "standing order landlord"  # the best guess: two readings to one
    assert decision.statement.transactions[3].description == "standing order landlord"
    assert decision.row_confidence[3] == pytest.approx(0.5)  # amount unanimous, text halved
    assert decision.row_confidence[2] == 1.0
    assert decision.disputed_pages == frozenset()


def test_a_text_dispute_alone_is_worth_no_pass() -> None:
    truth = _unbalanced(_truth())
    renamed = _changed(truth, 3, description="standing order landlord")
    decision = decide(_pair(renamed, truth))
    assert decision.status == "resolved"
    [dispute] = decision.disputes
    assert dispute.severity == "text" and dispute.reread_may_settle  # once read by route A
    assert decision.disputed_pages == frozenset()  # but no value is in doubt


def test_a_value_dispute_makes_the_document_unresolved_beside_a_text_dispute() -> None:
    truth = _unbalanced(_truth())
    a = _changed(
        _changed(truth, 3, description="standing order landlord"), 5, amount=Decimal("-8.00")
    )
    decision = decide(_pair(a, truth))
    assert decision.status == "unresolved"
    assert [(d.field, d.severity) for d in decision.disputes] == [
        ("description", "text"),
        ("amount", "value"),
    ]
    assert decision.row_confidence[3] == pytest.approx(0.5)
    assert decision.row_confidence[5] == 0.0
    assert decision.disputed_pages == frozenset({2, 3})


def test_a_header_number_or_identifier_is_a_value_dispute() -> None:
    truth = _truth()
    a = truth.model_copy(update={"account_number": "12345678"})
    b = truth.model_copy(update={"account_number": "12845678"})
    decision = decide(_pair(a, b))
    assert decision.status == "unresolved"
    assert [(d.field, d.severity) for d in decision.disputes] == [("account_number", "value")]


@pytest.mark.parametrize("field", ["bank_name", "account_holder"])
def test_a_name_in_the_header_is_a_text_dispute_left_empty(field: str) -> None:
    """The numbers agree and balance: a disputed name is flagged and left out (null by
    default), not a reason to send the whole statement back."""
    truth = _truth()
    a = truth.model_copy(update={field: "Erika Mustermann"})
    b = truth.model_copy(update={field: None})
    decision = decide(_pair(a, b))
    assert decision.status == "resolved"
    assert [(d.field, d.severity) for d in decision.disputes] == [(field, "text")]
    assert getattr(decision.statement, field) is None
    assert decision.field_confidence[field] == 0.0
    best = decide(_pair(a, b), on_dispute="best")
    assert (best.status, getattr(best.statement, field)) == ("resolved", "Erika Mustermann")


def test_route_a_passes_that_differ_keep_the_page_open() -> None:
    """Route A has not repeated itself: another pass may side with route B, or with itself."""
    truth = _unbalanced(_truth())
    a = _changed(truth, 1, amount=Decimal("-250.00"))
    again = _changed(truth, 1, amount=Decimal("205.00"))
    decision = decide([*_pair(a, truth), candidate("visual", again, (1,))])
    assert decision.status == "unresolved"
    [dispute] = decision.disputes
    assert dispute.reread_may_settle
    assert decision.disputed_pages == frozenset({1})


def test_a_value_repeated_by_route_a_is_futile_even_after_a_different_answer() -> None:
    truth = _unbalanced(_truth())
    wrong = _changed(truth, 1, amount=Decimal("-250.00"))
    other = _changed(truth, 1, amount=Decimal("205.00"))
    passes = [
        *_pair(wrong, truth),
        candidate("visual", other, (1,)),
        candidate("visual", wrong, (1,)),
    ]
    decision = decide(passes)
    assert decision.status == "unresolved"
    assert decision.disputed_pages == frozenset()


def test_only_pages_another_pass_could_settle_are_reread() -> None:
    """Page 1: route A repeated its amount against route B (futile), with a text dispute route A
    has read twice. Page 3: route B's amount against route A's only reading (open)."""
    truth = _unbalanced(_truth())
    a = _changed(truth, 1, amount=Decimal("-250.00"), description="salary")
    b = _changed(truth, 5, amount=Decimal("-8.00"))
    page_one = candidate("visual", with_rows(a, a.transactions[:2]), (1,))
    decision = decide([*_pair(a, b), page_one])
    assert decision.status == "unresolved"
    futile = {(d.field, d.row, d.severity) for d in decision.disputes if not d.reread_may_settle}
    assert futile == {("amount", 1, "value"), ("description", 1, "text")}
    assert decision.disputed_pages == frozenset({3})


def test_a_text_dispute_rides_along_with_a_value_dispute_but_runs_no_pass_alone() -> None:
    truth = _unbalanced(_truth())
    a = _changed(_changed(truth, 1, description="salary"), 5, amount=Decimal("-8.00"))
    decision = decide(_pair(a, truth))
    assert decision.disputed_pages == frozenset({1, 3})  # page 1 for its text, read once
    # Route A repeats its amount on page 3: futile; page 1's text alone is worth no pass.
    repeated = candidate("visual", with_rows(a, a.transactions[4:]), (3,))
    decision = decide([*_pair(a, truth), repeated])
    assert decision.status == "unresolved"
    assert [d.reread_may_settle for d in decision.disputes] == [True, False]
    assert decision.disputed_pages == frozenset()
    # Route A reads page 3 as route B did: settled; the text stays a soft dispute.
    corrected = candidate("visual", with_rows(truth, truth.transactions[4:]), (3,))
    decision = decide([*_pair(a, truth), corrected])
    assert decision.status == "resolved"
    assert [(d.field, d.severity) for d in decision.disputes] == [("description", "text")]
    assert decision.disputed_pages == frozenset()


def _merge(base: Statement, index: int, *, amount: str | None = None) -> Statement:
    """Rows ``index`` and ``index + 1`` read as one, as a model merges them: amounts summed (or
    ``amount``), texts joined, the second row's balance."""
    rows = list(base.transactions)
    first, second = rows[index], rows.pop(index + 1)
    rows[index] = first.model_copy(
        update={
            "amount": Decimal(amount) if amount else first.amount + second.amount,
            "description": f"{first.description} {second.description}",
            "balance": second.balance,
        }
    )
    return with_rows(base, rows)


@pytest.mark.parametrize("merged_by", ["ocr", "visual"])
def test_split_rows_keep_their_own_text_against_a_merged_reading(merged_by: str) -> None:
    """The balances split route B's (or A's) merged row in two; its joined text keeps no dispute
    open, and each row keeps the other route's own description."""
    truth = _truth()
    merged = _merge(truth, 2)
    a, b = (truth, merged) if merged_by == "ocr" else (merged, truth)
    decision = decide(_pair(a, b))
    assert decision.status == "resolved"
    assert decision.disputes == []
    assert decision.statement.transactions == truth.transactions


def test_a_merged_row_with_a_spoilt_sum_is_known_by_its_joined_text() -> None:
    truth = _truth()
    merged = _merge(truth, 2, amount="31.00")  # a sign misread besides the merge
    decision = decide(_pair(truth, merged))
    assert decision.disputes == []
    assert [t.description for t in decision.statement.transactions] == [
        t.description for t in truth.transactions
    ]


def test_the_text_of_unsplit_merged_rows_follows_the_rows_the_result_holds() -> None:
    """Nothing confirms the split (no balances): the amounts stay value disputes, and the text
    kept is route A's own, fitting the two rows the best guess holds."""
    truth = _truth(balances=False)
    decision = decide(_pair(truth, _merge(truth, 2)))
    assert decision.status == "unresolved"
    assert {d.field for d in decision.disputes} == {"amount", "row"}
    assert decision.statement.transactions == truth.transactions


def test_a_cut_text_yields_to_the_reading_that_continues_it() -> None:
    """Two routes, one lost the tail of a wrapped description: the fuller one is the best guess,
    and the dispute stays listed."""
    truth = _truth()
    cut = _changed(truth, 2, description="booking")
    decision = decide(_pair(cut, truth))
    assert decision.status == "resolved"
    [dispute] = decision.disputes
    assert (dispute.field, dispute.severity, dispute.chosen) == (
        "description",
        "text",
        "booking 3 shop2",
    )
    assert decision.statement.transactions[2].description == "booking 3 shop2"


def test_a_row_both_routes_dropped_is_restored_and_then_the_other_ties_settle() -> None:
    """Both first readings lose row 2 (two routes agree: a majority), only an extra pass has
    it; route B also misreads row 4. The arithmetic overrules the shared drop, and only then,
    with every other equation holding, can it settle row 4's tie."""
    truth = _truth()
    a = _without(truth, 2)
    b = _without(_changed(truth, 4, amount=Decimal("-21.00")), 2)
    page_two = candidate("visual", with_rows(truth, truth.transactions[2:4]), pages=(2,))
    decision = decide([*_pair(a, b), page_two])
    assert decision.status == "resolved"
    assert decision.statement.transactions == truth.transactions
    assert decision.arithmetic.ok is True


def test_the_embedded_engine_agreeing_with_route_b_outweighs_route_a_passes() -> None:
    """Route B and the embedded engine are two independent routes; route A's passes are one."""
    truth = _unbalanced(_truth())
    wrong = _changed(truth, 1, amount=Decimal("-250.00"))
    passes = [
        *_pair(wrong, truth),
        candidate("embedded", truth, ALL),
        candidate("visual", wrong, ALL),
    ]
    decision = decide(passes)
    assert decision.status == "resolved"
    assert decision.statement.transactions[1].amount == Decimal("250.00")
    assert decision.row_confidence[1] == pytest.approx(0.5)  # two of four ballots


def test_the_embedded_engine_against_both_routes_is_outvoted() -> None:
    truth = _unbalanced(_truth())
    wrong = _changed(truth, 1, amount=Decimal("-250.00"))
    decision = decide([*_pair(truth, truth), candidate("embedded", wrong, ALL)])
    assert decision.status == "resolved"
    assert decision.statement.transactions[1].amount == Decimal("250.00")


def test_a_closing_balance_only_the_embedded_engine_and_route_b_share_wins() -> None:
    truth = _truth()
    a = truth.model_copy(update={"closing_balance": Decimal("1101.00")})
    b = truth.model_copy(update={"closing_balance": Decimal("1110.00")})
    again = candidate("visual", with_rows(a, a.transactions[4:]), pages=(3,))
    decision = decide([*_pair(a, b), candidate("embedded", b, ALL), again])
    # Two routes read 1110.00 and it is kept, but the arithmetic does not hold: a result that
    # fails its own arithmetic is never resolved (issue 16), whoever agreed on it.
    assert decision.status == "unresolved"
    assert [d.reason for d in decision.disputes] == ["the statement's arithmetic does not hold"]
    assert decision.statement.closing_balance == Decimal("1110.00")
    assert decision.arithmetic.totals_ok is False
    assert decision.field_confidence["closing_balance"] == pytest.approx(0.5)


def test_disputed_row_keeps_its_best_guess_with_zero_confidence() -> None:
    truth = _truth(balances=False).model_copy(update={"closing_balance": None})
    a = _changed(truth, 2, amount=Decimal("-53.50"))  # nothing can check it
    decision = decide(_pair(a, truth))
    assert decision.status == "unresolved"
    [dispute] = decision.disputes
    assert (dispute.field, dispute.row, dispute.page) == ("amount", 2, 2)
    assert dispute.chosen == "-53.50"
    assert decision.statement.transactions[2].amount == Decimal("-53.50")  # required: kept
    assert decision.row_confidence[2] == 0.0


def test_disputed_balance_becomes_null_under_the_null_policy() -> None:
    truth = _truth().model_copy(update={"opening_balance": None, "closing_balance": None})
    rows = [t.model_copy(update={"balance": None}) for t in truth.transactions]
    rows[5] = truth.transactions[5]  # only the last row prints a balance: nothing to chain
    a = with_rows(truth, rows)
    b = _changed(a, 5, balance=Decimal("7.00"))
    assert decide(_pair(a, b)).statement.transactions[5].balance is None
    assert decide(_pair(a, b), on_dispute="best").statement.transactions[5].balance == (
        truth.transactions[5].balance
    )


def test_partial_pass_votes_only_on_its_pages() -> None:
    truth = _truth()
    a = _changed(truth, 5, date=dt.date(2024, 3, 9))  # a misread date that stays in order
    b = truth
    first = decide(_pair(a, b))
    assert first.status == "unresolved"
    assert first.disputed_pages == frozenset({3})
    page_three = with_rows(truth, truth.transactions[4:])
    passes = [*_pair(a, b), candidate("visual", page_three, pages=(3,))]
    decision = decide(passes)
    assert decision.status == "resolved"
    assert decision.statement.transactions == truth.transactions
    # It had no rows on pages 1 and 2, and that did not count as "no such rows".
    assert decision.row_confidence[0] == 1.0


def test_date_misread_out_of_order_is_settled_by_date_order() -> None:
    truth = _truth()
    a = _changed(truth, 2, date=dt.date(2024, 3, 30))
    decision = decide(_pair(a, truth))
    assert decision.status == "resolved"
    assert decision.statement.transactions[2].date == truth.transactions[2].date


def test_invalid_iban_abstains_instead_of_voting_null() -> None:
    truth = _truth()
    misread = truth.model_copy(update={"iban": "DE89370400440532013001"})
    decision = decide(_pair(misread, truth))
    assert decision.statement.iban == "DE89370400440532013000"
    assert decision.status == "resolved"


def test_reverse_chronological_statement() -> None:
    truth = _truth()
    newest_first = with_rows(truth, truth.transactions[::-1])
    decision = decide(_pair(newest_first, _without(newest_first, 2)))
    assert decision.status == "resolved"
    assert decision.arithmetic.order == "reverse"
    assert decision.statement.transactions == newest_first.transactions


def test_carried_forward_rows_are_dropped_before_voting() -> None:
    truth = _truth()
    carried = Transaction(date=dt.date(2024, 3, 3), amount=Decimal(0), description="Übertrag")
    rows = list(truth.transactions)
    decision = decide(_pair(with_rows(truth, [*rows[:2], carried, *rows[2:]]), truth))
    assert decision.status == "agreed"
    assert decision.statement.transactions == truth.transactions


def test_a_single_candidate_is_reported_as_single() -> None:
    decision = decide([candidate("visual", _truth(), ALL)])
    assert decision.status == "single"
    assert decision.field_confidence["iban"] == 0.5


def test_disputes_name_each_pass_and_how_it_asked() -> None:
    truth = _truth()
    a = truth.model_copy(update={"bank_name": "Bank A"})
    b = truth.model_copy(update={"bank_name": "Bank B"})
    c = truth.model_copy(update={"bank_name": "Bank C"})
    passes = [*_pair(a, b), candidate("visual", c, ALL)]
    passes[2].params = PassParams(temperature=0.4, seed=7, dpi=300)
    [dispute] = decide(passes).disputes
    assert [(c["route"], c["pass"], c["value"]) for c in dispute.candidates] == [
        ("visual", 1, "Bank A"),
        ("ocr", 1, "Bank B"),
        ("visual", 2, "Bank C"),
    ]
    assert dispute.candidates[2]["temperature"] == 0.4
    assert dispute.candidates[2]["dpi"] == 300


def test_to_dict_fits_the_schema_extraction_block() -> None:
    truth = _truth()
    decision = decide(_pair(truth.model_copy(update={"period_start": None}), truth))
    document = decision.statement.to_json_dict()
    document["extraction"] = {"source": "s.pdf", "engine": "vlm", **decision.to_dict()}
    validate_document(document)
    assert document["extraction"]["disputes"][0]["field"] == "period_start"
    assert document["extraction"]["disputes"][0]["severity"] == "value"


def test_no_reading_at_all_is_an_empty_unresolved_result_saying_so() -> None:
    decision = decide([])
    assert decision.status == "unresolved"
    assert decision.statement.transactions == []
    assert [d.reason for d in decision.disputes] == [
        "no reader read a statement here (a blank page, or no statement): see failures"
    ]
    assert not decision.disputed_pages  # nothing a re-read of route A could settle
    document = decision.statement.to_json_dict()
    document["extraction"] = {"source": "s.pdf", "engine": "embedded", **decision.to_dict()}
    validate_document(document)


def test_a_closing_one_reading_missed_is_confirmed_by_the_last_running_balance() -> None:
    """Route B did not see the closing balance; route A's, twice, equals the last running
    balance both routes read: the arithmetic confirms it."""
    rows = chained(["-10.00", "25.00", "-5.00"])
    seen = statement(rows, opening_balance=None)
    missed = seen.model_copy(update={"closing_balance": None})
    decision = decide(
        [candidate("visual", seen), candidate("ocr", missed), candidate("visual", seen)]
    )
    assert decision.status == "resolved"
    assert decision.statement.closing_balance == rows[-1].balance
    assert decision.disputes == []
