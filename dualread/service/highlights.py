"""Where a value sits on its page, so the review page can frame it on the page image.

For PDFs with a text layer a row is found by its amount: the k-th run on the row's page that
reads as that amount (k counting earlier rows of the page with the same amount), framed across
the page's width at that line. A header field is found the same way by any value a route read
for it, and a disputed opening or closing balance also by the value the arithmetic implies.
Where the text layer has nothing (scans, photos, an amount no route read as printed) the
highlight is the whole page, and the page number alone guides the eye. (OCR word boxes are not
kept in the result, so scans get the page only.)

Boxes are fractions of the page's width and height, so they scale with any rendering.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dualread.documents import Document, TextRun
from dualread.parsing import parse_amount

LINE_MARGIN = 0.004  # of the page height, above and below the line


@dataclass(frozen=True)
class Highlight:
    page: int
    row: int | None
    field: str
    box: tuple[float, float, float, float] | None  # x0, top, x1, bottom as fractions; None: page

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "row": self.row, "field": self.field, "box": self.box}


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("amount")
    return parse_amount(str(value)) if value is not None else None


def _implied_balance(field: str, result: dict[str, Any]) -> Decimal | None:
    """The value the arithmetic implies for a disputed opening or closing balance (opening + sum
    = closing), where the other one is known: when every route misread the printed value, the
    line that prints this one is usually the one to look at."""
    total = sum((_amount(t) or Decimal(0) for t in result.get("transactions", [])), Decimal(0))
    opening, closing = (
        _amount(result.get("opening_balance")),
        _amount(result.get("closing_balance")),
    )
    if field == "closing_balance" and opening is not None:
        return opening + total
    if field == "opening_balance" and closing is not None:
        return closing - total
    return None


def _runs_by_amount(runs: list[TextRun]) -> dict[Decimal, list[TextRun]]:
    """Every run (or word of a run) that reads as an amount, by absolute value, top to bottom."""
    found: dict[Decimal, list[TextRun]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: (r.top, r.x0)):
        for text in {run.text.strip(), *run.text.split()}:
            amount = parse_amount(text) if any(c.isdigit() for c in text) else None
            if amount is not None and run not in found[abs(amount)]:
                found[abs(amount)].append(run)
    return found


def _line_box(run: TextRun, width: float, height: float) -> tuple[float, float, float, float]:
    top = max(0.0, run.top / height - LINE_MARGIN)
    bottom = min(1.0, run.bottom / height + LINE_MARGIN)
    return (0.01, round(top, 4), 0.99, round(bottom, 4))


def highlights(document: Document, result: dict[str, Any]) -> list[Highlight]:
    """A highlight for every disputed row or field of ``result`` (read from ``document``)."""
    disputes = result.get("extraction", {}).get("disputes", [])
    rows: list[dict[str, Any]] = result.get("transactions", [])
    pages = document.page_numbers
    index: dict[int, dict[Decimal, list[TextRun]]] = {}

    def page_index(page: int) -> dict[Decimal, list[TextRun]]:
        if page not in index:
            index[page] = _runs_by_amount(document.text_runs(page)) if page in pages else {}
        return index[page]

    found: list[Highlight] = []
    for dispute in disputes:
        row, field = dispute.get("row"), str(dispute.get("field"))
        page = dispute.get("page") or (rows[row].get("page") if row is not None else None)
        if page not in pages:
            page = pages[0]
        ref = document.ref(page)
        box = None
        if row is not None and row < len(rows) and (amount := _amount(rows[row])) is not None:
            same = [
                i
                for i, other in enumerate(rows[:row])
                if other.get("page") == page
                and _amount(other) is not None
                and abs(_amount(other) or 0) == abs(amount)
            ]
            matches = page_index(page).get(abs(amount), [])
            if len(same) < len(matches):
                box = _line_box(matches[len(same)], ref.width_pt, ref.height_pt)
        elif row is None:
            values = [_amount(c.get("value")) for c in dispute.get("candidates", [])]
            values.append(_implied_balance(field, result))
            for amount in values:
                matches = page_index(page).get(abs(amount), []) if amount is not None else []
                if matches:
                    box = _line_box(matches[0], ref.width_pt, ref.height_pt)
                    break
        found.append(Highlight(page, row, field, box))
    return found
