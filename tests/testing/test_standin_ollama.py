"""The stand-in Ollama server: strict checks on every request, and the endpoints images use."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from dualread.testing.fixtures import StartStandin
from dualread.testing.standins.launch import RunningStandin, start_standin

pytestmark = pytest.mark.contract

MODEL = "qwen3:8b"


def chat(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": False,
        "options": {"temperature": 0.0, "num_ctx": 4096},
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (chat(temperature=0), "unknown key(s) temperature"),
        (chat(model=""), "model must not be empty"),
        ({"messages": []}, "missing key(s) model"),
        (chat(options={"temprature": 0.1}), "options.temprature: unknown option"),
        (chat(options={"num_ctx": "4096"}), "options.num_ctx must be an integer"),
        (chat(options={"seed": True}), "options.seed must be an integer"),
        (chat(stream="no"), "stream must be true or false"),
        (chat(format={"properties": {}}), "format must be a JSON schema of type object"),
        (chat(think="maybe"), "think must be true, false"),
        (chat(keep_alive=[5]), "keep_alive must be"),
        (chat(messages=[{"role": "robot", "content": "x"}]), "messages[0].role must be one of"),
        (chat(messages=[{"role": "user", "content": 5}]), "messages[0].content must be a string"),
        (chat(messages=[{"role": "user", "content": "x", "image": []}]), "unknown key(s) image"),
        (chat(messages=[{"role": "user", "content": "x", "images": ["%%%"]}]), "not valid base64"),
        (chat(messages=[{"role": "user", "content": "x", "images": ["aGVsbG8="]}]), "image"),
    ],
)
def test_malformed_chat_requests_are_rejected_and_counted(
    body: dict[str, Any], reason: str, standin_server: StartStandin
) -> None:
    server = standin_server("ollama", allow_rejections=True)
    response = httpx.post(f"{server.url}/api/chat", json=body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    stats = server.stats()
    assert stats["rejected"] == 1 and reason in stats["rejections"][0]["reason"]
    assert "model_calls" not in stats  # nothing was answered


def test_unknown_models_are_404_like_ollama(standin_server: StartStandin) -> None:
    server = standin_server("ollama", allow_rejections=True)
    response = httpx.post(f"{server.url}/api/chat", json=chat(model="llama9"))
    assert response.status_code == 404
    assert response.json() == {"error": 'model "llama9" not found, try pulling it first'}


def test_a_well_formed_chat_is_answered(standin_server: StartStandin, png_base64: str) -> None:
    server = standin_server("ollama")
    body = chat(
        messages=[{"role": "user", "content": "Read", "images": [png_base64]}], format="json"
    )
    answer = httpx.post(f"{server.url}/api/chat", json=body).json()
    assert answer["done"] is True and answer["done_reason"] == "stop"
    assert answer["message"]["role"] == "assistant"
    assert answer["total_duration"] > 0 and answer["eval_count"] > 0
    assert server.stats()["oracle"] == {"misses": 1}


def test_chat_streams_by_default_as_ollama_does(standin_server: StartStandin) -> None:
    server = standin_server("ollama")
    body = chat()
    del body["stream"]
    response = httpx.post(f"{server.url}/api/chat", json=body)
    assert response.headers["content-type"] == "application/x-ndjson"
    first, last = (httpx.Response(200, content=line).json() for line in response.text.splitlines())
    assert first["done"] is False and first["message"]["content"]
    assert last["done"] is True and last["message"]["content"] == ""


def test_server_endpoints(standin_server: StartStandin) -> None:
    server = standin_server("ollama", allow_rejections=True)
    assert httpx.get(server.url).text == "Ollama is running"
    assert httpx.head(server.url).status_code == 200
    assert httpx.get(f"{server.url}/api/version").json()["version"]
    names = [m["name"] for m in httpx.get(f"{server.url}/api/tags").json()["models"]]
    assert names == ["openbmb/minicpm-v4.5:8b", "qwen3:8b"]  # dualread's defaults
    assert httpx.get(f"{server.url}/api/ps").json() == {"models": []}
    assert httpx.get(f"{server.url}/api/nothing").status_code == 404
    assert httpx.get(f"{server.url}/api/chat").status_code == 405


def listed(server: RunningStandin) -> list[str]:
    return [m["name"] for m in httpx.get(f"{server.url}/api/ps").json()["models"]]


def test_load_and_a_lazy_unload_through_generate(standin_server: StartStandin) -> None:
    server = standin_server("ollama", extra_args=["--unload-delay", "0.5"])
    loaded = httpx.post(f"{server.url}/api/generate", json={"model": MODEL}).json()
    assert loaded["done_reason"] == "load"
    assert listed(server) == [MODEL]
    unloaded = httpx.post(f"{server.url}/api/generate", json={"model": MODEL, "keep_alive": 0})
    assert unloaded.json()["done_reason"] == "unload"
    assert listed(server) == [MODEL]  # the answer comes at once; the runner leaves later
    time.sleep(0.6)
    assert listed(server) == []
    assert server.stats()["unloads"] == 1
    answered = httpx.post(
        f"{server.url}/api/generate", json={"model": MODEL, "prompt": "Hi", "stream": False}
    )
    assert answered.json()["response"]


@pytest.mark.parametrize("stream", [True, False])
def test_pull_keeps_the_model_in_the_store(stream: bool, tmp_path: Path) -> None:
    store = tmp_path / "models"
    with start_standin("ollama", models=[], models_dir=store) as server:
        assert httpx.get(f"{server.url}/api/tags").json() == {"models": []}
        pulled = httpx.post(f"{server.url}/api/pull", json={"model": "qwen3:8b", "stream": stream})
        statuses = [line for line in pulled.text.splitlines() if line]
        assert '"success"' in statuses[-1]
        assert (store / "manifests/registry.ollama.ai/library/qwen3/8b").is_file()
        assert server.stats()["pulled"] == ["qwen3:8b"]
    with start_standin("ollama", models=[], models_dir=store) as restarted:
        names = [m["name"] for m in httpx.get(f"{restarted.url}/api/tags").json()["models"]]
        assert names == ["qwen3:8b"]


def test_reset_clears_counts(standin_server: StartStandin) -> None:
    server = standin_server("ollama", errors="http500=1")
    assert httpx.post(f"{server.url}/api/chat", json=chat()).status_code == 500
    server.reset()
    assert "faults" not in server.stats()
    assert httpx.post(f"{server.url}/api/chat", json=chat()).status_code == 500  # counts restart


def test_every_new_num_ctx_reloads_the_model(standin_server: StartStandin) -> None:
    server = standin_server("ollama")
    for num_ctx in (4096, 4096, 8192, 4096):
        assert httpx.post(f"{server.url}/api/chat", json=chat(options={"num_ctx": num_ctx}))
    httpx.post(f"{server.url}/api/generate", json={"model": MODEL})  # no options: the default
    assert server.stats()["loads"] == {MODEL: 3}
    assert httpx.get(f"{server.url}/api/ps").json()["models"][0]["context_length"] == 4096


def test_a_prompt_longer_than_num_ctx_loses_its_start(standin_server: StartStandin) -> None:
    server = standin_server("ollama", allow_rejections=True)
    prompt = "Follow these instructions. " + "filler text " * 2000 + "The end."
    body = chat(
        messages=[{"role": "user", "content": prompt}], options={"num_ctx": 1024}, think=False
    )
    refused = httpx.post(f"{server.url}/api/chat", json={**body, "truncate": False})
    assert refused.status_code == 400
    assert "exceeds the context length" in refused.json()["error"]
    cut = httpx.post(f"{server.url}/api/chat", json=body).json()
    assert cut["prompt_eval_count"] <= 1024
    assert server.stats()["context"] == {"truncated_prompts": 1}


def test_thinking_models_think_unless_told_not_to(standin_server: StartStandin) -> None:
    server = standin_server("ollama", models=["qwen3:8b", "minicpm-v"], allow_rejections=True)
    thought = httpx.post(f"{server.url}/api/chat", json=chat()).json()
    assert thought["message"]["thinking"] and thought["message"]["content"]
    capped = httpx.post(
        f"{server.url}/api/chat", json=chat(options={"num_predict": 100})
    ).json()  # the reasoning spends the budget before the answer starts
    assert capped["message"]["content"] == "" and capped["done_reason"] == "length"
    plain = httpx.post(f"{server.url}/api/chat", json=chat(think=False)).json()
    assert "thinking" not in plain["message"]
    not_thinking = httpx.post(f"{server.url}/api/chat", json=chat(model="minicpm-v", think=True))
    assert not_thinking.status_code == 400
    assert "does not support thinking" in not_thinking.json()["error"]
    answered = httpx.post(f"{server.url}/api/chat", json=chat(model="minicpm-v", think=False))
    assert answered.status_code == 200


def test_version_is_the_pinned_one(standin_server: StartStandin) -> None:
    server = standin_server("ollama")
    assert httpx.get(f"{server.url}/api/version").json() == {"version": "0.35.1"}
