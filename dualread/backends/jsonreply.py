"""Asking a model for JSON: parse, validate, and one repair re-ask that names the error.

Structured output makes invalid JSON rare but not impossible: Qwen3 with ``think: false`` plus a
``format`` schema has produced broken answers in some Ollama releases, and any answer can be cut
off at the token limit. One re-ask that tells the model what was wrong fixes most of these; a
second failure is reported, not retried forever.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dualread.backends.base import Backend, BackendError, ChatReply, ChatRequest
from dualread.backends.textclean import strip_think

REPAIR_ERROR_LIMIT = 500  # characters of the error quoted back to the model


class InvalidAnswer(ValueError):
    """An answer that is not the JSON asked for.

    ``str()`` is the full detail, which may quote the answer and goes only to the model in the
    repair re-ask. ``where`` names the place (a JSON path, a parse position) without content, for
    messages and logs.
    """

    def __init__(self, detail: str, where: str) -> None:
        super().__init__(detail)
        self.where = where


@dataclass(frozen=True)
class JsonAnswer:
    """A validated JSON object and the replies it took: one, or two after a repair re-ask."""

    data: dict[str, Any]
    replies: tuple[ChatReply, ...]

    @property
    def reply(self) -> ChatReply:
        return self.replies[-1]

    @property
    def repaired(self) -> bool:
        return len(self.replies) > 1


def parse_json_object(reply: ChatReply) -> dict[str, Any]:
    """The JSON object in ``reply``: ``<think>`` blocks, code fences and chatter around it are
    tolerated; an answer cut at the token limit is not, even if what came is parseable."""
    if reply.finish_reason == "length":
        raise InvalidAnswer(
            "your answer was cut off at the token limit; answer more compactly "
            "(no indentation, no extra text)",
            "output truncated at the token limit",
        )
    text = strip_think(reply.text)
    decoder = json.JSONDecoder()
    first_error: json.JSONDecodeError | None = None
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as error:
            first_error = first_error or error
        else:
            if isinstance(value, dict):
                return value
        start = text.find("{", start + 1)
    if first_error is None:
        raise InvalidAnswer("the answer holds no JSON object", "no JSON object")
    where = f"invalid JSON at character {first_error.pos}: {first_error.msg}"
    raise InvalidAnswer(f"the answer is not valid JSON ({where})", where)


class UnrepairedAnswer(BackendError):
    """The answer was invalid, and so was the answer to the repair re-ask. Keeps both replies."""

    def __init__(self, message: str, replies: tuple[ChatReply, ...]) -> None:
        super().__init__(message)
        self.replies = replies


def _checked(reply: ChatReply, validate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = parse_json_object(reply)
    validate(data)
    return data


def ask_json(
    backend: Backend,
    request: ChatRequest,
    validate: Callable[[dict[str, Any]], None],
    *,
    repair: str,
) -> JsonAnswer:
    """Ask, parse and ``validate`` (which raises :class:`InvalidAnswer`); on failure ask once more
    with ``repair`` (a text holding ``{error}``) appended to the prompt.

    Raises :class:`UnrepairedAnswer` (a :class:`BackendError`) when the repaired answer is invalid
    too.
    """
    first = backend.chat(request)
    try:
        return JsonAnswer(_checked(first, validate), (first,))
    except InvalidAnswer as error:
        first_error = error
    detail = str(first_error)[:REPAIR_ERROR_LIMIT]
    note = repair.replace("{error}", detail)
    repaired = dataclasses.replace(request, prompt=f"{request.prompt}\n\n{note}")
    second = backend.chat(repaired)
    try:
        return JsonAnswer(_checked(second, validate), (first, second))
    except InvalidAnswer as second_error:
        raise UnrepairedAnswer(
            f"{backend.name} model {request.model}: invalid answer, also after a repair re-ask "
            f"({first_error.where}; then {second_error.where})",
            (first, second),
        ) from None
