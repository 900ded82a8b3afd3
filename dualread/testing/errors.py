"""Seeded, model-like reading errors on schema-shaped statement dicts.

Stand-in model servers and the consensus benchmark use these to make a perfect reading look like
a real model's: rows dropped, duplicated or merged, digits transposed, signs flipped, a header
field misread. Every error is drawn from the caller's ``random.Random``, so a seed reproduces it.

Standard library only, and no ``dualread`` imports: this module also runs inside a minimal
Docker image next to a stand-in server.

Profiles:

- a name: exactly one error of that kind, e.g. ``"drop_row"``, ``"sign_flip"``,
  ``"header_field"``; ``"none"`` changes nothing;
- a dict of counts, e.g. ``{"drop_row": 1, "digit_swap": 2}``;
- a rate, e.g. ``{"row_error_rate": 0.05}``: every row independently gets one error with that
  probability, the kind drawn from ``"weights"`` (default :data:`DEFAULT_WEIGHTS`); an optional
  ``"header_error_rate"`` is the chance of one header-field error;
- a hostile answer (:data:`HOSTILE`), e.g. ``"closing_cent"``: not a misreading but nonsense
  no statement prints, the same in every answer it touches, so readers that get it agree on
  it (what issue 16's decision-safety probes need). They can be named alone or as keys of a dict
  (``{"bad_iban": 1, "digit_swap": 1}``).

A server failing on every page (HTTP 5xx, or no answer before the client's timeout) is a
transport fault, not an answer: ``http500=N`` and ``slow=S`` in
:mod:`dualread.testing.standins.faults`.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

Row = dict[str, Any]
Statement = dict[str, Any]

ROW_ERRORS = (
    "drop_row",
    "duplicate_row",
    "merge_rows",
    "digit_swap",
    "sign_flip",
    "date_digit",
    "balance_digit",
    "description_typo",
)
HEADER_ERROR = "header_field"
HOSTILE = (
    "empty_answer",
    "invent_rows",
    "closing_cent",
    "excess_decimals",
    "negative_zero",
    "forty_digits",
    "date_decades_off",
    "bad_iban",
)
KINDS = (*ROW_ERRORS, HEADER_ERROR, *HOSTILE)

INVENTED_ROWS = 150
"""Rows ``invent_rows`` adds to a page: with the page's own, more than a printed page holds (150,
:mod:`dualread.consensus.plausibility`). Not 10,000: an answer that long cannot come back
through any server, which cuts it at the request's token limit."""

DEFAULT_WEIGHTS: dict[str, float] = {
    "drop_row": 2,
    "duplicate_row": 1,
    "merge_rows": 1,
    "digit_swap": 3,
    "sign_flip": 2,
    "date_digit": 1,
    "balance_digit": 1,
    "description_typo": 1,
}
"""How often each kind appears under a rate profile: misread digits and lost rows dominate what
vision-language models get wrong in tables."""


def _swap_digits(text: str, rng: random.Random) -> str:
    """Transpose two adjacent different digits (a classic misreading); when none differ, misread
    one digit instead. The result always differs from the input."""
    positions = [
        i
        for i in range(len(text) - 1)
        if text[i].isdigit() and text[i + 1].isdigit() and text[i] != text[i + 1]
    ]
    if positions:
        i = rng.choice(positions)
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    i = rng.choice(digits)
    replacement = rng.choice([d for d in "0123456789" if d != text[i]])
    return text[:i] + replacement + text[i + 1 :]


def _flip_sign(amount: str) -> str:
    return amount[1:] if amount.startswith("-") else "-" + amount


def _shift_date(text: str, rng: random.Random) -> str:
    """A misread day: moved by 1 to 9 days (staying a valid date), as a '3' read for an '8' does."""
    day = dt.date.fromisoformat(text)
    return (day + dt.timedelta(days=rng.choice([-9, -3, -1, 1, 3, 9]))).isoformat()


