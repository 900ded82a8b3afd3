"""The statement contract: pydantic models mirroring ``schemas/statement.v1.schema.json``.

Money is :class:`~decimal.Decimal` inside and a decimal string in JSON (``"-1234.56"``). Strings
keep every digit the statement printed, carry the sign, and need no per-currency minor-unit table
(JPY has none, BHD has three), which integer minor units would.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict, field_serializer
from referencing import Registry, Resource

SCHEMA_VERSION = "1"

HEADER_FIELDS: tuple[str, ...] = (
    "bank_name",
    "account_holder",
    "account_number",
    "iban",
    "bic",
    "currency",
    "period_start",
    "period_end",
    "opening_balance",
    "closing_balance",
)


def format_money(value: Decimal) -> str:
    """Decimal -> exact decimal string: no exponent, no '+', '-0' folded to '0'."""
    text = format(value, "f")
    return "0" + text[2:] if text.startswith("-0") and value == 0 else text


class Transaction(BaseModel):
    """One booking. ``amount`` is signed: money out is negative."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    value_date: dt.date | None = None
    description: str = ""
    counterparty: str | None = None
    reference: str | None = None
    amount: Decimal
    balance: Decimal | None = None
    page: int | None = None

    @field_serializer("amount", "balance")
    def _money(self, value: Decimal | None) -> str | None:
        return None if value is None else format_money(value)


class Statement(BaseModel):
    """Header fields plus the transactions, in the order the statement prints them."""

    model_config = ConfigDict(extra="forbid")

    bank_name: str | None = None
    account_holder: str | None = None
    account_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    currency: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    transactions: list[Transaction] = []

    @field_serializer("opening_balance", "closing_balance")
    def _money(self, value: Decimal | None) -> str | None:
        return None if value is None else format_money(value)

    def to_json_dict(self) -> dict[str, Any]:
        """The schema-shaped dict (money as strings, dates as ISO strings)."""
        return self.model_dump(mode="json")


@cache
def load_schema() -> dict[str, Any]:
    """The statement schema, as shipped inside the package."""
    text = resources.files("dualread.schemas").joinpath("statement.v1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_text() -> str:
    return resources.files("dualread.schemas").joinpath("statement.v1.schema.json").read_text()


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@cache
def _accounts_validator() -> jsonschema.Draft202012Validator:
    """The schema's ``$defs/statements``: a file's output when it holds several accounts."""
    schema = load_schema()
    resource: Resource[Any] = Resource.from_contents(schema)
    registry: Registry[Any] = Registry().with_resource(schema["$id"], resource)
    reference = {"$ref": f"{schema['$id']}#/$defs/statements"}
    return jsonschema.Draft202012Validator(reference, registry=registry)


class SchemaError(ValueError):
    """A result that does not satisfy the statement schema."""


def validate_document(document: dict[str, Any]) -> None:
    """Raise :class:`SchemaError` naming the first violation; called before every write."""
    _raise_first_violation(_validator(), document)


def validate_accounts(documents: list[Any]) -> None:
    """The JSON array of a file's several accounts (revision 1.2, ``$defs/statements``: two or
    more statements); raise :class:`SchemaError` as :func:`validate_document` does."""
    _raise_first_violation(_accounts_validator(), documents)


def validate_output(documents: Sequence[dict[str, Any]]) -> None:
    """One file's output: the statement of each account it holds, one (an object) or several
    (an array, :func:`validate_accounts`)."""
    if len(documents) == 1:
        validate_document(documents[0])
    else:
        validate_accounts(list(documents))


def _raise_first_violation(validator: jsonschema.Draft202012Validator, document: Any) -> None:
    if validator.is_valid(document):  # cheap; ranking the errors is only worth it on failure
        return
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise SchemaError(f"schema violation at {where}: {error.message}")


@cache
def model_output_schema() -> dict[str, Any]:
    """The schema sent to models as their output format.

    Refs are inlined and the ``extraction`` block is dropped: structured-output grammars in
    Ollama and vLLM handle plain nested objects best, and the models must never invent
    provenance.
    """
    schema = copy.deepcopy(load_schema())
    defs = schema.pop("$defs")
    schema["properties"].pop("extraction")
    schema["properties"].pop("schema_version")
    for key in ("$id", "$schema"):
        schema.pop(key, None)

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[1]]))
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result
