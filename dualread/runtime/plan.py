"""Where each server runs and whether the roles take turns: a pure function of GPUs and servers.

- Two or more GPUs: every GPU is used, by replicas of the servers. A GPU that holds one of each
  server at once (an 80 or 141 GB card) runs a co-resident set; the GPUs that hold only one are
  split between the servers in proportion to their cost per page, so the slowest role gets the
  most GPUs. One replica of a server per GPU: a second copy on the same GPU would share its
  compute, so the leftover memory goes to vLLM's KV cache instead (more pages batched at once).
  ``replicas`` (``--replicas``) overrides the counts; each replica then goes to the GPU with the
  most memory left, and a copy that would not fit is not placed.
- One GPU that holds every model at once: co-resident, no switching.
- One GPU that does not: phases across the whole batch, in the DESIGN.md order
  (visual -> ocr -> json -> extra visual passes), so a batch costs the same few switches
  whatever its size. Each switch uses the best strategy the server offers: vLLM sleep/wake,
  then Ollama unload (``keep_alive: 0``), then stopping and starting the server.

Fit is judged against each GPU's total memory times :data:`HEADROOM`, not its free memory: our
own servers, once up, would otherwise shrink the next plan and make ``doctor``, ``servers up``
and ``extract`` disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dualread.choices import Mode
from dualread.config import ConfigError, Role
from dualread.runtime.gpu import Gpu
from dualread.runtime.launcher import Placement
from dualread.runtime.servers import ServerSet, ServerSpec

PlanKind = Literal["multi-gpu", "co-resident", "phased", "no-gpu", "remote"]
SwitchStrategy = Literal["sleep", "unload", "restart", "none"]
Preference = Literal["best", "restart"]

PHASES: tuple[Role, ...] = ("visual", "ocr", "json", "visual")
HEADROOM = 0.9  # of a GPU's memory that plans may fill
# GPU seconds one page costs each role: configured estimates, not measurements (the seeds give
# 3-8 s per page for an OCR model on vLLM, which batches; the visual model writes a page of JSON
# rows; the json role reads text only). Only their ratio matters: it splits GPUs between servers.
PAGE_SECONDS: Mapping[Role, float] = {"visual": 4.0, "ocr": 4.0, "json": 2.0}


@dataclass(frozen=True)
class Plan:
    kind: PlanKind
    mode: Mode
    replicas: Mapping[str, tuple[Placement, ...]]  # per server, where each of its replicas runs
    switch: Mapping[str, SwitchStrategy]  # how each server frees the GPU between phases
    concurrency: Mapping[str, int]  # in-flight requests per replica
    phases: tuple[Role, ...]  # the batch order in a phased plan; () when roles run together
    reason: str
    needed_gib: float
    gpu_gib: float  # memory the plan may use on its busiest GPU
    unused_gpus: tuple[int, ...] = ()  # GPUs no server fits on (said in ``reason``)

    @property
    def phased(self) -> bool:
        return self.kind == "phased"

    @property
    def replicated(self) -> bool:
        """Servers run side by side as replicas: requests are spread over their copies."""
        return self.kind == "multi-gpu" or any(len(p) > 1 for p in self.replicas.values())

    @property
    def placements(self) -> Mapping[str, Placement]:
        """Each server's first replica: the only one, unless the plan runs replicas."""
        return {name: placements[0] for name, placements in self.replicas.items()}

    @property
    def gpus_used(self) -> tuple[int, ...]:
        return tuple(
            sorted(
                {gpu for placements in self.replicas.values() for p in placements for gpu in p.gpus}
            )
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "mode": self.mode,
            "reason": self.reason,
            "needed_gib": round(self.needed_gib, 1),
            "gpu_gib": round(self.gpu_gib, 1),
            "gpus_used": list(self.gpus_used),
            "unused_gpus": list(self.unused_gpus),
            "phases": list(self.phases),
            "servers": {
                name: {
                    "replicas": [
                        {"gpus": list(p.gpus), "gpu_memory_fraction": p.gpu_memory_fraction}
                        for p in placements
                    ],
                    "switch": self.switch[name],
                    "concurrency": self.concurrency[name],
                }
                for name, placements in self.replicas.items()
            },
        }


