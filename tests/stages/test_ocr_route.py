"""Route B (Nanonets-OCR-s on vLLM, then Qwen3 on Ollama) through the real clients against the
stand-ins: equal to ground truth, the official OCR request, loops cut, bad JSON repaired."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dualread.backends.base import BackendError
from dualread.documents import open_document
from dualread.stages import markdown_json, ocr_markdown
from dualread.stages.candidate import PassParams
from dualread.stages.markdown_json import context_window, markdown_to_candidate
from dualread.stages.ocr_markdown import transcribe
from dualread.stages.ocr_route import read_ocr
from dualread.stages.pageimage import page_png
from dualread.statement import model_output_schema
from dualread.testing.fixtures import OracleFile, StandinRoutes
from dualread.testing.oracle import load_truth
from dualread.testing.standins.answers import LOOP_LINE

pytestmark = pytest.mark.contract

PARAMS = PassParams(temperature=0.0, seed=0, dpi=200)
OFFICIAL_PROMPT = (
    "Extract the text from the above document as if you were reading it naturally. Return the "
    "tables in html format. Return the equations in LaTeX representation. If there is an image in "
    "the document and image caption is not present, add a small description of the image inside "
    "the <img></img> tag; otherwise, add the image caption inside <img></img>. Watermarks should "
    "be wrapped in brackets. Ex: <watermark>OFFICIAL COPY</watermark>. Page numbers should be "
    "wrapped in brackets. Ex: <page_number>14</page_number> or <page_number>9/22</page_number>. "
    "Prefer using ☐ and ☑ for check boxes."
)


@pytest.mark.parametrize("index", range(5), ids=["sample", "2pages", "4pages", "scan", "photo"])
def test_reads_the_statement_equal_to_the_truth(
    index: int, route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    fixture = route_fixtures[index]
    routes = servers()
    with open_document(fixture) as document:
        candidate = read_ocr(
            document, routes.backend("ocr"), routes.backend("json"), routes.settings, PARAMS
        )
        pages = tuple(document.page_numbers)
    assert candidate.statement.to_json_dict() == load_truth(fixture)
    assert candidate.route == "ocr" and candidate.pages == pages
    assert [raw.stage for raw in candidate.raw] == ["ocr_markdown"] * len(pages) + ["markdown_json"]
    assert {"ocr_markdown", "markdown_json", "encode"} <= set(candidate.timings)
    assert candidate.notes["prompt"] == {
        "ocr": ocr_markdown.PROMPT_KEY,
        "json": markdown_json.PROMPT_KEY,
    }
    assert routes.openai.stats()["roles"] == {"ocr": len(pages)}
    assert routes.ollama.stats()["roles"] == {"json": 1}


def test_ocr_asks_as_the_model_card_says(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes], oracle_file: OracleFile
) -> None:
    routes = servers(ocr_max_tokens=5000)
    with open_document(route_fixtures[1]) as document:
        ocr = transcribe(document, routes.backend("ocr"), routes.settings, PARAMS)
        images = [page_png(document, n, 200) for n in document.page_numbers]
    assert ocr_markdown.PROMPT.text == OFFICIAL_PROMPT
    sent = sorted(
        routes.openai.requests(), key=lambda r: str(r["body"]["messages"][0]["content"][0])
    )
    assert len(sent) == 2  # one page per request
    for request in sent:
        body = request["body"]
        assert body["model"] == "nanonets/Nanonets-OCR-s"
        assert body["temperature"] == 0.0 and body["max_tokens"] == 5000
        assert not {"repetition_penalty", "frequency_penalty", "response_format"} & set(body)
        image_part, text_part = body["messages"][0]["content"]
        assert image_part["image_url"]["url"] in {
            "sha256:" + hashlib.sha256(image).hexdigest() for image in images
        }
        assert text_part == {"type": "text", "text": OFFICIAL_PROMPT}
    oracle = json.loads(oracle_file(route_fixtures, 200).read_text())
    assert ocr.page_numbers == (1, 2)
    for page, image in zip(ocr.pages, images, strict=True):
        assert page.markdown == oracle[hashlib.sha256(image).hexdigest()]["markdown"]
        assert not page.truncated and not page.loop_cut


def test_an_ocr_loop_is_cut_and_the_statement_survives(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    fixture = route_fixtures[1]
    routes = servers(openai={"errors": "loop=1"}, ocr_max_tokens=3000)
    with open_document(fixture) as document:
        ocr = transcribe(document, routes.backend("ocr"), routes.settings, PARAMS)
        candidate = markdown_to_candidate(ocr, routes.backend("json"), routes.settings, PARAMS)
    for page in ocr.pages:
        assert page.truncated and page.loop_cut
        assert page.raw.text.count(LOOP_LINE) > 20  # the model looped to max_tokens...
        assert page.markdown.count(LOOP_LINE) <= 1  # ...and the loop was cut
    assert candidate.notes["loop_cut_pages"] == [1, 2]
    assert candidate.statement.to_json_dict() == load_truth(fixture)


def test_the_json_request_carries_every_page(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    routes = servers()
    with open_document(route_fixtures[1]) as document:
        read_ocr(document, routes.backend("ocr"), routes.backend("json"), routes.settings, PARAMS)
    (sent,) = routes.ollama.requests()
    body = sent["body"]
    prompt = body["messages"][0]["content"]
    assert body["model"] == "qwen3:8b"
    assert body["think"] is False
    assert body["format"] == model_output_schema()
    assert body["options"]["num_ctx"] == context_window(prompt)
    assert prompt.index("=== PAGE 1 ===") < prompt.index("=== END OF PAGE 1 ===")
    assert prompt.index("=== END OF PAGE 1 ===") < prompt.index("=== PAGE 2 ===")
    assert "images" not in body["messages"][0]


@pytest.mark.parametrize("fault", ["json.invalid_json=1", "json.truncate=1"])
def test_a_bad_json_answer_is_repaired(
    fault: str, route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    fixture = route_fixtures[0]
    routes = servers(ollama={"errors": fault})
    with open_document(fixture) as document:
        candidate = read_ocr(
            document, routes.backend("ocr"), routes.backend("json"), routes.settings, PARAMS
        )
    assert candidate.statement.to_json_dict() == load_truth(fixture)
    assert candidate.notes["repaired"] is True


def test_a_json_answer_that_stays_bad_fails_the_read(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    routes = servers(ollama={"errors": "json.invalid_json=2"})
    with open_document(route_fixtures[0]) as document, pytest.raises(BackendError, match="repair"):
        read_ocr(document, routes.backend("ocr"), routes.backend("json"), routes.settings, PARAMS)


def test_every_role_runs_on_either_server(
    route_fixtures: list[Path], servers: Callable[..., StandinRoutes]
) -> None:
    """Swapped: OCR and visual on Ollama, the JSON model on the vLLM stand-in."""
    fixture = route_fixtures[1]
    routes = servers(
        ollama={"models": ["nanonets/Nanonets-OCR-s", "openbmb/minicpm-v4.5:8b"]},
        openai={"models": ["qwen3:8b"]},
        backend_ocr="ollama",
        backend_json="openai",
    )
    with open_document(fixture) as document:
        candidate = read_ocr(
            document, routes.backend("ocr"), routes.backend("json"), routes.settings, PARAMS
        )
    assert candidate.statement.to_json_dict() == load_truth(fixture)
    assert routes.ollama.stats()["roles"] == {"ocr": 2}
    assert routes.openai.stats()["roles"] == {"json": 1}
