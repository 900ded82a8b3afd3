"""The rule-based statement reader: lines of words in, statements out.

It walks the lines of every page in order. A column-header line opens a table and fixes where
each column sits; the table stays open across pages until a totals line ends it, so a page
without a header continues the table above. Inside a table each line is one of:

- a booking line: a date in the date column (or at the start of the description when the
  statement has no date column) starts a new transaction;
- a balance line: an opening, closing, brought-forward or carried-forward row, which gives a
  balance and is never a transaction;
- a further booking of the same day: an amount with a description but no date, right under a
  transaction (statements that print each day's date once);
- a continuation: text only in the description, counterparty or reference columns, close under
  the transaction it belongs to;
- a section title ("Deposits", "Checks paid"): the unsigned amounts under it go the way it
  says, until the next title or the table's end;
- anything else (footers, notes, a second header language line): it closes the transaction.

A title of a table that lists no bookings (daily balances, a checks or fee summary) or a header
naming the same columns twice over (narrow tables side by side) ends the table: the lines under
it are not rows. Which tables hold the rows is finally the arithmetic's choice: a table whose
rows repeat activity already read (the same bookings grouped by type on a later page) is left
out when only without it do the printed balances hold.

A new header under a heading that names another account starts a new account section
(:mod:`~dualread.stages.embedded.accounts`).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from dualread.arithmetic import detect_order
from dualread.parsing import fold, is_carried_forward
from dualread.parsing.dates import month_from_name
from dualread.parsing.sections import Direction, is_summary_title, section_direction
from dualread.stages.embedded import vocabulary
from dualread.stages.embedded.accounts import (
    account_heading,
    named_by_heading,
    starts_new_account,
)
from dualread.stages.embedded.columns import (
    MONEY_ROLES,
    TEXT_ROLES,
    TableHeader,
    is_side_by_side,
    match_header,
    split_by_column,
    stacked_header,
)
from dualread.stages.embedded.header import (
    HeaderFields,
    balance_label_kind,
    find_period,
    read_header,
)
from dualread.stages.embedded.inference import infer_header
from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.numbers import (
    NumberFormat,
    detect_format,
    find_dates,
    parse_day,
    parse_money,
)
from dualread.stages.embedded.signs import SignedRow, choose_signs, fit
from dualread.stages.embedded.vocabulary import Role
from dualread.stages.embedded.words import Word
from dualread.statement import Statement, Transaction

_DATE_WORD = re.compile(r"\d")
# A continuation line sits at most this many word heights below the line before it: the lines of
# one description are set closer together than one transaction is to the next.
CONTINUATION_PITCH = 1.6
# A table's own column titles follow its title (a summary's, a typed section's) within this many
# lines; a title further above a header is some box's label ("Payments" over its total).
TITLE_REACH = 2
# More tables than this, and leaving one out to make the arithmetic hold is no longer a choice
# among a few interpretations.
MAX_TABLES_TO_CHOOSE = 24


class NoStatementTableError(ValueError):
    """No transaction table was found on any page. ``header`` is what the pages print outside
    one (a summary page: period, account, balances), as a statement without rows."""

    def __init__(self, message: str, header: Statement) -> None:
        super().__init__(message)
        self.header = header


@dataclass
class _Row:
    date: dt.date
    page: int
    value_date: dt.date | None = None
    amount: Decimal | None = None
    balance: Decimal | None = None
    texts: dict[Role, list[str]] = field(default_factory=dict)
    last_center: float = 0.0
    sign_group: str = "amount"  # the column (or section) that decided the amount's sign
    table: int = 0  # which table (counted over the document) the row was read in
    # A figure in the amount column of a table whose amounts come from debit and credit
    # columns: a running balance under another title when the arithmetic confirms it.
    spare: Decimal | None = None

    def add_text(self, role: Role, words: Sequence[Word]) -> None:
        if words:
            self.texts.setdefault(role, []).append(" ".join(w.text for w in words))

    def text(self, role: Role) -> str | None:
        parts = self.texts.get(role)
        return " ".join(parts) if parts else None


@dataclass
class _Section:
    """One account's table rows plus the lines around them (where its header fields are)."""

    identifiers: set[str]
    currency: str | None  # the currency its headings name, when one does
    rows: list[_Row] = field(default_factory=list)
    other_lines: dict[int, list[Line]] = field(default_factory=dict)  # page -> non-table lines
    table_opening: Decimal | None = None
    table_closing: Decimal | None = None
    rows_without_amount: int = 0


