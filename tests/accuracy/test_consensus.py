"""Consensus beats either route alone: the stand-ins answer with the truth plus seeded,
model-like errors, and the two routes' errors are independent (each answer draws its own)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dualread.config import Settings
from dualread.evaluate import evaluate, summarize
from dualread.evaluate.truth import case_for
from dualread.testing.standins.launch import RunningStandin
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.accuracy, pytest.mark.contract]

FIXTURES = [
    REPO_ROOT / "fixtures" / "sample" / "statement.pdf",
    *(
        REPO_ROOT / "fixtures" / "corpus" / f"{name}.pdf"
        for name in ("d01-signed-en-US", "d05-trailing-minus-de-DE", "d13-debit-credit-nl-NL")
    ),
]
MODELS_OLLAMA = ["openbmb/minicpm-v4.5:8b", "qwen3:8b"]
MODEL_OCR = ["nanonets/Nanonets-OCR-s"]
EXTRA_PASS_DPIS = (200, 300, 250)  # the pass ladder of dualread.pipeline at the default DPI


@pytest.mark.parametrize("error", ["digit_swap", "drop_row", "sign_flip"])
def test_consensus_row_f1_beats_each_single_route(
    error: str,
    standin_server: Callable[..., RunningStandin],
    oracle_file: Callable[..., Path],
) -> None:
    oracle = oracle_file(FIXTURES, dpi=EXTRA_PASS_DPIS)
    ollama = standin_server(
        "ollama",
        models=MODELS_OLLAMA,
        oracle=oracle,
        statement_errors=error,
        statement_error_roles="visual,json",
        seed=5,
    )
    vllm = standin_server("openai", models=MODEL_OCR, oracle=oracle)
    settings = Settings(ollama_url=ollama.api_url, vllm_url=vllm.api_url, use_cache=False)
    cases = [case_for(path) for path in FIXTURES]
    f1 = {}
    for route in ("visual", "ocr", None):
        # No embedded third voter: it reads these digital files perfectly and would decide alone.
        scores = list(
            evaluate(cases, settings=settings, engine="vlm", route=route, third_voter=False)
        )
        assert all(score.error is None for score in scores), [s.error for s in scores]
        f1[route or "vlm"] = summarize(scores).rows.f1
    assert f1["visual"] < 1 and f1["ocr"] < 1, f1  # the profile really injected errors
    assert f1["vlm"] > max(f1["visual"], f1["ocr"]), f1
