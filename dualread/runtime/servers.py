"""What each model server is: image, command, port, health endpoint, model cache and VRAM need.

Two kinds of server play the three roles by default: one Ollama server hosts MiniCPM-V (visual)
and Qwen3 (json), one vLLM server hosts Nanonets-OCR-s (ocr). The set is derived from
:class:`~dualread.config.Settings`, so a role moved to another backend or URL moves its server too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlsplit

from dualread.config import DEFAULT_IMAGES, ROLES, ConfigError, Role, ServerKind, Settings
from dualread.stages.contexts import NUM_CTX

# Per-server GPU memory that is neither weights nor KV cache: CUDA context, runtime buffers. An
# estimate; it keeps co-resident plans from packing a GPU to the last MiB.
SERVER_OVERHEAD_GIB = 1.0
UNKNOWN_MODEL_VRAM_GIB = 10.0
GIB = 1024**3

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

KvCacheType = Literal["f16", "q8_0", "q4_0"]
# Bytes per cached element: f16 2; q8_0 and q4_0 store 32 elements in 34 and 18 bytes.
KV_BYTES_PER_ELEMENT: Mapping[KvCacheType, float] = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}

# How Ollama serves dualread's models: each loaded model reserves num_ctx x OLLAMA_NUM_PARALLEL
# tokens of KV cache at load. q8_0 halves f16's cache at no measurable cost in accuracy and needs
# flash attention on.
OLLAMA_KV_CACHE_TYPE: KvCacheType = "q8_0"
# Two slots per model: a second request is prefilled while the first generates, which keeps the
# GPU busy; more slots would each reserve another context of KV cache (1.2 GiB at 16k, q8_0) for
# little gain on one GPU. Requests beyond them wait in Ollama's queue.
OLLAMA_NUM_PARALLEL = 2


@dataclass(frozen=True)
class ModelSpec:
    """A model and the GPU memory it needs while loaded: weights plus the KV cache its context
    and parallel slots reserve (GiB), with where the figures come from."""

    name: str
    weights_gib: float
    source: str
    kv_elements_per_token: int = 0  # 2 (K and V) x layers x KV heads x head dim; 0: unknown
    num_ctx: int | None = None  # the context it is loaded with (Ollama num_ctx, vLLM max len)
    kv_gib: float = 0.0

    @property
    def vram_gib(self) -> float:
        return self.weights_gib + self.kv_gib


def kv_cache_gib(
    kv_elements_per_token: int, num_ctx: int, parallel: int, kv_type: KvCacheType
) -> float:
    """GPU memory of a KV cache for ``parallel`` sequences of ``num_ctx`` tokens (GiB)."""
    return kv_elements_per_token * KV_BYTES_PER_ELEMENT[kv_type] * num_ctx * parallel / GIB


# Weights: the seed notes (000_*.txt) and Ollama's library sizes; Ollama serves int4 (Q4_K_M)
# builds. KV shapes from the models' config.json: MiniCPM-V 4.5 and Qwen3-8B are 36 layers x 8
# KV heads x 128 (Qwen3-8B); MiniCPM-V 2.6 is 28 x 4 x 128 (Qwen2-7B); Nanonets-OCR-s is
# 36 x 2 x 128 (Qwen2.5-VL-3B).
QWEN3_8B_KV = 2 * 36 * 8 * 128
KNOWN_MODELS: Mapping[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "openbmb/minicpm-v4.5:8b",
            9.0,
            "seed: MiniCPM-V 4.5 int4 9 GB with its vision encoder (bf16 18 GB)",
            QWEN3_8B_KV,
        ),
        ModelSpec(
            "minicpm-v",
            6.0,
            "Ollama library: minicpm-v is MiniCPM-V 2.6 (Qwen2-7B), 5.5 GB with projector",
            2 * 28 * 4 * 128,
        ),
        ModelSpec("qwen3:8b", 6.0, "Ollama library: qwen3:8b Q4_K_M 5.2 GB + buffers", QWEN3_8B_KV),
        ModelSpec(
            "nanonets/Nanonets-OCR-s",
            9.0,
            "seed: Nanonets-OCR-s bf16 7.5 GB + activations and CUDA graphs",
            2 * 36 * 2 * 128,
        ),
    )
}


def model_spec(
    name: str,
    *,
    num_ctx: int | None = None,
    parallel: int = 1,
    kv_type: KvCacheType = "f16",
) -> ModelSpec:
    """``name``'s figures, with the KV cache of ``parallel`` sequences of ``num_ctx`` tokens."""
    known = KNOWN_MODELS.get(name) or ModelSpec(
        name, UNKNOWN_MODEL_VRAM_GIB, "unknown model: assumed, KV cache included"
    )
    kv = (
        kv_cache_gib(known.kv_elements_per_token, num_ctx, parallel, kv_type)
        if num_ctx is not None
        else 0.0
    )
    return replace(known, num_ctx=num_ctx, kv_gib=kv)


