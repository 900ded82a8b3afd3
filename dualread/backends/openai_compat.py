"""OpenAI-compatible servers (vLLM, llama-server) through the official ``openai`` client.

Images go in as ``image_url`` content parts holding data URLs, structured output as
``response_format`` ``json_schema``. The client's own retries are off: :mod:`retry` decides, with
the same rules as for Ollama.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from dualread.backends.base import BackendError, ChatReply, ChatRequest, NoAnswer
from dualread.backends.retry import RetryingBackend, TransientError

ERROR_TEXT_LIMIT = 200
# Exception class names (httpx and httpx2 share them) that mean "never got a connection".
_CONNECT_FAILURES = {"ConnectError", "ConnectTimeout"}


class OpenAIBackend(RetryingBackend):
    """A thread-safe client for one OpenAI-compatible server; ``base_url`` ends in ``/v1``."""

    name = "openai"
    label = "OpenAI-compatible server"

    def _connect(self) -> None:
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key="unused",  # local servers ignore it; the client insists on one
            timeout=openai.Timeout(self.timeout_s, connect=self.connect_timeout_s),
            max_retries=0,
        )

    def chat(self, request: ChatRequest) -> ChatReply:
        started = time.perf_counter()
        arguments = completion_arguments(request)
        server = self.describe(request.model)
        completion, attempts = self.retrying(
            lambda: self._attempt(arguments, server), request.model
        )
        if not completion.choices:
            raise BackendError(f"{server}: the answer has no choices")
        choice = completion.choices[0]
        usage = completion.usage
        return ChatReply(
            text=choice.message.content or "",
            model=completion.model or request.model,
            elapsed_s=time.perf_counter() - started,
            server_s=server_seconds(completion),
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            finish_reason=choice.finish_reason,
            attempts=attempts,
        )

    def _attempt(self, arguments: dict[str, Any], server: str) -> ChatCompletion:
        try:
            completion: ChatCompletion = self._client.chat.completions.create(**arguments)
        except openai.APITimeoutError as error:
            if _never_connected(error):
                raise TransientError(
                    f"no connection within {self.connect_timeout_s:g} s", reached=False
                ) from None
            raise NoAnswer(f"{server}: no answer within {self.timeout_s:g} s") from None
        except openai.APIConnectionError as error:
            if _never_connected(error):
                raise TransientError("connection refused", reached=False) from None
            raise TransientError("connection lost", reached=True) from None
        except openai.APIStatusError as error:
            if error.status_code >= 500:
                raise TransientError(f"HTTP {error.status_code}", reached=True) from None
            detail = str(error.message)[:ERROR_TEXT_LIMIT]
            raise BackendError(f"{server}: HTTP {error.status_code}: {detail}") from None
        return completion

    def is_available(self) -> bool:
        """Whether the server answers ``GET /v1/models`` within the connect timeout."""
        try:
            self._client.with_options(timeout=self.connect_timeout_s).models.list()
        except openai.OpenAIError:
            return False
        return True

    def list_models(self) -> list[str]:
        """Ids of the models the server serves (``/v1/models``)."""
        try:
            return [model.id for model in self._client.models.list()]
        except openai.OpenAIError as error:
            raise BackendError(f"{self.base_url}: cannot list models ({error})") from None


def _never_connected(error: openai.APIConnectionError) -> bool:
    return type(error.__cause__).__name__ in _CONNECT_FAILURES


def schema_name(schema: dict[str, Any]) -> str:
    """``json_schema.name`` must match ``^[a-zA-Z0-9_-]{1,64}$``; derive it from the title."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", str(schema.get("title", ""))).strip("_")[:64]
    return name or "answer"


def completion_arguments(request: ChatRequest) -> dict[str, Any]:
    """Keyword arguments of ``chat.completions.create`` for ``request``.

    The image parts come before the text, the order Nanonets-OCR-s was trained on.
    """
    content: str | list[dict[str, Any]] = request.prompt
    if request.images:
        parts: list[dict[str, Any]] = [
            {
                "type": "image_url",
                "image_url": {
                    "url": f"data:{request.image_mime};base64,"
                    + base64.b64encode(image).decode("ascii")
                },
            }
            for image in request.images
        ]
        parts.append({"type": "text", "text": request.prompt})
        content = parts
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.append({"role": "user", "content": content})
    arguments: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "temperature": request.temperature,
    }
    if request.max_tokens is not None:
        # vLLM 0.32 deprecates max_tokens; llama-server reads both.
        arguments["max_completion_tokens"] = request.max_tokens
    if request.seed is not None:
        arguments["seed"] = request.seed
    if request.json_schema is not None:
        arguments["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": schema_name(request.json_schema),
                "schema": request.json_schema,
            },
        }
    if request.think is not None:
        # vLLM and llama-server pass this to the chat template; Qwen3's reads enable_thinking.
        arguments["extra_body"] = {"chat_template_kwargs": {"enable_thinking": request.think}}
    return arguments


def server_seconds(completion: ChatCompletion) -> float | None:
    """llama-server adds ``timings`` (prompt and generation milliseconds); vLLM reports none."""
    timings = (completion.model_extra or {}).get("timings")
    if not isinstance(timings, dict):
        return None
    parts = [timings.get("prompt_ms"), timings.get("predicted_ms")]
    numbers = [float(p) for p in parts if isinstance(p, int | float)]
    return sum(numbers) / 1000 if numbers else None
