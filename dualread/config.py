"""Settings. Precedence, highest first: command-line flags, ``DUALREAD_*`` env vars, a TOML file.

The TOML file is ``$DUALREAD_CONFIG`` or ``<user config dir>/dualread/config.toml``; every key is a
field of :class:`Settings` (``ollama_url = "http://127.0.0.1:11434"``). Env vars are the field name
upper-cased with the ``DUALREAD_`` prefix (``DUALREAD_OLLAMA_URL``).

Every value is checked wherever it comes from: server URLs are http(s), numbers lie in
:data:`RANGES`. A bad value is a :class:`ConfigError` naming the key; a URL is never echoed with
the credentials it may hold (``http://user:secret@host`` shows as ``http://***@host``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints
from urllib.parse import urlsplit

from dualread.choices import Mode, OnDispute, RuntimeKind

BackendKind = Literal["ollama", "openai"]
Role = Literal["visual", "ocr", "json"]
ROLES: tuple[Role, ...] = ("visual", "ocr", "json")

# Exact model tags: a floating tag could silently change what reads the statements.
DEFAULT_MODEL_VISUAL = "openbmb/minicpm-v4.5:8b"
DEFAULT_MODEL_OCR = "nanonets/Nanonets-OCR-s"
DEFAULT_MODEL_JSON = "qwen3:8b"

ServerKind = Literal["ollama", "vllm"]
# The images that serve those models: tags built from images/Dockerfile_<tag> by build-images.sh
# (and npmci), repo "dualread". Defined here, beside the models they bake in, rather than in
# dualread.runtime, so that `dualread servers --help` can show them without loading the runtime.
DEFAULT_IMAGES: Mapping[ServerKind, str] = {
    "ollama": "dualread:minicpmv45.qwen3.ollama.gpu.vram13gb",
    "vllm": "dualread:nanonetsocrs.vllm.gpu.vram13gb",
}


def _default_ollama_url() -> str:
    host = os.environ.get("OLLAMA_HOST", "").strip()
    if not host:
        return "http://127.0.0.1:11434"
    if "://" not in host:
        host = "http://" + host
    if host.count(":") < 2:  # scheme plus host, no port
        host += ":11434"
    return host.rstrip("/")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the setting and where it came from."""


URL_SETTINGS = ("ollama_url", "vllm_url")
RANGES: dict[str, tuple[float, float]] = {
    "dpi": (50, 600),
    "max_pages": (1, 100_000),
    "timeout_s": (0.01, 86_400),
    "connect_timeout_s": (0.01, 3_600),
    "retries": (0, 20),
    "ocr_max_tokens": (1, 1_000_000),
    "max_passes": (2, 20),
    "concurrency": (1, 256),
}
"""Inclusive bounds of the numeric settings: outside them a value is a mistake, not a choice."""


_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def redact_url(text: str) -> str:
    """``text`` with the user name and password of every URL in it replaced by ``***``."""
    return _URL_CREDENTIALS.sub("***@", text)


def _check_value(name: str, value: Any) -> None:
    """Raise ValueError (its message safe to show) when ``value`` cannot be ``name``'s."""
    if name in URL_SETTINGS:
        parts = urlsplit(str(value))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL with a host")
        return
    if name in RANGES and not isinstance(value, bool):
        low, high = RANGES[name]
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"expected {low:g} to {high:g}")


def network_warnings(settings: Settings) -> list[str]:
    """One line for each server URL that sends statements off this machine, or to a link-local
    address (where cloud metadata services answer)."""
    warnings = []
    for name in URL_SETTINGS:
        url = getattr(settings, name)
        host = urlsplit(url).hostname or ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost" and not host.endswith(".localhost"):
                warnings.append(f"{name} {redact_url(url)} is not on this machine")
            continue
        if address.is_link_local:
            warnings.append(f"{name} {redact_url(url)} is a link-local address")
        elif not (address.is_loopback or address.is_unspecified):
            warnings.append(f"{name} {redact_url(url)} is not on this machine")
    return warnings


