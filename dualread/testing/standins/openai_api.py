"""A stand-in vLLM server (OpenAI-compatible): health, models, chat completions, sleep mode.

Besides the API's own shape it enforces what vLLM 0.32 does: ``guided_json`` and its siblings
are refused (removed in v0.12; ``response_format`` replaces them); a prompt plus
``max_completion_tokens`` beyond ``--max-model-len`` is a 400; more images than
``--limit-mm-per-prompt`` allows is a 400; a request sent while the engine sleeps waits until
``/wake_up`` (the client sees only its own timeout).

Deliberately stricter than vLLM: ``max_tokens`` (deprecated in vLLM, still accepted there) is
refused, so the client moves to ``max_completion_tokens``; and an OCR request (images, free-text
answer) may not carry a repetition penalty, which corrupts tables whose rows legitimately repeat.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from typing import Any

from .answers import CHARS_PER_TOKEN, IMAGE_TOKENS, Answerer, ChatCall
from .checks import (
    bad,
    check_bool,
    check_int,
    check_keys,
    check_list,
    check_number,
    check_schema,
    check_str,
    decode_data_url,
)
from .server import App, Rejected, Reply, Request

VERSION = "0.32.0"  # the version images/ pins (FROM vllm/vllm-openai:v0.32.0)
COMPLETION_KEYS = {
    "model",
    "messages",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "max_tokens",  # known, so that it gets its own message below
    "max_completion_tokens",
    "seed",
    "response_format",
    "stream",
    "n",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "logprobs",
    "top_logprobs",
    "user",
    "chat_template_kwargs",
    "skip_special_tokens",
    "structured_outputs",
}
REMOVED_KEYS = {
    "guided_json",
    "guided_regex",
    "guided_choice",
    "guided_grammar",
    "guided_decoding_backend",
    "guided_whitespace_pattern",
}
PENALTIES = {"repetition_penalty": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0}
MESSAGE_ROLES = {"system", "user", "assistant"}
SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_MAX_MODEL_LEN = 128_000
ERROR_TYPES = {400: "BadRequestError", 404: "NotFoundError", 503: "ServiceUnavailableError"}


def _error(status: int, reason: str) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "InternalServerError")
    return {"error": {"message": reason, "type": kind, "param": None, "code": status}}


class OpenAIStandin:
    def __init__(
        self,
        answerer: Answerer,
        *,
        models: list[str],
        enable_sleep_mode: bool = False,
        max_model_len: int | None = None,
        limit_mm_per_prompt: dict[str, int] | None = None,
    ) -> None:
        self.answerer = answerer
        self.models = list(models)
        # Without --max-model-len vLLM takes the model's own (128k for Qwen2.5-VL models).
        self.max_model_len = max_model_len or DEFAULT_MAX_MODEL_LEN
        self.image_limit = (limit_mm_per_prompt or {}).get("image")
        self._lock = threading.Lock()
        self._awake = threading.Condition(self._lock)
        self.sleeping = False
        self.sleep_level = 0
        self._ids = itertools.count(1)
        routes = {
            ("GET", "/health"): lambda _: Reply(),
            ("GET", "/version"): lambda _: Reply(body={"version": VERSION}),
            ("GET", "/v1/models"): self.list_models,
            ("POST", "/v1/chat/completions"): self.chat,
        }
        if enable_sleep_mode:  # vLLM: --enable-sleep-mode with VLLM_SERVER_DEV_MODE=1
            routes |= {
                ("POST", "/sleep"): self.sleep,
                ("POST", "/wake_up"): self.wake_up,
                ("GET", "/is_sleeping"): lambda _: Reply(body={"is_sleeping": self.sleeping}),
            }
        else:  # vLLM has no sleep routes then (404, FastAPI's body): asking is how clients learn it
            routes[("GET", "/is_sleeping")] = lambda _: Reply(404, {"detail": "Not Found"})
        self.app = App(
            routes=routes,
            error_body=_error,
            extra_stats=self.state,
            on_reset=answerer.reset,
            stats=answerer.stats,
        )

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "version": VERSION,
                "models": list(self.models),
                "sleeping": self.sleeping,
                "max_model_len": self.max_model_len,
            }

    def list_models(self, request: Request) -> Reply:
        data = [
            {
                "id": model,
                "object": "model",
                "created": 0,
                "owned_by": "vllm",
                "root": model,
                "parent": None,
                "max_model_len": self.max_model_len,
            }
            for model in self.models
        ]
        return Reply(body={"object": "list", "data": data})

    def sleep(self, request: Request) -> Reply:
        level = request.query.get("level", "1")
        if level not in ("1", "2"):
            raise bad("level must be 1 or 2")
        with self._lock:
            self.sleeping, self.sleep_level = True, int(level)
        self.answerer.stats.count("sleep", "sleeps")
        return Reply()

    def wake_up(self, request: Request) -> Reply:
        tags = request.query.get("tags")
        if tags is not None and tags not in ("weights", "kv_cache"):
            raise bad("tags must be weights or kv_cache")
        with self._lock:
            self.sleeping = False
            self._awake.notify_all()
        self.answerer.stats.count("sleep", "wakes")
        return Reply()

    def chat(self, request: Request) -> Reply:
        body = request.json_object()
        removed = sorted(REMOVED_KEYS & set(body))
        if removed:
            raise bad(f"{', '.join(removed)} was removed in vLLM v0.12; use response_format")
        if "max_tokens" in body:
            raise bad("max_tokens is deprecated in vLLM 0.32; use max_completion_tokens")
        check_keys(
            body, "chat completion request", allowed=COMPLETION_KEYS, required={"model", "messages"}
        )
        model = check_str(body["model"], "model", non_empty=True)
        if model not in self.models:
            raise Rejected(404, f"The model `{model}` does not exist.")
        texts, images = self._check_messages(body["messages"])
        wants_json = self._check_response_format(body.get("response_format"))
        self._check_sampling(body, ocr=bool(images) and not wants_json)
        if self.image_limit is not None and len(images) > self.image_limit:
            raise bad(f"At most {self.image_limit} image(s) may be provided in one prompt.")
        max_tokens = body.get("max_completion_tokens")
        prompt_tokens = -(-len("".join(texts)) // CHARS_PER_TOKEN) + IMAGE_TOKENS * len(images)
        if prompt_tokens + (max_tokens or 0) > self.max_model_len:
            raise bad(
                f"This model's maximum context length is {self.max_model_len} tokens. However, "
                f"you requested {prompt_tokens + (max_tokens or 0)} tokens ({prompt_tokens} in "
                f"the messages, {max_tokens} in the completion)."
            )
        self.answerer.stats.record(request.path, body)
        with self._lock:
            if self.sleeping:  # vLLM queues it: the request waits for /wake_up
                self.answerer.stats.count("sleep", "requests_while_sleeping")
                self._awake.wait_for(lambda: not self.sleeping)
        call = ChatCall(
            model,
            tuple(images),
            "\n".join(texts),
            wants_json,
            max_tokens,
            body.get("seed"),
            body.get("temperature"),
        )
        with self.answerer.stats.in_flight():
            result = self.answerer.answer(call)
        if result.status != 200:
            return Reply(result.status, _error(result.status, result.content))
        completion = {
            "id": f"chatcmpl-standin-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.content},
                    "finish_reason": result.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "total_tokens": result.prompt_tokens + result.completion_tokens,
            },
        }
        return Reply(body=completion)

    def _check_messages(self, messages: Any) -> tuple[list[str], list[bytes]]:
        if not check_list(messages, "messages"):
            raise bad("messages must not be empty")
        texts: list[str] = []
        images: list[bytes] = []
        for index, message in enumerate(messages):
            where = f"messages[{index}]"
            check_keys(
                message, where, allowed={"role", "content", "name"}, required={"role", "content"}
            )
            if message["role"] not in MESSAGE_ROLES:
                raise bad(f"{where}.role must be one of {', '.join(sorted(MESSAGE_ROLES))}")
            content = message["content"]
            if isinstance(content, str):
                texts.append(content)
                continue
            for number, part in enumerate(check_list(content, f"{where}.content")):
                part_where = f"{where}.content[{number}]"
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text":
                    check_keys(part, part_where, allowed={"type", "text"}, required={"text"})
                    texts.append(check_str(part["text"], f"{part_where}.text"))
                elif kind == "image_url":
                    if message["role"] != "user":
                        raise bad(f"{part_where}: images go in user messages")
                    check_keys(
                        part, part_where, allowed={"type", "image_url"}, required={"image_url"}
                    )
                    image_url = check_keys(
                        part["image_url"],
                        f"{part_where}.image_url",
                        allowed={"url", "detail"},
                        required={"url"},
                    )
                    images.append(decode_data_url(image_url["url"], f"{part_where}.image_url.url"))
                else:
                    raise bad(f"{part_where}.type must be text or image_url")
        return texts, images

    def _check_response_format(self, response_format: Any) -> bool:
        """Check ``response_format``; True when it asks for JSON."""
        if response_format is None:
            return False
        check_keys(
            response_format, "response_format", allowed={"type", "json_schema"}, required={"type"}
        )
        kind = response_format["type"]
        if kind == "text":
            return False
        if kind == "json_object":
            return True
        if kind != "json_schema":
            raise bad("response_format.type must be text, json_object or json_schema")
        spec = check_keys(
            response_format.get("json_schema"),
            "response_format.json_schema",
            allowed={"name", "schema", "strict", "description"},
            required={"name", "schema"},
        )
        if not SCHEMA_NAME.match(check_str(spec["name"], "response_format.json_schema.name")):
            raise bad("response_format.json_schema.name must match ^[A-Za-z0-9_-]{1,64}$")
        check_schema(spec["schema"], "response_format.json_schema.schema")
        if "strict" in spec:
            check_bool(spec["strict"], "response_format.json_schema.strict")
        return True

    def _check_sampling(self, body: dict[str, Any], *, ocr: bool) -> None:
        for key in ("temperature", "top_p", "min_p", "repetition_penalty"):
            if body.get(key) is not None:
                check_number(body[key], key, minimum=0.0)
        for key in ("frequency_penalty", "presence_penalty"):
            if body.get(key) is not None:
                check_number(body[key], key)
        if body.get("max_completion_tokens") is not None:
            check_int(body["max_completion_tokens"], "max_completion_tokens", minimum=1)
        for key in ("seed", "top_k"):
            if body.get(key) is not None:
                check_int(body[key], key)
        if body.get("n", 1) != 1:
            raise bad("n must be 1")
        if body.get("stream"):
            raise bad("the stand-in does not stream; send stream false or leave it out")
        kwargs = body.get("chat_template_kwargs")
        if kwargs is not None and not isinstance(kwargs, dict):
            raise bad("chat_template_kwargs must be an object")
        if ocr:
            used = [k for k, neutral in PENALTIES.items() if body.get(k) not in (None, neutral)]
            if used:
                raise bad(
                    f"{', '.join(used)} on an OCR request: bank tables legitimately repeat rows"
                )