@dataclass(frozen=True)
class ServerSpec:
    """One model server dualread can start (container or process) or find (external)."""

    name: str
    kind: ServerKind
    host: str
    port: int
    models: tuple[ModelSpec, ...]
    image: str
    max_concurrency: int
    # Process launch: argv and env templates; {host} {port} {model} {gpu_memory_utilization}.
    process_argv: tuple[str, ...] = ()
    process_env: Mapping[str, str] = field(default_factory=dict)
    # Container launch: the port the image listens on, its env, extra arguments for its
    # entrypoint, and the model-cache volume (an image label ``dualread.model-cache`` overrides
    # the path). ``loopback_env`` makes the server bind 127.0.0.1:{port} under host networking.
    container_port: int = 0
    container_env: Mapping[str, str] = field(default_factory=dict)
    container_cmd: tuple[str, ...] = ()
    loopback_env: Mapping[str, str] = field(default_factory=dict)
    cache_volume: str = ""
    cache_path: str = ""
    overhead_gib: float = SERVER_OVERHEAD_GIB

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def health_path(self) -> str:
        return "/api/tags" if self.kind == "ollama" else "/health"

    @property
    def is_local(self) -> bool:
        return self.host in LOCAL_HOSTS

    @property
    def vram_gib(self) -> float:
        """GPU memory with every model of this server loaded at once."""
        return self.overhead_gib + sum(m.vram_gib for m in self.models)

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)

    def render(self, template: str, *, gpu_memory_utilization: float | None) -> str:
        """One argv/env template filled in for this server."""
        return template.format(
            host=self.host,
            port=self.port,
            model=self.models[0].name,
            models=",".join(self.model_names),
            gpu_memory_utilization=(
                f"{gpu_memory_utilization or VLLM_DEFAULT_GPU_MEMORY_UTILIZATION:.2f}"
            ),
            concurrency=self.max_concurrency,
        )


@dataclass(frozen=True)
class RoleBinding:
    role: Role
    server: str
    model: str


@dataclass(frozen=True)
class ServerSet:
    """The servers a batch needs and which server and model plays each role."""

    servers: tuple[ServerSpec, ...]
    roles: Mapping[Role, RoleBinding]

    def server(self, name: str) -> ServerSpec:
        for spec in self.servers:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def server_for(self, role: Role) -> ServerSpec:
        return self.server(self.roles[role].server)

    def model_for(self, role: Role) -> str:
        return self.roles[role].model


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"bad server URL {url!r}: expected http://HOST:PORT")
    return parts.hostname, parts.port or default_port


# One definition of how each server runs, used by the process launcher, the container launcher
# and (checked by tests/images) the images' ENV and entrypoints and compose.yaml.
#
# Ollama: every model loads with the same context (a load without num_ctx, such as a bare
# `ollama run`, gets OLLAMA_CONTEXT_LENGTH), q8_0 KV cache (which needs flash attention), and
# one parallel slot per request dualread sends at once.
OLLAMA_ENV: Mapping[str, str] = {
    "OLLAMA_NUM_PARALLEL": str(OLLAMA_NUM_PARALLEL),
    "OLLAMA_CONTEXT_LENGTH": str(max(NUM_CTX.values())),
    "OLLAMA_KV_CACHE_TYPE": OLLAMA_KV_CACHE_TYPE,
    "OLLAMA_FLASH_ATTENTION": "1",
}
# vLLM: one page image per request and no video (vLLM then reserves memory for one image), the
# context the OCR role needs rather than the model's 128k, and a page capped at MAX_IMAGE_PIXELS
# (6144 tokens of 28x28 pixels: A4 and US Legal at 200 DPI pass unscaled).
VLLM_MAX_MODEL_LEN = NUM_CTX["ocr"]
VLLM_MAX_IMAGE_PIXELS = 6144 * 28 * 28
VLLM_LIMIT_MM_PER_PROMPT = json.dumps({"image": 1, "video": 0})
VLLM_DEFAULT_GPU_MEMORY_UTILIZATION = 0.9  # vLLM's own default, for a GPU of its own


def vllm_flags(
    *, max_model_len: str, max_image_pixels: str, gpu_memory_utilization: str
) -> tuple[str, ...]:
    """The flags after ``vllm serve MODEL --host H --port P``, in the entrypoint's order."""
    return (
        "--max-model-len",
        max_model_len,
        "--gpu-memory-utilization",
        gpu_memory_utilization,
        "--limit-mm-per-prompt",
        VLLM_LIMIT_MM_PER_PROMPT,
        "--mm-processor-kwargs",
        json.dumps({"max_pixels": int(max_image_pixels)}),
        "--enable-sleep-mode",
    )


