"""In-process simulated model servers with time-scaled costs, for scheduler tests and benchmarks.

A :class:`SimulatedHost` stands for one GPU host: what runs, which models hold GPU memory, and
what every start, load, wake and page costs. :class:`SimulatedLauncher` and
:class:`SimulatedAdmin` plug it into the real :class:`~dualread.runtime.scheduler.ServerManager`
through the same interfaces as Docker, processes and the HTTP admin clients. Costs are seconds
of the real thing; the host sleeps ``cost * scale`` (``scale=0`` for fast tests), so a wall time
divided by ``scale`` reads in real-world seconds.

:func:`simulated_control` and :func:`read_simulated` run the product's own
:func:`~dualread.pipeline.read_batch` over them: the stages and prompts are real, the clients
are :class:`SimulatedBackend` answering from an oracle at the host's costs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dualread.backends.base import Backend, BackendError, ChatReply, ChatRequest, ServerUnreachable
from dualread.cache import AnswerCache
from dualread.config import ROLES, Role, Settings
from dualread.documents import open_document
from dualread.pipeline import BatchOptions, DocumentEvidence, read_batch
from dualread.readers import Readers
from dualread.runtime.admin import ServerAdmin
from dualread.runtime.launcher import LaunchState, Placement
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import ServerSpec
from dualread.testing.oracle import build_oracle_index
from dualread.testing.standins.answers import Answerer, ChatCall
from dualread.testing.standins.oracle_index import OracleIndex
from dualread.testing.standins.server import Stats

T = TypeVar("T")


@dataclass(frozen=True)
class Costs:
    """Seconds each operation takes on a real GPU host; the sources are in ``notes``."""

    server_start_s: Mapping[str, float] = field(
        default_factory=lambda: {"ollama": 2.0, "vllm": 90.0}
    )
    model_cold_load_s: float = 30.0  # Ollama: first load after its server started
    model_warm_load_s: float = 4.0  # Ollama: reload after an unload, weights in the page cache
    unload_s: float = 0.5
    sleep_s: float = 1.0  # vLLM level-1 sleep: weights copied to CPU RAM
    wake_s: float = 0.5
    stop_s: float = 2.0
    page_s: Mapping[str, float] = field(
        default_factory=lambda: {
            "openbmb/minicpm-v4.5:8b": 4.0,
            "nanonets/Nanonets-OCR-s": 5.0,
            "qwen3:8b": 3.0,
        }
    )
    notes: Mapping[str, str] = field(
        default_factory=lambda: {
            "server_start_s.vllm": "DESIGN.md/issue: a cold vLLM start with model load is 30-100 s",
            "model_cold_load_s": "DESIGN.md/issue: cold model load 30-100 s (lower end for Ollama)",
            "model_warm_load_s": "estimate: ~6 GB GGUF from the OS page cache onto the GPU",
            "wake_s": "DESIGN.md: waking vLLM takes well under a second",
            "page_s": "seed 000: Nanonets 3-8 s per page; MiniCPM-V similar; Qwen3 on text",
        }
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _ServerState:
    running: bool = False
    ready_at: float = 0.0
    asleep: bool = False
    loaded_since_start: set[str] = field(default_factory=set)
    resident: set[str] = field(default_factory=set)


class SimulatedHost:
    """The shared state of simulated servers, with the GPU-residency record tests assert on."""

    def __init__(self, costs: Costs | None = None, *, scale: float = 0.0) -> None:
        self.costs = costs or Costs()
        self.scale = scale
        self.lock = threading.RLock()
        self.states: dict[str, _ServerState] = {}
        self.max_resident_servers = 0
        self.max_resident_models = 0
        self.implicit_loads = 0  # requests that found their model unloaded
        self.events: list[str] = []
        self._busy: list[tuple[float, float]] = []  # real intervals the host spent working

    def state(self, name: str) -> _ServerState:
        return self.states.setdefault(name, _ServerState())

    def spend(self, seconds: float) -> None:
        if self.scale:
            self.note_busy(seconds)
            time.sleep(seconds * self.scale)

    def note_busy(self, seconds: float) -> None:
        started = time.monotonic()
        with self.lock:
            self._busy.append((started, started + seconds * self.scale))

    def busy_s(self) -> float:
        """Simulated seconds in which the host was starting, loading, switching or answering:
        the union of its busy intervals, over the scale. The pipeline's own CPU work between
        requests is not in it (it is the same whatever the switching strategy)."""
        if not self.scale:
            return 0.0
        total, reach = 0.0, float("-inf")
        with self.lock:
            intervals = sorted(self._busy)
        for start, end in intervals:
            if end > reach:
                total += end - max(start, reach)
                reach = end
        return total / self.scale

    def note_residency(self, event: str) -> None:
        with self.lock:
            self.events.append(event)
            holding = [s.resident for s in self.states.values() if s.running and s.resident]
            self.max_resident_servers = max(self.max_resident_servers, len(holding))
            models = sum(len(resident) for resident in holding)
            self.max_resident_models = max(self.max_resident_models, models)

    def page(self, spec: ServerSpec, model: str) -> float:
        """One model request: fails like a dead server when the server is not up."""
        with self.lock:
            state = self.state(spec.name)
            if not state.running or time.monotonic() < state.ready_at:
                raise ServerUnreachable(f"{spec.name}: connection refused (simulated)")
            if model not in state.resident:
                self.implicit_loads += 1
        seconds = self.costs.page_s.get(model, 3.0)
        if self.scale:
            self.note_busy(seconds)
            time.sleep(seconds * self.scale)
        return seconds


class SimulatedLauncher:
    kind = "simulated"
    can_stop = True
    provisions_models = False

    def __init__(self, host: SimulatedHost) -> None:
        self.host = host
        self.starts: dict[str, int] = {}

    def start(self, server: ServerSpec, placement: Placement) -> None:
        with self.host.lock:
            state = self.host.state(server.name)
            if state.running:
                return
            cost = self.host.costs.server_start_s.get(server.kind, 10.0)
            state.running, state.asleep = True, False
            state.ready_at = time.monotonic() + cost * self.host.scale
            if self.host.scale:
                self.host.note_busy(cost)
            state.loaded_since_start = set()
            # vLLM loads its one model while starting; Ollama loads on demand.
            state.resident = set(server.model_names) if server.kind == "vllm" else set()
            self.starts[server.name] = self.starts.get(server.name, 0) + 1
        self.host.note_residency(f"start {server.name}")

    def stop(self, server: ServerSpec) -> None:
        if not self.is_running(server):
            return
        self.host.spend(self.host.costs.stop_s)
        self.crash(server)

    def crash(self, server: ServerSpec) -> None:
        """The server dies now: GPU memory is freed, requests fail."""
        with self.host.lock:
            state = self.host.state(server.name)
            state.running, state.resident = False, set()
        self.host.note_residency(f"down {server.name}")

    def is_running(self, server: ServerSpec) -> bool:
        return self.host.state(server.name).running

    def state(self, server: ServerSpec) -> LaunchState:
        running = self.is_running(server)
        return LaunchState(
            server.name, running, f"simulated: {'running' if running else 'stopped'}"
        )

    def remove(self, server: ServerSpec) -> None:
        self.stop(server)


class SimulatedAdmin(ServerAdmin):
    """Model-level control of a simulated server: unload/load for Ollama, sleep/wake for vLLM."""

    def __init__(self, spec: ServerSpec, host: SimulatedHost, *, can_release: bool = True) -> None:
        super().__init__(spec)
        self.host = host
        self.can_release = can_release

    def healthy(self) -> bool:
        state = self.host.state(self.spec.name)
        return state.running and time.monotonic() >= state.ready_at

    def available_models(self) -> list[str]:
        return list(self.spec.model_names)

    def resident_models(self) -> set[str]:
        return set(self.host.state(self.spec.name).resident)

    def supports_release(self) -> bool:
        return self.can_release

    def release(self, keep: str | None = None) -> list[str]:
        state = self.host.state(self.spec.name)
        freed = sorted(m for m in state.resident if m != keep)
        if not freed:
            return []
        costs = self.host.costs
        self.host.spend(costs.sleep_s if self.spec.kind == "vllm" else costs.unload_s * len(freed))
        with self.host.lock:
            state.resident -= set(freed)
            state.asleep = self.spec.kind == "vllm"
        self.host.note_residency(f"release {self.spec.name} {freed}")
        return freed

    def acquire(self, model: str) -> None:
        state = self.host.state(self.spec.name)
        if model in state.resident:
            return
        costs = self.host.costs
        if self.spec.kind == "vllm":
            cost = costs.wake_s
        elif model in state.loaded_since_start:
            cost = costs.model_warm_load_s
        else:
            cost = costs.model_cold_load_s
        with self.host.lock:
            state.resident.add(model)  # memory is claimed as the load begins
            state.loaded_since_start.add(model)
            state.asleep = False
        self.host.note_residency(f"acquire {self.spec.name} {model}")
        self.host.spend(cost)


def simulated_admins(
    specs: tuple[ServerSpec, ...], host: SimulatedHost
) -> Mapping[str, ServerAdmin]:
    return {spec.name: SimulatedAdmin(spec, host) for spec in specs}


class SimulatedBackend:
    """A model client whose server is simulated: each request costs the host its page time
    (and fails like a dead server when the server is not up), and the answer is the stand-in's
    (:class:`~dualread.testing.standins.answers.Answerer`, from an oracle index), so the real
    stages, prompts and parsing run on it."""

    def __init__(self, host: SimulatedHost, spec: ServerSpec, answerer: Answerer) -> None:
        self.host, self.spec, self.answerer = host, spec, answerer
        self.name = f"simulated {spec.name}"
        self.base_url = spec.base_url

    def chat(self, request: ChatRequest) -> ChatReply:
        seconds = self.host.page(self.spec, request.model)
        text = "\n".join(t for t in (request.system, request.prompt) if t)
        call = ChatCall(
            request.model,
            request.images,
            text,
            request.json_schema is not None,
            request.max_tokens,
            request.seed,
            request.temperature,
        )
        answer = self.answerer.answer(call)
        if answer.status != 200:
            raise BackendError(f"{self.name}: HTTP {answer.status}")
        return ChatReply(answer.content, request.model, seconds, finish_reason=answer.finish_reason)

    def is_available(self) -> bool:
        return self.host.state(self.spec.name).running


class SimulatedControl:
    """The real :class:`ServerManager`, with simulated clients for the readers: what a batch
    over simulated servers hands :func:`dualread.pipeline.read_batch` as its control."""

    def __init__(self, manager: ServerManager, backends: Mapping[Role, Backend]) -> None:
        self.manager, self._backends = manager, backends

    def activate(self, role: Role) -> None:
        self.manager.activate(role)

    def call(self, role: Role, request: Callable[[], T]) -> T:
        return self.manager.call(role, request)

    def backends(self, settings: Settings) -> Mapping[Role, Backend]:
        return self._backends

    def documents_at_once(self, role: Role) -> int:
        return self.manager.documents_at_once(role)


def simulated_control(
    manager: ServerManager, host: SimulatedHost, fixtures: Sequence[Path], settings: Settings
) -> SimulatedControl:
    """A control whose clients answer with ``fixtures``' truth (pages rendered at
    ``settings.dpi``) at the host's costs."""
    oracle = OracleIndex(build_oracle_index(fixtures, settings.dpi))
    answerer = Answerer(Stats(), oracle=oracle)
    servers = manager.servers
    backends: dict[Role, Backend] = {
        role: SimulatedBackend(host, servers.server_for(role), answerer) for role in ROLES
    }
    return SimulatedControl(manager, backends)


def read_simulated(
    documents: Sequence[Path],
    control: SimulatedControl,
    settings: Settings,
    options: BatchOptions | None = None,
) -> list[DocumentEvidence]:
    """Read ``documents`` with the real :func:`~dualread.pipeline.read_batch` (both routes, no
    embedded engine, no answer cache) over the simulated servers."""
    readers = Readers(settings, AnswerCache(settings.cache_dir, enabled=False))
    with ExitStack() as stack:
        opened = [stack.enter_context(open_document(path)) for path in documents]
        batch = options or BatchOptions(routes=("visual", "ocr"), embedded=False)
        return list(read_batch(opened, readers, settings, batch, control))
