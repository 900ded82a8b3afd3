from __future__ import annotations

import json
from decimal import Decimal

import pytest

from dualread.statement import (
    SchemaError,
    Statement,
    Transaction,
    format_money,
    load_schema,
    model_output_schema,
    validate_document,
)

pytestmark = pytest.mark.unit


def test_money_is_exact_decimal_string_end_to_end() -> None:
    statement = Statement(
        opening_balance=Decimal("0.10"),
        closing_balance=Decimal("0.30"),
        transactions=[Transaction(date="2024-01-02", amount="0.20", balance="0.30")],
    )
    document = statement.to_json_dict()
    assert document["opening_balance"] == "0.10"
    assert document["transactions"][0]["amount"] == "0.20"
    validate_document(document)
    back = Statement.model_validate(json.loads(json.dumps(document)))
    assert back.opening_balance is not None
    assert back.opening_balance + back.transactions[0].amount == back.closing_balance


@pytest.mark.parametrize(
    ("value", "text"),
    [("-0.00", "0.00"), ("1E+3", "1000"), ("-12.5", "-12.5"), ("0.000", "0.000")],
)
def test_format_money(value: str, text: str) -> None:
    assert format_money(Decimal(value)) == text


def test_schema_rejects_float_money_and_bad_currency() -> None:
    document = Statement().to_json_dict()
    validate_document(document)
    with pytest.raises(SchemaError, match="opening_balance"):
        validate_document({**document, "opening_balance": 1.5})
    with pytest.raises(SchemaError, match="currency"):
        validate_document({**document, "currency": "euro"})


def test_pydantic_models_mirror_the_schema_fields() -> None:
    schema = load_schema()
    header = set(schema["properties"]) - {"transactions", "extraction", "schema_version"}
    assert header == set(Statement.model_fields) - {"transactions"}
    assert set(schema["$defs"]["transaction"]["properties"]) == set(Transaction.model_fields)


def test_model_output_schema_is_inlined_and_has_no_provenance() -> None:
    schema = model_output_schema()
    text = json.dumps(schema)
    assert "$ref" not in text
    assert "extraction" not in schema["properties"]
    assert schema["properties"]["transactions"]["items"]["properties"]["amount"]["type"] == "string"
