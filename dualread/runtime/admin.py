"""Talking to a running model server about its models: health, what is present, what is loaded,
and freeing or taking GPU memory without a restart.

- Ollama: ``POST /api/generate {model, keep_alive: 0}`` unloads a model; a request without a
  prompt loads one, with the ``num_ctx`` the role's requests will send (another would reload
  it). Through the ``ollama`` client. An unload answers at once and the runner leaves later:
  :meth:`OllamaAdmin.release` waits until ``/api/ps`` no longer lists the model.
- vLLM (started with ``--enable-sleep-mode`` and ``VLLM_SERVER_DEV_MODE=1``):
  ``POST /sleep?level=1`` moves the weights to CPU RAM, ``POST /wake_up`` brings them back
  in well under a second.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod

import httpx
import ollama
import openai

from dualread.runtime.errors import ServersUnavailable
from dualread.runtime.servers import ServerSpec

log = logging.getLogger("dualread.runtime")

ADMIN_TIMEOUT_S = 10.0
LOAD_TIMEOUT_S = 600.0  # a cold model load from disk takes 30-100 s; leave room for slow disks
# Ollama frees a model after the requests in flight finish and the runner exits: seconds, but
# bounded here so a stuck runner cannot hang a batch (the switch then goes ahead, logged).
UNLOAD_TIMEOUT_S = 60.0
POLL_S = 0.1


def ask_is_sleeping(http: httpx.Client, root_url: str) -> bool | None:
    """vLLM's ``GET /is_sleeping`` at the server's root (not under ``/v1``): True or False, or
    None where there is no such route (vLLM outside dev mode, or another server). Raises
    :class:`httpx.HTTPError` when it does not answer, :class:`ValueError` on an odd answer."""
    answer = http.get(f"{root_url}/is_sleeping")
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    try:
        sleeping = answer.json()["is_sleeping"]
    except (ValueError, KeyError, TypeError):
        sleeping = None
    if not isinstance(sleeping, bool):
        raise ValueError(f"not vLLM's {{'is_sleeping': bool}}: {answer.text[:80]!r}")
    return sleeping


class ServerAdmin(ABC):
    """Model-level control of one server, whatever launched it."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        load_timeout_s: float = LOAD_TIMEOUT_S,
        unload_timeout_s: float = UNLOAD_TIMEOUT_S,
    ) -> None:
        self.spec = spec
        self.load_timeout_s = load_timeout_s
        self.unload_timeout_s = unload_timeout_s
        self._http = httpx.Client(base_url=spec.base_url, timeout=ADMIN_TIMEOUT_S)

    def healthy(self) -> bool:
        """The server's own health endpoint answers 200."""
        try:
            return self._http.get(self.spec.health_path).status_code == 200
        except httpx.HTTPError:
            return False

    def _unavailable(self, doing: str, error: BaseException) -> ServersUnavailable:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return ServersUnavailable(f"{self.spec.name} at {self.spec.base_url}: {doing}: {reason}")

    @abstractmethod
    def available_models(self) -> list[str]:
        """Models the server can serve without downloading anything."""

    def missing_models(self) -> list[str]:
        """The spec's models the server cannot serve yet (not pulled, or a different model)."""
        present = {self.model_key(name) for name in self.available_models()}
        return [m for m in self.spec.model_names if self.model_key(m) not in present]

    def model_key(self, name: str) -> str:
        """A model name as the server compares names."""
        return name

    @abstractmethod
    def resident_models(self) -> set[str]:
        """Models holding GPU memory right now."""

    @abstractmethod
    def supports_release(self) -> bool:
        """Whether :meth:`release` can free GPU memory without stopping the server."""

    @abstractmethod
    def release(self, keep: str | None = None) -> list[str]:
        """Free the GPU memory of every resident model except ``keep``; returns what was freed."""

    @abstractmethod
    def acquire(self, model: str) -> None:
        """Make ``model`` resident, blocking until it can answer without a load delay."""

    def close(self) -> None:
        self._http.close()


