"""Both backends through their official clients against the stand-in servers: the request shapes
the servers document, and every error path (5xx, server down, timeout, unknown model)."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from dualread.backends.base import BackendError, ChatRequest, ServerUnreachable
from dualread.backends.jsonreply import UnrepairedAnswer, ask_json, parse_json_object
from dualread.backends.ollama import OllamaBackend
from dualread.backends.openai_compat import OpenAIBackend, schema_name
from dualread.statement import model_output_schema
from dualread.testing.fixtures import StartStandin
from dualread.testing.standins.launch import RunningStandin

pytestmark = pytest.mark.contract

KINDS = ["ollama", "openai"]
MODEL = {"ollama": "qwen3:8b", "openai": "nanonets/Nanonets-OCR-s"}
REPAIR = "Invalid: {error}."
Backend = OllamaBackend | OpenAIBackend


def make(server: RunningStandin | str, kind: str, **options: Any) -> Backend:
    url = server if isinstance(server, str) else server.api_url
    settings: dict[str, Any] = {"timeout_s": 10.0, "retries": 2, "backoff_s": 0.01, **options}
    return OllamaBackend(url, **settings) if kind == "ollama" else OpenAIBackend(url, **settings)


def visual_request(kind: str, image: bytes, **changes: Any) -> ChatRequest:
    fields: dict[str, Any] = {
        "model": MODEL[kind],
        "prompt": "Read the page.",
        "images": (image,),
        "json_schema": model_output_schema(),
        "temperature": 0.3,
        "seed": 7,
        "max_tokens": 2000,
        **changes,
    }
    return ChatRequest(**fields)


def no_reject(data: dict[str, Any]) -> None:
    return None


@pytest.mark.parametrize("kind", KINDS)
def test_chat_with_an_image_and_a_schema(
    kind: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind)
    reply = make(server, kind).chat(visual_request(kind, page_image))
    assert parse_json_object(reply)["transactions"] == []  # the oracle knows no blank page
    assert reply.finish_reason == "stop"
    assert reply.attempts == 1
    assert reply.model == MODEL[kind]
    assert reply.completion_tokens and reply.prompt_tokens
    assert reply.elapsed_s > 0
    if kind == "ollama":  # Ollama reports total_duration; vLLM reports no server time
        assert reply.server_s is not None and reply.server_s > 0
    stats = server.stats()
    assert stats["roles"] == {"visual": 1}
    assert stats["model_calls"] == {MODEL[kind]: 1}


def test_ollama_request_shape(standin_server: StartStandin, page_image: bytes) -> None:
    server = standin_server("ollama")
    request = visual_request(
        "ollama", page_image, system="Be exact.", num_ctx=8192, think=False, keep_alive="10m"
    )
    make(server, "ollama").chat(request)
    (sent,) = server.requests()
    body = sent["body"]
    assert sent["path"] == "/api/chat"
    assert body["stream"] is False
    assert body["format"] == model_output_schema()
    assert body["options"] == {"temperature": 0.3, "seed": 7, "num_ctx": 8192, "num_predict": 2000}
    assert body["keep_alive"] == "10m" and body["think"] is False
    assert body["messages"] == [
        {"role": "system", "content": "Be exact."},
        {
            "role": "user",
            "content": "Read the page.",
            "images": ["sha256:" + hashlib.sha256(page_image).hexdigest()],
        },
    ]


def test_ollama_requests_never_think_unless_asked(
    standin_server: StartStandin, page_image: bytes
) -> None:
    """Ollama turns thinking on for a thinking-capable model when `think` is left out, and the
    reasoning then spends the answer's token budget."""
    server = standin_server("ollama")
    reply = make(server, "ollama").chat(visual_request("ollama", page_image))
    (sent,) = server.requests()
    assert sent["body"]["think"] is False
    assert "thinking" not in reply.extra and reply.finish_reason == "stop"
    assert "context" not in server.stats()


def test_openai_request_shape(standin_server: StartStandin, page_image: bytes) -> None:
    server = standin_server("openai")
    make(server, "openai").chat(visual_request("openai", page_image, think=False))
    (sent,) = server.requests()
    body = sent["body"]
    assert sent["path"] == "/v1/chat/completions"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": schema_name(model_output_schema()),
            "schema": model_output_schema(),
        },
    }
    assert body["response_format"]["json_schema"]["name"].startswith("dualread_bank_statement_")
    assert (body["temperature"], body["seed"], body["max_completion_tokens"]) == (0.3, 7, 2000)
    assert "max_tokens" not in body  # deprecated in vLLM 0.32
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    image_part, text_part = body["messages"][0]["content"]  # image first, as Nanonets was trained
    assert image_part == {
        "type": "image_url",
        "image_url": {"url": "sha256:" + hashlib.sha256(page_image).hexdigest()},
    }
    assert text_part == {"type": "text", "text": "Read the page."}


