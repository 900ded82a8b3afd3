"""The one small interface every model backend implements.

Stages speak only :class:`ChatRequest` / :class:`ChatReply`, so any role (visual, OCR, JSON) can
run on either Ollama or an OpenAI-compatible server, chosen in config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class BackendError(Exception):
    """A model call that failed after retries. ``str()`` is one line, with no statement content.

    Where it sits among dualread's errors, and its exit code: :mod:`dualread.exit_codes`.
    """


class ServerUnreachable(BackendError):
    """The server could not be reached at all (connection refused, DNS, timeout on connect).

    One server on one call; :class:`dualread.runtime.errors.ServersUnavailable` is the runtime
    giving up on the servers a batch needs."""


class NoAnswer(BackendError):
    """The server took the request and gave no answer within ``timeout_s``: hung, or far too
    slow. Not retried (the model may still be busy with this very request); a batch stops
    asking a server that leaves several documents in a row unanswered (:mod:`dualread.pipeline`)."""


@dataclass(frozen=True)
class ChatRequest:
    model: str
    prompt: str
    images: tuple[bytes, ...] = ()  # encoded page images (PNG or JPEG bytes)
    image_mime: str = "image/png"
    system: str | None = None
    json_schema: dict[str, Any] | None = None  # structured output; None for free text
    temperature: float = 0.0
    seed: int | None = None
    max_tokens: int | None = None
    num_ctx: int | None = None  # Ollama only
    think: bool | None = (
        None  # None: off (Ollama sends think false; others leave it to the template)
    )
    keep_alive: str | int | None = None  # Ollama only


@dataclass(frozen=True)
class ChatReply:
    text: str
    model: str
    elapsed_s: float  # wall time of the call as dualread saw it, retries included
    server_s: float | None = None  # time the server reports it spent, when it reports one
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None  # "length" means the output was cut by max_tokens
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """A model server client: one blocking call, safe to use from several threads."""

    name: str
    base_url: str

    def chat(self, request: ChatRequest) -> ChatReply: ...

    def is_available(self) -> bool: ...
