"""The stand-in vLLM server: strict checks, removed vLLM extras refused, and sleep mode."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from dualread.testing.fixtures import StartStandin

pytestmark = pytest.mark.contract

MODEL = "nanonets/Nanonets-OCR-s"


def completion(png_base64: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:image/png;base64,{png_base64}"},
                    },
                    {"type": "text", "text": "Extract the text."},
                ],
            }
        ],
        "temperature": 0.0,
        "max_completion_tokens": 100,
    }
    body.update(changes)
    return body


SCHEMA = {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"guided_json": {"type": "object"}}, "guided_json was removed in vLLM v0.12"),
        ({"repetition_penalty": 1.1}, "repetition_penalty on an OCR request"),
        ({"frequency_penalty": 0.5}, "frequency_penalty on an OCR request"),
        ({"max_token": 5}, "unknown key(s) max_token"),
        ({"max_completion_tokens": 0}, "max_completion_tokens must be at least 1"),
        ({"max_tokens": 100}, "max_tokens is deprecated in vLLM 0.32"),
        ({"temperature": "0"}, "temperature must be a number"),
        ({"stream": True}, "does not stream"),
        ({"n": 2}, "n must be 1"),
        (
            {"response_format": {"type": "json_schema"}},
            "response_format.json_schema must be an object",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "a b", "schema": {"type": "object"}},
                }
            },
            "json_schema.name must match",
        ),
        ({"response_format": {"type": "xml"}}, "response_format.type must be"),
        ({"messages": []}, "messages must not be empty"),
        ({"messages": [{"role": "user"}]}, "missing key(s) content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "image": "x"}]}]},
            "must be text or image_url",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}],
                    }
                ]
            },
            "must be a data: URL",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {"url": "data:image/jpeg;base64,aGVsbG8="},
                            }
                        ],
                    }
                ]
            },
            "is not a image/jpeg image",
        ),
    ],
)
def test_malformed_requests_are_rejected_and_counted(
    changes: dict[str, Any], reason: str, standin_server: StartStandin, png_base64: str
) -> None:
    server = standin_server("openai", allow_rejections=True)
    response = httpx.post(
        f"{server.api_url}/chat/completions", json=completion(png_base64, **changes)
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert reason in error["message"] and error["type"] == "BadRequestError"
    assert server.stats()["rejected"] == 1


def test_a_penalty_is_fine_where_no_table_is_transcribed(
    standin_server: StartStandin, png_base64: str
) -> None:
    server = standin_server("openai")
    body = completion(png_base64, repetition_penalty=1.1, response_format=SCHEMA)
    assert httpx.post(f"{server.api_url}/chat/completions", json=body).status_code == 200


def test_an_unknown_model_is_404(standin_server: StartStandin, png_base64: str) -> None:
    server = standin_server("openai", allow_rejections=True)
    response = httpx.post(
        f"{server.api_url}/chat/completions", json=completion(png_base64, model="x")
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "The model `x` does not exist."


def test_answer_shape_health_and_models(standin_server: StartStandin, png_base64: str) -> None:
    server = standin_server("openai")
    assert httpx.get(f"{server.url}/health").status_code == 200
    assert [m["id"] for m in httpx.get(f"{server.api_url}/models").json()["data"]] == [MODEL]
    answer = httpx.post(f"{server.api_url}/chat/completions", json=completion(png_base64)).json()
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert set(answer["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_max_tokens_cuts_the_answer(standin_server: StartStandin, png_base64: str) -> None:
    server = standin_server("openai")
    body = completion(png_base64, max_completion_tokens=2, response_format=SCHEMA)
    choice = httpx.post(f"{server.api_url}/chat/completions", json=body).json()["choices"][0]
    assert choice["finish_reason"] == "length" and len(choice["message"]["content"]) == 8


def test_sleep_endpoints_exist_only_with_sleep_mode(standin_server: StartStandin) -> None:
    plain = standin_server("openai", allow_rejections=True)
    assert httpx.post(f"{plain.url}/sleep?level=1").status_code == 404
    # Asking whether it sleeps is how a client learns it cannot: vLLM's 404, not a rejection.
    assert httpx.get(f"{plain.url}/is_sleeping").status_code == 404
    assert [r["path"] for r in plain.stats()["rejections"]] == ["/sleep"]
    server = standin_server("openai", enable_sleep_mode=True, allow_rejections=True)
    assert httpx.get(f"{server.url}/is_sleeping").json() == {"is_sleeping": False}
    assert httpx.post(f"{server.url}/sleep?level=3").status_code == 400
    assert httpx.post(f"{server.url}/sleep?level=1").status_code == 200
    assert httpx.get(f"{server.url}/is_sleeping").json() == {"is_sleeping": True}
    assert httpx.post(f"{server.url}/wake_up").status_code == 200
    assert httpx.get(f"{server.url}/is_sleeping").json() == {"is_sleeping": False}


def test_a_request_to_a_sleeping_engine_waits_for_the_wake_up(
    standin_server: StartStandin, png_base64: str
) -> None:
    server = standin_server("openai", enable_sleep_mode=True)
    assert httpx.post(f"{server.url}/sleep?level=1").status_code == 200
    with pytest.raises(httpx.ReadTimeout):  # queued, not refused: the client only sees its timeout
        httpx.post(f"{server.api_url}/chat/completions", json=completion(png_base64), timeout=0.5)
    answers: list[int] = []
    waiting = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                f"{server.api_url}/chat/completions", json=completion(png_base64), timeout=10
            ).status_code
        )
    )
    waiting.start()
    time.sleep(0.3)
    assert answers == []
    assert httpx.post(f"{server.url}/wake_up").status_code == 200
    waiting.join(10)
    assert answers == [200]
    assert server.stats()["sleep"]["requests_while_sleeping"] == 2


def test_vllm_flags_limit_the_context_and_the_images(
    standin_server: StartStandin, png_base64: str
) -> None:
    server = standin_server(
        "openai",
        allow_rejections=True,
        extra_args=["--max-model-len", "1024", "--limit-mm-per-prompt", '{"image": 1, "video": 0}'],
    )
    assert server.stats()["max_model_len"] == 1024
    too_long = httpx.post(
        f"{server.api_url}/chat/completions",
        json=completion(png_base64, max_completion_tokens=1000),
    )
    assert too_long.status_code == 400
    assert "maximum context length is 1024 tokens" in too_long.json()["error"]["message"]
    two = completion(png_base64)
    two["messages"][0]["content"].insert(0, two["messages"][0]["content"][0])
    refused = httpx.post(f"{server.api_url}/chat/completions", json=two)
    assert refused.status_code == 400 and "At most 1 image" in refused.json()["error"]["message"]
    assert httpx.get(f"{server.url}/version").json() == {"version": "0.32.0"}