def _typo(text: str, rng: random.Random) -> str:
    """A truncated or garbled description: the reader lost the tail or misread a letter."""
    if len(text) > 12 and rng.random() < 0.5:
        return text[: len(text) // 2]
    if not text:
        return "?"
    i = rng.randrange(len(text))
    return text[:i] + rng.choice("0OIl1#") + text[i + 1 :]


def _drop(rows: list[Row], i: int, rng: random.Random) -> str:
    del rows[i]
    return "row removed"


def _duplicate(rows: list[Row], i: int, rng: random.Random) -> str:
    rows.insert(i + 1, copy.deepcopy(rows[i]))
    return "row repeated"


def _merge(rows: list[Row], i: int, rng: random.Random) -> str:
    """Two neighbouring rows read as one: the amounts summed, descriptions joined, the second
    row's balance kept (it is the balance printed last)."""
    if i + 1 >= len(rows):
        i -= 1
    if i < 0:
        return _typo_row(rows, 0, rng)
    first, second = rows[i], rows.pop(i + 1)
    first["amount"] = str(Decimal(first["amount"]) + Decimal(second["amount"]))
    first["description"] = f"{first['description']} {second['description']}".strip()
    first["balance"] = second.get("balance")
    return f"merged with the next row ({second['amount']})"


def _digit_swap(rows: list[Row], i: int, rng: random.Random) -> str:
    rows[i]["amount"] = _swap_digits(rows[i]["amount"], rng)
    return f"amount now {rows[i]['amount']}"


def _sign_flip(rows: list[Row], i: int, rng: random.Random) -> str:
    rows[i]["amount"] = _flip_sign(rows[i]["amount"])
    return f"amount now {rows[i]['amount']}"


def _date_digit(rows: list[Row], i: int, rng: random.Random) -> str:
    rows[i]["date"] = _shift_date(rows[i]["date"], rng)
    return f"date now {rows[i]['date']}"


def _balance_digit(rows: list[Row], i: int, rng: random.Random) -> str:
    if rows[i].get("balance") is None:
        return _digit_swap(rows, i, rng)  # no balance to misread: the amount takes the hit
    rows[i]["balance"] = _swap_digits(rows[i]["balance"], rng)
    return f"balance now {rows[i]['balance']}"


def _typo_row(rows: list[Row], i: int, rng: random.Random) -> str:
    rows[i]["description"] = _typo(rows[i].get("description", ""), rng)
    return f"description now {rows[i]['description']!r}"


_ROW_ERROR_FUNCTIONS: dict[str, Callable[[list[Row], int, random.Random], str]] = {
    "drop_row": _drop,
    "duplicate_row": _duplicate,
    "merge_rows": _merge,
    "digit_swap": _digit_swap,
    "sign_flip": _sign_flip,
    "date_digit": _date_digit,
    "balance_digit": _balance_digit,
    "description_typo": _typo_row,
}


def _header_error(statement: Statement, rng: random.Random) -> str | None:
    """Misread one header field that is present: a balance digit, an IBAN digit, a period date."""
    readers: dict[str, Callable[[str], str]] = {
        "opening_balance": lambda v: _swap_digits(v, rng),
        "closing_balance": lambda v: _swap_digits(v, rng),
        "iban": lambda v: v[:4] + _swap_digits(v[4:], rng),
        "period_start": lambda v: _shift_date(v, rng),
        "period_end": lambda v: _shift_date(v, rng),
        "account_holder": lambda v: _typo(v, rng),
    }
    present = [name for name in readers if statement.get(name)]
    if not present:
        return None
    name = rng.choice(present)
    statement[name] = readers[name](statement[name])
    return name


def _middle_row(statement: Statement) -> Row | None:
    rows: list[Row] = statement.get("transactions", [])
    return rows[len(rows) // 2] if rows else None


def _empty_answer(statement: Statement) -> str:
    for key in statement:
        statement[key] = [] if key == "transactions" else None
    return "an empty statement"


def _invent_rows(statement: Statement) -> str:
    rows: list[Row] = statement.setdefault("transactions", [])
    template = rows[-1] if rows else {"date": statement.get("period_start") or "2000-01-01"}
    invented = {
        "date": template["date"],
        "value_date": None,
        "description": "x",
        "counterparty": None,
        "reference": None,
        "amount": "1.00",
        "balance": None,
        "page": template.get("page", 1),
    }
    rows.extend(dict(invented) for _ in range(INVENTED_ROWS))
    return f"{INVENTED_ROWS} rows invented on page {invented['page']}"


def _closing_cent(statement: Statement) -> str:
    statement["closing_balance"] = "0.01"
    return "closing balance 0.01"


def _row_amount(amount: Callable[[str], str]) -> Callable[[Statement], str | None]:
    def change(statement: Statement) -> str | None:
        row = _middle_row(statement)
        if row is None:
            return None
        row["amount"] = amount(row["amount"])
        return f"amount now {row['amount']}"

    return change


def _date_decades_off(statement: Statement) -> str | None:
    """Fifty years and half a year off: no misread year (which consensus may move back into
    the period) explains it."""
    row = _middle_row(statement)
    if row is None:
        return None
    day = dt.date.fromisoformat(row["date"])
    moved = day.replace(year=day.year - 50, day=min(day.day, 28)) + dt.timedelta(days=182)
    row["date"] = moved.isoformat()
    return f"date now {row['date']}"


def _bad_iban(statement: Statement) -> str:
    """Check digits 00 fail mod-97 for every IBAN (valid ones run from 02 to 98)."""
    iban = statement.get("iban") or "DE89370400440532013000"
    statement["iban"] = iban[:2] + "00" + iban[4:]
    return f"iban now {statement['iban']}"


_HOSTILE_FUNCTIONS: dict[str, Callable[[Statement], str | None]] = {
    "empty_answer": _empty_answer,
    "invent_rows": _invent_rows,
    "closing_cent": _closing_cent,
    "excess_decimals": _row_amount(lambda a: a + "001" if "." in a else a + ".00001"),
    "negative_zero": _row_amount(lambda a: "-0.00"),
    "forty_digits": _row_amount(lambda a: "1" * 40 + ".00"),
    "date_decades_off": _date_decades_off,
    "bad_iban": _bad_iban,
}


def _parse_profile(profile: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(profile, str):
        if profile == "none":
            return {}
        if profile not in KINDS:
            raise ValueError(f"unknown error profile {profile!r}; known: none, {', '.join(KINDS)}")
        return {profile: 1}
    unknown = set(profile) - {*KINDS, "row_error_rate", "header_error_rate", "weights"}
    if unknown:
        raise ValueError(f"unknown error profile keys: {', '.join(sorted(unknown))}")
    return profile


def _planned_row_errors(
    profile: Mapping[str, Any], eligible: list[int], rng: random.Random
) -> list[tuple[int, str]]:
    """(row id, kind) pairs: explicit counts on distinct random rows, plus independent draws."""
    planned: list[tuple[int, str]] = []
    pool = list(eligible)
    rng.shuffle(pool)
    for kind in ROW_ERRORS:
        for _ in range(int(profile.get(kind, 0))):
            if pool:
                planned.append((pool.pop(), kind))
    rate = float(profile.get("row_error_rate", 0.0))
    if rate:
        weights: Mapping[str, float] = profile.get("weights", DEFAULT_WEIGHTS)
        kinds = list(weights)
        for row_id in sorted(eligible):
            if rng.random() < rate:
                planned.append((row_id, rng.choices(kinds, [weights[k] for k in kinds])[0]))
    return planned


def apply_errors(
    statement: Statement,
    profile: str | Mapping[str, Any],
    rng: random.Random,
    *,
    pages: Collection[int] | None = None,
    log: list[dict[str, Any]] | None = None,
) -> Statement:
    """A copy of ``statement`` with the profile's errors applied; the input is not changed.

    ``pages`` limits row errors to rows on those pages (rows without a page are always
    eligible), as a stand-in answering one page at a time does. ``log``, when given, receives one
    entry per error applied: ``{"kind", "row", "page", "detail"}`` (``row`` is the index in the
    input, None for header errors).
    """
    spec = _parse_profile(profile)
    result = copy.deepcopy(statement)
    rows: list[Row] = result.get("transactions", [])
    eligible = [
        i for i, row in enumerate(rows) if pages is None or row.get("page") in (None, *pages)
    ]
    planned = _planned_row_errors(spec, eligible, rng)
    # Apply from the last row backwards so that removing or inserting rows leaves the indices of
    # the rows still to change valid.
    for row_id, kind in sorted(planned, key=lambda p: p[0], reverse=True):
        if row_id >= len(rows):
            continue
        page = rows[row_id].get("page")
        detail = _ROW_ERROR_FUNCTIONS[kind](rows, row_id, rng)
        if log is not None:
            log.append({"kind": kind, "row": row_id, "page": page, "detail": detail})
    header_errors = int(spec.get(HEADER_ERROR, 0))
    header_errors += rng.random() < float(spec.get("header_error_rate", 0.0))
    for _ in range(header_errors):
        name = _header_error(result, rng)
        if name is not None and log is not None:
            log.append({"kind": HEADER_ERROR, "row": None, "page": None, "detail": name})
    for kind in HOSTILE:
        if spec.get(kind):
            changed = _HOSTILE_FUNCTIONS[kind](result)
            if changed is not None and log is not None:
                log.append({"kind": kind, "row": None, "page": None, "detail": changed})
    return result


def restrict_to_pages(statement: Statement, pages: Collection[int]) -> Statement:
    """The part of a statement a reader of only ``pages`` would see: those pages' rows (header
    fields kept; consensus lets a partial reading vote only on what its pages hold)."""
    result = copy.deepcopy(statement)
    result["transactions"] = [
        row for row in result.get("transactions", []) if row.get("page") in pages
    ]
    return result