@dataclass(frozen=True)
class AccountReading:
    statement: Statement
    card_statement: bool
    rows_without_amount: int


@dataclass(frozen=True)
class Reading:
    """The first account's statement, plus any further accounts printed in the same file."""

    accounts: tuple[AccountReading, ...]
    numbers: NumberFormat
    columns_inferred: bool  # no header line was readable: the columns were guessed from rows

    @property
    def primary(self) -> AccountReading:
        return self.accounts[0]


def _is_total(line: Line) -> bool:
    return fold(line.words[0].text).rstrip(":") in vocabulary.TOTAL_WORDS


def _leading_date(
    words: Sequence[Word], numbers: NumberFormat, *, alone: bool = False
) -> tuple[dt.date, int] | None:
    """A date at the start of a cell ('03 avr. 25 METRO'): the date and its words.

    ``alone``: the date may be the whole cell (a date cell, as opposed to a description). Every
    word of a date holds a digit or is a month name: 'Deposit' ends it ('2003-10-14 Payroll
    Deposit' is a date and two words of description, though the ISO form alone would parse).
    """
    for size in (3, 2, 1):
        if any(
            not _DATE_WORD.search(w.text) and month_from_name(w.text) is None for w in words[:size]
        ):
            continue
        if len(words) > size or (len(words) == size and (size > 1 or alone)):
            parsed = parse_day(" ".join(w.text for w in words[:size]), numbers)
            if parsed is not None:
                return parsed, size
    return None


# Marks the second line of a header printed over two lines: part of the header above it.
_SECOND_HEADER_LINE = TableHeader(())
# Marks the header of tables set side by side: the booking table ends there.
_SIDE_BY_SIDE = TableHeader(())


def _headers(lines: Sequence[Line]) -> list[TableHeader | None]:
    """Per line, the table header it is (one line, or the first of two), else None."""
    singles = [_SIDE_BY_SIDE if is_side_by_side(line) else match_header(line) for line in lines]
    headers: list[TableHeader | None] = list(singles)
    for index in range(len(lines) - 1):
        single, below = headers[index], singles[index + 1]
        if single is _SIDE_BY_SIDE or single is _SECOND_HEADER_LINE or below is _SIDE_BY_SIDE:
            continue
        # A one-line match without a description column may be the top half of a header, and
        # one with fewer columns the bottom half ('Check' over 'Number' above 'Date'): the two
        # lines are one header where together they name more columns than either alone.
        if single is None or not single.has("description"):
            stacked = stacked_header(
                lines[index], lines[index + 1], below_is_header=below is not None
            )
            alone = max(len(h.roles) if h is not None else 0 for h in (single, below))
            if stacked is not None and len(stacked.roles) > alone:
                headers[index], headers[index + 1] = stacked, _SECOND_HEADER_LINE
    return headers


