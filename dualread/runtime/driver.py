"""The NVIDIA driver and the CUDA version it supports, and which server images it can start.

A container brings its own CUDA runtime but uses the host's driver, which must support that CUDA
version: ``vllm/vllm-openai:v0.32.0`` is a CUDA 13.0 build and needs driver 580 or newer; on an
older driver vLLM fails at start with a CUDA error, long after the image was pulled. ``doctor``
reads the driver first (NVML, else the ``nvidia-smi`` banner) and says what will not start.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dualread.config import ServerKind


@dataclass(frozen=True)
class DriverNeed:
    min_driver: int  # major version
    cuda: str
    why: str


# What each server image needs from the host's driver (NVIDIA's CUDA compatibility table: CUDA
# 13.0 needs 580+, 12.9 needs 575+). Ollama 0.35 ships CUDA 12 and 13 runners and picks one the
# driver supports; its documented floor is driver 531.
IMAGE_NEEDS: dict[ServerKind, DriverNeed] = {
    "vllm": DriverNeed(
        580,
        "13.0",
        "the vLLM image (vllm/vllm-openai:v0.32.0) is a CUDA 13.0 build; build it on a CUDA 12.9 "
        "vLLM image instead (--build-arg VLLM_IMAGE=..., driver 575+; see the README)",
    ),
    "ollama": DriverNeed(531, "12.0", "Ollama's CUDA runners need driver 531 or newer"),
}
_BANNER = re.compile(r"Driver Version:\s*([\d.]+)\s+CUDA Version:\s*([\d.]+)")


@dataclass(frozen=True)
class DriverInfo:
    version: str | None  # "580.159.04"
    cuda: str | None  # the newest CUDA version the driver supports: "13.0"
    source: str  # "nvml", "nvidia-smi" or "none"
    error: str | None = None

    @property
    def major(self) -> int | None:
        return int(self.version.split(".")[0]) if self.version else None


def parse_nvidia_smi_banner(text: str) -> DriverInfo:
    """The driver and CUDA versions from plain ``nvidia-smi`` output's header."""
    found = _BANNER.search(text)
    if found is None:
        return DriverInfo(None, None, "nvidia-smi", "no driver version in nvidia-smi's output")
    return DriverInfo(found[1], found[2], "nvidia-smi")


def cuda_version(encoded: int) -> str:
    """NVML's ``nvmlSystemGetCudaDriverVersion`` (13000) as "13.0"."""
    return f"{encoded // 1000}.{encoded % 1000 // 10}"


def query_nvml() -> DriverInfo:
    import pynvml  # the optional "gpu" extra (nvidia-ml-py)

    pynvml.nvmlInit()
    try:
        version = pynvml.nvmlSystemGetDriverVersion()
        cuda = pynvml.nvmlSystemGetCudaDriverVersion()
    finally:
        pynvml.nvmlShutdown()
    text = version.decode() if isinstance(version, bytes) else str(version)
    return DriverInfo(text, cuda_version(int(cuda)), "nvml")


def query_nvidia_smi(
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> DriverInfo:
    done = run(["nvidia-smi"], capture_output=True, text=True, timeout=20, check=False)
    if done.returncode != 0:
        raise OSError(f"nvidia-smi failed with status {done.returncode}")
    return parse_nvidia_smi_banner(done.stdout)


def detect_driver() -> DriverInfo:
    """NVML first, then nvidia-smi; never raises."""
    problems: list[str] = []
    for source, query in (("nvml", query_nvml), ("nvidia-smi", query_nvidia_smi)):
        try:
            return query()
        except Exception as error:  # any failure means: try the next source
            problems.append(f"{source}: {str(error).strip() or type(error).__name__}")
    return DriverInfo(None, None, "none", "; ".join(problems))


def driver_problems(info: DriverInfo, kinds: Iterable[ServerKind]) -> list[str]:
    """One line per server image this driver cannot start, saying why; [] without a driver
    (doctor reports the missing GPU itself)."""
    major = info.major
    if major is None:
        return []
    return [
        f"{kind}: driver {info.version} (CUDA {info.cuda}) is older than the {need.min_driver} "
        f"that CUDA {need.cuda} needs: {need.why}"
        for kind in dict.fromkeys(kinds)
        if major < (need := IMAGE_NEEDS[kind]).min_driver
    ]
