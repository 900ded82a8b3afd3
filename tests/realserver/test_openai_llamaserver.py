"""The openai backend against a real llama-server: shapes, schema, timeouts and retries (the
135M model's values are meaningless, so none are checked)."""

from __future__ import annotations

import socket
import time
from typing import Any

import jsonschema
import pytest

from dualread.backends.base import BackendError, ChatRequest, ServerUnreachable
from dualread.backends.jsonreply import InvalidAnswer, UnrepairedAnswer, ask_json
from dualread.backends.openai_compat import OpenAIBackend
from dualread.statement import model_output_schema

from .conftest import LlamaServer

pytestmark = pytest.mark.realserver

SMALL_SCHEMA = {
    "title": "greeting",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "count", "kind"],
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "count": {"type": "integer", "minimum": 0, "maximum": 100},
        "kind": {"enum": ["formal", "casual"]},
    },
}
REPAIR = "That was not valid: {error}."


def backend(server: LlamaServer, **options: Any) -> OpenAIBackend:
    return OpenAIBackend(server.api_url, **{"timeout_s": 120.0, "retries": 1, **options})


def schema_check(schema: dict[str, Any]) -> Any:
    def validate(data: dict[str, Any]) -> None:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(schema).iter_errors(data)
        )
        if error is not None:
            raise InvalidAnswer(error.message, "/".join(map(str, error.absolute_path)))

    return validate


def test_health_and_models(llama_server: LlamaServer) -> None:
    client = backend(llama_server)
    assert client.is_available()
    assert client.list_models() == [llama_server.model]


def test_chat_reports_tokens_finish_and_server_time(llama_server: LlamaServer) -> None:
    request = ChatRequest(model=llama_server.model, prompt="Say hello.", max_tokens=12, seed=1)
    reply = backend(llama_server).chat(request)
    assert isinstance(reply.text, str) and reply.text
    assert reply.finish_reason in {"stop", "length"}
    assert reply.prompt_tokens and 0 < (reply.completion_tokens or 0) <= 12
    assert reply.server_s is not None and 0 < reply.server_s <= reply.elapsed_s
    assert reply.attempts == 1


def test_structured_output_follows_the_schema(llama_server: LlamaServer) -> None:
    request = ChatRequest(
        model=llama_server.model,
        prompt="Describe a greeting as JSON with a name, a count and a kind.",
        json_schema=SMALL_SCHEMA,
        max_tokens=80,
        seed=1,
    )
    answer = ask_json(backend(llama_server), request, schema_check(SMALL_SCHEMA), repair=REPAIR)
    jsonschema.validate(answer.data, SMALL_SCHEMA)
    assert answer.reply.finish_reason == "stop"


def test_a_statement_cut_at_the_token_limit_is_reported(llama_server: LlamaServer) -> None:
    """The real grammar-constrained statement schema, with far too few tokens: truncated twice."""
    request = ChatRequest(
        model=llama_server.model,
        prompt="Bank statement of ACME Bank, 2024-01. Extract it.",
        json_schema=model_output_schema(),
        max_tokens=16,
        seed=1,
    )
    client = backend(llama_server)
    with pytest.raises(UnrepairedAnswer, match="output truncated at the token limit") as caught:
        ask_json(client, request, schema_check(model_output_schema()), repair=REPAIR)
    first, second = caught.value.replies
    assert first.finish_reason == second.finish_reason == "length"
    assert first.text.lstrip().startswith("{")  # the grammar held: a JSON object, cut short


def test_a_slow_answer_times_out_without_a_retry(llama_server: LlamaServer) -> None:
    request = ChatRequest(model=llama_server.model, prompt="Tell a long story.", max_tokens=150)
    started = time.perf_counter()
    with pytest.raises(BackendError, match=r"no answer within 0\.3 s") as caught:
        backend(llama_server, timeout_s=0.3, retries=3).chat(request)
    assert not isinstance(caught.value, ServerUnreachable)
    assert time.perf_counter() - started < 2.0  # one attempt, not four


def test_a_closed_port_is_retried_then_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OpenAIBackend(f"http://127.0.0.1:{port}/v1", retries=2, backoff_s=0.1)
    started = time.perf_counter()
    with pytest.raises(ServerUnreachable, match="not reachable after 3 attempts"):
        client.chat(ChatRequest(model="any", prompt="hello"))
    elapsed = time.perf_counter() - started
    assert 0.15 <= elapsed < 5.0  # two back-offs of 0.05-0.1 s and 0.1-0.2 s were waited
