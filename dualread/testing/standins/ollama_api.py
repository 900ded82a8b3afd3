"""A stand-in Ollama server: the endpoints dualread and its images use, with strict checks, and
the runner behaviour of Ollama 0.35 that a client must cope with (:mod:`.runner`: contexts and
truncation, reloads on a new ``num_ctx``, lazy unloads, thinking by default).

Pulled models are written as manifest files under ``models_dir`` (``OLLAMA_MODELS``), laid out as
Ollama lays them out, so a container's model volume survives a restart the same way.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .answers import Answerer, ChatCall, ChatResult
from .checks import (
    bad,
    check_bool,
    check_int,
    check_keys,
    check_list,
    check_number,
    check_schema,
    check_str,
    decode_base64_image,
)
from .runner import THINKING_TOKENS, Runners, fit_prompt, thinks_by_default
from .server import App, Rejected, Reply, Request

VERSION = "0.35.1"  # the version images/ pins (FROM ollama/ollama:0.35.1)
REGISTRY = "registry.ollama.ai"
MODEL_NAME = re.compile(
    r"^(?:([A-Za-z0-9][A-Za-z0-9._-]*)/)?([A-Za-z0-9][A-Za-z0-9._-]*)(?::([\w][\w.-]*))?$"
)

CHAT_KEYS = {
    "model",
    "truncate",
    "shift",
    "messages",
    "stream",
    "format",
    "options",
    "keep_alive",
    "think",
    "tools",
    "logprobs",
    "top_logprobs",
}
GENERATE_KEYS = {
    "model",
    "truncate",
    "shift",
    "prompt",
    "suffix",
    "system",
    "template",
    "context",
    "stream",
    "raw",
    "format",
    "images",
    "options",
    "keep_alive",
    "think",
    "logprobs",
    "top_logprobs",
}
MESSAGE_KEYS = {"role", "content", "images", "thinking", "tool_calls", "tool_name"}
MESSAGE_ROLES = {"system", "user", "assistant", "tool"}
# Ollama's model options (api/types.go Options and Runner) and the JSON type each takes.
OPTION_TYPES = {
    **dict.fromkeys(
        [
            "num_ctx",
            "num_batch",
            "num_gpu",
            "main_gpu",
            "num_thread",
            "num_keep",
            "seed",
            "num_predict",
            "top_k",
            "repeat_last_n",
            "mirostat",
        ],
        "int",
    ),
    **dict.fromkeys(
        [
            "temperature",
            "top_p",
            "min_p",
            "typical_p",
            "tfs_z",
            "repeat_penalty",
            "presence_penalty",
            "frequency_penalty",
            "mirostat_tau",
            "mirostat_eta",
        ],
        "number",
    ),
    **dict.fromkeys(
        ["numa", "low_vram", "f16_kv", "vocab_only", "use_mmap", "use_mlock", "penalize_newline"],
        "bool",
    ),
    "stop": "list",
}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def canonical(name: str) -> str:
    """``qwen3`` and ``qwen3:latest`` are the same model to Ollama."""
    return name if ":" in name.rpartition("/")[2] else f"{name}:latest"


def _error(status: int, reason: str) -> dict[str, Any]:
    return {"error": reason}


class OllamaStandin:
    def __init__(
        self,
        answerer: Answerer,
        *,
        models: list[str],
        models_dir: Path | None = None,
        unload_delay_s: float = 0.3,
    ) -> None:
        self.answerer = answerer
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self.available = {canonical(m) for m in models} | self._stored_models()
        self.runners = Runners(unload_delay_s)
        self.pulled: list[str] = []
        self.app = App(
            routes={
                ("GET", "/"): self.root,
                ("HEAD", "/"): self.root,
                ("GET", "/api/version"): lambda _: Reply(body={"version": VERSION}),
                ("GET", "/api/tags"): self.tags,
                ("GET", "/api/ps"): self.ps,
                ("POST", "/api/chat"): self.chat,
                ("POST", "/api/generate"): self.generate,
                ("POST", "/api/pull"): self.pull,
            },
            error_body=_error,
            extra_stats=self.state,
            on_reset=answerer.reset,
            stats=answerer.stats,
        )

    # -- models -----------------------------------------------------------------------------
    def _manifest_path(self, name: str) -> Path | None:
        match = MODEL_NAME.match(name)
        if self.models_dir is None or match is None:
            return None
        namespace, model, tag = match.groups()
        return (
            self.models_dir
            / "manifests"
            / REGISTRY
            / (namespace or "library")
            / model
            / (tag or "latest")
        )

    def _stored_models(self) -> set[str]:
        if self.models_dir is None:
            return set()
        root = self.models_dir / "manifests" / REGISTRY
        found = set()
        for manifest in root.glob("*/*/*"):
            namespace, model, tag = manifest.relative_to(root).parts
            found.add(f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}")
        return found

    def _require_model(self, body: dict[str, Any]) -> str:
        name = check_str(body.get("model"), "model", non_empty=True)
        with self._lock:
            if canonical(name) not in self.available:
                raise Rejected(404, f'model "{name}" not found, try pulling it first')
        return name

    def state(self) -> dict[str, Any]:
        with self._lock:
            available, pulled = sorted(self.available), list(self.pulled)
        return {
            "version": VERSION,
            "available": available,
            "loaded": sorted(self.runners.loaded()),
            "pulled": pulled,
            **self.runners.state(),
        }

    def _model_entry(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-01-01T00:00:00Z",
            "size": 1_000_000,
            "digest": hashlib.sha256(name.encode()).hexdigest(),
            "details": {
                "format": "gguf",
                "family": "stand-in",
                "parameter_size": "",
                "quantization_level": "",
            },
        }

    # -- routes -----------------------------------------------------------------------------
    def root(self, request: Request) -> Reply:
        return Reply(body="Ollama is running")

    def tags(self, request: Request) -> Reply:
        with self._lock:
            names = sorted(self.available)
        return Reply(body={"models": [self._model_entry(n) for n in names]})

    def ps(self, request: Request) -> Reply:
        models = [
            {
                **self._model_entry(n),
                "expires_at": expiry,
                "size_vram": 1_000_000,
                "context_length": num_ctx,
            }
            for n, (expiry, num_ctx) in sorted(self.runners.loaded().items())
        ]
        return Reply(body={"models": models})

    def chat(self, request: Request) -> Reply:
        body = check_keys(
            request.json_object(), "chat request", allowed=CHAT_KEYS, required={"model"}
        )
        model = self._require_model(body)
        messages = check_list(body.get("messages", []), "messages")
        texts: list[str] = []
        images: list[bytes] = []
        for index, message in enumerate(messages):
            where = f"messages[{index}]"
            check_keys(message, where, allowed=MESSAGE_KEYS, required={"role"})
            if message["role"] not in MESSAGE_ROLES:
                raise bad(f"{where}.role must be one of {', '.join(sorted(MESSAGE_ROLES))}")
            texts.append(check_str(message.get("content", ""), f"{where}.content"))
            for number, image in enumerate(
                check_list(message.get("images", []), f"{where}.images")
            ):
                images.append(decode_base64_image(image, f"{where}.images[{number}]"))
        common = self._check_common(model, body)
        self.answerer.stats.record(request.path, body)
        if not messages:
            return self._load_or_unload(model, body)
        result, thinking = self._answer(model, body, "\n".join(texts), images, common)
        if result.status != 200:
            return Reply(result.status, {"error": result.content})
        answer: dict[str, Any] = {"role": "assistant", "content": result.content}
        if thinking:
            answer["thinking"] = thinking
        return self._final(model, body, {"message": answer}, result)

    def generate(self, request: Request) -> Reply:
        body = check_keys(
            request.json_object(), "generate request", allowed=GENERATE_KEYS, required={"model"}
        )
        model = self._require_model(body)
        prompt = check_str(body.get("prompt", ""), "prompt")
        images = [
            decode_base64_image(image, f"images[{n}]")
            for n, image in enumerate(check_list(body.get("images", []), "images"))
        ]
        common = self._check_common(model, body)
        self.answerer.stats.record(request.path, body)
        if not prompt and not images:
            return self._load_or_unload(model, body)
        system = check_str(body.get("system", ""), "system")
        text = "\n".join(t for t in (system, prompt) if t)
        result, thinking = self._answer(model, body, text, images, common)
        if result.status != 200:
            return Reply(result.status, {"error": result.content})
        content = {"response": result.content, **({"thinking": thinking} if thinking else {})}
        return self._final(model, body, content, result)

    def pull(self, request: Request) -> Reply:
        body = check_keys(
            request.json_object(), "pull request", allowed={"model", "name", "insecure", "stream"}
        )
        name = check_str(body.get("model", body.get("name")), "model", non_empty=True)
        if MODEL_NAME.match(name) is None:
            raise bad(f"invalid model name {name!r}")
        stream = check_bool(body.get("stream", True), "stream")
        check_bool(body.get("insecure", False), "insecure")
        manifest = self._manifest_path(canonical(name))
        if manifest is not None:
            manifest.parent.mkdir(parents=True, exist_ok=True)
            manifest.write_text(json.dumps({"schemaVersion": 2, "standin": True}))
        with self._lock:
            self.available.add(canonical(name))
            self.pulled.append(name)
        if not stream:
            return Reply(body={"status": "success"})
        lines = [
            {"status": "pulling manifest"},
            {
                "status": "pulling stand-in layer",
                "digest": "sha256:0",
                "total": 1000,
                "completed": 1000,
            },
            {"status": "verifying sha256 digest"},
            {"status": "writing manifest"},
            {"status": "success"},
        ]
        return Reply(
            body="".join(json.dumps(line) + "\n" for line in lines),
            content_type="application/x-ndjson",
        )

    # -- helpers ----------------------------------------------------------------------------
    def _check_common(
        self, model: str, body: dict[str, Any]
    ) -> tuple[int | None, int | None, float | None]:
        """Check stream, format, options, keep_alive, think, truncate and shift.

        Returns (max_tokens, seed, temperature) for the answer.
        """
        if "stream" in body:
            check_bool(body["stream"], "stream")
        fmt = body.get("format")
        if fmt not in (None, "", "json"):
            check_schema(fmt, "format")
        keep_alive = body.get("keep_alive")
        if keep_alive is not None and (
            isinstance(keep_alive, bool) or not isinstance(keep_alive, str | int | float)
        ):
            raise bad("keep_alive must be a duration string or a number of seconds")
        think = body.get("think")
        if (
            think is not None
            and not isinstance(think, bool)
            and think not in ("low", "medium", "high")
        ):
            raise bad("think must be true, false, or low|medium|high")
        if think not in (None, False) and not thinks_by_default(model):
            raise bad(f'"{model}" does not support thinking')
        for key in ("truncate", "shift"):
            if key in body:
                check_bool(body[key], key)
        check_list(body.get("tools", []), "tools")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise bad("options must be an object")
        for key, value in options.items():
            kind = OPTION_TYPES.get(key)
            where = f"options.{key}"
            if kind is None:
                raise bad(f"{where}: unknown option")
            if kind == "int":
                check_int(value, where)
            elif kind == "number":
                check_number(value, where)
            elif kind == "bool":
                check_bool(value, where)
            else:
                for item in check_list(value, where):
                    check_str(item, where)
        num_predict = options.get("num_predict")
        max_tokens = num_predict if isinstance(num_predict, int) and num_predict > 0 else None
        return max_tokens, options.get("seed"), options.get("temperature")

    def _answer(
        self,
        model: str,
        body: dict[str, Any],
        text: str,
        images: list[bytes],
        common: tuple[int | None, int | None, float | None],
    ) -> tuple[ChatResult, str]:
        """The answer and the reasoning before it ("" without thinking)."""
        options = body.get("options") or {}
        num_ctx = self.runners.num_ctx(options)
        fitted = fit_prompt(text, len(images), num_ctx, truncate=body.get("truncate", True))
        if fitted.truncated:
            self.answerer.stats.count("context", "truncated_prompts")
        max_tokens, seed, temperature = common
        think = body.get("think")
        thinking = ""
        if (think is None and thinks_by_default(model)) or think not in (None, False):
            self.answerer.stats.count("context", "thinking_answers")
            thinking = "Let me look at this carefully. " * (THINKING_TOKENS // 8)
            if max_tokens is not None:  # the reasoning comes first and spends the budget
                max_tokens -= THINKING_TOKENS
        if body.get("shift") is False:  # the answer stops where the context is full
            room = num_ctx - fitted.prompt_tokens
            max_tokens = room if max_tokens is None else min(max_tokens, room)
        self._mark_loaded(model, body.get("keep_alive"), num_ctx)
        wants_json = "format" in body and bool(body["format"])
        if max_tokens is not None and max_tokens <= 0:
            return ChatResult(200, "", "length", fitted.prompt_tokens, 0), thinking
        call = ChatCall(
            model, tuple(images), fitted.text, wants_json, max_tokens, seed, temperature
        )
        with self.answerer.stats.in_flight():
            result = self.answerer.answer(call)
        return result, thinking

    def _mark_loaded(self, model: str, keep_alive: Any, num_ctx: int) -> bool:
        """Load ``model`` with ``num_ctx`` (or start unloading it for keep_alive 0); True when
        it was unloaded."""
        if keep_alive in (0, "0", "0s", "0m"):
            return self.runners.unload(model)
        forever = keep_alive in (-1, "-1")
        self.runners.load(model, num_ctx, "2999-01-01T00:00:00Z" if forever else _now())
        return False

    def _load_or_unload(self, model: str, body: dict[str, Any]) -> Reply:
        num_ctx = self.runners.num_ctx(body.get("options") or {})
        unloaded = self._mark_loaded(model, body.get("keep_alive"), num_ctx)
        reply = {
            "model": model,
            "created_at": _now(),
            "done": True,
            "done_reason": "unload" if unloaded else "load",
        }
        if "messages" in body:
            reply["message"] = {"role": "assistant", "content": ""}
        else:
            reply["response"] = ""
        return Reply(body=reply)

    def _final(
        self, model: str, body: dict[str, Any], content: dict[str, Any], result: ChatResult
    ) -> Reply:
        nanoseconds = int(result.elapsed_s * 1e9)
        final = {
            "model": model,
            "created_at": _now(),
            **content,
            "done": True,
            "done_reason": result.finish_reason,
            "total_duration": nanoseconds,
            "load_duration": 0,
            "prompt_eval_count": result.prompt_tokens,
            "prompt_eval_duration": nanoseconds // 4,
            "eval_count": result.completion_tokens,
            "eval_duration": nanoseconds // 2,
        }
        if body.get("stream", True) is False:
            return Reply(body=final)
        # Streaming (Ollama's default): the content in one chunk, then the closing statistics.
        chunk = {"model": model, "created_at": final["created_at"], **content, "done": False}
        last = {
            **final,
            **{
                k: ({"role": "assistant", "content": ""} if k == "message" else "") for k in content
            },
        }
        text = json.dumps(chunk) + "\n" + json.dumps(last) + "\n"
        return Reply(body=text, content_type="application/x-ndjson")
