"""The stages' pure parts: page merge, answer checks, prompts, concurrency, page images."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from dualread.backends.jsonreply import InvalidAnswer
from dualread.documents import open_document
from dualread.stages.answers import check_statement_answer
from dualread.stages.contexts import NUM_CTX, estimate_tokens
from dualread.stages.markdown_json import page_block, page_windows, window_budget
from dualread.stages.merge import merge_pages
from dualread.stages.pageimage import encode_png, page_png
from dualread.stages.parallel import map_concurrently
from dualread.stages.prompts import Prompt, load_prompt, prompt_key
from dualread.statement import Statement, Transaction
from dualread.testing.standins.runner import count_tokens

pytestmark = pytest.mark.unit


def row(day: int, amount: str, page: int | None = None) -> Transaction:
    return Transaction(date=dt.date(2024, 1, day), amount=Decimal(amount), page=page)


def test_merge_takes_each_header_field_from_the_page_that_shows_it() -> None:
    first = Statement(bank_name="Bank", closing_balance=Decimal("5"), transactions=[row(2, "-1")])
    second = Statement(iban="DE89370400440532013000", transactions=[row(3, "2"), row(4, "3")])
    last = Statement(bank_name="Other", closing_balance=Decimal("9"))
    merged = merge_pages([(3, last), (1, first), (2, second)])  # any order in, page order out
    assert merged.bank_name == "Bank"  # the first page that shows it
    assert merged.iban == "DE89370400440532013000"
    assert merged.closing_balance == Decimal("9")  # the closing balance: the last page wins
    assert [(t.date.day, t.page) for t in merged.transactions] == [(2, 1), (3, 2), (4, 2)]


def answer(**changes: Any) -> dict[str, Any]:
    base = Statement(transactions=[row(2, "-1.50")]).to_json_dict()
    base.update(changes)
    return base


def test_a_valid_answer_passes() -> None:
    check_statement_answer(answer(), pages={1})


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (answer(currency="euro"), "schema violation at currency"),
        (answer(extra="x"), "schema violation at (root)"),
        (answer(period_start="2024-02-30"), "invalid value at period_start"),
        (
            answer(transactions=[{**answer()["transactions"][0], "amount": "1,50"}]),
            "transactions/0/amount",
        ),
        (answer(transactions=[{**answer()["transactions"][0], "page": 7}]), "unknown page"),
    ],
)
def test_an_unusable_answer_is_named(data: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        check_statement_answer(data, pages={1, 2})
    assert where in caught.value.where
    assert "1,50" not in caught.value.where  # places, never values, go to logs


def test_prompts_fill_in_one_pass() -> None:
    prompt = Prompt("p", 1, 'A {x} and {y} and {"json": 1}')
    assert prompt.fill(x="{y}", y="Y") == 'A {y} and Y and {"json": 1}'
    with pytest.raises(KeyError):
        prompt.fill(z="1")


def test_prompt_files_load_with_their_version() -> None:
    visual = load_prompt("visual_json", 1)
    assert visual.id == "visual_json.v1" and "{rules}" in visual.text
    key = prompt_key(visual, load_prompt("statement_rules", 1))
    assert key.startswith("visual_json.v1+statement_rules.v1@")
    assert key != prompt_key(
        Prompt("visual_json", 1, visual.text + " "), load_prompt("statement_rules", 1)
    )


def test_pages_are_packed_into_windows_within_the_budget() -> None:
    assert page_block(3, "text") == "=== PAGE 3 ===\ntext\n=== END OF PAGE 3 ==="
    page = "\n".join(f"<tr><td>2024-01-{day:02d}</td><td>-{day}.50</td></tr>" for day in range(28))
    pages = [(number, page) for number in range(1, 11)] + [(11, (page + "\n") * 12)]
    budget = 2000
    windows = page_windows(pages, budget)
    numbers = [number for window in windows for number, _ in window.pieces]
    assert numbers[: numbers.index(11)] == list(range(1, 11)) and numbers.count(11) > 1
    assert all(estimate_tokens(w.markdown) <= budget for w in windows)
    assert len(windows[0].page_numbers) > 1  # several short pages share a window
    long_page = "".join(text for w in windows for number, text in w.pieces if number == 11)
    assert long_page.count("<tr>") == 28 * 12
    assert 0 < window_budget(NUM_CTX["json"]) < NUM_CTX["json"] // 2


def test_the_token_estimate_is_never_below_the_stand_ins_count() -> None:
    """The stand-in Ollama counts tokens as Qwen's tokenizer does on statements (each digit a
    token); the client's windows rely on its estimate being no lower."""
    texts = [
        "Opening balance: 1.234,56 EUR",
        "<tr><td>03.01.2024</td><td>Miete</td></tr>",
        "1.2.3.4",
        "Ю" * 7,
    ]
    for text in texts:
        assert estimate_tokens(text) >= count_tokens(text)


def test_concurrent_map_keeps_order_and_the_limit() -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def work(item: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return item * 10

    assert map_concurrently(work, list(range(9)), 3) == [i * 10 for i in range(9)]
    assert most == 3


def test_concurrent_map_stops_at_the_first_failure() -> None:
    started: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item == 0:
            raise ValueError("boom")
        time.sleep(0.2)
        return item

    with pytest.raises(ValueError, match="boom"):
        map_concurrently(work, list(range(20)), 2)
    assert len(started) < 20  # the calls not yet started were cancelled


def test_page_images_are_deterministic_png(tmp_path: Path) -> None:
    image = Image.new("RGB", (300, 200), "white")
    assert encode_png(image) == encode_png(image.copy())
    assert encode_png(image).startswith(b"\x89PNG\r\n\x1a\n")
    path = tmp_path / "page.png"
    image.save(path)
    with open_document(path) as document:
        assert page_png(document, 1, 200) == page_png(document, 1, 200)
