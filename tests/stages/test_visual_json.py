"""Route A through the Ollama client against the stand-in: equal to ground truth, page by page."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from dualread.backends.base import BackendError, ServerUnreachable
from dualread.backends.ollama import OllamaBackend
from dualread.documents import open_document
from dualread.stages import visual_json
from dualread.stages.candidate import PassParams
from dualread.stages.contexts import NUM_CTX
from dualread.stages.pageimage import page_png
from dualread.stages.visual_json import read_visual
from dualread.statement import model_output_schema
from dualread.testing.fixtures import StandinRoutes
from dualread.testing.oracle import load_truth

pytestmark = pytest.mark.contract

PARAMS = PassParams(temperature=0.0, seed=0, dpi=200)


@pytest.mark.parametrize("index", range(5), ids=["sample", "2pages", "4pages", "scan", "photo"])
def test_reads_every_page_and_equals_the_truth(
    index: int, route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    fixture = route_fixtures[index]
    running = servers()
    with open_document(fixture) as document:
        candidate = read_visual(document, running.backend("visual"), running.settings, PARAMS)
        pages = tuple(document.page_numbers)
    assert candidate.statement.to_json_dict() == load_truth(fixture)
    assert candidate.route == "visual" and candidate.pages == pages and candidate.params == PARAMS
    assert [raw.pages for raw in candidate.raw] == [(n,) for n in pages]
    assert {"visual_json", "encode"} <= set(candidate.timings)
    assert candidate.notes["prompt"] == visual_json.PROMPT_KEY
    stats = running.ollama.stats()
    assert stats["roles"] == {"visual": len(pages)}
    assert stats["oracle"] == {"hits": len(pages)}


def test_reads_only_the_pages_asked_for(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    fixture = route_fixtures[2]
    running = servers()
    with open_document(fixture) as document:
        candidate = read_visual(
            document, running.backend("visual"), running.settings, PARAMS, pages=[2, 3]
        )
    truth = load_truth(fixture)
    rows = [row for row in truth["transactions"] if row["page"] in (2, 3)]
    assert candidate.pages == (2, 3)
    assert candidate.statement.to_json_dict()["transactions"] == rows
    assert candidate.statement.bank_name is None  # the header is printed on page 1 only


def test_the_request_is_what_the_model_needs(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    fixture = route_fixtures[0]
    running = servers()
    params = PassParams(temperature=0.4, seed=3, dpi=200)
    with open_document(fixture) as document:
        read_visual(document, running.backend("visual"), running.settings, params)
        image = page_png(document, 1, 200)
    (sent,) = running.ollama.requests()
    body = sent["body"]
    assert body["model"] == running.settings.model_visual
    assert body["format"] == model_output_schema()
    assert body["options"] == {
        "temperature": 0.4,
        "seed": 3,
        "num_ctx": NUM_CTX["visual"],
        "num_predict": visual_json.MAX_ANSWER_TOKENS,  # a looping model is cut, not waited for
    }
    # MiniCPM-V 4.5 thinks unless told not to: minutes of reasoning before each page's answer.
    assert body["think"] is False
    assert "thinking_answers" not in running.ollama.stats().get("context", {})
    (message,) = body["messages"]
    assert message["images"] == ["sha256:" + hashlib.sha256(image).hexdigest()]
    assert message["content"] == visual_json.PROMPT.fill(rules=visual_json.RULES.text)


@pytest.mark.parametrize(("limit", "overlap"), [(4, True), (1, False)])
def test_pages_are_asked_concurrently_up_to_the_limit(
    limit: int, overlap: bool, route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    running = servers(ollama={"errors": "slow=0.5"}, concurrency=limit)
    with open_document(route_fixtures[2]) as document:
        read_visual(document, running.backend("visual"), running.settings, PARAMS)
    in_flight = running.ollama.stats()["max_in_flight"]
    assert (in_flight >= 2) if overlap else (in_flight == 1)


def test_an_invalid_page_answer_is_repaired(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    fixture = route_fixtures[1]
    running = servers(ollama={"errors": "visual.invalid_json=1"})
    with open_document(fixture) as document:
        candidate = read_visual(document, running.backend("visual"), running.settings, PARAMS)
    assert candidate.statement.to_json_dict() == load_truth(fixture)
    assert candidate.notes["repaired_pages"] == [1, 2]
    assert len(candidate.raw) == 4  # the broken answer and the repaired one, per page


def test_a_page_that_stays_invalid_fails_the_read(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    running = servers(ollama={"errors": "visual.truncate=2"})
    with (
        open_document(route_fixtures[0]) as document,
        pytest.raises(BackendError, match="truncated"),
    ):
        read_visual(document, running.backend("visual"), running.settings, PARAMS)


def test_no_server_means_unavailable(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    running = servers()
    dead = OllamaBackend("http://127.0.0.1:9", retries=0)  # port 9 (discard): nothing listens
    with open_document(route_fixtures[0]) as document, pytest.raises(ServerUnreachable):
        read_visual(document, dead, running.settings, PARAMS)


def test_statement_level_errors_reach_the_candidate(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    """A stand-in that drops one row per page answer (testing.errors): the stage passes it on."""
    fixture = route_fixtures[1]
    running = servers(ollama={"statement_errors": "drop_row", "seed": 3})
    with open_document(fixture) as document:
        candidate = read_visual(document, running.backend("visual"), running.settings, PARAMS)
    truth = load_truth(fixture)
    rows = candidate.statement.to_json_dict()["transactions"]
    assert len(rows) == len(truth["transactions"]) - 2  # one per page
    assert all(row in truth["transactions"] for row in rows)