class _TableReader:
    """State of the walk over all lines of the document."""

    def __init__(self, numbers: NumberFormat) -> None:
        self.numbers = numbers
        self.header: TableHeader | None = None
        self.sections: list[_Section] = []
        self.row: _Row | None = None  # the open transaction, which may still get lines
        self.last_row: _Row | None = None  # the last one kept: a page's first line may continue it
        self.word_height = 10.0  # typical word height in the table: continuations share it
        self.seen_header = False  # a header line was read: never guess columns after that
        self.columns_inferred = False
        self.direction: Direction | None = None  # the open typed section's, if any
        self.direction_line = 0  # where its title was (counted in lines read)
        self.lines_read = 0
        self.tables = 0  # tables opened so far
        self.summary_lines = 0  # lines left in which a header is a summary table's own

    @property
    def section(self) -> _Section:
        return self.sections[-1]

    def close_row(self) -> None:
        if self.row is None:
            return
        if self.row.amount is None:
            self.section.rows_without_amount += 1
        else:
            self.section.rows.append(self.row)
            self.last_row = self.row
        self.row = None

    def start_table(self, header: TableHeader, above: Sequence[Line]) -> None:
        self.close_row()
        heading = account_heading(above)
        section = self.sections[-1] if self.sections else None
        if section is None or starts_new_account(section.identifiers, section.currency, heading):
            self.sections.append(_Section(set(heading.identifiers), heading.currency))
        else:
            section.identifiers |= heading.identifiers
            section.currency = section.currency or heading.currency
        if self.header is None and self.lines_read - self.direction_line > TITLE_REACH + 1:
            self.direction = None  # no section title right above this table
        self.header = header
        self.tables += 1

    def end_table(self) -> None:
        self.close_row()
        self.header = None
        self.direction = None

    def read_title(self, page: int, line: Line) -> bool:
        """A typed section's title, or the title of a table that lists no bookings: it decides
        what the lines below are. A line set close under an open row continues its text."""
        row = self.row
        if row is not None and row.page == page and self._close_under(row, line):
            return False
        if is_summary_title(line.text):
            self.end_table()
            self.summary_lines = TITLE_REACH + 1
            return True
        direction = section_direction(line.text)
        if direction is None:
            return False
        self.close_row()
        self.direction, self.direction_line = direction, self.lines_read
        return True

    def _close_under(self, row: _Row, line: Line) -> bool:
        """Set in the table's print right under ``row``: a line of the same transaction."""
        same_print = abs(statistics.median(w.height for w in line.words) - self.word_height) <= (
            0.25 * self.word_height
        )
        pitch = line.center_y - row.last_center
        return same_print and pitch <= CONTINUATION_PITCH * self.word_height

    def keep_other(self, page: int, line: Line) -> None:
        if self.sections:
            self.section.other_lines.setdefault(page, []).append(line)

    def read_page(self, page: int, lines: Sequence[Line], pre_table: list[Line]) -> None:
        """Walk one page's lines; ``pre_table`` collects lines before the first table."""
        above: list[Line] = []
        first_line = True
        headers = _headers(lines)
        # Above a page's own table header is the page header (bank, account), never table rows.
        first_header = next(
            (i for i, h in enumerate(headers) if h is not None and h is not _SIDE_BY_SIDE), None
        )
        inferred_at: int | None = None
        inferred: TableHeader | None = None
        if first_header is not None:
            self.close_row()
            self.last_row = None
            self.seen_header = True
        elif self.header is None and not self.seen_header:
            guess = infer_header(lines, self.numbers)
            if guess is not None:
                inferred_at, inferred = guess
                self.columns_inferred = True
        for index, (line, header) in enumerate(zip(lines, headers, strict=True)):
            self.lines_read += 1
            summary_header = self.summary_lines > 0 and header is not None
            self.summary_lines = max(0, self.summary_lines - 1)
            if header is _SIDE_BY_SIDE or summary_header:
                self.end_table()
                above.append(line)
                continue
            if header is None and self.read_title(page, line):
                above.append(line)
                continue
            if first_header is not None and index < first_header:
                above.append(line)
                continue
            if index == inferred_at and inferred is not None:
                self.word_height = statistics.median(w.height for w in line.words)
                self.start_table(inferred, above)
                for kept in above:
                    self.keep_other(page, kept)
                above, first_line = [], False
            if header is _SECOND_HEADER_LINE:
                continue
            if header is not None:
                self.word_height = statistics.median(w.height for w in line.words)
                self.start_table(header, above)
                for kept in above:
                    self.keep_other(page, kept)
                above, first_line = [], False
                continue
            if self.header is None:
                above.append(line)
                continue
            if not self.read_table_line(page, line, first_line):
                above.append(line)
            first_line = False
        if not self.sections:
            pre_table.extend(above)
        for kept in above:
            self.keep_other(page, kept)

    def read_table_line(self, page: int, line: Line, first_on_page: bool) -> bool:
        """Read one line inside a table; False when the line is not part of the table."""
        assert self.header is not None
        header = self.header
        cells = split_by_column(line.words, header)
        date, date_words = self._date(cells)
        text_words = {role: cells.get(role, []) for role in TEXT_ROLES}
        if date_words and not header.has("date"):
            text_words["description"] = text_words["description"][date_words:]
        elif date_words:
            # A date column whose title span reaches over the description's start: the words
            # after the date are description.
            text_words["description"] = [*cells["date"][date_words:], *text_words["description"]]
        description = " ".join(w.text for w in text_words.get("description", []))
        money = {role: self._money(cells.get(role)) for role in (*MONEY_ROLES, "balance")}
        label = " ".join(w.text for role in TEXT_ROLES for w in text_words[role])

        if _is_total(line):
            self.end_table()  # a totals line ends the table
            return False
        balance_kind = balance_label_kind(label) or (
            "carried" if label and is_carried_forward(label) else None
        )
        if balance_kind is not None:
            self._balance_line(balance_kind, money)
            return True
        if date is not None:
            self.close_row()
            self.row = _Row(date, page, last_center=line.center_y, table=self.tables)
            self.row.value_date = self._value_date(cells)
            self._fill(self.row, text_words, money)
            return True
        row = self.row
        if row is None and first_on_page:
            row = self.last_row  # a description running on from the previous page
        same_print = abs(statistics.median(w.height for w in line.words) - self.word_height) <= (
            0.25 * self.word_height
        )
        close = row is not None and ((first_on_page and same_print) or self._close_under(row, line))
        has_money = any(money[r] is not None for r in MONEY_ROLES)
        only_text = all(column in TEXT_ROLES for column in cells)
        if row is not None and close and has_money and description and row is self.row:
            if row.amount is not None:  # another booking of the same day
                self.close_row()
                self.row = row = _Row(row.date, page, row.value_date, table=self.tables)
            row.last_center = line.center_y
            self._fill(row, text_words, money)
            return True
        if row is not None and close and only_text:
            row.last_center = line.center_y
            for role, words in text_words.items():
                row.add_text(role, words)
            return True
        self.close_row()
        return False

    def _date(self, cells: dict[Role, list[Word]]) -> tuple[dt.date | None, int]:
        assert self.header is not None
        if self.header.has("date"):
            words = cells.get("date", [])
            if not words:
                return None, 0
            found = _leading_date(words, self.numbers, alone=True)
            return (found[0], found[1]) if found else (None, 0)
        found = _leading_date(cells.get("description", []), self.numbers)
        return (found[0], found[1]) if found else (None, 0)

    def _value_date(self, cells: dict[Role, list[Word]]) -> dt.date | None:
        words = cells.get("value_date", [])
        return parse_day(" ".join(w.text for w in words), self.numbers) if words else None

    def _money(self, words: Sequence[Word] | None) -> Decimal | None:
        if not words:
            return None
        return parse_money(" ".join(w.text for w in words), self.numbers)

    def _fill(
        self, row: _Row, text_words: dict[Role, list[Word]], money: dict[Role, Decimal | None]
    ) -> None:
        for role, words in text_words.items():
            row.add_text(role, words)
        debit, credit, amount = money["debit"], money["credit"], money["amount"]
        if debit is not None or credit is not None:
            row.amount = (abs(credit) if credit is not None else Decimal(0)) - (
                abs(debit) if debit is not None else Decimal(0)
            )
            row.sign_group = "credit" if debit is None else "debit"
            row.spare = amount
        elif amount is not None:
            row.amount = amount
            if self.direction is not None:  # a typed section: its title gives the sign
                row.amount = -abs(amount) if self.direction == "debit" and amount > 0 else amount
                row.sign_group = f"section {self.direction}"
        if money["balance"] is not None:
            row.balance = money["balance"]

    def _balance_line(self, kind: str, money: dict[Role, Decimal | None]) -> None:
        """An opening/closing/carried row: its value is a balance, never a booking."""
        self.close_row()
        value = money["balance"]
        if value is None:
            value = next(
                (money[r] for r in ("amount", "credit", "debit") if money[r] is not None), None
            )
        if value is None or not self.sections:
            return
        section = self.section
        if kind == "opening" or (kind == "carried" and not section.rows):
            if section.table_opening is None and not section.rows:
                section.table_opening = value
        else:
            section.table_closing = value


