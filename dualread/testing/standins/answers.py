"""What a stand-in model answers: the oracle's truth (in reader mode, the embedded engine's reading
of a page the oracle does not hold), then the configured errors on top.

The answer depends only on what a request asks (its kind, images, text, seed and temperature),
never on the API it came through, so every role can be played by either stand-in server.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .faults import AttemptCounter, FaultProfile
from .markdown import statement_in_markdown
from .oracle_index import OracleIndex, PageReader, empty_statement, merge_truths
from .server import Stats

CHARS_PER_TOKEN = 4  # the stand-in's token estimate, for max_tokens and usage figures
IMAGE_TOKENS = 256
LOOP_LINE = "<tr><td></td><td></td><td></td><td></td></tr>"
DEFAULT_LOOP_TOKENS = 4096  # how far a loop runs when the request sets no limit
TEXT_ANSWER = "This is a stand-in model's answer."

StatementErrors = Callable[[dict[str, Any], Any, random.Random], dict[str, Any]]


@dataclass(frozen=True)
class ChatCall:
    """One model call, as either API asked it."""

    model: str
    images: tuple[bytes, ...]
    text: str  # all message text, in order
    wants_json: bool
    max_tokens: int | None = None
    seed: int | None = None
    temperature: float | None = None

    @property
    def role(self) -> str:
        if self.images:
            return "visual" if self.wants_json else "ocr"
        return "json" if self.wants_json else "text"


@dataclass(frozen=True)
class ChatResult:
    status: int
    content: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    elapsed_s: float = 0.0  # how long the stand-in took, its "slow" fault included


class Answerer:
    def __init__(
        self,
        stats: Stats,
        *,
        oracle: OracleIndex | None = None,
        reader: PageReader | None = None,
        faults: FaultProfile | None = None,
        statement_errors: Any = None,
        statement_error_roles: tuple[str, ...] = ("visual", "json"),
        seed: int = 0,
    ) -> None:
        self.stats = stats
        self.oracle = oracle
        self.reader = reader
        self.faults = faults or FaultProfile()
        self.statement_errors = statement_errors
        self.statement_error_roles = statement_error_roles
        self.seed = seed
        self._apply_errors: StatementErrors | None = None
        if statement_errors:
            # Written beside the stand-ins (stdlib only); imported only when a profile asks for it.
            errors = importlib.import_module("..errors", __package__)
            self._apply_errors = errors.apply_errors
            # A bad profile fails at start-up, not as a broken answer in the middle of a test.
            self._apply_errors(empty_statement(), statement_errors, random.Random(0))
        self.attempts = AttemptCounter()
        self._texts_lock = threading.Lock()
        self._texts: dict[str, str] = {}  # text -> identity, for text requests

    def reset(self) -> None:
        self.attempts = AttemptCounter()
        with self._texts_lock:
            self._texts.clear()

    def identity(self, call: ChatCall) -> str:
        """Which distinct request ``call`` is. Image requests are their images; a text request
        that extends an earlier one (a repair re-ask appends a note) is that earlier request."""
        if call.images:
            subject = hashlib.sha256(b"".join(hashlib.sha256(i).digest() for i in call.images))
            subject_id = subject.hexdigest()
        else:
            with self._texts_lock:
                earlier = [t for t in self._texts if call.text.startswith(t)]
                if earlier:
                    subject_id = self._texts[max(earlier, key=len)]
                else:
                    subject_id = hashlib.sha256(call.text.encode()).hexdigest()
                    self._texts[call.text] = subject_id
        return f"{call.role}|{call.model}|{call.seed}|{call.temperature}|{subject_id}"

    def answer(self, call: ChatCall) -> ChatResult:
        """The answer to ``call``, after the profile's delay (spent here, so the server's count of
        requests in flight includes it)."""
        started = time.perf_counter()
        result = self._answer(call)
        time.sleep(self.faults.delay(call.role))
        return dataclasses.replace(result, elapsed_s=time.perf_counter() - started)

    def _answer(self, call: ChatCall) -> ChatResult:
        role = call.role
        identity = self.identity(call)
        fault = self.faults.counted_fault(role, self.attempts.next(identity))
        self.stats.count("roles", role)
        self.stats.count("model_calls", call.model)
        prompt_tokens = len(call.text) // CHARS_PER_TOKEN + IMAGE_TOKENS * len(call.images)
        if fault:
            self.stats.count("faults", fault)
        if fault == "http500":
            return ChatResult(500, "stand-in fault: internal server error")
        content = self._content(call, identity)
        if call.wants_json and fault == "invalid_json":
            content = content[:-1] + ",}"
        if call.wants_json and self.faults.flag("fence", role):
            content = f"```json\n{content}\n```"
        if self.faults.flag("think", role):
            content = f"<think>\nLet me read this carefully.\n</think>\n\n{content}"
        budget = call.max_tokens * CHARS_PER_TOKEN if call.max_tokens else None
        finish = "stop"
        if fault == "loop":
            limit = budget or DEFAULT_LOOP_TOKENS * CHARS_PER_TOKEN
            repeats = max(1, (limit - len(content)) // (len(LOOP_LINE) + 1) + 2)
            content = content + ("\n" + LOOP_LINE) * repeats
            budget = limit
        elif fault == "truncate":
            content, finish = content[: len(content) // 2], "length"
        if budget is not None and len(content) > budget:
            content, finish = content[:budget], "length"
        return ChatResult(200, content, finish, prompt_tokens, -(-len(content) // CHARS_PER_TOKEN))

    def _content(self, call: ChatCall, identity: str) -> str:
        role = call.role
        if role == "text":
            return TEXT_ANSWER
        if role == "json" and self.reader is not None:
            # The markdown came from the other server's reading (or the oracle's); read it back.
            statement = statement_in_markdown(call.text)
        else:
            entries = self._entries(call)
            if role == "ocr":
                return "\n\n".join(entry["markdown"] for entry in entries)
            statement = (
                merge_truths([copy.deepcopy(entry["truth"]) for entry in entries])
                if entries
                else empty_statement()
            )
        if self._apply_errors is not None and role in self.statement_error_roles:
            rng = random.Random(f"{self.seed}|{identity}")
            statement = self._apply_errors(statement, self.statement_errors, rng)
        return json.dumps(statement, ensure_ascii=False)

    def _entries(self, call: ChatCall) -> list[dict[str, Any]]:
        """The entries of the pages a request carries: the oracle's, and in reader mode the
        reader's for each image the oracle does not hold."""
        if call.role == "json":
            found = self.oracle.pages_in(call.text) if self.oracle else []
            self.stats.count("oracle", "hits" if found else "misses")
            return found
        pages = [self.oracle.page(image) if self.oracle else None for image in call.images]
        self.stats.count("oracle", "hits" if any(pages) else "misses")
        if self.reader is not None:
            pages = [
                page or self.reader.page(image)
                for page, image in zip(pages, call.images, strict=True)
            ]
        return [page for page in pages if page is not None]
