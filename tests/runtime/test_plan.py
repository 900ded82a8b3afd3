"""Plans: replicas over every GPU, co-resident on one big GPU, phases on one small GPU."""

from __future__ import annotations

import pytest

from dualread.config import ConfigError, Role, Settings
from dualread.runtime.gpu import Gpu, parse_nvidia_smi_csv
from dualread.runtime.plan import (
    HEADROOM,
    PHASES,
    Plan,
    make_plan,
    replica_counts,
    server_need_gib,
)
from dualread.runtime.servers import server_set
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit
SERVERS = server_set(Settings(ollama_url="http://127.0.0.1:11434"))
H100 = Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 0)
RTX4090 = Gpu(0, "NVIDIA GeForce RTX 4090", 24564, 800)


def test_one_h100_holds_every_model_at_once() -> None:
    plan = make_plan([H100], SERVERS)
    assert plan.kind == "co-resident" and plan.phases == ()
    assert {p.gpus for p in plan.placements.values()} == {(0,)}
    # vLLM would take 90% of the GPU; beside Ollama it gets what Ollama leaves (KV cache).
    assert plan.placements["vllm"].gpu_memory_fraction == 0.63
    assert plan.placements["ollama"].gpu_memory_fraction is None
    assert round(plan.needed_gib, 2) == 33.03  # weights, KV caches and overheads


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


def test_two_small_gpus_get_one_server_each_with_distinct_devices() -> None:
    # 24 GB each: the Ollama pair with its KV caches (20.8 GiB) fits 90% of one, not of an L4.
    plan = make_plan([Gpu(0, "RTX 4090", 24564, 0), Gpu(1, "RTX 4090", 24564, 0)], SERVERS)
    assert plan.kind == "multi-gpu" and plan.phases == () and plan.replicated
    assert sorted(p.gpus for p in plan.placements.values()) == [(0,), (1,)]
    assert plan.placements["vllm"].gpu_memory_fraction is None  # a GPU of its own: vLLM's default


def test_a_big_gpu_holds_a_pair_and_a_small_one_takes_the_costlier_server() -> None:
    plan = make_plan([Gpu(0, "RTX 4090", 24564, 0), Gpu(1, "A100", 81920, 0)], SERVERS)
    assert gpus_of(plan) == {"ollama": [(1,), (0,)], "vllm": [(1,)]}
    assert plan.gpus_used == (0, 1)


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
        "replicas": [{"gpus": [0], "gpu_memory_fraction": 0.52}],
        "switch": "sleep",
        "concurrency": 8,
    }


def gpus_of(plan: Plan) -> dict[str, list[tuple[int, ...]]]:
    return {name: [p.gpus for p in placements] for name, placements in plan.replicas.items()}


def cards(count: int, mib: int) -> list[Gpu]:
    return [Gpu(i, f"simulated {mib // 1024} GiB", mib, 0) for i in range(count)]


# Cards of 24, 48, 80 and 141 GB as nvidia-smi reports them (MiB).
SIZES = {"24GB": 24564, "48GB": 49140, "80GB": 81559, "141GB": 143771}


@pytest.mark.parametrize("count", [2, 4, 8])
@pytest.mark.parametrize("size", ["80GB", "141GB", "48GB"])
def test_gpus_that_hold_both_routes_each_run_a_co_resident_pair(count: int, size: str) -> None:
    plan = make_plan(cards(count, SIZES[size]), SERVERS)
    assert plan.kind == "multi-gpu"
    assert gpus_of(plan) == {name: [(i,) for i in range(count)] for name in ("ollama", "vllm")}
    assert plan.gpus_used == tuple(range(count)) and plan.unused_gpus == ()
    # vLLM's share is what Ollama leaves of the usable 90%: never over the card.
    for placement in plan.replicas["vllm"]:
        assert placement.gpu_memory_fraction is not None
        ollama_share = server_need_gib(SERVERS.server("ollama")) / (SIZES[size] / 1024)
        assert placement.gpu_memory_fraction + ollama_share <= HEADROOM


@pytest.mark.parametrize(("count", "ollama", "vllm"), [(2, 1, 1), (4, 2, 2), (8, 5, 3)])
def test_small_gpus_are_split_between_servers_by_cost_per_page(
    count: int, ollama: int, vllm: int
) -> None:
    plan = make_plan(cards(count, SIZES["24GB"]), SERVERS)
    assert plan.kind == "multi-gpu"
    assert (len(plan.replicas["ollama"]), len(plan.replicas["vllm"])) == (ollama, vllm)
    # Every GPU used, one server each: no second copy that would not fit.
    assert sorted(p.gpus[0] for ps in plan.replicas.values() for p in ps) == list(range(count))
    assert "GPU seconds per page" in plan.reason