@dataclass(frozen=True)
class RoleSettings:
    """Which server and model play one role."""

    backend: BackendKind
    url: str
    model: str


@dataclass(frozen=True)
class Settings:
    ollama_url: str = field(default_factory=_default_ollama_url)
    vllm_url: str = "http://127.0.0.1:8000/v1"
    model_visual: str = DEFAULT_MODEL_VISUAL
    model_ocr: str = DEFAULT_MODEL_OCR
    model_json: str = DEFAULT_MODEL_JSON
    backend_visual: BackendKind = "ollama"
    backend_ocr: BackendKind = "openai"
    backend_json: BackendKind = "ollama"
    dpi: int = 200
    max_pages: int = 1000
    timeout_s: float = 300.0
    connect_timeout_s: float = 5.0
    retries: int = 3
    ocr_max_tokens: int = 6000
    max_passes: int = 4
    on_dispute: OnDispute = "null"
    concurrency: int = 4  # in-flight requests per server
    cache_dir: Path = field(default_factory=lambda: _user_dir("cache"))
    use_cache: bool = True
    # Who runs the model servers: the user ("external"), or dualread as containers or processes.
    servers: RuntimeKind = "external"
    mode: Mode = "auto"  # how servers share the GPUs
    gpus: str = ""  # the GPUs the plan may use ("0,2,3", UUIDs); "": every visible one
    replicas: str = ""  # servers per role ("4", "vllm=3,ollama=2"); "": as the plan decides

    def __post_init__(self) -> None:
        for name in (*URL_SETTINGS, *RANGES):
            try:
                _check_value(name, getattr(self, name))
            except (TypeError, ValueError) as error:
                raise ConfigError(
                    f"bad value {_shown(name, getattr(self, name))} for {name} ({error})"
                ) from None

    def role(self, role: Role) -> RoleSettings:
        backend: BackendKind = getattr(self, f"backend_{role}")
        url = self.ollama_url if backend == "ollama" else self.vllm_url
        return RoleSettings(backend, url, getattr(self, f"model_{role}"))

    def replace(self, **changes: Any) -> Settings:
        """A copy with the non-None ``changes`` applied (how CLI flags are layered on)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def default_config_path() -> Path:
    explicit = os.environ.get("DUALREAD_CONFIG")
    if explicit:
        return Path(explicit)
    return _user_dir("config") / "config.toml"


def _user_dir(kind: Literal["cache", "config"]) -> Path:
    """dualread's per-user folder of this kind, where this OS keeps them."""
    import platformdirs  # here, not at start-up: `dualread --help` needs no folder

    finder = platformdirs.user_cache_dir if kind == "cache" else platformdirs.user_config_dir
    return Path(finder("dualread", appauthor=False))


def _coerce(name: str, raw: Any, source: str) -> Any:
    hint = get_type_hints(Settings)[name]
    try:
        if hint is bool:
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if hint is Path:
            return Path(str(raw)).expanduser()
        if hint in (int, float):
            if isinstance(raw, bool):
                raise ValueError("expected a number")
            value = hint(raw)
            _check_value(name, value)
            return value
        choices = get_args(hint)
        if choices and raw not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        _check_value(name, str(raw))
        return str(raw)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{source}: bad value {_shown(name, raw)} for {name} ({error})") from None


def _shown(name: str, raw: Any) -> str:
    return repr(redact_url(str(raw))) if name in URL_SETTINGS else repr(raw)


def load_settings(
    config_path: Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Settings from the TOML file and env vars; flags go on top with :meth:`Settings.replace`."""
    environ = dict(os.environ) if environ is None else environ
    names = {f.name for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    path = config_path or default_config_path()
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None
        for key, raw in data.items():
            if key not in names:
                raise ConfigError(f"{path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, str(path))
    elif config_path is not None:
        raise ConfigError(f"{config_path}: no such config file")
    for name in names:
        env_name = f"DUALREAD_{name.upper()}"
        if env_name in environ:
            values[name] = _coerce(name, environ[env_name], env_name)
    return Settings(**values)
