"""What Ollama's scheduler and model runners do with a request, as far as a client can tell.

- **One runner per model and context.** A model is loaded with the request's ``num_ctx``
  (``OLLAMA_CONTEXT_LENGTH`` when the request sets none); a request with a different ``num_ctx``
  reloads it. Every load is counted, so a test can assert how many a batch cost.
- **Unloading is asynchronous.** ``keep_alive: 0`` answers at once; the runner leaves after
  ``unload_delay_s`` and ``/api/ps`` lists the model until then (Ollama waits for requests in
  flight and for the GPU memory to be returned).
- **Context.** A prompt longer than ``num_ctx`` is refused (HTTP 400) with ``truncate: false``;
  by default the runner keeps the first ``num_keep`` (4) tokens and the tail, silently dropping
  the instructions. With ``shift: false`` an answer stops where the context is full.
- **Thinking.** A thinking-capable model thinks when the request leaves ``think`` out; the
  reasoning comes first and uses up ``num_predict``. ``think: true`` on another model is a 400.

Tokens are counted as Qwen's tokenizer does on statements: one per digit, one per 3 other
characters (stricter than typical English text, where a token holds about 4 characters).
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .server import Rejected

DEFAULT_NUM_CTX = 4096  # Ollama's default context when neither the request nor the env sets one
NUM_KEEP = 4  # tokens the runner keeps from the start of a truncated prompt
CHARS_PER_TOKEN = 3
IMAGE_TOKENS = 256
THINKING_TOKENS = 600  # how long the stand-in "thinks" before it answers
# Model families Ollama's library marks with the "thinking" capability, as the stand-in sees it.
THINKING_FAMILIES = ("qwen3", "openbmb/minicpm-v4.5", "deepseek-r1")
_DIGIT_OR_TEXT = re.compile(r"\d|\D+")


def count_tokens(text: str) -> int:
    return sum(
        1 if piece.isdigit() else -(-len(piece) // CHARS_PER_TOKEN)
        for piece in _DIGIT_OR_TEXT.findall(text)
    )


def thinks_by_default(model: str) -> bool:
    return model.startswith(THINKING_FAMILIES)


def keep_head_and_tail(text: str, tokens: int) -> str:
    """``text`` cut as the runner cuts a prompt to ``tokens``: its first NUM_KEEP tokens and
    as much of its end as fits."""
    head = text[: NUM_KEEP * CHARS_PER_TOKEN]
    budget = tokens - count_tokens(head)
    low, high = len(head), len(text)  # the earliest start whose tail fits, by bisection
    while low < high:
        middle = (low + high) // 2
        if count_tokens(text[middle:]) <= budget:
            high = middle
        else:
            low = middle + 1
    return head + text[low:]


@dataclass
class _Runner:
    num_ctx: int
    expires_at: str
    leaves_at: float | None = None  # set by an unload: when the runner is gone


@dataclass
class Runners:
    """The loaded models of one stand-in Ollama server."""

    unload_delay_s: float = 0.3
    default_num_ctx: int = field(
        default_factory=lambda: int(os.environ.get("OLLAMA_CONTEXT_LENGTH") or DEFAULT_NUM_CTX)
    )

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._runners: dict[str, _Runner] = {}
        self.loads: dict[str, int] = {}
        self.unloads = 0

    def _sweep(self) -> None:
        now = time.monotonic()
        for model in [m for m, r in self._runners.items() if r.leaves_at and r.leaves_at <= now]:
            del self._runners[model]

    def num_ctx(self, options: dict[str, Any]) -> int:
        value = options.get("num_ctx")
        return value if isinstance(value, int) and value > 0 else self.default_num_ctx

    def load(self, model: str, num_ctx: int, expires_at: str) -> None:
        """Make ``model`` answer with ``num_ctx``: a load unless a runner has that context."""
        with self._lock:
            self._sweep()
            runner = self._runners.get(model)
            if runner is None or runner.leaves_at is not None or runner.num_ctx != num_ctx:
                self.loads[model] = self.loads.get(model, 0) + 1
            self._runners[model] = _Runner(num_ctx, expires_at)

    def unload(self, model: str) -> bool:
        """Start unloading ``model``; False when it was not loaded."""
        with self._lock:
            self._sweep()
            runner = self._runners.get(model)
            if runner is None or runner.leaves_at is not None:
                return False
            runner.leaves_at = time.monotonic() + self.unload_delay_s
            self.unloads += 1
            return True

    def loaded(self) -> dict[str, tuple[str, int]]:
        """model -> (expires_at, num_ctx) of every runner still holding memory."""
        with self._lock:
            self._sweep()
            return {m: (r.expires_at, r.num_ctx) for m, r in self._runners.items()}

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"loads": dict(self.loads), "unloads": self.unloads}


@dataclass(frozen=True)
class Fitted:
    """A prompt as the runner takes it: possibly cut, and what the answer may still use."""

    text: str
    prompt_tokens: int
    truncated: bool


def fit_prompt(text: str, images: int, num_ctx: int, *, truncate: bool) -> Fitted:
    image_tokens = IMAGE_TOKENS * images
    tokens = count_tokens(text) + image_tokens
    if tokens <= num_ctx:
        return Fitted(text, tokens, False)
    if not truncate:
        raise Rejected(
            400, f"the input length ({tokens} tokens) exceeds the context length ({num_ctx} tokens)"
        )
    kept = keep_head_and_tail(text, max(num_ctx - image_tokens, NUM_KEEP))
    return Fitted(kept, count_tokens(kept) + image_tokens, True)
