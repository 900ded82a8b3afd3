"""Model-level control against the stand-in servers: what is present and loaded, unload, load,
sleep and wake, each through the real HTTP endpoints (ollama client, openai client, httpx)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from dualread.backends.base import ChatRequest
from dualread.backends.factory import make_backend
from dualread.config import Settings
from dualread.runtime.admin import OllamaAdmin, VllmAdmin, ask_is_sleeping, ollama_model_name
from dualread.runtime.errors import ServersUnavailable
from dualread.runtime.external import ExternalLauncher, check_awake
from dualread.runtime.gpu import Gpu
from dualread.runtime.plan import make_plan
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import ServerSpec, server_set
from dualread.stages.contexts import NUM_CTX
from dualread.testing.standins.launch import RunningStandin, start_standin

pytestmark = pytest.mark.contract


def spec_for(standin: RunningStandin, kind: str) -> ServerSpec:
    port = urlsplit(standin.url).port
    url = f"http://127.0.0.1:{port}"
    settings = Settings(ollama_url=url) if kind == "ollama" else Settings(vllm_url=f"{url}/v1")
    return server_set(settings).server(kind)


@pytest.fixture
def ollama() -> Iterator[OllamaAdmin]:
    with start_standin("ollama", models=["openbmb/minicpm-v4.5:8b", "qwen3:8b"]) as standin:
        admin = OllamaAdmin(spec_for(standin, "ollama"))
        yield admin
        admin.close()


def test_ollama_unload_and_load(ollama: OllamaAdmin) -> None:
    assert ollama.healthy()
    assert ollama.missing_models() == []
    assert ollama.resident_models() == set()
    ollama.acquire("openbmb/minicpm-v4.5:8b")
    ollama.acquire("qwen3:8b")
    assert ollama.resident_models() == {"openbmb/minicpm-v4.5:8b", "qwen3:8b"}
    assert ollama.release(keep="qwen3:8b") == ["openbmb/minicpm-v4.5:8b"]
    assert ollama.resident_models() == {"qwen3:8b"}
    assert ollama.release() == ["qwen3:8b"]
    assert ollama.resident_models() == set()
    assert ollama.supports_release()


def test_ollama_missing_model_is_named_with_the_fix(ollama: OllamaAdmin) -> None:
    with pytest.raises(ServersUnavailable, match=r"has no model 'llava:7b'; pull it \(ollama pull"):
        ollama.acquire("llava:7b")


def test_ollama_names_without_a_tag_mean_latest() -> None:
    assert ollama_model_name("qwen3") == "qwen3:latest"
    assert ollama_model_name("qwen3:8b") == "qwen3:8b"
    assert ollama_model_name("registry.local:5000/qwen3") == "registry.local:5000/qwen3:latest"


@pytest.mark.parametrize("sleep_mode", [True, False])
def test_vllm_sleep_and_wake(sleep_mode: bool) -> None:
    models = ["nanonets/Nanonets-OCR-s"]
    with start_standin("openai", models=models, enable_sleep_mode=sleep_mode) as standin:
        admin = VllmAdmin(spec_for(standin, "vllm"))
        assert admin.healthy() and admin.missing_models() == []
        assert admin.supports_release() is sleep_mode
        assert admin.resident_models() == set(models)
        if sleep_mode:
            assert admin.release() == models
            assert admin.resident_models() == set()
            assert admin.release() == []  # asleep already
            admin.acquire(models[0])
            assert admin.resident_models() == set(models)
            assert standin.stats()["sleep"] == {"sleeps": 1, "wakes": 1}
        else:
            assert admin.release() == []  # nothing it can free without a restart
        with pytest.raises(ServersUnavailable, match="serves nanonets/Nanonets-OCR-s, not 'x'"):
            admin.acquire("x")
        admin.close()


def test_a_server_that_is_gone_is_unhealthy_and_named() -> None:
    standin = start_standin("ollama")
    admin = OllamaAdmin(spec_for(standin, "ollama"))
    standin.stop()
    try:
        assert not admin.healthy()
        with pytest.raises(
            ServersUnavailable, match=r"^ollama at http://127\.0\.0\.1:\d+: listing"
        ):
            admin.available_models()
    finally:
        admin.close()


def test_ollama_release_waits_until_the_runner_is_gone() -> None:
    """Ollama answers an unload at once and frees the model later (the stand-in after 1 s):
    waking vLLM before /api/ps stops listing it would put two models on the GPU."""
    models = ["openbmb/minicpm-v4.5:8b", "qwen3:8b"]
    with start_standin("ollama", models=models, extra_args=["--unload-delay", "1.0"]) as standin:
        admin = OllamaAdmin(spec_for(standin, "ollama"))
        try:
            admin.acquire("qwen3:8b")
            started = time.monotonic()
            assert admin.release() == ["qwen3:8b"]
            assert admin.resident_models() == set()
            assert time.monotonic() - started >= 0.9
        finally:
            admin.close()


def test_the_warm_up_loads_with_the_context_the_requests_send() -> None:
    """Every change of num_ctx reloads an Ollama model: the warm-up and the role's requests
    send the same one, so a phase costs one load."""
    with start_standin("ollama", models=["openbmb/minicpm-v4.5:8b", "qwen3:8b"]) as standin:
        spec = spec_for(standin, "ollama")
        admin = OllamaAdmin(spec)
        settings = Settings(ollama_url=spec.base_url)
        backend = make_backend(settings.role("json"), settings)
        try:
            admin.acquire("qwen3:8b")
            for _ in range(3):
                request = ChatRequest(model="qwen3:8b", prompt="ping", num_ctx=NUM_CTX["json"])
                backend.chat(request)
            assert standin.stats()["loads"] == {"qwen3:8b": 1}
        finally:
            admin.close()


def test_an_external_vllm_put_to_sleep_is_woken_before_a_request() -> None:
    """A sleeping vLLM queues a request until /wake_up: the manager asks /is_sleeping before
    sending to a server it does not run, and wakes it."""
    models = ["nanonets/Nanonets-OCR-s"]
    with start_standin("openai", models=models, enable_sleep_mode=True) as standin:
        settings = Settings(vllm_url=standin.api_url, retries=0, timeout_s=5.0)
        servers = server_set(settings)
        manager = ServerManager(make_plan([], servers), servers, ExternalLauncher())
        backend = make_backend(settings.role("ocr"), settings)
        request = ChatRequest(model=models[0], prompt="ping", max_tokens=8)
        try:
            manager.activate("ocr")
            httpx.post(f"{standin.url}/sleep?level=1").raise_for_status()  # someone else did
            assert manager.call("ocr", lambda: backend.chat(request)).text
        finally:
            manager.close(stop=False)
        assert "requests_while_sleeping" not in standin.stats()["sleep"]


def test_a_switch_waits_until_the_gpu_has_room() -> None:
    """Where NVML reads the GPU, the next model loads only once the freed memory shows."""
    # visual: vLLM sleeps, MiniCPM-V (13.8 GiB) waits out two readings; ocr: MiniCPM-V unloads,
    # Nanonets (11.2 GiB) waits out one.
    readings = iter([2.0, 2.0, 80.0, 5.0, 80.0])
    asked: list[tuple[int, ...]] = []

    def free_gib(gpus: tuple[int, ...]) -> float | None:
        asked.append(gpus)
        return next(readings)

    with (
        start_standin("ollama", models=["openbmb/minicpm-v4.5:8b", "qwen3:8b"]) as ollama,
        start_standin("openai", enable_sleep_mode=True) as vllm,
    ):
        settings = Settings(ollama_url=ollama.url, vllm_url=vllm.api_url)
        servers = server_set(settings)
        plan = make_plan([Gpu(0, "simulated 24 GB GPU", 24564, 0)], servers)
        manager = ServerManager(
            plan, servers, ExternalLauncher(), gpu_free_gib=free_gib, poll_s=0.01
        )
        try:
            manager.activate("visual")
            manager.activate("ocr")
        finally:
            manager.close(stop=False)
    assert asked == [(0,)] * 5 and next(readings, None) is None


def _answering(status: int, body: bytes) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(status, content=body))
    )


@pytest.mark.unit
def test_asking_whether_vllm_sleeps_tells_no_route_from_an_odd_answer() -> None:
    assert ask_is_sleeping(_answering(200, b'{"is_sleeping": true}'), "http://h") is True
    assert ask_is_sleeping(_answering(404, b'{"detail": "Not Found"}'), "http://h") is None
    for odd in (b"<html>", b'{"is_sleeping": "no"}', b"[]"):
        with pytest.raises(ValueError, match="is_sleeping"):
            ask_is_sleeping(_answering(200, odd), "http://h")
    with pytest.raises(httpx.HTTPStatusError):
        ask_is_sleeping(_answering(500, b""), "http://h")


@pytest.mark.unit
def test_a_vllm_that_does_not_answer_whether_it_sleeps_is_unavailable_naming_it() -> None:
    settings = Settings(vllm_url="http://user:secret@127.0.0.1:9/v1", connect_timeout_s=0.5)
    with pytest.raises(ServersUnavailable, match=r"ocr server at http://\*\*\*@127.0.0.1:9:"):
        check_awake(settings, "ocr")
    check_awake(settings, "visual")  # an Ollama role: nothing to ask
