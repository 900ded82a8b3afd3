"""Header lines in five languages, and which column each data word falls in."""

from __future__ import annotations

import pytest

from dualread.stages.embedded.columns import (
    Column,
    TableHeader,
    column_for,
    is_numberish,
    match_header,
    merge_number_parts,
    split_by_column,
    stacked_header,
)
from dualread.stages.embedded.words import Word
from tests.stages.embedded.conftest import line_at

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("cells", "roles"),
    [
        (
            [
                (40, "Date"),
                (120, "Description"),
                (300, "Withdrawal (-)"),
                (400, "Deposit (+)"),
                (500, "Balance"),
            ],
            ["date", "description", "debit", "credit", "balance"],
        ),
        (
            [
                (75, "Buchung"),
                (118, "Wert"),
                (160, "Vorgang/Buchungsinformation"),
                (450, "Soll"),
                (520, "Haben"),
            ],
            ["date", "value_date", "description", "debit", "credit"],
        ),
        (
            [
                (40, "Дата"),
                (100, "Дата валют."),
                (170, "Описание операции"),
                (420, "Сумма"),
                (500, "Остаток"),
            ],
            ["date", "value_date", "description", "amount", "balance"],
        ),
        (
            [(40, "Datum"), (100, "Omschrijving"), (350, "Af"), (420, "Bij"), (500, "Saldo")],
            ["date", "description", "debit", "credit", "balance"],
        ),
        (
            [
                (40, "Détails"),
                (272, "Chèques et débits ($)"),
                (380, "Dépôts et crédits ($)"),
                (523, "Solde ($)"),
            ],
            ["description", "debit", "credit", "balance"],
        ),
        (
            [
                (40, "Post Date"),
                (133, "Trans Date"),
                (226, "Merchant Name or Transaction Description"),
                (440, "$ Amount"),
            ],
            ["value_date", "date", "description", "amount"],
        ),
    ],
    ids=["en", "de", "ru", "nl", "fr", "card"],
)
def test_headers_in_five_languages(cells: list[tuple[float, str]], roles: list[str]) -> None:
    header = match_header(line_at(100, *cells))
    assert header is not None
    assert [c.role for c in sorted(header.columns, key=lambda c: c.x0)] == roles


@pytest.mark.parametrize(
    "text",
    [
        "We use the Daily Balance Method to calculate the balance on which we charge interest",
        "Account Account No. Balance Balance",  # a summary table: no money movement column
        "Total fees charged",
        "Date Time Location",
    ],
)
def test_other_lines_are_not_headers(text: str) -> None:
    assert match_header(line_at(100, (40, text))) is None


def test_a_lone_posting_date_is_the_booking_date() -> None:
    header = match_header(line_at(100, (40, "Posting date"), (120, "Details"), (400, "Amount")))
    assert header is not None and header.has("date") and not header.has("value_date")


HEADER = TableHeader(
    (
        Column("date", 51, 68),
        Column("description", 111, 155),
        Column("debit", 360, 390),
        Column("balance", 514, 544),
    )
)


@pytest.mark.parametrize(
    ("word", "role"),
    [
        (Word("2024", 81, 0, 100, 10), "date"),  # the year of a date spills past the title
        (Word("MERIDIEN", 350, 0, 395, 10), "description"),  # long text under a number title
        (Word("STORE", 200, 0, 230, 10), "description"),
        (Word("1,234.56", 330, 0, 390, 10), "debit"),
        (Word("-", 335, 0, 338, 10), "debit"),
        (Word("95,918.51", 500, 0, 544, 10), "balance"),
    ],
)
def test_words_land_in_their_column(word: Word, role: str) -> None:
    assert column_for(word, HEADER).role == role


def test_amounts_printed_in_pieces_are_joined() -> None:
    words = [Word("10", 513, 0, 523, 9), Word("662,91", 528, 0, 556, 9), Word("$", 561, 0, 566, 9)]
    # The currency printed after the amount is part of it (the normaliser reads "10 662,91 $").
    assert [w.text for w in merge_number_parts(words)] == ["10 662,91 $"]
    signed = [Word("-", 432, 0, 435, 12), Word("580,06", 437, 0, 465, 12)]
    assert [w.text for w in merge_number_parts(signed)] == ["- 580,06"]
    apart = [Word("25", 78, 0, 88, 9), Word("323,62", 315, 0, 344, 9)]
    assert len(merge_number_parts(apart)) == 2


def test_currency_prefix_and_debit_credit_marker_join_their_amount() -> None:
    words = [
        Word("R$", 366, 0, 378, 9),
        Word("150,00", 380, 0, 408, 9),
        Word("D", 410, 0, 417, 9),
        Word("R$", 448, 0, 459, 9),
        Word("7.350,00", 462, 0, 497, 9),
    ]
    assert [w.text for w in merge_number_parts(words)] == ["R$ 150,00 D", "R$ 7.350,00"]
    # A letter after a number without cents is a word, not a marker: "Page 2 D".
    assert len(merge_number_parts([Word("2", 0, 0, 5, 9), Word("D", 7, 0, 12, 9)])) == 2


@pytest.mark.parametrize(
    ("text", "numberish"),
    [
        ("$85.06", True),
        ("-$6000.55", True),
        ("R$ 5.000,00 C", True),
        ("0,07 €", True),
        ("\u25a015,450.00", True),
        ("EFTPOS", False),
        ("CA", False),
        ("D", False),
    ],
)
def test_amounts_with_currency_marks_are_numbers(text: str, numberish: bool) -> None:
    assert is_numberish(text) is numberish


def test_split_by_column() -> None:
    line = line_at(
        0, (51, "29 May 2024"), (111, "Direct debit GAS"), (370, "46.75"), (504, "2,442.26")
    )
    cells = split_by_column(line.words, HEADER)
    assert {role: " ".join(w.text for w in words) for role, words in cells.items()} == {
        "date": "29 May 2024",
        "description": "Direct debit GAS",
        "debit": "46.75",
        "balance": "2,442.26",
    }


def test_numbers_set_inside_a_description_stay_in_it() -> None:
    # A street number and a reference inside the text reach under the deposits title; the
    # amount stands apart from the text.
    header = match_header(
        line_at(100, (40, "Date"), (90, "Description"), (300, "Deposits"), (380, "Withdrawals"))
    )
    assert header is not None
    line = line_at(
        120, (40, "7/29"), (90, "ATM on 07/27 789 Ponce DE 0029111019 Ann"), (390, "5.00")
    )
    cells = split_by_column(line.words, header)
    assert {role: " ".join(w.text for w in words) for role, words in cells.items()} == {
        "date": "7/29",
        "description": "ATM on 07/27 789 Ponce DE 0029111019 Ann",
        "debit": "5.00",
    }


def test_a_line_over_a_header_only_completes_its_titles() -> None:
    # The bottom line is a header by itself: a title of the top line over none of its titles
    # ('Withdrawals' centred above it, a section's title) is no column of it.
    header = line_at(100, (40, "Date"), (120, "Description"), (400, "Amount"))
    above = line_at(91, (300, "Withdrawals"))
    assert stacked_header(above, header, below_is_header=True) is None
    stacked = stacked_header(above, header)
    assert stacked is not None and stacked.has("debit")


def test_a_section_title_over_several_titles_is_no_half_of_them() -> None:
    # Joined to 'Date' and 'Description' below it, the title would name three columns at once.
    header = line_at(100, (40, "Date"), (120, "Description"), (450, "Amount"))
    above = line_at(91, (40, "ATM & DEBIT CARD WITHDRAWALS"))
    assert stacked_header(above, header, below_is_header=True) is None