def _literal(text: str) -> str:
    """``text`` inside a render() template: JSON braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def ollama_server(
    name: str, host: str, port: int, models: tuple[ModelSpec, ...], *, image: str, concurrency: int
) -> ServerSpec:
    return ServerSpec(
        name=name,
        kind="ollama",
        host=host,
        port=port,
        models=models,
        image=image,
        max_concurrency=concurrency,
        process_argv=("ollama", "serve"),
        process_env={"OLLAMA_HOST": "{host}:{port}", **OLLAMA_ENV},
        container_port=11434,
        # OLLAMA_PULL_MODELS: the image's entrypoint pulls each listed model that the volume lacks.
        container_env={"OLLAMA_PULL_MODELS": "{models}", **OLLAMA_ENV},
        loopback_env={"OLLAMA_HOST": "127.0.0.1:{port}"},
        cache_volume="dualread-ollama",
        cache_path="/root/.ollama",
    )


def vllm_server(
    name: str, host: str, port: int, model: ModelSpec, *, image: str, concurrency: int
) -> ServerSpec:
    """A vLLM server started with sleep mode, so a phase switch is a sub-second wake-up."""
    flags = vllm_flags(
        max_model_len=str(VLLM_MAX_MODEL_LEN),
        max_image_pixels=str(VLLM_MAX_IMAGE_PIXELS),
        gpu_memory_utilization="{gpu_memory_utilization}",
    )
    return ServerSpec(
        name=name,
        kind="vllm",
        host=host,
        port=port,
        models=(model,),
        image=image,
        max_concurrency=concurrency,
        process_argv=(
            "vllm",
            "serve",
            "{model}",
            "--host",
            "{host}",
            "--port",
            "{port}",
            *(
                _literal(flag).replace("{{gpu_memory_utilization}}", "{gpu_memory_utilization}")
                for flag in flags
            ),
            "--max-num-seqs",
            "{concurrency}",
        ),
        process_env={"VLLM_SERVER_DEV_MODE": "1"},
        container_port=8000,
        # The image's entrypoint (images/vllm/entrypoint.sh) passes these as the same flags
        # and appends the container's command.
        container_env={
            "MODEL_NAME": "{model}",
            "GPU_MEMORY_UTILIZATION": "{gpu_memory_utilization}",
            "MAX_MODEL_LEN": str(VLLM_MAX_MODEL_LEN),
            "MAX_IMAGE_PIXELS": str(VLLM_MAX_IMAGE_PIXELS),
        },
        container_cmd=("--max-num-seqs", "{concurrency}"),
        loopback_env={"SERVER_HOST": "127.0.0.1", "SERVER_PORT": "{port}"},
        cache_volume="dualread-hf-cache",
        # The image runs as a user whose home cache holds huggingface/ and vLLM's compile cache.
        cache_path="/home/vllm/.cache",
    )


def server_set(settings: Settings, images: Mapping[ServerKind, str] | None = None) -> ServerSet:
    """The servers behind the configured roles, one per distinct URL.

    An Ollama URL may host several models; a vLLM server serves exactly one.
    """
    images = {**DEFAULT_IMAGES, **(images or {})}
    by_url: dict[tuple[str, int], tuple[ServerKind, list[Role]]] = {}
    for role in ROLES:
        chosen = settings.role(role)
        kind: ServerKind = "ollama" if chosen.backend == "ollama" else "vllm"
        address = _host_port(chosen.url, 11434 if kind == "ollama" else 8000)
        known_kind, roles = by_url.setdefault(address, (kind, []))
        if known_kind != kind:
            raise ConfigError(
                f"roles {', '.join(roles)} and {role} share {chosen.url} with different backends"
            )
        roles.append(role)

    kinds = [kind for kind, _ in by_url.values()]
    servers: list[ServerSpec] = []
    bindings: dict[Role, RoleBinding] = {}
    for (host, port), (kind, roles) in by_url.items():
        name = kind if kinds.count(kind) == 1 else f"{kind}-{port}"
        models = tuple(dict.fromkeys(settings.role(r).model for r in roles))
        # A model playing two roles loads once, with the larger of their contexts.
        contexts = {
            m: max(NUM_CTX[r] for r in roles if settings.role(r).model == m) for m in models
        }
        if kind == "ollama":
            specs = tuple(
                model_spec(
                    m,
                    num_ctx=contexts[m],
                    parallel=OLLAMA_NUM_PARALLEL,
                    kv_type=OLLAMA_KV_CACHE_TYPE,
                )
                for m in models
            )
            spec = ollama_server(
                name, host, port, specs, image=images["ollama"], concurrency=settings.concurrency
            )
        else:
            if len(models) > 1:
                raise ConfigError(
                    f"roles {', '.join(roles)} share the vLLM server at {host}:{port} but name "
                    f"different models ({', '.join(models)}); a vLLM server serves one model"
                )
            # vLLM batches concurrent requests itself, so it takes more in flight than Ollama;
            # the plan reserves a full-length KV cache (bf16) for --concurrency of them, and
            # vLLM pages the cache between the rest.
            concurrency = max(settings.concurrency, 8)
            model = model_spec(
                models[0],
                num_ctx=VLLM_MAX_MODEL_LEN,
                parallel=settings.concurrency,
                kv_type="f16",
            )
            spec = vllm_server(
                name, host, port, model, image=images["vllm"], concurrency=concurrency
            )
        servers.append(spec)
        for role in roles:
            bindings[role] = RoleBinding(role, name, settings.role(role).model)
    return ServerSet(tuple(servers), bindings)