def _year_context(lines: Sequence[Line], numbers: NumberFormat) -> NumberFormat:
    """The statement period (for dates printed without a year), from the first and last page,
    where statements print it; else the span of the full dates printed there."""
    period = find_period(lines, numbers)
    if period is not None:
        return replace(numbers, period_start=period[0], period_end=period[1])
    dates = [d for line in lines for d in find_dates(line.text, numbers)]
    if dates:
        return replace(numbers, period_start=min(dates), period_end=max(dates))
    return numbers


def _is_payment(description: str) -> bool:
    folded = fold(description)
    return any(word in folded for word in vocabulary.PAYMENT_WORDS)


def _card_signs(rows: list[Transaction], opening: Decimal | None, closing: Decimal | None) -> bool:
    """Whether a card statement prints the issuer's view (purchases positive): then negate.

    The balances decide when both are printed; otherwise the payments' printed sign does
    (a payment is money in for the holder).
    """
    total = sum((t.amount for t in rows), Decimal(0))
    if opening is not None and closing is not None:
        if opening + total == closing:
            return False
        if opening - total == closing:
            return True
    if rows and all(t.amount > 0 for t in rows):
        return True  # nothing printed negative: the issuer's view, purchases unsigned
    payments = [t.amount for t in rows if _is_payment(t.description)]
    return bool(payments) and sum(1 for a in payments if a < 0) > len(payments) / 2


