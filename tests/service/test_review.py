"""Corrections as revisions: values read like the statement's own, disputes settled, rows removed,
the arithmetic and the status rechecked."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dualread.service.review import Correction, CorrectionError, dispute_choices, revise
from tests.service.support import SAMPLE, truth_of

pytestmark = pytest.mark.unit
AT = "2026-11-30T20:00:00.000Z"


def with_extra_row() -> dict[str, Any]:
    """The sample as if one route had read a row that is not there, and the other had not."""
    document = {"schema_version": "1", **copy.deepcopy(truth_of(SAMPLE))}
    extra = document["transactions"][2] | {"description": "GHOST", "amount": "-50.00"}
    extra["balance"] = None
    document["transactions"].insert(3, extra)
    rows = len(document["transactions"])
    document["extraction"] = {
        "source": "statement.pdf",
        "engine": "vlm",
        "status": "unresolved",
        "confidence": {"fields": {}, "transactions": [1.0] * rows},
        "disputes": [
            {
                "field": "row",
                "severity": "value",
                "row": 3,
                "page": 1,
                "candidates": [
                    {"route": "visual", "pass": 1, "value": extra},
                    {"route": "ocr", "pass": 1, "value": None},
                ],
                "chosen": extra,
            },
            {
                "field": "description",
                "severity": "text",
                "row": 5,
                "page": 1,
                "candidates": [],
                "chosen": "x",
            },
        ],
        "arithmetic": {"ok": False},
    }
    return document


def test_removing_a_row_nobody_printed_settles_it_and_shifts_later_disputes() -> None:
    document = with_extra_row()
    revised, changes = revise(document, [Correction(field="row", row=3, value=None)], "ana", AT)
    assert len(revised["transactions"]) == 16
    assert revised["extraction"]["arithmetic"]["ok"] is True
    assert revised["extraction"]["status"] == "resolved"  # only a text dispute is left
    assert [(d["field"], d["row"]) for d in revised["extraction"]["disputes"]] == [
        ("description", 4)
    ]
    assert len(revised["extraction"]["confidence"]["transactions"]) == 16
    assert changes[0]["previous"]["description"] == "GHOST" and changes[0]["author"] == "ana"
    assert len(document["transactions"]) == 17  # the input is not changed


def test_amounts_and_dates_are_read_like_the_statements_own() -> None:
    document = with_extra_row()
    revised, _ = revise(
        document,
        [
            Correction(field="amount", row=0, value="3.416,72"),
            Correction(field="date", row=0, value="01.03.2025"),
        ],
        "ana",
        AT,
    )
    assert revised["transactions"][0]["amount"] == "3416.72"
    assert revised["transactions"][0]["date"] == "2025-03-01"
    with pytest.raises(CorrectionError, match="not an amount"):
        revise(document, [Correction(field="amount", row=0, value="lots")], "ana", AT)


def test_choices_group_the_routes_that_read_the_same_value() -> None:
    document = with_extra_row()
    document["extraction"]["disputes"][0]["candidates"].append(
        {"route": "visual", "pass": 2, "value": document["transactions"][3]}
    )
    (row, _) = dispute_choices(document)
    assert [c["who"] for c in row["choices"]] == [["visual 1", "visual 2"], ["ocr 1"]]
    assert [c["kept"] for c in row["choices"]] == [True, False]
    assert row["choices"][1]["label"] == "none"
