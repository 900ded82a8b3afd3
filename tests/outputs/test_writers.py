from __future__ import annotations

import csv
import io
import os
import xml.dom.minidom
from pathlib import Path
from typing import Any

import pytest

from dualread.outputs import render_csv, render_json, render_ofx, write_atomic
from dualread.statement import SchemaError, Statement, Transaction

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
    rows = list(csv.DictReader(io.StringIO(render_csv(sample_document()))))
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
    text = render_ofx(sample_document())
    dom = xml.dom.minidom.parseString(text.encode())
    kinds = _texts(dom, "TRNTYPE")
    amounts = _texts(dom, "TRNAMT")
    assert kinds == ["CREDIT", "DEBIT"] and amounts == ["1000.00", "-19.50"]
    assert _texts(dom, "BALAMT")[0] == "1080.50"
    fitids = set(_texts(dom, "FITID"))
    assert len(fitids) == 2 and text == render_ofx(sample_document())  # stable IDs


def test_every_writer_refuses_an_invalid_document() -> None:
    document = sample_document()
    document["transactions"][0]["amount"] = 1000.0
    for render in (render_json, render_csv, render_ofx):
        with pytest.raises(SchemaError):
            render(document)


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
