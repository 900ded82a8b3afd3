"""Which NVIDIA GPUs this host has, and how much memory each has free: NVML, else nvidia-smi.

``nvidia-smi`` ignores ``CUDA_VISIBLE_DEVICES`` (seen on a real H100), so when the variable holds
indexes or UUIDs this module applies it itself: the user's restriction also limits the plan.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

NVIDIA_SMI_QUERY = (
    "nvidia-smi",
    "--query-gpu=index,name,memory.total,memory.used,uuid",
    "--format=csv,noheader,nounits",
)
MIB = 1024 * 1024


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    memory_total_mib: int
    memory_used_mib: int
    uuid: str | None = None

    @property
    def memory_free_mib(self) -> int:
        return max(self.memory_total_mib - self.memory_used_mib, 0)

    @property
    def memory_free_gib(self) -> float:
        return self.memory_free_mib / 1024

    @property
    def memory_total_gib(self) -> float:
        return self.memory_total_mib / 1024

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "memory_free_mib": self.memory_free_mib}


@dataclass(frozen=True)
class GpuReport:
    """What detection found; ``error`` says why no GPU was found, if none was."""

    gpus: tuple[Gpu, ...]
    source: str  # "nvml", "nvidia-smi" or "none"
    error: str | None = None


def _mib(field: str) -> int:
    """A memory field with or without its unit: ``81559`` or ``81559 MiB``."""
    return int(field.strip().removesuffix("MiB").strip())


def parse_nvidia_smi_csv(text: str) -> list[Gpu]:
    """Rows of ``--query-gpu=index,name,memory.total,memory.used[,...]``, header and units optional.

    Fields after memory.used are optional; a fifth starting ``GPU-`` is taken as the UUID.
    A row whose memory reads ``[N/A]`` (some MIG set-ups) is skipped.
    """
    gpus: list[Gpu] = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 4 or fields[0] == "index":
            continue
        try:
            index = int(fields[0])
            total, used = _mib(fields[2]), _mib(fields[3])
        except ValueError:
            continue
        uuid = next((f for f in fields[4:] if f.startswith("GPU-")), None)
        gpus.append(Gpu(index, fields[1], total, used, uuid))
    return gpus


def query_nvidia_smi(
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> list[Gpu]:
    done = run(list(NVIDIA_SMI_QUERY), capture_output=True, text=True, timeout=20, check=False)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise OSError(f"nvidia-smi failed: {message[0] if message else done.returncode}")
    return parse_nvidia_smi_csv(done.stdout)


def query_nvml() -> list[Gpu]:
    import pynvml  # the optional "gpu" extra (nvidia-ml-py)

    pynvml.nvmlInit()
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            uuid = pynvml.nvmlDeviceGetUUID(handle)
            gpus.append(
                Gpu(
                    index,
                    name.decode() if isinstance(name, bytes) else str(name),
                    int(memory.total) // MIB,
                    int(memory.used) // MIB,
                    uuid.decode() if isinstance(uuid, bytes) else str(uuid),
                )
            )
        return gpus
    finally:
        pynvml.nvmlShutdown()


def _named(gpus: Sequence[Gpu], token: str) -> Gpu | None:
    """The GPU an index or a UUID (or its prefix) names, as CUDA reads them."""
    return next(
        (g for g in gpus if str(g.index) == token or (g.uuid and g.uuid.startswith(token))), None
    )


def apply_visible_devices(gpus: Sequence[Gpu], visible: str | None) -> list[Gpu]:
    """Keep the GPUs ``CUDA_VISIBLE_DEVICES`` names (indexes or UUIDs); unset keeps all."""
    if visible is None:
        return list(gpus)
    wanted = [v.strip() for v in visible.split(",") if v.strip()]
    kept: list[Gpu] = []
    for token in wanted:
        match = _named(gpus, token)
        if match is None or match in kept:
            break  # CUDA stops at the first invalid entry
        kept.append(match)
    return kept


def detect_gpus(environ: dict[str, str] | None = None) -> GpuReport:
    """NVML first (no subprocess), then nvidia-smi; never raises."""
    environ = dict(os.environ) if environ is None else environ
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    problems: list[str] = []
    sources: tuple[tuple[str, Callable[[], list[Gpu]]], ...] = (
        ("nvml", query_nvml),
        ("nvidia-smi", query_nvidia_smi),
    )
    for source, query in sources:
        try:
            found = query()
        except Exception as error:  # any failure means: try the next source
            problems.append(f"{source}: {str(error).strip() or type(error).__name__}")
            continue
        return GpuReport(tuple(apply_visible_devices(found, visible)), source)
    return GpuReport((), "none", "; ".join(problems))


class GpuChoiceError(ValueError):
    """A ``--gpus`` choice that names no visible GPU; the message says which are visible."""


def select_gpus(gpus: Sequence[Gpu], choice: str | None) -> list[Gpu]:
    """The GPUs ``--gpus 0,2,3`` names (nvidia-smi indexes or UUID prefixes), in that order,
    among those already visible; None or "" or "all" keeps every visible GPU."""
    if choice is None or choice.strip() in ("", "all"):
        return list(gpus)
    chosen: list[Gpu] = []
    for token in (t.strip() for t in choice.split(",") if t.strip()):
        match = _named(gpus, token)
        if match is None:
            visible = ",".join(str(g.index) for g in gpus) or "none"
            raise GpuChoiceError(f"--gpus {choice}: no visible GPU {token} (visible: {visible})")
        if match not in chosen:
            chosen.append(match)
    return chosen


def chosen_gpus(report: GpuReport, choice: str | None) -> GpuReport:
    """``report`` limited to the ``--gpus`` choice; raises :class:`GpuChoiceError`."""
    return GpuReport(tuple(select_gpus(report.gpus, choice)), report.source, report.error)


def free_memory_gib(indexes: Sequence[int]) -> float | None:
    """The least free memory among the GPUs ``indexes`` (GiB), read through NVML; None where
    NVML cannot tell (no driver, no ``gpu`` extra, no GPUs named)."""
    if not indexes:
        return None
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no NVML here: nothing to wait for
        return None
    try:
        frees = [
            int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(i)).free)
            for i in indexes
        ]
    except Exception:
        return None
    finally:
        pynvml.nvmlShutdown()
    return min(frees) / MIB / 1024
