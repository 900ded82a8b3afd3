"""Plans: one server per GPU, co-resident on one big GPU, phases on one small GPU."""

from __future__ import annotations

import pytest

from dualread.config import Settings
from dualread.runtime.gpu import Gpu
from dualread.runtime.plan import PHASES, make_plan
from dualread.runtime.servers import server_set

pytestmark = pytest.mark.unit
SERVERS = server_set(Settings(ollama_url="http://127.0.0.1:11434"))
H100 = Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 0)
RTX4090 = Gpu(0, "NVIDIA GeForce RTX 4090", 24564, 800)


def test_one_h100_holds_every_model_at_once() -> None:
    plan = make_plan([H100], SERVERS)
    assert plan.kind == "co-resident" and plan.phases == ()
    assert {p.gpus for p in plan.placements.values()} == {(0,)}
    # vLLM would take 90% of the GPU by default; sharing it, it gets its need plus KV cache.
    assert plan.placements["vllm"].gpu_memory_fraction == 0.19
    assert plan.placements["ollama"].gpu_memory_fraction is None
    assert plan.needed_gib == 31.0


def test_one_24gb_gpu_runs_phases_in_design_order_with_the_best_switches() -> None:
    plan = make_plan([RTX4090], SERVERS)
    assert plan.kind == "phased" and plan.phased
    assert plan.phases == PHASES == ("visual", "ocr", "json", "visual")
    assert dict(plan.switch) == {"ollama": "unload", "vllm": "sleep"}
    assert "too small" in plan.reason


def test_sequential_mode_forces_phases_even_on_a_big_gpu_and_two_gpus() -> None:
    assert make_plan([H100], SERVERS, "sequential").kind == "phased"
    two = make_plan([H100, Gpu(1, "H100", 81559, 0)], SERVERS, "sequential")
    assert two.kind == "phased"
    assert {p.gpus for p in two.placements.values()} == {(0,)}


def test_parallel_mode_forces_co_residence_and_says_it_may_not_fit() -> None:
    plan = make_plan([RTX4090], SERVERS, "parallel")
    assert plan.kind == "co-resident"
    assert "may run out of GPU memory" in plan.reason


def test_two_gpus_get_one_server_each_with_distinct_devices() -> None:
    plan = make_plan([Gpu(0, "L4", 23034, 0), Gpu(1, "L4", 23034, 0)], SERVERS)
    assert plan.kind == "multi-gpu" and plan.phases == ()
    assert sorted(p.gpus for p in plan.placements.values()) == [(0,), (1,)]
    assert plan.placements["vllm"].gpu_memory_fraction is None  # a GPU of its own: vLLM's default


def test_the_bigger_server_goes_to_the_bigger_gpu() -> None:
    plan = make_plan([Gpu(0, "L4", 23034, 0), Gpu(1, "A100", 81920, 0)], SERVERS)
    assert plan.placements["ollama"].gpus == (1,)  # 20 GiB of models
    assert plan.placements["vllm"].gpus == (0,)


def test_restart_preference_and_external_servers() -> None:
    assert set(make_plan([RTX4090], SERVERS, prefer="restart").switch.values()) == {"restart"}
    # dualread cannot stop a server it did not start: it can only sleep or unload.
    external = make_plan([RTX4090], SERVERS, prefer="restart", can_stop=False)
    assert dict(external.switch) == {"ollama": "unload", "vllm": "sleep"}


def test_no_gpu_and_remote_servers() -> None:
    assert make_plan([], SERVERS).kind == "no-gpu"
    remote = server_set(Settings(ollama_url="http://gpu-box:11434"))
    plan = make_plan([H100], remote)
    assert plan.kind == "remote" and "gpu-box" in plan.reason


def test_plan_serialises_for_doctor() -> None:
    data = make_plan([RTX4090], SERVERS).to_dict()
    assert data["kind"] == "phased"
    assert data["servers"]["vllm"] == {
        "gpus": [0],
        "gpu_memory_fraction": 0.63,
        "switch": "sleep",
        "concurrency": 8,
    }
