"""Model-level control against the stand-in servers: what is present and loaded, unload, load,
sleep and wake, each through the real HTTP endpoints (ollama client, openai client, httpx)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from dualread.config import Settings
from dualread.runtime.admin import OllamaAdmin, VllmAdmin, ollama_model_name
from dualread.runtime.errors import ServersUnavailable
from dualread.runtime.servers import ServerSpec, server_set
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