@pytest.mark.parametrize("kind", KINDS)
def test_5xx_is_retried_then_succeeds(
    kind: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind, errors="http500=2")
    reply = make(server, kind, retries=3).chat(visual_request(kind, page_image))
    assert reply.attempts == 3
    assert server.stats()["faults"] == {"http500": 2}


@pytest.mark.parametrize("kind", KINDS)
def test_persistent_5xx_is_a_backend_error(
    kind: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind, errors="http500=10")
    with pytest.raises(BackendError) as caught:
        make(server, kind, retries=2).chat(visual_request(kind, page_image))
    assert not isinstance(caught.value, ServerUnreachable)
    assert "failed after 3 attempts (HTTP 500)" in str(caught.value)
    assert server.stats()["faults"] == {"http500": 3}


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_that_is_down_is_unavailable(
    kind: str, closed_port_url: str, page_image: bytes
) -> None:
    backend = make(closed_port_url, kind, retries=2)
    assert backend.is_available() is False
    with pytest.raises(ServerUnreachable, match="not reachable after 3 attempts"):
        backend.chat(visual_request(kind, page_image))


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_timeout_is_an_error_and_not_retried(
    kind: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind, errors="slow=3")
    started = time.perf_counter()
    with pytest.raises(BackendError, match=r"no answer within 0\.5 s") as caught:
        make(server, kind, timeout_s=0.5).chat(visual_request(kind, page_image))
    assert not isinstance(caught.value, ServerUnreachable)
    assert time.perf_counter() - started < 2.5
    assert server.stats()["model_calls"] == {MODEL[kind]: 1}


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_model_is_not_retried(
    kind: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind, allow_rejections=True)
    with pytest.raises(BackendError, match="404") as caught:
        make(server, kind).chat(visual_request(kind, page_image, model="no-such-model"))
    assert not isinstance(caught.value, ServerUnreachable)
    assert server.stats()["rejected"] == 1  # one request: a 4xx is not retried


@pytest.mark.parametrize("kind", KINDS)
def test_health_and_models(kind: str, standin_server: StartStandin) -> None:
    server = standin_server(kind)
    backend = make(server, kind)
    assert backend.is_available() is True
    assert MODEL[kind] in backend.list_models()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", ["invalid_json=1", "truncate=1"])
def test_a_bad_answer_is_repaired_by_one_reask(
    kind: str, fault: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind, errors=fault)
    answer = ask_json(
        make(server, kind), visual_request(kind, page_image), no_reject, repair=REPAIR
    )
    assert answer.repaired
    assert answer.replies[0].finish_reason == ("length" if "truncate" in fault else "stop")
    assert answer.data["transactions"] == []
    repair_prompt = server.requests()[1]["body"]["messages"][0]
    assert "Invalid: " in str(repair_prompt)


@pytest.mark.parametrize("kind", KINDS)
def test_two_bad_answers_are_reported(
    kind: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind, errors="invalid_json=2")
    with pytest.raises(UnrepairedAnswer, match="invalid answer, also after a repair re-ask"):
        ask_json(make(server, kind), visual_request(kind, page_image), no_reject, repair=REPAIR)


@pytest.mark.parametrize("kind", KINDS)
def test_think_blocks_and_fences_are_tolerated(
    kind: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind, errors="think,fence")
    reply_text = make(server, kind).chat(visual_request(kind, page_image)).text
    assert reply_text.startswith("<think>") and "```json" in reply_text
    answer = ask_json(
        make(server, kind), visual_request(kind, page_image), no_reject, repair=REPAIR
    )
    assert not answer.repaired


@pytest.mark.parametrize("kind", KINDS)
def test_one_backend_serves_many_threads(
    kind: str, standin_server: StartStandin, page_image: bytes
) -> None:
    server = standin_server(kind, errors="slow=0.3")
    backend = make(server, kind)
    requests = [visual_request(kind, page_image, seed=n) for n in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(backend.chat, requests))
    assert all(r.finish_reason == "stop" for r in replies)
    assert server.stats()["max_in_flight"] >= 2


def test_a_request_to_a_sleeping_vllm_waits_for_the_wake_up(
    standin_server: StartStandin, page_image: bytes
) -> None:
    """vLLM queues it: the client sees nothing but its own timeout, which is why the scheduler
    never sends to a server it knows is asleep."""
    server = standin_server("openai", enable_sleep_mode=True)
    backend = make(server, "openai", retries=1, timeout_s=1.0)
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(server.url + "/sleep?level=1", method="POST"))
    with pytest.raises(BackendError, match="no answer within 1 s"):
        backend.chat(visual_request("openai", page_image))
    urllib.request.urlopen(urllib.request.Request(server.url + "/wake_up", method="POST"))
    assert backend.chat(visual_request("openai", page_image)).finish_reason == "stop"
    assert server.stats()["sleep"] == {"sleeps": 1, "wakes": 1, "requests_while_sleeping": 1}
