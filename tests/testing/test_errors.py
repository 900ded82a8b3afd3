from __future__ import annotations

import ast
import copy
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest

from dualread.statement import validate_document
from dualread.testing import errors
from dualread.testing.errors import HOSTILE, ROW_ERRORS, apply_errors, restrict_to_pages

pytestmark = pytest.mark.unit


def _statement(rows: int = 20) -> dict:  # type: ignore[type-arg]
    running = Decimal("1000.00")
    transactions = []
    for i in range(rows):
        amount = Decimal(-(i * 7 % 50) - 13) - Decimal("0.45") if i % 3 else Decimal("512.37")
        running += amount
        transactions.append(
            {
                "date": (dt.date(2024, 3, 1) + dt.timedelta(days=i // 5)).isoformat(),
                "value_date": None,
                "description": f"Booking number {i} at Shop {i}",
                "counterparty": None,
                "reference": None,
                "amount": str(amount),
                "balance": str(running),
                "page": 1 + i // 10,
            }
        )
    return {
        "bank_name": "Testbank",
        "account_holder": "Anna Example",
        "account_number": None,
        "iban": "DE89370400440532013000",
        "bic": None,
        "currency": "EUR",
        "period_start": "2024-03-01",
        "period_end": "2024-03-31",
        "opening_balance": "1000.00",
        "closing_balance": str(running),
        "transactions": transactions,
    }


def test_none_changes_nothing_and_the_input_is_never_mutated() -> None:
    original = _statement()
    kept = copy.deepcopy(original)
    assert apply_errors(original, "none", random.Random(1)) == original
    apply_errors(original, {"row_error_rate": 1.0}, random.Random(1))
    assert original == kept


@pytest.mark.parametrize("kind", ROW_ERRORS)
def test_each_named_profile_makes_exactly_one_schema_valid_error(kind: str) -> None:
    original = _statement()
    log: list[dict] = []  # type: ignore[type-arg]
    result = apply_errors(original, kind, random.Random(7), log=log)
    assert [entry["kind"] for entry in log] == [kind]
    assert result != original
    validate_document(result)
    changed = len(result["transactions"]) - len(original["transactions"])
    expected = {"drop_row": -1, "duplicate_row": 1, "merge_rows": -1}.get(kind, 0)
    assert changed == expected


@pytest.mark.parametrize("kind", HOSTILE)
def test_each_hostile_answer_is_schema_valid_and_the_same_whatever_the_seed(kind: str) -> None:
    """Readers that get a hostile profile agree on its nonsense: that is what it probes."""
    original = _statement()
    log: list[dict] = []  # type: ignore[type-arg]
    result = apply_errors(original, kind, random.Random(1), log=log)
    assert [entry["kind"] for entry in log] == [kind]
    assert result != original
    validate_document(result)
    assert apply_errors(original, {kind: 1}, random.Random(99)) == result


def test_hostile_answers_hold_what_no_statement_prints() -> None:
    def answer(kind: str) -> dict:  # type: ignore[type-arg]
        return apply_errors(_statement(), kind, random.Random(0))

    middle = len(_statement()["transactions"]) // 2
    assert answer("empty_answer")["transactions"] == []
    assert answer("empty_answer")["closing_balance"] is None
    assert len(answer("invent_rows")["transactions"]) == 20 + errors.INVENTED_ROWS
    assert answer("closing_cent")["closing_balance"] == "0.01"
    assert answer("excess_decimals")["transactions"][middle]["amount"].endswith("001")
    assert answer("negative_zero")["transactions"][middle]["amount"] == "-0.00"
    assert answer("forty_digits")["transactions"][middle]["amount"] == "1" * 40 + ".00"
    assert answer("date_decades_off")["transactions"][middle]["date"] == "1974-09-01"
    assert answer("bad_iban")["iban"] == "DE00370400440532013000"


def test_merge_sums_the_amounts_and_keeps_the_later_balance() -> None:
    original = _statement()
    log: list[dict] = []  # type: ignore[type-arg]
    result = apply_errors(original, "merge_rows", random.Random(3), log=log)
    i = log[0]["row"]
    first, second = original["transactions"][i], original["transactions"][i + 1]
    merged = result["transactions"][i]
    assert Decimal(merged["amount"]) == Decimal(first["amount"]) + Decimal(second["amount"])
    assert merged["balance"] == second["balance"]


def test_sign_flip_and_digit_swap_change_only_the_amount() -> None:
    original = _statement()
    for kind in ("sign_flip", "digit_swap"):
        log: list[dict] = []  # type: ignore[type-arg]
        result = apply_errors(original, kind, random.Random(5), log=log)
        i = log[0]["row"]
        before, after = original["transactions"][i], result["transactions"][i]
        assert {k for k in before if before[k] != after[k]} == {"amount"}
        if kind == "sign_flip":
            assert Decimal(after["amount"]) == -Decimal(before["amount"])
        else:
            assert sorted(after["amount"]) == sorted(before["amount"])  # same digits


def test_header_field_error_changes_one_header_field() -> None:
    original = _statement()
    result = apply_errors(original, "header_field", random.Random(2))
    changed = {k for k in original if k != "transactions" and original[k] != result[k]}
    assert len(changed) == 1
    assert result["transactions"] == original["transactions"]
    validate_document(result)


def test_the_same_seed_gives_the_same_errors() -> None:
    original = _statement(60)
    profile = {"row_error_rate": 0.2, "header_error_rate": 0.5}
    assert apply_errors(original, profile, random.Random(11)) == apply_errors(
        original, profile, random.Random(11)
    )


def test_rate_profile_errs_on_about_that_share_of_rows() -> None:
    original = _statement(200)
    counts = []
    for seed in range(20):
        log: list[dict] = []  # type: ignore[type-arg]
        apply_errors(original, {"row_error_rate": 0.05}, random.Random(seed), log=log)
        counts.append(len(log))
    assert 5 <= sum(counts) / len(counts) <= 15


def test_counts_and_weights_can_be_combined() -> None:
    log: list[dict] = []  # type: ignore[type-arg]
    apply_errors(
        _statement(),
        {"drop_row": 2, "row_error_rate": 1.0, "weights": {"sign_flip": 1}},
        random.Random(0),
        log=log,
    )
    kinds = [entry["kind"] for entry in log]
    assert kinds.count("drop_row") == 2
    assert kinds.count("sign_flip") == 20


def test_errors_can_target_pages() -> None:
    log: list[dict] = []  # type: ignore[type-arg]
    apply_errors(_statement(), {"row_error_rate": 1.0}, random.Random(0), pages=[2], log=log)
    assert log and {entry["page"] for entry in log} == {2}


def test_restrict_to_pages_keeps_those_rows_only() -> None:
    part = restrict_to_pages(_statement(), [2])
    assert {row["page"] for row in part["transactions"]} == {2}
    assert part["iban"] == "DE89370400440532013000"


def test_unknown_profiles_are_rejected_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="drop_row"):
        apply_errors(_statement(), "typo", random.Random(0))
    with pytest.raises(ValueError, match="rate"):
        apply_errors(_statement(), {"rate": 0.1}, random.Random(0))


def test_module_uses_only_the_standard_library() -> None:
    """It runs inside a minimal image next to a stand-in server: no dualread, no third party."""
    tree = ast.parse(Path(errors.__file__).read_text())
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    allowed = {"__future__", "copy", "datetime", "random", "collections", "decimal", "typing"}
    assert imported <= allowed, imported - allowed