_View = tuple[bool, list[Transaction], Decimal | None, Decimal | None]


def _view(
    transactions: list[Transaction],
    rows: Sequence[_Row],
    opening: Decimal | None,
    closing: Decimal | None,
    *,
    card: bool,
) -> _View:
    """The rows and balances read as a card's (balances owed) or an account's, with the signs
    the arithmetic chooses."""
    if card:
        # A card's balances are what the holder owes: money out of the holder's pocket.
        opening = -opening if opening is not None else None
        closing = -closing if closing is not None else None
        if _card_signs(transactions, opening, closing):
            transactions = [t.model_copy(update={"amount": -t.amount}) for t in transactions]
    signed = [
        SignedRow(t.amount, t.balance, row.sign_group)
        for t, row in zip(transactions, rows, strict=True)
    ]
    chosen = choose_signs(signed, opening, closing)
    if chosen is not None:
        transactions = [
            t.model_copy(update={"amount": amount})
            for t, amount in zip(transactions, chosen, strict=True)
        ]
    return card, transactions, opening, closing


def _view_fit(view: _View) -> tuple[int, int]:
    _, transactions, opening, closing = view
    result = fit(
        [t.amount for t in transactions], [t.balance for t in transactions], opening, closing
    )
    return -result.breaks, result.checks


def _confirmed(view: _View) -> bool:
    """Every printed balance the view's rows reach holds, and there is at least one."""
    negative_breaks, checks = _view_fit(view)
    return negative_breaks == 0 and checks > 0


def _best_view(
    transactions: list[Transaction],
    rows: Sequence[_Row],
    opening: Decimal | None,
    closing: Decimal | None,
    card_marker: bool,
) -> _View:
    """A card marker ("card statement") makes the card's view plausible; the arithmetic decides
    between it and an account's (a debit card's statement is an account's)."""
    views = [_view(transactions, rows, opening, closing, card=True)] * card_marker
    views.append(_view(transactions, rows, opening, closing, card=False))
    return max(views, key=_view_fit)  # first of equals: card


def _repeats(rows: Sequence[_Row], others: Sequence[_Row]) -> bool:
    """Whether every row is also among ``others`` (same date and amount, each used once)."""
    pool = Counter((r.date, abs(r.amount or 0)) for r in others)
    for row in rows:
        key = (row.date, abs(row.amount or 0))
        if not pool[key]:
            return False
        pool[key] -= 1
    return True


def _without_repeated_table(
    transactions: list[Transaction],
    rows: Sequence[_Row],
    opening: Decimal | None,
    closing: Decimal | None,
    view: _View,
    fields: HeaderFields,
) -> _View:
    """The reading without one table that repeats bookings read elsewhere (the activity grouped
    by type on a later page, a fee breakdown under the table), when only without it do the
    printed balances hold; else ``view`` unchanged. Where several tables could go, none does:
    the arithmetic cannot tell which."""
    tables = sorted({row.table for row in rows})
    if _view_fit(view)[0] == 0 or not 1 < len(tables) <= MAX_TABLES_TO_CHOOSE:
        return view  # nothing breaks, or too many tables to choose among
    confirmed: list[_View] = []
    for table in tables:
        kept = [i for i, row in enumerate(rows) if row.table != table]
        left_out = [row for row in rows if row.table == table]
        if not _repeats(left_out, [rows[i] for i in kept]):
            continue
        candidate = _best_view(
            [transactions[i] for i in kept],
            [rows[i] for i in kept],
            opening,
            closing,
            fields.card_statement,
        )
        if _confirmed(candidate):
            confirmed.append(candidate)
    return confirmed[0] if len(confirmed) == 1 else view