def ollama_model_name(name: str) -> str:
    """Ollama reports an untagged model as ``name:latest``."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


class OllamaAdmin(ServerAdmin):
    def model_key(self, name: str) -> str:
        return ollama_model_name(name)

    def __init__(self, spec: ServerSpec, *, load_timeout_s: float = LOAD_TIMEOUT_S) -> None:
        super().__init__(spec, load_timeout_s=load_timeout_s)
        self._client = ollama.Client(host=spec.base_url, timeout=ADMIN_TIMEOUT_S)
        self._loader = ollama.Client(host=spec.base_url, timeout=load_timeout_s)

    def available_models(self) -> list[str]:
        try:
            return [m.model for m in self._client.list().models if m.model]
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as error:
            raise self._unavailable("listing models", error) from None

    def resident_models(self) -> set[str]:
        try:
            return {m.model or m.name or "" for m in self._client.ps().models} - {""}
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as error:
            raise self._unavailable("listing loaded models", error) from None

    def supports_release(self) -> bool:
        return True

    def release(self, keep: str | None = None) -> list[str]:
        keep_name = ollama_model_name(keep) if keep else None
        freed = sorted(m for m in self.resident_models() if ollama_model_name(m) != keep_name)
        for model in freed:
            try:
                self._loader.generate(model=model, keep_alive=0)
            except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as error:
                raise self._unavailable(f"unloading {model}", error) from None
        deadline = time.monotonic() + self.unload_timeout_s
        while freed and set(freed) & self.resident_models():
            if time.monotonic() > deadline:
                log.warning(
                    "%s: %s still loaded %.0f s after unloading",
                    self.spec.name,
                    ", ".join(sorted(set(freed) & self.resident_models())),
                    self.unload_timeout_s,
                )
                break
            time.sleep(POLL_S)
        return freed

    def load_options(self, model: str) -> dict[str, int]:
        """The options a load must send so that the role's requests find the model as loaded."""
        key = ollama_model_name(model)
        for spec in self.spec.models:
            if ollama_model_name(spec.name) == key and spec.num_ctx is not None:
                return {"num_ctx": spec.num_ctx}
        return {}

    def acquire(self, model: str) -> None:
        try:
            self._loader.generate(model=model, options=self.load_options(model))
        except ollama.ResponseError as error:
            if error.status_code == 404:
                raise ServersUnavailable(
                    f"{self.spec.name} at {self.spec.base_url} has no model {model!r}; "
                    f"pull it (ollama pull {model}) or start the dualread image, which pulls it"
                ) from None
            raise self._unavailable(f"loading {model}", error) from None
        except (ConnectionError, httpx.HTTPError) as error:
            raise self._unavailable(f"loading {model}", error) from None

    def close(self) -> None:
        super().close()
        self._client.close()  # type: ignore[no-untyped-call]
        self._loader.close()  # type: ignore[no-untyped-call]


class VllmAdmin(ServerAdmin):
    """vLLM serves one model; sleeping frees its GPU memory, waking takes it back."""

    def __init__(self, spec: ServerSpec, *, load_timeout_s: float = LOAD_TIMEOUT_S) -> None:
        super().__init__(spec, load_timeout_s=load_timeout_s)
        self._sleep_supported: bool | None = None

    def available_models(self) -> list[str]:
        client = openai.OpenAI(
            base_url=f"{self.spec.base_url}/v1",
            api_key="unused",
            timeout=ADMIN_TIMEOUT_S,
            max_retries=0,
        )
        try:
            return [m.id for m in client.models.list()]
        except openai.OpenAIError as error:
            raise self._unavailable("listing models", error) from None
        finally:
            client.close()

    def is_sleeping(self) -> bool | None:
        """True/False, or None when the server has no sleep endpoints (not in dev mode)."""
        try:
            return ask_is_sleeping(self._http, self.spec.base_url)
        except (httpx.HTTPError, ValueError) as error:
            raise self._unavailable("asking whether it sleeps", error) from None

    def supports_release(self) -> bool:
        if self._sleep_supported is None:
            self._sleep_supported = self.is_sleeping() is not None
        return self._sleep_supported

    def resident_models(self) -> set[str]:
        return set() if self.is_sleeping() else set(self.spec.model_names)

    def _post(self, path: str, doing: str) -> None:
        try:
            answer = self._http.post(path, timeout=self.load_timeout_s)
            answer.raise_for_status()
        except httpx.HTTPError as error:
            raise self._unavailable(doing, error) from None

    def release(self, keep: str | None = None) -> list[str]:
        if keep in self.spec.model_names or not self.supports_release():
            return []
        if self.is_sleeping():
            return []
        self._post("/sleep?level=1", "putting it to sleep")
        return list(self.spec.model_names)

    def acquire(self, model: str) -> None:
        if model not in self.spec.model_names:
            raise ServersUnavailable(
                f"{self.spec.name} at {self.spec.base_url} serves {self.spec.models[0].name}, "
                f"not {model!r}"
            )
        if self.supports_release() and self.is_sleeping():
            self._post("/wake_up", "waking it up")


def admin_for(spec: ServerSpec, *, load_timeout_s: float = LOAD_TIMEOUT_S) -> ServerAdmin:
    if spec.kind == "ollama":
        return OllamaAdmin(spec, load_timeout_s=load_timeout_s)
    return VllmAdmin(spec, load_timeout_s=load_timeout_s)
