"""End to end through the real clients and the stand-in servers: routes, fast path, extra passes,
the vote and the arithmetic tie-break, down to exit codes and the ``extraction`` record."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualread.api import ExtractionResult, extract
from dualread.config import Settings
from dualread.testing.standins.launch import RunningStandin

pytestmark = pytest.mark.contract

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample" / "statement.pdf"
MODELS_OLLAMA = ["openbmb/minicpm-v4.5:8b", "qwen3:8b"]
MODEL_OCR = ["nanonets/Nanonets-OCR-s"]


def truth_of(pdf: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(pdf.with_suffix(".truth.json").read_text())
    return data


def statement_part(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("extraction", "schema_version")}


@pytest.fixture
def servers(
    standin_server: Callable[..., RunningStandin], oracle_file: Callable[..., Path]
) -> Callable[..., Settings]:
    """``servers(visual_errors=..., ocr_errors=...)``: stand-ins in oracle mode, as Settings."""

    def start(*, visual_errors: str = "", json_errors: str = "", seed: int = 7) -> Settings:
        oracle = oracle_file([SAMPLE], dpi=(200, 300, 250))
        ollama = standin_server(
            "ollama",
            models=MODELS_OLLAMA,
            oracle=oracle,
            statement_errors=visual_errors or json_errors or None,
            statement_error_roles=",".join(
                role for role, on in (("visual", visual_errors), ("json", json_errors)) if on
            )
            or None,
            seed=seed,
        )
        vllm = standin_server("openai", models=MODEL_OCR, oracle=oracle)
        return Settings(ollama_url=ollama.api_url, vllm_url=vllm.api_url, use_cache=False)

    return start


def run(settings: Settings, **kwargs: Any) -> ExtractionResult:
    return extract(SAMPLE, settings=settings, engine="vlm", third_voter=False, **kwargs)


def test_routes_alone_print_the_ground_truth_from_the_command_line(
    standin_server: Callable[..., RunningStandin], oracle_file: Callable[..., Path]
) -> None:
    oracle = oracle_file([SAMPLE], dpi=200)
    ollama = standin_server("ollama", models=MODELS_OLLAMA, oracle=oracle)
    vllm = standin_server("openai", models=MODEL_OCR, oracle=oracle)
    for route in ("visual", "ocr"):
        result = subprocess.run(
            [
                *(sys.executable, "-m", "dualread", "extract", str(SAMPLE), "--route", route),
                *("--ollama-url", ollama.api_url, "--vllm-url", vllm.api_url, "--no-cache"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ},
        )
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert statement_part(document) == statement_part(truth_of(SAMPLE))
        assert document["extraction"]["status"] == "single"
        assert f"engine: {route}" in result.stderr


def test_agreement_is_the_fast_path(servers: Callable[..., Settings]) -> None:
    result = run(servers())
    assert result.exit_code == 0
    assert result.document is not None
    record = result.document["extraction"]
    assert record["status"] == "agreed"
    assert [p["route"] for p in record["passes"]] == ["visual", "ocr"]
    assert record["disputes"] == []
    assert statement_part(result.document) == statement_part(truth_of(SAMPLE))
    assert min(record["confidence"]["transactions"]) == 1.0


@pytest.mark.parametrize("error", ["drop_row", "sign_flip", "digit_swap", "merge_rows"])
def test_one_route_wrong_is_resolved_by_extra_passes_and_arithmetic(
    servers: Callable[..., Settings], error: str
) -> None:
    result = run(servers(visual_errors=error))
    assert result.document is not None, result.error
    record = result.document["extraction"]
    assert result.exit_code == 0, record["disputes"]
    assert record["status"] == "resolved"  # caught: the routes did not simply agree
    # Settled by the arithmetic alone, or by extra route-A passes on the disputed page only.
    assert all(p["route"] == "visual" and p["pages"] == [1] for p in record["passes"][2:])
    assert min(record["confidence"]["transactions"]) < 1.0
    assert statement_part(result.document) == statement_part(truth_of(SAMPLE))


def test_both_routes_wrong_differently_is_unresolved_and_listed(
    tmp_path: Path,
    standin_server: Callable[..., RunningStandin],
    oracle_file: Callable[..., Path],
) -> None:
    """Route A always reads the closing balance one way, route B another, neither balances."""
    copies = {}
    for name, closing in (("visual", "6877.85"), ("ocr", "6887.58")):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(SAMPLE, folder / SAMPLE.name)
        truth = truth_of(SAMPLE) | {"closing_balance": closing}
        (folder / SAMPLE.with_suffix(".truth.json").name).write_text(json.dumps(truth))
        copies[name] = oracle_file([folder / SAMPLE.name], dpi=(200, 300, 250))
    ollama = standin_server("ollama", models=MODELS_OLLAMA, oracle=copies["visual"])
    vllm = standin_server("openai", models=MODELS_OLLAMA[1:] + MODEL_OCR, oracle=copies["ocr"])
    settings = Settings(
        ollama_url=ollama.api_url, vllm_url=vllm.api_url, backend_json="openai", use_cache=False
    )
    result = run(settings)
    assert result.exit_code == 3
    assert result.document is not None
    record = result.document["extraction"]
    assert record["status"] == "unresolved"
    # Route A repeats its value on the first extra pass; a third identical answer could not
    # settle it (support counts routes), so the page is futile and no fourth pass runs.
    assert len(record["passes"]) == 3
    disputes = [d for d in record["disputes"] if d["field"] == "closing_balance"]
    assert len(disputes) == 1
    values = {c["value"] for c in disputes[0]["candidates"]}
    assert {"6877.85", "6887.58"} <= values
    assert result.document["closing_balance"] is None  # --on-dispute null (the default)

    best = run(settings.replace(on_dispute="best"))
    assert best.document is not None and best.document["closing_balance"] in values