def _spare_balances(rows: Sequence[_Row], opening: Decimal | None) -> bool:
    """Whether the rows' spare figures are their running balances: none printed under a
    balance title, and most spare figures follow from the one before (or the opening). One
    misread figure does not hide the column; the arithmetic check then shows the break."""
    if any(row.balance is not None for row in rows) or all(row.spare is None for row in rows):
        return False
    amounts = [row.amount if row.amount is not None else Decimal(0) for row in rows]
    result = fit(amounts, [row.spare for row in rows], opening, None)
    return result.checks >= 2 and result.checks > result.breaks


def _last_balance(transactions: list[Transaction]) -> Decimal | None:
    """The balance printed on the last row in time: the balance the statement ends with, for
    a statement that prints no closing balance of its own. None when that row prints none."""
    if not transactions:
        return None
    order = detect_order(Statement(transactions=transactions))
    return transactions[-1 if order == "chronological" else 0].balance


def _statement(section: _Section, fields: HeaderFields) -> AccountReading:
    opening = (
        fields.opening_balance if fields.opening_balance is not None else section.table_opening
    )
    closing = (
        fields.closing_balance if fields.closing_balance is not None else section.table_closing
    )
    if _spare_balances(section.rows, opening):
        for row in section.rows:
            row.balance = row.spare
    transactions = [
        Transaction(
            date=row.date,
            value_date=row.value_date,
            description=row.text("description") or "",
            counterparty=row.text("counterparty"),
            reference=row.text("reference"),
            amount=row.amount if row.amount is not None else Decimal(0),
            balance=row.balance,
            page=row.page,
        )
        for row in section.rows
    ]
    if opening is None and fields.opening_blank:
        zero = _best_view(transactions, section.rows, Decimal(0), closing, fields.card_statement)
        opening = Decimal(0) if _confirmed(zero) else None
    view = _best_view(transactions, section.rows, opening, closing, fields.card_statement)
    view = _without_repeated_table(transactions, section.rows, opening, closing, view, fields)
    card, transactions, opening, closing = view
    if closing is None:
        closing = _last_balance(transactions)
    statement = _header_statement(fields, opening, closing, transactions)
    return AccountReading(statement, card, section.rows_without_amount)


def _header_statement(
    fields: HeaderFields,
    opening: Decimal | None,
    closing: Decimal | None,
    transactions: list[Transaction],
) -> Statement:
    return Statement(
        bank_name=fields.bank_name,
        account_holder=fields.account_holder,
        account_number=fields.account_number,
        iban=fields.iban,
        bic=fields.bic,
        currency=fields.currency,
        period_start=fields.period_start,
        period_end=fields.period_end,
        opening_balance=opening,
        closing_balance=closing,
        transactions=transactions,
    )


def read_statement(pages: Sequence[tuple[int, Sequence[Line]]], page_height: float) -> Reading:
    """Read every account section of a document from its pages' lines.

    ``pages`` holds (page number, lines top to bottom). Raises :class:`NoStatementTableError`
    when no page has a transaction table.
    """
    all_lines = [line for _, lines in pages for line in lines]
    numbers = detect_format(w.text for line in all_lines for w in line.words)
    ends = [pages[0], pages[-1]] if len(pages) > 1 else list(pages)
    numbers = _year_context([line for _, lines in ends for line in lines], numbers)
    reader = _TableReader(numbers)
    pre_table: list[Line] = []
    for number, lines in pages:
        reader.read_page(number, lines, pre_table)
    reader.close_row()
    if not reader.sections or not any(s.rows for s in reader.sections):
        fields = read_header([lines for _, lines in pages], page_height, numbers)
        if fields.card_statement:  # a card's balances take their sign from its rows: none here
            fields = replace(fields, opening_balance=None, closing_balance=None)
        raise NoStatementTableError(
            "no transaction table found (no header row with a date or "
            "description column and an amount column)",
            _header_statement(fields, fields.opening_balance, fields.closing_balance, []),
        )
    accounts = []
    for index, section in enumerate(reader.sections):
        pages_lines = [section.other_lines[p] for p in sorted(section.other_lines)]
        if index == 0:
            pages_lines = [pre_table, *pages_lines]
        fields = read_header(pages_lines, page_height, numbers)
        if len(reader.sections) > 1:
            others = set[str]().union(*(s.identifiers for s in reader.sections if s is not section))
            fields = named_by_heading(fields, section.identifiers, section.currency, others)
        accounts.append(_statement(section, fields))
    return Reading(tuple(accounts), numbers, reader.columns_inferred)
