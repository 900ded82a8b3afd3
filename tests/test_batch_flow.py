"""The one batch flow, end to end through the library, the real clients and the stand-ins: the
defaults, a server dying mid-batch, ``--engine auto`` against ``doctor``, the record of every
pass and each file's own time."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from dualread import consensus
from dualread.api import ExtractionResult, ExtractOptions, extract, extract_many
from dualread.config import Role, Settings
from dualread.pipeline import AlwaysReady
from dualread.runtime.doctor import doctor_report
from dualread.runtime.errors import ServersUnavailable
from dualread.runtime.gpu import GpuReport
from dualread.testing.fixtures import StandinRoutes
from dualread.testing.standins.launch import RunningStandin

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "sample" / "statement.pdf"
LONGER = ROOT / "fixtures" / "corpus" / "d03-soll-haben-de-DE.pdf"  # two pages
MODELS_OLLAMA = ["openbmb/minicpm-v4.5:8b", "qwen3:8b"]
MODEL_OCR = ["nanonets/Nanonets-OCR-s"]


def _records(results: Sequence[ExtractionResult]) -> list[dict[str, Any]]:
    return [r.document["extraction"] for r in results if r.document is not None]


@pytest.mark.contract
def test_the_library_runs_the_third_voter_by_default(
    standin_routes: Callable[..., StandinRoutes],
) -> None:
    """Defect 1: ``third_voter=None`` is documented as on; ``extract()`` must not turn it off."""
    routes = standin_routes([SAMPLE], use_cache=False)
    result = extract(SAMPLE, settings=routes.settings, engine="vlm")
    assert result.document is not None, result.error
    passes = result.document["extraction"]["passes"]
    assert [p["route"] for p in passes] == ["visual", "ocr", "embedded"]


class _DiesOnDocument(AlwaysReady):
    """A server control whose servers go down for good at the ``dies_at``-th call of ``role``
    (what the real manager raises once its one restart has failed too)."""

    def __init__(self, role: Role, dies_at: int) -> None:
        super().__init__()
        self.role, self.dies_at, self.calls = role, dies_at, 0

    def call(self, role: Role, request: Callable[[], T]) -> T:
        if role == self.role:
            self.calls += 1
            if self.calls >= self.dies_at:
                raise ServersUnavailable("ollama at 127.0.0.1: died twice; restart failed")
        return request()


@pytest.mark.contract
def test_a_server_dying_on_document_9_of_10_keeps_documents_1_to_8(
    tmp_path: Path, standin_routes: Callable[..., StandinRoutes]
) -> None:
    """Defect 2: what was read before the failure is voted and written, not thrown away."""
    routes = standin_routes([SAMPLE], use_cache=False)
    paths = []
    for number in range(1, 11):
        paths.append(tmp_path / f"statement-{number:02}.pdf")
        shutil.copy(SAMPLE, paths[-1])
    results = list(
        extract_many(
            paths,
            settings=routes.settings,
            options=ExtractOptions(engine="vlm", third_voter=False),
            control=_DiesOnDocument("visual", dies_at=9),
        )
    )
    assert [r.source for r in results] == paths
    assert all(r.exit_code == 4 for r in results)  # the servers went down: the batch says so
    kept, lost = results[:8], results[8:]
    assert all(r.document is not None for r in kept), [r.error for r in kept]
    assert all(r.document is None and r.error and "died twice" in r.error for r in lost)
    for record in _records(kept):
        assert record["status"] == "unresolved"  # one route read it: nothing confirms it
        assert [p["route"] for p in record["passes"]] == ["visual"]


@pytest.mark.contract
def test_a_sleeping_vllm_the_user_runs_is_neither_sent_to_nor_woken(
    standin_routes: Callable[..., StandinRoutes],
) -> None:
    """Issue 13, item 4: vLLM holds a request to a sleeping engine until someone wakes it. With
    the servers the user runs, the OCR phase asks ``GET /is_sleeping`` first and stops the
    model phases there (exit 4, naming the server), instead of waiting out its timeout."""
    routes = standin_routes([SAMPLE], openai={"enable_sleep_mode": True}, use_cache=False)
    vllm = routes.openai
    httpx.post(f"{vllm.url}/sleep?level=1").raise_for_status()
    settings = routes.settings.replace(timeout_s=2.0)  # before the fix: two 2 s waits, exit 3
    result = extract(SAMPLE, settings=settings, engine="vlm", third_voter=False)
    assert result.exit_code == 4, result.error
    assert result.error is not None and f"{vllm.url} is asleep" in result.error
    assert result.document is not None  # route A's reading is still written
    assert vllm.stats()["sleep"] == {"sleeps": 1}  # nothing queued, nobody woke it


@pytest.mark.contract
def test_engine_auto_and_doctor_agree_when_a_model_is_not_pulled(
    standin_server: Callable[..., RunningStandin],
) -> None:
    """Defect 3: a server that answers but lacks a model cannot run the routes; ``auto`` and
    ``doctor`` give the same verdict because one function decides."""
    ollama = standin_server("ollama", models=MODELS_OLLAMA[:1])  # qwen3 not pulled
    vllm = standin_server("openai", models=MODEL_OCR, enable_sleep_mode=True)
    settings = Settings(ollama_url=ollama.api_url, vllm_url=vllm.api_url, use_cache=False)
    chosen: list[tuple[str, str]] = []
    results = list(
        extract_many(
            [SAMPLE],
            settings=settings,
            on_engine=lambda engine, reason: chosen.append((engine, reason)),
        )
    )
    report = doctor_report(settings, gpus=GpuReport((), "test", None))
    assert chosen[0][0] == report["engine"] == "embedded"
    assert "qwen3:8b" in chosen[0][1] and chosen[0][1] == report["engine_reason"]
    assert results[0].document is not None
    assert results[0].document["extraction"]["engine"] == "embedded"


@pytest.mark.contract
def test_a_failed_ocr_markdown_call_is_recorded_as_a_pass(
    standin_routes: Callable[..., StandinRoutes],
) -> None:
    """Defect 4: route B's first half failing leaves a failed pass in the record, as route A's
    failures do."""
    routes = standin_routes([SAMPLE], openai={"errors": "ocr.http500=99"}, use_cache=False)
    result = extract(SAMPLE, settings=routes.settings, engine="vlm", third_voter=False)
    assert result.document is not None, result.error
    passes = result.document["extraction"]["passes"]
    assert [p["route"] for p in passes] == ["visual", "ocr"]
    assert "error" not in passes[0] and "500" in passes[1]["error"]
    assert result.document["extraction"]["status"] == "unresolved"


@pytest.mark.contract
def test_each_file_reports_its_own_seconds(standin_routes: Callable[..., StandinRoutes]) -> None:
    """Defect 5: ``extraction.seconds`` is the file's own time, not the batch average: the
    slow answers of a longer statement are that statement's."""
    routes = standin_routes(
        [SAMPLE, LONGER], ollama={"errors": "slow=0.3"}, openai={"errors": "slow=0.3"}
    )
    options = ExtractOptions(engine="vlm", third_voter=False)
    results = list(
        extract_many(
            [SAMPLE, LONGER], settings=routes.settings.replace(use_cache=False), options=options
        )
    )
    records = _records(results)
    assert len(records) == 2
    for result, record in zip(results, records, strict=True):
        spent = sum(p["seconds"] for p in record["passes"])
        assert spent <= record["seconds"] < spent + 1.0, record
        assert result.elapsed_s == pytest.approx(record["seconds"], abs=0.001)
    # The batch average would give both files one figure; a file's pages are read concurrently,
    # so a longer file need not take longer, but the two files' own times differ.
    assert records[0]["seconds"] != records[1]["seconds"], records


@pytest.mark.unit
def test_the_embedded_engine_alone_honours_on_dispute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 6: ``--engine embedded`` votes with the configured ``on_dispute`` like every other
    engine (it was hard-coded "best")."""
    asked: list[str] = []
    decide = consensus.decide_accounts

    def spy(candidates: Any, **options: Any) -> consensus.FileDecision:
        asked.append(options["on_dispute"])
        return decide(candidates, **options)

    monkeypatch.setattr(consensus, "decide_accounts", spy)
    for on_dispute in ("null", "best"):
        settings = Settings(use_cache=False, on_dispute=on_dispute)
        result = extract(SAMPLE, settings=settings, engine="embedded")
        assert result.exit_code == 0, result.error
    assert asked == ["null", "best"]
