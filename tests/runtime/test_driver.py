"""The driver and CUDA version, read from real nvidia-smi output, and what will not start."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from dualread.runtime.driver import (
    DriverInfo,
    cuda_version,
    driver_problems,
    parse_nvidia_smi_banner,
    query_nvidia_smi,
)

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"


def test_the_h100_banner_gives_driver_580_and_cuda_13() -> None:
    info = parse_nvidia_smi_banner((DATA / "nvidia-smi-h100.txt").read_text())
    assert (info.version, info.cuda, info.major) == ("580.159.04", "13.0", 580)
    assert driver_problems(info, ["ollama", "vllm"]) == []


def test_nvml_reports_cuda_as_a_number() -> None:
    assert cuda_version(13000) == "13.0" and cuda_version(12090) == "12.9"


def test_an_older_driver_names_the_image_that_will_not_start_and_the_fallback() -> None:
    banner = (DATA / "nvidia-smi-h100.txt").read_text()
    older = banner.replace("580.159.04", "570.86.15").replace(
        "CUDA Version: 13.0", "CUDA Version: 12.8"
    )
    info = parse_nvidia_smi_banner(older)
    (problem,) = driver_problems(info, ["ollama", "vllm"])
    assert problem.startswith("vllm: driver 570.86.15 (CUDA 12.8) is older than the 580")
    assert "VLLM_IMAGE" in problem
    ancient = DriverInfo("470.239.06", "11.4", "nvml")
    assert [p.split(":")[0] for p in driver_problems(ancient, ["ollama", "vllm"])] == [
        "ollama",
        "vllm",
    ]


def test_no_driver_is_no_driver_problem() -> None:
    assert driver_problems(DriverInfo(None, None, "none", "no NVML"), ["vllm"]) == []


def test_nvidia_smi_is_run_plain_for_its_banner() -> None:
    calls: list[list[str]] = []

    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, (DATA / "nvidia-smi-h100.txt").read_text(), "")

    assert query_nvidia_smi(run).version == "580.159.04"
    assert calls == [["nvidia-smi"]]