def best_switch(server: ServerSpec, prefer: Preference, can_stop: bool) -> SwitchStrategy:
    """Sleep/wake for vLLM, unload for Ollama; stop/start only when asked for (the seeds' way)."""
    if prefer == "restart" and can_stop:
        return "restart"
    return "sleep" if server.kind == "vllm" else "unload"


def server_need_gib(server: ServerSpec) -> float:
    """GPU memory one running copy of ``server`` needs: its models with their KV caches
    (:func:`~dualread.runtime.servers.kv_cache_gib`) and its overhead."""
    return server.vram_gib


def _round_down(share: float) -> float:
    return math.floor(share * 100) / 100


def _fraction(server: ServerSpec, gpu: Gpu, shared: bool) -> float | None:
    """vLLM takes 90% of its GPU by default; on a GPU it takes turns on, just what it needs."""
    if server.kind != "vllm" or not shared:
        return None
    share = server_need_gib(server) / gpu.memory_total_gib
    return min(math.ceil(share * 100) / 100, HEADROOM)


def _leftover_fraction(server: ServerSpec, gpu: Gpu, beside: Sequence[ServerSpec]) -> float | None:
    """vLLM beside other servers that stay loaded: what they leave of the usable memory, which
    vLLM spends on KV cache (more pages batched); alone on its GPU, vLLM's own default."""
    if server.kind != "vllm" or not beside:
        return None
    left = gpu.memory_total_gib * HEADROOM - sum(server_need_gib(s) for s in beside)
    # Never below its own need: a plan forced past the fit (--mode parallel) says so itself.
    return _round_down(max(left, server_need_gib(server)) / gpu.memory_total_gib)


def _server_costs(servers: ServerSet, page_seconds: Mapping[Role, float]) -> dict[str, float]:
    """Seconds of GPU time per page for each server: the sum over the roles it plays."""
    costs = dict.fromkeys((s.name for s in servers.servers), 0.0)
    for role, binding in servers.roles.items():
        costs[binding.server] += page_seconds.get(role, 0.0)
    return costs


@dataclass(frozen=True)
class _Spread:
    on_gpu: dict[int, list[ServerSpec]]  # GPU index -> servers placed on it, one per replica
    why: str
    unused: tuple[int, ...]


def _spread_auto(
    gpus: Sequence[Gpu], specs: Sequence[ServerSpec], costs: Mapping[str, float]
) -> _Spread:
    usable = {g.index: g.memory_total_gib * HEADROOM for g in gpus}
    need = {s.name: server_need_gib(s) for s in specs}
    whole_set = sum(need.values())
    on_gpu: dict[int, list[ServerSpec]] = {g.index: [] for g in gpus}
    count = dict.fromkeys(need, 0)
    paired = [g for g in gpus if whole_set <= usable[g.index]]
    for gpu in paired:
        on_gpu[gpu.index] = list(specs)
        for spec in specs:
            count[spec.name] += 1
    unused: list[int] = []
    split = [g for g in gpus if g not in paired]
    for gpu in split:  # biggest first: ``gpus`` comes sorted
        fitting = [s for s in specs if need[s.name] <= usable[gpu.index]]
        if not fitting:
            unused.append(gpu.index)
            continue

        def load(spec: ServerSpec) -> tuple[float, float]:
            # Seconds per page each replica would carry; a server with none is the bottleneck.
            per_replica = costs[spec.name] / count[spec.name] if count[spec.name] else math.inf
            return per_replica, need[spec.name]

        chosen = max(fitting, key=load)
        on_gpu[gpu.index].append(chosen)
        count[chosen.name] += 1
    parts = []
    if paired:
        parts.append(f"{len(paired)} GPU(s) hold one of each server ({whole_set:.0f} GiB)")
    if split:
        shares = ", ".join(f"{name} {costs[name]:g} s" for name in costs)
        parts.append(
            f"{len(split) - len(unused)} GPU(s) hold one server each, split by GPU seconds per "
            f"page ({shares})"
        )
    if unused:
        parts.append(f"GPU {','.join(map(str, unused))} fit no server")
    return _Spread(on_gpu, "; ".join(parts), tuple(unused))


