"""GPU detection, parsed from real nvidia-smi and NVML output of an H100 (tests/runtime/data)."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from dualread.runtime import gpu
from dualread.runtime.gpu import (
    Gpu,
    GpuChoiceError,
    GpuReport,
    apply_visible_devices,
    chosen_gpus,
    detect_gpus,
    parse_nvidia_smi_csv,
    select_gpus,
)
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit
DATA = Path(__file__).parent / "data"
H100 = Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 0, "GPU-4a0f5e22-909a-dd8e-1d97-7ca10c7587de")


def test_parses_the_noheader_nounits_query_with_uuid() -> None:
    assert parse_nvidia_smi_csv((DATA / "nvidia-smi-query-h100.csv").read_text()) == [H100]


def test_parses_the_query_with_header_and_units() -> None:
    parsed = parse_nvidia_smi_csv((DATA / "nvidia-smi-query-header-h100.csv").read_text())
    assert parsed == [Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 0)]
    assert parsed[0].memory_free_mib == 81559
    assert parsed[0].memory_total_gib == pytest.approx(79.65, abs=0.01)


def test_skips_rows_without_memory_figures_and_reads_several_gpus() -> None:
    text = (
        "0, NVIDIA A100-SXM4-40GB, 40960, 1024\n"
        "1, NVIDIA A100-SXM4-40GB, [N/A], [N/A]\n"
        "2, NVIDIA L4, 23034, 0, GPU-abc\n"
    )
    assert [(g.index, g.memory_free_mib, g.uuid) for g in parse_nvidia_smi_csv(text)] == [
        (0, 39936, None),
        (2, 23034, "GPU-abc"),
    ]


def test_nvidia_smi_query_runs_the_documented_command() -> None:
    seen: list[list[str]] = []

    def run(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        seen.append(argv)
        return subprocess.CompletedProcess(
            argv, 0, (DATA / "nvidia-smi-query-h100.csv").read_text(), ""
        )

    assert gpu.query_nvidia_smi(run) == [H100]
    assert seen[0][0] == "nvidia-smi"
    assert "--format=csv,noheader,nounits" in seen[0]
    assert seen[0][1].startswith("--query-gpu=index,name,memory.total,memory.used")


def test_nvidia_smi_failure_is_one_line() -> None:
    def run(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            argv,
            9,
            "",
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\nmore",
        )

    with pytest.raises(OSError, match=r"couldn't communicate with the NVIDIA driver\.$"):
        gpu.query_nvidia_smi(run)


def _fake_pynvml(total: int, used: int, name: str, uuid: str) -> types.ModuleType:
    """A pynvml with the H100's recorded answers (nvml-h100.txt): bytes, not MiB."""
    module = types.ModuleType("pynvml")
    memory = types.SimpleNamespace(total=total, used=used, free=total - used)
    calls: list[str] = []
    module.nvmlInit = lambda: calls.append("init")  # type: ignore[attr-defined]
    module.nvmlShutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    module.nvmlDeviceGetCount = lambda: 1  # type: ignore[attr-defined]
    module.nvmlDeviceGetHandleByIndex = lambda index: ("handle", index)  # type: ignore[attr-defined]
    module.nvmlDeviceGetName = lambda handle: name  # type: ignore[attr-defined]
    module.nvmlDeviceGetMemoryInfo = lambda handle: memory  # type: ignore[attr-defined]
    module.nvmlDeviceGetUUID = lambda handle: uuid.encode()  # type: ignore[attr-defined]
    module.calls = calls  # type: ignore[attr-defined]
    return module


def test_nvml_bytes_become_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = (DATA / "nvml-h100.txt").read_text().splitlines()
    index, *name_words, total, used, _free = lines[1].split()
    fake = _fake_pynvml(int(total), int(used), " ".join(name_words), H100.uuid or "")
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    found = gpu.query_nvml()
    assert found == [Gpu(int(index), "NVIDIA H100 80GB HBM3", 81559, 480, H100.uuid)]
    assert fake.calls == ["init", "shutdown"]


def test_visible_devices_filter_by_index_and_uuid() -> None:
    gpus = [Gpu(0, "a", 100, 0, "GPU-aaa"), Gpu(1, "b", 100, 0, "GPU-bbb")]
    assert apply_visible_devices(gpus, None) == gpus
    assert apply_visible_devices(gpus, "1") == [gpus[1]]
    assert apply_visible_devices(gpus, "GPU-bbb,0") == [gpus[1], gpus[0]]
    assert apply_visible_devices(gpus, "") == []
    assert apply_visible_devices(gpus, "0,7,1") == [gpus[0]]  # CUDA stops at an invalid entry


def test_detect_falls_back_to_nvidia_smi_then_reports_why_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_nvml() -> list[Gpu]:
        raise ImportError("No module named 'pynvml'")

    monkeypatch.setattr(gpu, "query_nvml", no_nvml)
    monkeypatch.setattr(gpu, "query_nvidia_smi", lambda: [H100])
    report = detect_gpus({})
    assert (report.source, report.gpus) == ("nvidia-smi", (H100,))

    def no_smi() -> list[Gpu]:
        raise FileNotFoundError("[Errno 2] No such file or directory: 'nvidia-smi'")

    monkeypatch.setattr(gpu, "query_nvidia_smi", no_smi)
    report = detect_gpus({"CUDA_VISIBLE_DEVICES": "0"})
    assert report.gpus == () and report.source == "none"
    assert report.error is not None
    assert "pynvml" in report.error and "nvidia-smi" in report.error


def test_gpus_choice_keeps_the_named_gpus_in_order() -> None:
    four = [Gpu(i, "L4", 23034, 0, f"GPU-{i}aaa") for i in range(4)]
    assert [g.index for g in select_gpus(four, "3,0,2")] == [3, 0, 2]
    assert [g.index for g in select_gpus(four, "GPU-1")] == [1]  # a UUID prefix
    assert select_gpus(four, None) == four and select_gpus(four, "all") == four


def test_gpus_choice_applies_within_cuda_visible_devices() -> None:
    four = [Gpu(i, "L4", 23034, 0) for i in range(4)]
    visible = apply_visible_devices(four, "2,3")
    assert [g.index for g in select_gpus(visible, "3")] == [3]
    with pytest.raises(GpuChoiceError, match=r"--gpus 0,3: no visible GPU 0 \(visible: 2,3\)"):
        select_gpus(visible, "0,3")


def test_the_recorded_two_h200_host_parses_from_both_tools() -> None:
    recorded = REPO_ROOT / "bench/results/gpu-h200x2"
    from_smi = parse_nvidia_smi_csv((recorded / "nvidia-smi-query-h200x2.csv").read_text())
    assert [(g.index, g.name, g.memory_total_mib) for g in from_smi] == [
        (0, "NVIDIA H200", 143771),
        (1, "NVIDIA H200", 143771),
    ]
    header = parse_nvidia_smi_csv((recorded / "nvidia-smi-query-header-h200x2.csv").read_text())
    assert [g.memory_total_mib for g in header] == [143771, 143771]
    assert chosen_gpus(GpuReport(tuple(from_smi), "nvidia-smi"), "1").gpus == (from_smi[1],)
