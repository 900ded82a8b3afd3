"""Where each server runs and whether the roles take turns: a pure function of GPUs and servers.

- Two or more GPUs: one server per GPU, both routes at once.
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
from dualread.config import Role
from dualread.runtime.gpu import Gpu
from dualread.runtime.launcher import Placement
from dualread.runtime.servers import ServerSet, ServerSpec

PlanKind = Literal["multi-gpu", "co-resident", "phased", "no-gpu", "remote"]
SwitchStrategy = Literal["sleep", "unload", "restart", "none"]
Preference = Literal["best", "restart"]

PHASES: tuple[Role, ...] = ("visual", "ocr", "json", "visual")
HEADROOM = 0.9  # of a GPU's memory that plans may fill
VLLM_KV_CACHE_GIB = 4.0  # KV cache for a page-at-a-time OCR model with a few requests in flight


@dataclass(frozen=True)
class Plan:
    kind: PlanKind
    mode: Mode
    placements: Mapping[str, Placement]
    switch: Mapping[str, SwitchStrategy]  # how each server frees the GPU between phases
    concurrency: Mapping[str, int]  # in-flight requests per server
    phases: tuple[Role, ...]  # the batch order in a phased plan; () when roles run together
    reason: str
    needed_gib: float
    gpu_gib: float  # memory the plan may use on its busiest GPU

    @property
    def phased(self) -> bool:
        return self.kind == "phased"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "mode": self.mode,
            "reason": self.reason,
            "needed_gib": round(self.needed_gib, 1),
            "gpu_gib": round(self.gpu_gib, 1),
            "phases": list(self.phases),
            "servers": {
                name: {
                    "gpus": list(placement.gpus),
                    "gpu_memory_fraction": placement.gpu_memory_fraction,
                    "switch": self.switch[name],
                    "concurrency": self.concurrency[name],
                }
                for name, placement in self.placements.items()
            },
        }


def best_switch(server: ServerSpec, prefer: Preference, can_stop: bool) -> SwitchStrategy:
    """Sleep/wake for vLLM, unload for Ollama; stop/start only when asked for (the seeds' way)."""
    if prefer == "restart" and can_stop:
        return "restart"
    return "sleep" if server.kind == "vllm" else "unload"


def _fraction(server: ServerSpec, gpu: Gpu, shared: bool) -> float | None:
    """vLLM takes 90% of its GPU by default; on a shared GPU it gets just what it needs."""
    if server.kind != "vllm" or not shared:
        return None
    share = (server.vram_gib + VLLM_KV_CACHE_GIB) / gpu.memory_total_gib
    return min(math.ceil(share * 100) / 100, HEADROOM)


def make_plan(
    gpus: Sequence[Gpu],
    servers: ServerSet,
    mode: Mode = "auto",
    *,
    prefer: Preference = "best",
    can_stop: bool = True,
) -> Plan:
    """The plan for these GPUs and servers. ``can_stop`` is False for external servers."""
    specs = servers.servers
    needed = sum(s.vram_gib for s in specs)
    switch = {s.name: best_switch(s, prefer, can_stop) for s in specs}
    concurrency = {s.name: s.max_concurrency for s in specs}

    def plan(kind: PlanKind, placements: dict[str, Placement], reason: str, gpu_gib: float) -> Plan:
        phases = PHASES if kind == "phased" else ()
        return Plan(kind, mode, placements, switch, concurrency, phases, reason, needed, gpu_gib)

    if not all(s.is_local for s in specs):
        remote = ", ".join(s.base_url for s in specs if not s.is_local)
        return plan(
            "remote",
            {s.name: Placement() for s in specs},
            f"servers on other hosts ({remote}) are placed and swapped by whoever runs them",
            0.0,
        )
    if not gpus:
        return plan(
            "no-gpu",
            {s.name: Placement() for s in specs},
            "no NVIDIA GPU found: servers run wherever they already run, on CPU if at all",
            0.0,
        )

    ordered = sorted(gpus, key=lambda g: (-g.memory_total_mib, g.index))
    if len(ordered) >= 2 and mode != "sequential":
        placements: dict[str, Placement] = {}
        by_need = sorted(specs, key=lambda s: -s.vram_gib)
        sharing = len(by_need) > len(ordered)
        for position, spec in enumerate(by_need):
            gpu = ordered[position % len(ordered)]
            placements[spec.name] = Placement((gpu.index,), _fraction(spec, gpu, sharing))
        biggest = max(spec.vram_gib for spec in specs)
        return plan(
            "multi-gpu",
            placements,
            f"{len(ordered)} GPUs: one server per GPU, both routes run at once",
            biggest,
        )

    gpu = ordered[0]
    usable = gpu.memory_total_gib * HEADROOM
    fits = needed <= usable
    sizes = (
        f"{needed:.0f} GiB needed for every model at once, "
        f"{usable:.0f} GiB usable on GPU {gpu.index}"
    )
    shared = {s.name: Placement((gpu.index,), _fraction(s, gpu, True)) for s in specs}
    if mode == "parallel" or (mode == "auto" and fits):
        note = "" if fits else "; forced by --mode parallel, it may run out of GPU memory"
        return plan("co-resident", shared, f"one GPU holds every model: {sizes}{note}", needed)
    why = "--mode sequential" if mode == "sequential" else "one GPU too small for every model"
    largest = max(m.vram_gib + s.overhead_gib for s in specs for m in s.models)
    return plan(
        "phased",
        shared,
        f"{why} ({sizes}): models take turns, phase by phase across the batch",
        largest,
    )