def _spread_counts(
    gpus: Sequence[Gpu], specs: Sequence[ServerSpec], wanted: Mapping[str, int]
) -> _Spread:
    """Place ``wanted[server]`` replicas, one copy of every server before any second copy:
    each on the GPU with the fewest copies of it, then the most memory left. A copy that fits
    nowhere is left out and said."""
    left = {g.index: g.memory_total_gib * HEADROOM for g in gpus}
    on_gpu: dict[int, list[ServerSpec]] = {g.index: [] for g in gpus}
    placed = {s.name: 0 for s in specs}
    full: set[str] = set()
    by_need = sorted(specs, key=lambda s: -server_need_gib(s))
    for round_number in range(max(wanted.get(s.name, 1) for s in specs)):
        for spec in by_need:
            if round_number >= wanted.get(spec.name, 1) or spec.name in full:
                continue
            need = server_need_gib(spec)
            fitting = [g for g in gpus if need <= left[g.index]]
            if not fitting:
                full.add(spec.name)
                continue
            gpu = min(fitting, key=lambda g: (on_gpu[g.index].count(spec), -left[g.index]))
            on_gpu[gpu.index].append(spec)
            left[gpu.index] -= need
            placed[spec.name] += 1
    asked = ", ".join(f"{s.name} {wanted.get(s.name, 1)}" for s in specs)
    short = [
        f"{s.name}: {placed[s.name]} of {wanted.get(s.name, 1)} fit"
        for s in specs
        if placed[s.name] < wanted.get(s.name, 1)
    ]
    why = "; ".join([f"replicas set by --replicas ({asked})", *short])
    unused = tuple(g.index for g in gpus if not on_gpu[g.index])
    return _Spread(on_gpu, why, unused)


def _replica_plan(
    gpus: Sequence[Gpu], specs: Sequence[ServerSpec], spread: _Spread
) -> dict[str, tuple[Placement, ...]] | None:
    """Placements per server from a spread; None when some server got no GPU at all."""
    replicas: dict[str, list[Placement]] = {s.name: [] for s in specs}
    by_index = {g.index: g for g in gpus}
    for index, placed in spread.on_gpu.items():
        gpu = by_index[index]
        for position, spec in enumerate(placed):
            beside = placed[:position] + placed[position + 1 :]
            fraction = _leftover_fraction(spec, gpu, beside)
            if fraction is not None and spec.kind == "vllm" and placed.count(spec) > 1:
                fraction = _round_down(fraction / placed.count(spec))  # copies share the rest
            replicas[spec.name].append(Placement((index,), fraction))
    if not all(replicas.values()):
        return None
    return {name: tuple(placements) for name, placements in replicas.items()}


def replica_counts(text: str, servers: ServerSet) -> dict[str, int] | None:
    """``--replicas``: ``4`` (every server), or ``vllm=3,ollama=2`` by server or role name
    (``ocr=3``); "" leaves the counts to the plan."""
    text = text.strip()
    if not text:
        return None
    names = {s.name for s in servers.servers}
    counts: dict[str, int] = {}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        key, equals, value = item.rpartition("=")
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count < 1:
            raise ConfigError(f"--replicas {text}: {item!r} is not a count of 1 or more")
        if not equals:
            counts.update(dict.fromkeys(names, count))
            continue
        server = key if key in names else None
        if server is None and key in servers.roles:
            server = servers.roles[key].server  # type: ignore[index]
        if server is None:
            known = ", ".join(sorted(names | set(servers.roles)))
            raise ConfigError(f"--replicas {text}: no server or role {key!r} (known: {known})")
        counts[server] = count
    return counts


