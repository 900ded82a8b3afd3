"""Reader mode: stand-ins that answer from the embedded engine's reading of the page they are sent.

The end-to-end tests OCR the sample's page once on each server (3-8 s a reading on two cores),
so they are marked slow; the rest read nothing or a blank image.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from dualread.api import ExtractionResult, extract
from dualread.stages.markdown_json import page_block
from dualread.testing.fixtures import StandinRoutes, StartRoutes, StartStandin
from dualread.testing.oracle import load_truth, page_truth
from dualread.testing.standins.answers import LOOP_LINE
from dualread.testing.standins.markdown import page_markdown, statement_in_markdown

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "fixtures" / "sample" / "statement.pdf"


def png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def dated_amounts(statement: dict[str, Any]) -> list[tuple[str, str]]:
    return [(row["date"], row["amount"]) for row in statement["transactions"]]


@pytest.mark.unit
def test_markdown_reads_back_to_the_page_statements_with_their_pages() -> None:
    """What a reader-mode JSON role answers for the markdown->JSON prompt: the statement the
    pages' markdown shows, each row on the page whose block holds it; the prompt's own text
    outside the page blocks and a loop's filler rows left out."""
    truth = load_truth(SAMPLE)
    first = page_truth(truth, 1, 1)
    rows = [{**row, "page": 2} for row in first["transactions"][:2]]
    second = {**page_truth(truth, 1, 0), "transactions": rows}
    prompt = "Rules: ...\nCurrency: not a header line\n\n" + "\n\n".join(
        [
            page_block(1, page_markdown(first, "1/2")),
            page_block(2, page_markdown(second) + ("\n" + LOOP_LINE) * 3),
        ]
    )
    statement = statement_in_markdown(prompt)
    assert {k: v for k, v in statement.items() if k != "transactions"} == {
        k: v for k, v in truth.items() if k != "transactions"
    }
    assert statement["transactions"] == first["transactions"] + second["transactions"]
    unmarked = statement_in_markdown(page_markdown(first))
    assert {row["page"] for row in unmarked["transactions"]} == {None}


@pytest.mark.unit
def test_reader_mode_without_dualreads_dependencies_fails_at_start_in_one_line() -> None:
    """As in a bare python3 image (``-S``: no site-packages), where oracle mode runs."""
    command = [sys.executable, "-S", "-m", "dualread.testing.standins", "ollama", "--reader"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.startswith("stand-in: No module named ")
    assert result.stderr.count("\n") == 1


@pytest.mark.contract
def test_an_image_that_does_not_decode_is_rejected(standin_server: StartStandin) -> None:
    server = standin_server("ollama", reader=True, allow_rejections=True)
    broken = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
    body = {
        "model": "openbmb/minicpm-v4.5:8b",
        "messages": [{"role": "user", "content": "Read", "images": [broken]}],
        "stream": False,
        "format": "json",
    }
    response = httpx.post(f"{server.url}/api/chat", json=body, timeout=60)
    assert response.status_code == 400
    assert response.json()["error"].startswith("page image: unsupported or unreadable")
    assert server.stats()["rejected"] == 1


@pytest.mark.contract
def test_a_page_without_a_statement_reads_as_an_empty_one(
    standin_server: StartStandin,
) -> None:
    server = standin_server("openai", reader=True)
    blank = png(Image.new("RGB", (400, 300), "white"))
    body = {
        "model": "nanonets/Nanonets-OCR-s",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{blank}"}},
                    {"type": "text", "text": "Transcribe"},
                ],
            }
        ],
    }
    for _ in range(2):  # the second time from the reader's memory
        response = httpx.post(f"{server.api_url}/chat/completions", json=body, timeout=120)
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"] == ""
    stats = server.stats()
    assert stats["reader"] == {"pages_read": 1, "unreadable": 1}
    assert stats["oracle"] == {"misses": 2}


def run(routes: StandinRoutes) -> ExtractionResult:
    return extract(SAMPLE, settings=routes.settings, engine="vlm", third_voter=False)


@pytest.mark.contract
@pytest.mark.slow
def test_both_routes_read_the_real_page_and_agree(standin_routes: StartRoutes) -> None:
    """No oracle: every answer comes from the engine reading the rendered page."""
    routes = standin_routes(reader=True, use_cache=False)
    result = run(routes)
    assert result.document is not None, result.error
    record = result.document["extraction"]
    assert result.exit_code == 0, record
    assert record["status"] == "agreed"
    truth = load_truth(SAMPLE)
    assert dated_amounts(result.document) == dated_amounts(truth)
    # On this clean digital render the engine reads every field exactly.
    statement = {
        k: v for k, v in result.document.items() if k not in ("extraction", "schema_version")
    }
    assert statement == truth
    for server in (routes.ollama, routes.openai):
        stats = server.stats()
        assert stats["reader"] == {"pages_read": 1}
        assert stats["rejected"] == 0


@pytest.mark.contract
@pytest.mark.slow
def test_errors_on_top_of_the_reading_are_resolved_by_consensus(
    standin_routes: StartRoutes,
) -> None:
    routes = standin_routes(
        reader=True,
        use_cache=False,
        ollama={"statement_errors": "sign_flip", "statement_error_roles": "visual", "seed": 3},
    )
    result = run(routes)
    assert result.document is not None, result.error
    record = result.document["extraction"]
    assert result.exit_code == 0, record["disputes"]
    assert record["status"] == "resolved"
    assert dated_amounts(result.document) == dated_amounts(load_truth(SAMPLE))
    assert min(record["confidence"]["transactions"]) < 1.0
