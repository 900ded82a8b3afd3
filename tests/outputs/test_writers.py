from __future__ import annotations

import csv
import io
import json
import os
import xml.dom.minidom
from pathlib import Path
from typing import Any

import pytest

from dualread.outputs import render_csv, render_json, render_ofx, write_atomic
from dualread.statement import SchemaError, Statement, Transaction, validate_output

pytestmark = pytest.mark.unit


def sample_document() -> dict[str, Any]:
    statement = Statement(
        bank_name="Example Bank & Co",
        iban="DE89370400440532013000",
        currency="EUR",
        period_start="2024-01-01",
        period_end="2024-01-31",
        opening_balance="100.00",
        closing_balance="1080.50",
        transactions=[
            Transaction(date="2024-01-02", description="Salary <ACME>", amount="1000.00", page=1),
            Transaction(date="2024-01-03", description="Coffee", amount="-19.50", page=1),
        ],
    )
    document = statement.to_json_dict()
    document["extraction"] = {
        "source": "s.pdf",
        "engine": "vlm",
        "status": "agreed",
        "confidence": {"fields": {}, "transactions": [1.0, 0.5]},
    }
    return document


def test_csv_has_transactions_and_confidence() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv([sample_document()]))))
    assert [r["amount"] for r in rows] == ["1000.00", "-19.50"]
    assert [r["confidence"] for r in rows] == ["1.0", "0.5"]
    assert rows[0]["currency"] == "EUR"


def _texts(dom: xml.dom.minidom.Document, tag: str) -> list[str]:
    """The text of every ``tag`` element, each of which must hold exactly one text node."""
    texts = []
    for element in dom.getElementsByTagName(tag):
        child = element.firstChild
        assert isinstance(child, xml.dom.minidom.Text)
        texts.append(child.data)
    return texts


def test_ofx_is_well_formed_with_signed_amounts() -> None:
    text = render_ofx([sample_document()])
    dom = xml.dom.minidom.parseString(text.encode())
    kinds = _texts(dom, "TRNTYPE")
    amounts = _texts(dom, "TRNAMT")
    assert kinds == ["CREDIT", "DEBIT"] and amounts == ["1000.00", "-19.50"]
    assert _texts(dom, "BALAMT")[0] == "1080.50"
    fitids = set(_texts(dom, "FITID"))
    assert len(fitids) == 2 and text == render_ofx([sample_document()])  # stable IDs


def test_every_writer_refuses_an_invalid_document() -> None:
    document = sample_document()
    document["transactions"][0]["amount"] = 1000.0
    for render in (render_json, render_csv, render_ofx):
        with pytest.raises(SchemaError):
            render([document])
        with pytest.raises(SchemaError):  # one bad account spoils the file's output
            render([sample_document(), document])


def two_accounts() -> list[dict[str, Any]]:
    """A file's two accounts, the second in USD and printing no identifier."""
    current, savings = sample_document(), sample_document()
    savings.update(iban=None, currency="USD")
    for index, document in enumerate((current, savings), 1):
        document["extraction"]["account"] = {"index": index, "count": 2}
    return [current, savings]


def test_one_account_is_an_object_several_are_an_array_of_statements() -> None:
    assert json.loads(render_json([sample_document()])) == sample_document()
    written = json.loads(render_json(two_accounts()))
    assert isinstance(written, list) and written == two_accounts()
    assert [d["extraction"]["account"]["index"] for d in written] == [1, 2]


def test_csv_rows_of_several_accounts_name_their_account_and_currency() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(two_accounts()))))
    assert [(r["account"], r["currency"]) for r in rows] == [
        ("DE89370400440532013000", "EUR"),
        ("DE89370400440532013000", "EUR"),
        ("#2", "USD"),
        ("#2", "USD"),
    ]
    alone = list(csv.DictReader(io.StringIO(render_csv([sample_document()]))))
    assert list(alone[0])[-1] == "account"  # the new column comes last: the others keep place


def test_ofx_holds_one_statement_response_per_account() -> None:
    text = render_ofx(two_accounts())
    dom = xml.dom.minidom.parseString(text.encode())
    assert len(dom.getElementsByTagName("STMTTRNRS")) == 2
    assert _texts(dom, "CURDEF") == ["EUR", "USD"]
    assert _texts(dom, "ACCTID") == ["DE89370400440532013000", "#2"]
    assert len(set(_texts(dom, "FITID"))) == 4  # same rows, other account: other IDs
    assert _texts(dom, "TRNUID") == ["0", "1"]


def test_an_array_of_one_statement_is_not_a_valid_output() -> None:
    """An output holds one statement per account: a lone account is an object, never a list
    (the schema's $defs/statements has at least two)."""
    with pytest.raises(SchemaError):
        validate_output([])
    with pytest.raises(SchemaError, match="at 0/transactions"):
        validate_output([{**sample_document(), "transactions": "none"}, sample_document()])


def test_atomic_write_is_private_and_leaves_no_temp_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out" / "s.json"
    write_atomic(target, "{}")
    assert target.read_text() == "{}"
    assert os.stat(target).st_mode & 0o777 == 0o600

    class Boom(str):
        def encode(self, *args: object, **kwargs: object) -> bytes:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, Boom("x"))
    assert target.read_text() == "{}"
    assert sorted(p.name for p in target.parent.iterdir()) == ["s.json"]
