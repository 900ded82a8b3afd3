"""Route B (Nanonets-OCR-s on vLLM, then Qwen3 on Ollama) through the real clients against the
stand-ins: equal to ground truth, the official OCR request, loops cut, bad JSON repaired."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualread.backends.base import Backend, BackendError
from dualread.backends.factory import make_backend
from dualread.config import Settings
from dualread.documents import Document, open_document
from dualread.stages import markdown_json, ocr_markdown
from dualread.stages.candidate import Candidate, PassParams, RawOutput
from dualread.stages.contexts import NUM_CTX
from dualread.stages.markdown_json import markdown_to_candidate
from dualread.stages.ocr_markdown import OcrPages, PageMarkdown, transcribe
from dualread.stages.pageimage import page_png
from dualread.statement import model_output_schema
from dualread.testing.fixtures import OracleFile, StandinRoutes, StartStandin
from dualread.testing.oracle import load_truth, page_truth
from dualread.testing.standins.answers import LOOP_LINE
from dualread.testing.standins.markdown import page_markdown

pytestmark = pytest.mark.contract
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample" / "statement.pdf"


def read_ocr(
    document: Document, ocr: Backend, json_backend: Backend, settings: Settings, params: PassParams
) -> Candidate:
    """Route B as the pipeline runs it: every page's markdown, then the statement from it."""
    return markdown_to_candidate(
        transcribe(document, ocr, settings, params), json_backend, settings, params
    )


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
    windows = candidate.notes["windows"]
    assert [page for window in windows for page in window] == list(pages)
    assert [raw.stage for raw in candidate.raw] == ["ocr_markdown"] * len(pages) + [
        "markdown_json"
    ] * len(windows)
    assert {"ocr_markdown", "markdown_json", "encode"} <= set(candidate.timings)
    assert candidate.notes["prompt"] == {
        "ocr": ocr_markdown.PROMPT_KEY,
        "json": markdown_json.PROMPT_KEY,
    }
    assert routes.openai.stats()["roles"] == {"ocr": len(pages)}
    assert routes.ollama.stats()["roles"] == {"json": len(windows)}


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
        assert body["temperature"] == 0.0 and body["max_completion_tokens"] == 5000
        assert "max_tokens" not in body
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
    assert body["options"]["num_ctx"] == NUM_CTX["json"]
    assert "pages 1 to 2 of a bank statement that has 2 pages" in prompt
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


def long_markdown(pages: int) -> tuple[OcrPages, dict[str, Any]]:
    """``pages`` dense pages of markdown as Nanonets writes them (the sample's header on page 1,
    its rows repeated on every page), and the statement they hold."""
    truth = load_truth(SAMPLE)
    first = page_truth(truth, 1, 1)
    rows = first["transactions"] * max(1, 40 // len(first["transactions"]))
    transcribed = []
    every_row: list[dict[str, Any]] = []
    for page in range(1, pages + 1):
        on_page = [{**row, "page": page} for row in rows]
        header = first if page == 1 else dict.fromkeys(first)
        text = page_markdown({**header, "transactions": on_page}, f"{page}/{pages}")
        raw = RawOutput("ocr_markdown", (page,), text, "nanonets/Nanonets-OCR-s", 0.0)
        transcribed.append(PageMarkdown(page, text, raw, False, False, 0.0))
        every_row += on_page
    statement = {**first, "transactions": every_row}
    return OcrPages(tuple(transcribed), "nanonets/Nanonets-OCR-s", 0.0), statement


@pytest.mark.slow
def test_a_long_statement_is_read_in_windows_that_fit_the_context(
    standin_server: StartStandin,
) -> None:
    """Ollama keeps the first 4 tokens and the tail of a prompt longer than num_ctx: one request
    for 40 dense pages would lose the instructions, the header and the early pages' rows."""
    ocr, expected = long_markdown(40)
    ollama = standin_server("ollama", reader=True)
    settings = Settings(ollama_url=ollama.url, retries=0, timeout_s=60.0)
    backend = make_backend(settings.role("json"), settings)
    candidate = markdown_to_candidate(ocr, backend, settings, PARAMS)
    stats = ollama.stats()
    assert "truncated_prompts" not in stats.get("context", {})
    assert stats["loads"] == {"qwen3:8b": 1}  # one num_ctx for every window
    assert len(candidate.notes["windows"]) > 1
    got = candidate.statement.to_json_dict()
    assert {k: v for k, v in got.items() if k != "transactions"} == {
        k: v for k, v in expected.items() if k != "transactions"
    }
    assert [(r["page"], r["date"], r["amount"]) for r in got["transactions"]] == [
        (r["page"], r["date"], r["amount"]) for r in expected["transactions"]
    ]
