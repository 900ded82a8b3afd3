"""Ollama through the official ``ollama`` client: ``/api/chat`` with images, a JSON-schema
``format``, options, ``keep_alive`` and ``think``.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import ollama

from dualread.backends.base import BackendError, ChatReply, ChatRequest, NoAnswer
from dualread.backends.retry import RetryingBackend, TransientError

NANOSECONDS = 1e9
ERROR_TEXT_LIMIT = 200  # server error texts are quoted in one-line messages, never in full


class OllamaBackend(RetryingBackend):
    """A thread-safe Ollama client: one ``ollama.Client`` (one httpx pool) per backend."""

    name = "ollama"
    label = "Ollama"

    def _connect(self) -> None:
        timeout = httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s)
        self._client = ollama.Client(host=self.base_url, timeout=timeout)

    def chat(self, request: ChatRequest) -> ChatReply:
        started = time.perf_counter()
        arguments = chat_arguments(request)
        server = self.describe(request.model)
        response, attempts = self.retrying(lambda: self._attempt(arguments, server), request.model)
        extra: dict[str, Any] = {}
        if response.load_duration:
            extra["load_s"] = response.load_duration / NANOSECONDS
        if response.message.thinking:
            extra["thinking"] = response.message.thinking
        return ChatReply(
            text=response.message.content or "",
            model=response.model or request.model,
            elapsed_s=time.perf_counter() - started,
            server_s=None
            if response.total_duration is None
            else response.total_duration / NANOSECONDS,
            prompt_tokens=response.prompt_eval_count,
            completion_tokens=response.eval_count,
            finish_reason=response.done_reason,
            attempts=attempts,
            extra=extra,
        )

    def _attempt(self, arguments: dict[str, Any], server: str) -> ollama.ChatResponse:
        try:
            response: ollama.ChatResponse = self._client.chat(**arguments, stream=False)
        except ollama.ResponseError as error:
            if error.status_code >= 500:
                raise TransientError(f"HTTP {error.status_code}", reached=True) from None
            detail = str(error.error)[:ERROR_TEXT_LIMIT]
            raise BackendError(f"{server}: HTTP {error.status_code}: {detail}") from None
        except ConnectionError:  # the ollama client's translation of httpx.ConnectError
            raise TransientError("connection refused", reached=False) from None
        except httpx.ConnectTimeout:
            raise TransientError(
                f"no connection within {self.connect_timeout_s:g} s", reached=False
            ) from None
        except httpx.TimeoutException:
            raise NoAnswer(f"{server}: no answer within {self.timeout_s:g} s") from None
        except httpx.TransportError as error:
            raise TransientError(
                f"connection lost ({type(error).__name__})", reached=True
            ) from None
        return response

    def is_available(self) -> bool:
        """Whether the server answers ``GET /api/tags`` within the connect timeout."""
        try:
            response = httpx.get(f"{self.base_url}/api/tags", timeout=self.connect_timeout_s)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def list_models(self) -> list[str]:
        """Names of the models the server holds (``/api/tags``)."""
        try:
            listing = self._client.list()
        except (ollama.ResponseError, ConnectionError, httpx.HTTPError) as error:
            raise BackendError(f"Ollama at {self.base_url}: cannot list models ({error})") from None
        return [model.model for model in listing.models if model.model]


def chat_arguments(request: ChatRequest) -> dict[str, Any]:
    """The keyword arguments of ``ollama.Client.chat`` for ``request``; unset values are left out
    so the server's own defaults apply."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    user: dict[str, Any] = {"role": "user", "content": request.prompt}
    if request.images:
        user["images"] = list(request.images)  # the client base64-encodes bytes
    messages.append(user)
    options = {
        key: value
        for key, value in (
            ("temperature", request.temperature),
            ("seed", request.seed),
            ("num_ctx", request.num_ctx),
            ("num_predict", request.max_tokens),
        )
        if value is not None
    }
    arguments: dict[str, Any] = {"model": request.model, "messages": messages, "options": options}
    if request.json_schema is not None:
        arguments["format"] = request.json_schema
    if request.keep_alive is not None:
        arguments["keep_alive"] = request.keep_alive
    # Ollama turns thinking on for a thinking-capable model (Qwen3, MiniCPM-V 4.5) when the
    # request leaves `think` out: minutes of reasoning before every answer. Off unless asked.
    arguments["think"] = bool(request.think)
    return arguments