def make_plan(
    gpus: Sequence[Gpu],
    servers: ServerSet,
    mode: Mode = "auto",
    *,
    prefer: Preference = "best",
    can_stop: bool = True,
    replicas: Mapping[str, int] | None = None,
    page_seconds: Mapping[Role, float] = PAGE_SECONDS,
) -> Plan:
    """The plan for these GPUs and servers. ``can_stop`` is False for external servers;
    ``replicas`` (server name -> count) overrides the automatic replica counts."""
    specs = servers.servers
    needed = sum(s.vram_gib for s in specs)
    switch = {s.name: best_switch(s, prefer, can_stop) for s in specs}
    concurrency = {s.name: s.max_concurrency for s in specs}

    def plan(
        kind: PlanKind,
        placed: Mapping[str, tuple[Placement, ...]],
        reason: str,
        gpu_gib: float,
        unused: tuple[int, ...] = (),
    ) -> Plan:
        phases = PHASES if kind == "phased" else ()
        return Plan(
            kind, mode, placed, switch, concurrency, phases, reason, needed, gpu_gib, unused
        )

    def everywhere(placement: Placement) -> dict[str, tuple[Placement, ...]]:
        return {s.name: (placement,) for s in specs}

    if not all(s.is_local for s in specs):
        remote = ", ".join(s.base_url for s in specs if not s.is_local)
        return plan(
            "remote",
            everywhere(Placement()),
            f"servers on other hosts ({remote}) are placed and swapped by whoever runs them",
            0.0,
        )
    if not gpus:
        return plan(
            "no-gpu",
            everywhere(Placement()),
            "no NVIDIA GPU found: servers run wherever they already run, on CPU if at all",
            0.0,
        )

    ordered = sorted(gpus, key=lambda g: (-g.memory_total_mib, g.index))
    forced = replicas is not None and any(n > 1 for n in replicas.values())
    if mode != "sequential" and (len(ordered) >= 2 or forced):
        spread = (
            _spread_counts(ordered, specs, replicas)
            if replicas is not None
            else _spread_auto(ordered, specs, _server_costs(servers, page_seconds))
        )
        placed = _replica_plan(ordered, specs, spread)
        if placed is not None:
            counts = ", ".join(f"{name} x{len(p)}" for name, p in placed.items())
            busiest = max(sum(server_need_gib(s) for s in on) for on in spread.on_gpu.values())
            kind: PlanKind = "multi-gpu" if len(ordered) >= 2 else "co-resident"
            return plan(
                kind,
                placed,
                f"{len(ordered)} GPU(s), replicas {counts}: {spread.why}",
                busiest,
                spread.unused,
            )

    gpu = ordered[0]
    usable = gpu.memory_total_gib * HEADROOM
    fits = needed <= usable
    sizes = (
        f"{needed:.0f} GiB needed for every model at once, "
        f"{usable:.0f} GiB usable on GPU {gpu.index}"
    )
    unused = tuple(g.index for g in ordered[1:])
    if unused:
        sizes += f"; GPU {','.join(map(str, unused))} left idle"
    if mode == "parallel" or (mode == "auto" and fits):
        note = "" if fits else "; forced by --mode parallel, it may run out of GPU memory"
        together = {
            s.name: (
                Placement((gpu.index,), _leftover_fraction(s, gpu, [o for o in specs if o != s])),
            )
            for s in specs
        }
        return plan(
            "co-resident", together, f"one GPU holds every model: {sizes}{note}", needed, unused
        )
    why = "--mode sequential" if mode == "sequential" else "one GPU too small for every model"
    largest = max(m.vram_gib + s.overhead_gib for s in specs for m in s.models)
    turns = {s.name: (Placement((gpu.index,), _fraction(s, gpu, True)),) for s in specs}
    return plan(
        "phased",
        turns,
        f"{why} ({sizes}): models take turns, phase by phase across the batch",
        largest,
        unused,
    )