def test_the_split_follows_the_configured_cost_per_page() -> None:
    ocr_heavy: dict[Role, float] = {"visual": 1.0, "ocr": 6.0, "json": 1.0}
    plan = make_plan(cards(8, SIZES["24GB"]), SERVERS, page_seconds=ocr_heavy)
    assert (len(plan.replicas["ollama"]), len(plan.replicas["vllm"])) == (2, 6)


@pytest.mark.parametrize("size", list(SIZES))
def test_an_eight_gpu_plan_uses_eight_gpus(size: str) -> None:
    assert make_plan(cards(8, SIZES[size]), SERVERS).gpus_used == tuple(range(8))


@pytest.mark.parametrize(
    ("size", "kind"), [("24GB", "phased"), ("48GB", "co-resident"), ("80GB", "co-resident")]
)
def test_one_gpu_keeps_one_copy_of_each_server(size: str, kind: str) -> None:
    plan = make_plan(cards(1, SIZES[size]), SERVERS)
    assert plan.kind == kind and not plan.replicated
    assert gpus_of(plan) == {"ollama": [(0,)], "vllm": [(0,)]}


def test_mixed_cards_pair_the_big_ones_and_leave_out_a_card_no_server_fits() -> None:
    mixed = [
        Gpu(0, "A100 80GB", 81920, 0),
        Gpu(1, "RTX 4090", 24564, 0),
        Gpu(2, "RTX 4090", 24564, 0),
        Gpu(3, "P4", 7680, 0),  # 6.75 GiB usable: neither server (20.8 and 12.3 GiB) fits
    ]
    plan = make_plan(mixed, SERVERS)
    assert gpus_of(plan) == {"ollama": [(0,), (1,)], "vllm": [(0,), (2,)]}
    assert plan.unused_gpus == (3,) and "GPU 3 fit no server" in plan.reason


def test_replicas_override_places_each_copy_where_most_memory_is_left() -> None:
    plan = make_plan(cards(2, SIZES["141GB"]), SERVERS, replicas={"ollama": 3, "vllm": 1})
    assert gpus_of(plan) == {"ollama": [(0,), (0,), (1,)], "vllm": [(1,)]}
    assert "--replicas" in plan.reason


def test_replicas_override_on_one_gpu_and_a_copy_that_does_not_fit() -> None:
    plan = make_plan(cards(1, SIZES["80GB"]), SERVERS, replicas={"ollama": 4, "vllm": 1})
    # 71.7 GiB usable: three Ollama copies (20 GiB) and one vLLM (15 GiB) do not all fit.
    assert len(plan.replicas["ollama"]) == 2 and plan.replicated
    assert "ollama: 2 of 4 fit" in plan.reason


def test_replica_counts_by_number_server_and_role() -> None:
    assert replica_counts("", SERVERS) is None
    assert replica_counts("3", SERVERS) == {"ollama": 3, "vllm": 3}
    assert replica_counts("ocr=4,ollama=2", SERVERS) == {"vllm": 4, "ollama": 2}
    with pytest.raises(ConfigError, match="no server or role 'gpu'"):
        replica_counts("gpu=2", SERVERS)
    with pytest.raises(ConfigError, match="not a count"):
        replica_counts("vllm=0", SERVERS)


def test_the_recorded_two_h200_host_runs_a_pair_on_each_gpu() -> None:
    recorded = REPO_ROOT / "bench/results/gpu-h200x2/nvidia-smi-query-h200x2.csv"
    gpus = parse_nvidia_smi_csv(recorded.read_text())
    plan = make_plan(gpus, SERVERS)
    assert [g.memory_total_mib for g in gpus] == [143771, 143771]
    assert gpus_of(plan) == {"ollama": [(0,), (1,)], "vllm": [(0,), (1,)]}
    data = plan.to_dict()
    assert data["gpus_used"] == [0, 1]
    assert data["servers"]["vllm"]["replicas"] == [
        {"gpus": [0], "gpu_memory_fraction": 0.75},
        {"gpus": [1], "gpu_memory_fraction": 0.75},
    ]
