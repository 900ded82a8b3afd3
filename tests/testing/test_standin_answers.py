"""What the stand-ins answer: fault profiles, the oracle lookups, and the answer composition."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from dualread.testing.standins.answers import LOOP_LINE, Answerer, ChatCall
from dualread.testing.standins.faults import FaultProfile, ProfileError
from dualread.testing.standins.oracle_index import OracleIndex, empty_statement, merge_truths
from dualread.testing.standins.server import Stats

pytestmark = pytest.mark.unit

IMAGE = b"\x89PNG\r\n\x1a\nfake page"


def truth(page: int, bank: str | None = None) -> dict[str, Any]:
    row = {"date": f"2024-01-0{page}", "amount": "-1.00", "page": page}
    return {**empty_statement(), "bank_name": bank, "transactions": [row]}


INDEX = {
    hashlib.sha256(IMAGE).hexdigest(): {
        "truth": truth(1, "Bank"),
        "markdown": "Bank\n<table>p1</table>",
    },
    "other": {"truth": truth(2), "markdown": "<table>p2</table>"},
    "empty": {"truth": empty_statement(), "markdown": "<page_number>2</page_number>"},
}


def test_profiles_parse_with_roles_and_values() -> None:
    profile = FaultProfile.parse("http500=2, json.invalid_json, slow=0.25,think")
    assert [profile.counted_fault("json", n) for n in range(4)] == [
        "http500",
        "http500",
        "invalid_json",
        None,
    ]
    assert [profile.counted_fault("visual", n) for n in range(3)] == ["http500", "http500", None]
    assert profile.delay("ocr") == 0.25 and profile.flag("think", "text")
    for bad in ("nope=1", "robot.http500=1", "http500=x"):
        with pytest.raises(ProfileError):
            FaultProfile.parse(bad)


def test_the_oracle_finds_pages_by_image_and_by_markdown() -> None:
    oracle = OracleIndex(INDEX)
    assert oracle.page(IMAGE) == INDEX[hashlib.sha256(IMAGE).hexdigest()]
    assert oracle.page(b"other bytes") is None
    text = (
        "=== PAGE 2 ===\n<table>p2</table>\n<page_number>2</page_number>\n"
        "=== PAGE 1 ===\nBank\n<table>p1</table>"
    )
    found = oracle.pages_in(text)
    assert [e["markdown"] for e in found] == [
        "<table>p2</table>",
        "<page_number>2</page_number>",
        "Bank\n<table>p1</table>",
    ]
    assert oracle.pages_in("Bank\n<table>p1</table><page_number>2</page_number>") != []
    with pytest.raises(ValueError, match="needs 'truth' and 'markdown'"):
        OracleIndex({"x": {"truth": {}}})


def test_contained_matches_are_dropped() -> None:
    oracle = OracleIndex(
        {"a": {"truth": truth(1), "markdown": "rows <page_number>2</page_number>"}, **INDEX}
    )
    found = oracle.pages_in("rows <page_number>2</page_number>")
    assert [e["markdown"] for e in found] == ["rows <page_number>2</page_number>"]


def test_merged_truths_take_the_first_header_value_and_all_rows() -> None:
    merged = merge_truths([truth(1, "Bank"), truth(2, "Other")])
    assert merged["bank_name"] == "Bank"
    assert [r["page"] for r in merged["transactions"]] == [1, 2]


def answerer(faults: str = "") -> Answerer:
    return Answerer(Stats(), oracle=OracleIndex(INDEX), faults=FaultProfile.parse(faults))


def test_each_role_answers_from_the_oracle() -> None:
    answers = answerer()
    visual = answers.answer(ChatCall("m", (IMAGE,), "read", wants_json=True))
    assert json.loads(visual.content) == truth(1, "Bank")
    ocr = answers.answer(ChatCall("m", (IMAGE,), "ocr", wants_json=False))
    assert ocr.content == "Bank\n<table>p1</table>"
    both = answers.answer(ChatCall("m", (), "<table>p2</table> and Bank\n<table>p1</table>", True))
    assert [r["page"] for r in json.loads(both.content)["transactions"]] == [2, 1]
    miss = answers.answer(ChatCall("m", (b"\x89PNG\r\n\x1a\nunknown",), "read", True))
    assert json.loads(miss.content) == empty_statement()
    assert answers.stats.snapshot()["oracle"] == {"hits": 3, "misses": 1}


def test_a_reask_that_extends_a_prompt_is_the_same_request() -> None:
    answers = answerer("json.invalid_json=1")
    first = answers.answer(ChatCall("m", (), "<table>p2</table>", True))
    repaired = answers.answer(
        ChatCall("m", (), "<table>p2</table>\n\nYour answer was invalid.", True)
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(first.content)
    assert json.loads(repaired.content)["transactions"][0]["page"] == 2
    other_seed = answers.answer(ChatCall("m", (), "<table>p2</table>", True, seed=5))
    with pytest.raises(json.JSONDecodeError):
        json.loads(other_seed.content)  # another seed is another request (an extra pass)


def test_a_loop_runs_to_max_tokens() -> None:
    result = answerer("loop=1").answer(ChatCall("m", (IMAGE,), "ocr", False, max_tokens=500))
    assert result.finish_reason == "length"
    assert len(result.content) == 500 * 4
    assert result.content.startswith("Bank\n<table>p1</table>\n" + LOOP_LINE)


def test_http500_then_success() -> None:
    answers = answerer("http500=1")
    call = ChatCall("m", (IMAGE,), "read", True)
    assert answers.answer(call).status == 500
    assert answers.answer(call).status == 200
