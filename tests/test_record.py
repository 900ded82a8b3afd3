"""The ``extraction`` record: typed in Python, and still exactly what the JSON schema allows."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from dualread.choices import EngineUsed, Status
from dualread.record import ArithmeticRecord, ExtractionRecord, PassRecord
from dualread.statement import (
    SCHEMA_VERSION,
    SchemaError,
    Statement,
    load_schema,
    validate_document,
)

pytestmark = pytest.mark.unit


def _document(block: dict[str, Any]) -> dict[str, Any]:
    body = Statement().to_json_dict()
    return {"schema_version": SCHEMA_VERSION, **body, "extraction": block}


def _extraction_schema() -> dict[str, Any]:
    block: dict[str, Any] = load_schema()["$defs"]["extraction"]
    return block


def test_status_and_engine_choices_are_the_schemas_enums() -> None:
    properties = _extraction_schema()["properties"]
    assert list(get_args(Status)) == properties["status"]["enum"]
    assert list(get_args(EngineUsed)) == properties["engine"]["enum"]


def _record(**changes: Any) -> ExtractionRecord:
    arithmetic = ArithmeticRecord(
        ok=True,
        order="chronological",
        totals_ok=True,
        totals_difference="0.00",
        closing_matches_last_balance=None,
        chain_links_checked=0,
        chain_breaks=[],
        page_breaks=[],
        sign_flips=[],
        dates_out_of_order=[],
        dates_outside_period=[],
    )
    passes = [
        PassRecord(number=1, route="visual", pages=[1], seconds=1.23456, params={"dpi": 200}),
        PassRecord(number=2, route="ocr", pages=[1], seconds=0.5, error="ocr: timed out"),
    ]
    fields: dict[str, Any] = {
        "source": "a.pdf",
        "engine": "vlm",
        "status": "resolved",
        "arithmetic": arithmetic,
        "passes": passes,
        "seconds": 2.0004,
    }
    return ExtractionRecord(**(fields | changes))


def test_record_json_is_schema_valid_and_shaped_as_before() -> None:
    block = _record().to_json()
    validate_document(_document(block))
    assert list(block) == [
        "source",
        "engine",
        "status",
        "confidence",
        "disputes",
        "arithmetic",
        "passes",
        "seconds",
    ]
    assert block["passes"][0] == {
        "pass": 1,
        "route": "visual",
        "pages": [1],
        "seconds": 1.235,
        "params": {"dpi": 200},
    }
    assert block["passes"][1]["error"] == "ocr: timed out"
    assert block["seconds"] == 2.0


def test_failures_appear_only_when_there_are_some() -> None:
    assert "failures" not in _record().to_json()
    assert _record(failures=["ocr: refused"]).to_json()["failures"] == ["ocr: refused"]


def test_a_status_outside_the_contract_is_refused_before_any_write() -> None:
    with pytest.raises(ValueError, match="status"):
        _record(status="maybe")
    block = _record().to_json() | {"status": "maybe"}
    with pytest.raises(SchemaError, match="status"):
        validate_document(_document(block))


def test_model_passes_leave_out_the_embedded_engine() -> None:
    record = _record(
        passes=[
            PassRecord(number=1, route="visual", pages=[1], seconds=1.0),
            PassRecord(number=2, route="embedded", pages=[1], seconds=1.0),
        ]
    )
    assert [p.route for p in record.model_passes] == ["visual"]


def test_account_position_appears_only_for_a_file_of_several_accounts() -> None:
    assert "account" not in _record().to_json()
    block = _record(account={"index": 2, "count": 2}).to_json()
    assert block["account"] == {"index": 2, "count": 2}
    validate_document(_document(block))
    with pytest.raises(SchemaError):  # a lone account has no position: count is at least 2
        validate_document(_document(block | {"account": {"index": 1, "count": 1}}))
