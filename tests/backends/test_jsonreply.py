"""Parse, validate and one repair re-ask: the logic, with a scripted backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from dualread.backends.base import ChatReply, ChatRequest
from dualread.backends.jsonreply import (
    InvalidAnswer,
    UnrepairedAnswer,
    ask_json,
    parse_json_object,
)

pytestmark = pytest.mark.unit

REPAIR = "Your answer was wrong: {error}. Again, please."


def reply(text: str, finish: str | None = "stop") -> ChatReply:
    return ChatReply(text=text, model="m", elapsed_s=0.0, finish_reason=finish)


@dataclass
class ScriptedBackend:
    """Answers from a list, and remembers the prompts it was asked."""

    answers: list[ChatReply]
    prompts: list[str] = field(default_factory=list)
    name: str = "scripted"
    base_url: str = "scripted://"

    def chat(self, request: ChatRequest) -> ChatReply:
        self.prompts.append(request.prompt)
        return self.answers.pop(0)

    def is_available(self) -> bool:
        return True


def needs_key_a(data: dict[str, Any]) -> None:
    if "a" not in data:
        raise InvalidAnswer("key 'a' is missing (got " + ", ".join(data) + ")", "(root)/a")


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',
        '```json\n{"a": 1}\n```',
        'Here is the JSON:\n{"a": 1}\nHope it helps.',
        '<think>\nThe user wants {"a": 0}?\n</think>\n{"a": 1}',
        '{"a": 1}{"a": 2}',
    ],
)
def test_the_json_object_is_found(text: str) -> None:
    assert parse_json_object(reply(text)) == {"a": 1}


@pytest.mark.parametrize(
    ("text", "finish", "where"),
    [
        ('{"a": 1,}', "stop", "invalid JSON at character 8"),
        ('{"a": "unterminated', None, "invalid JSON at character 6"),
        ('{"a": 1}', "length", "output truncated at the token limit"),
        ("no json here", "stop", "no JSON object"),
        ("[1, 2]", "stop", "no JSON object"),
    ],
)
def test_invalid_answers_are_named(text: str, finish: str | None, where: str) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        parse_json_object(reply(text, finish))
    assert caught.value.where.startswith(where)


def test_a_valid_answer_takes_one_call() -> None:
    backend = ScriptedBackend([reply('{"a": 1}')])
    answer = ask_json(backend, ChatRequest(model="m", prompt="P"), needs_key_a, repair=REPAIR)
    assert answer.data == {"a": 1}
    assert not answer.repaired
    assert backend.prompts == ["P"]


def test_an_invalid_answer_is_repaired_with_the_error_in_the_prompt() -> None:
    backend = ScriptedBackend([reply('{"b": 1}'), reply('{"a": 2}')])
    answer = ask_json(backend, ChatRequest(model="m", prompt="P"), needs_key_a, repair=REPAIR)
    assert answer.data == {"a": 2}
    assert answer.repaired and len(answer.replies) == 2
    assert (
        backend.prompts[1]
        == "P\n\nYour answer was wrong: key 'a' is missing (got b). Again, please."
    )


def test_a_truncated_answer_is_repaired() -> None:
    backend = ScriptedBackend([reply('{"a": 1', "length"), reply('{"a": 1}')])
    answer = ask_json(backend, ChatRequest(model="m", prompt="P"), needs_key_a, repair=REPAIR)
    assert answer.data == {"a": 1}
    assert "cut off at the token limit" in backend.prompts[1]


def test_two_invalid_answers_raise_with_places_not_content() -> None:
    backend = ScriptedBackend([reply('{"secret": 1}'), reply("{broken")])
    with pytest.raises(UnrepairedAnswer) as caught:
        ask_json(backend, ChatRequest(model="m", prompt="P"), needs_key_a, repair=REPAIR)
    message = str(caught.value)
    assert "(root)/a" in message and "invalid JSON at character 1" in message
    assert "secret" not in message  # statement content stays out of messages and logs
    assert [r.text for r in caught.value.replies] == ['{"secret": 1}', "{broken"]
