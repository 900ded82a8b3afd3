"""What each model server is: image, command, port, health endpoint, model cache and VRAM need.

Two kinds of server play the three roles by default: one Ollama server hosts MiniCPM-V (visual)
and Qwen3 (json), one vLLM server hosts Nanonets-OCR-s (ocr). The set is derived from
:class:`~dualread.config.Settings`, so a role moved to another backend or URL moves its server too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from dualread.config import DEFAULT_IMAGES, ROLES, ConfigError, Role, ServerKind, Settings

# Per-server GPU memory that is not model weights: CUDA context, runtime buffers. An estimate;
# it keeps co-resident plans from packing a GPU to the last MiB.
SERVER_OVERHEAD_GIB = 1.0
UNKNOWN_MODEL_VRAM_GIB = 10.0

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ModelSpec:
    """A model and the GPU memory it needs while loaded (GiB), with where the figure comes from."""

    name: str
    vram_gib: float
    source: str


# Figures from the seed notes (000_*.txt); Ollama serves int4 (Q4_K_M) builds by default.
KNOWN_MODELS: Mapping[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("openbmb/minicpm-v4.5:8b", 9.0, "seed: MiniCPM-V 4.5 int4 9 GB (bf16 18 GB)"),
        ModelSpec("minicpm-v", 9.0, "seed: MiniCPM-V 4.5 int4 9 GB (bf16 18 GB)"),
        ModelSpec("qwen3:8b", 10.0, "seed/design: Qwen3-8B 6-10 GB; upper figure for long context"),
        ModelSpec("nanonets/Nanonets-OCR-s", 10.0, "seed: Nanonets-OCR-s on vLLM ~10 GB"),
    )
}


def model_spec(name: str) -> ModelSpec:
    known = KNOWN_MODELS.get(name)
    if known is not None:
        return known
    return ModelSpec(name, UNKNOWN_MODEL_VRAM_GIB, "unknown model: assumed")


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
            gpu_memory_utilization=f"{gpu_memory_utilization or 0.9:.2f}",
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


def ollama_server(
    name: str, host: str, port: int, models: tuple[str, ...], *, image: str, concurrency: int
) -> ServerSpec:
    return ServerSpec(
        name=name,
        kind="ollama",
        host=host,
        port=port,
        models=tuple(model_spec(m) for m in models),
        image=image,
        max_concurrency=concurrency,
        process_argv=("ollama", "serve"),
        process_env={"OLLAMA_HOST": "{host}:{port}", "OLLAMA_NUM_PARALLEL": "{concurrency}"},
        container_port=11434,
        # OLLAMA_PULL_MODELS: the image's entrypoint pulls each listed model that the volume lacks.
        container_env={"OLLAMA_PULL_MODELS": "{models}", "OLLAMA_NUM_PARALLEL": "{concurrency}"},
        loopback_env={"OLLAMA_HOST": "127.0.0.1:{port}"},
        cache_volume="dualread-ollama",
        cache_path="/root/.ollama",
    )


def vllm_server(
    name: str, host: str, port: int, model: str, *, image: str, concurrency: int
) -> ServerSpec:
    """A vLLM server started with sleep mode, so a phase switch is a sub-second wake-up."""
    return ServerSpec(
        name=name,
        kind="vllm",
        host=host,
        port=port,
        models=(model_spec(model),),
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
            "--enable-sleep-mode",
            "--gpu-memory-utilization",
            "{gpu_memory_utilization}",
            "--max-num-seqs",
            "{concurrency}",
        ),
        process_env={"VLLM_SERVER_DEV_MODE": "1"},
        container_port=8000,
        # The image's entrypoint runs `vllm serve $MODEL_NAME` with sleep mode on and appends
        # the container's command to it.
        container_env={
            "MODEL_NAME": "{model}",
            "GPU_MEMORY_UTILIZATION": "{gpu_memory_utilization}",
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
        if kind == "ollama":
            spec = ollama_server(
                name, host, port, models, image=images["ollama"], concurrency=settings.concurrency
            )
        else:
            if len(models) > 1:
                raise ConfigError(
                    f"roles {', '.join(roles)} share the vLLM server at {host}:{port} but name "
                    f"different models ({', '.join(models)}); a vLLM server serves one model"
                )
            # vLLM batches concurrent requests itself, so it takes more in flight than Ollama.
            spec = vllm_server(
                name,
                host,
                port,
                models[0],
                image=images["vllm"],
                concurrency=max(settings.concurrency, 8),
            )
        servers.append(spec)
        for role in roles:
            bindings[role] = RoleBinding(role, name, settings.role(role).model)
    return ServerSet(tuple(servers), bindings)
