"""The scheduler against simulated servers: switches per batch, GPU residency, limits, recovery.

Batches are read by the product's own :func:`dualread.pipeline.read_batch` (its stages and
prompts, through simulated clients answering from the sample's truth)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualread.backends.base import BackendError, ServerUnreachable
from dualread.config import Role, Settings
from dualread.runtime.errors import ServersUnavailable
from dualread.runtime.gpu import Gpu
from dualread.runtime.plan import Preference, make_plan
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import server_set
from dualread.testing.simulated_servers import (
    SimulatedAdmin,
    SimulatedHost,
    SimulatedLauncher,
    read_simulated,
    simulated_control,
)

pytestmark = pytest.mark.unit
SETTINGS = Settings(ollama_url="http://127.0.0.1:11434", use_cache=False, dpi=72)
SERVERS = server_set(SETTINGS)
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample" / "statement.pdf"
SMALL_GPU = Gpu(0, "NVIDIA GeForce RTX 4090", 24564, 0)
BIG_GPU = Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 0)


class Rig:
    """A manager over simulated servers, and the host that records what held the GPU."""

    def __init__(self, gpus: list[Gpu], *, prefer: Preference = "best", sleep_ok: bool = True):
        self.host = SimulatedHost()
        self.launcher = SimulatedLauncher(self.host)
        admins = {
            s.name: SimulatedAdmin(s, self.host, can_release=sleep_ok or s.kind == "ollama")
            for s in SERVERS.servers
        }
        plan = make_plan(gpus, SERVERS, prefer=prefer)
        self.manager = ServerManager(plan, SERVERS, self.launcher, admins=admins, poll_s=0.001)

    def request(self, role: Role) -> float:
        spec = SERVERS.server_for(role)
        return self.host.page(spec, SERVERS.model_for(role))

    def read(self, documents: int, *, per_document: bool = False) -> None:
        """Read a batch of ``documents`` statements with both routes: in one ``read_batch``
        (phases across the batch), or one ``read_batch`` per document (the seeds' order)."""
        control = simulated_control(self.manager, self.host, [SAMPLE], SETTINGS)
        batches = [[SAMPLE]] * documents if per_document else [[SAMPLE] * documents]
        for batch in batches:
            evidence = read_simulated(batch, control, SETTINGS)
            assert [e.decision.status if e.decision else e.failures for e in evidence] == [
                "agreed"
            ] * len(batch)


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig([SMALL_GPU])
    yield made
    made.manager.close()


@pytest.mark.parametrize("documents", [1, 6])
def test_phases_cost_two_switches_whatever_the_batch_size(documents: int) -> None:
    rig = Rig([SMALL_GPU])
    rig.read(documents)
    assert rig.manager.plan.kind == "phased"
    assert rig.manager.switch_count == 2
    assert [(s.from_role, s.to_role) for s in rig.manager.switches] == [
        ("visual", "ocr"),
        ("ocr", "json"),
    ]
    assert rig.host.max_resident_models == 1  # never two models on the one GPU
    assert rig.host.implicit_loads == 0  # every request found its model loaded
    assert rig.launcher.starts == {"ollama": 1, "vllm": 1}  # sleep/unload: no restarts


def test_switches_use_sleep_and_unload(rig: Rig) -> None:
    rig.read(2)
    freed = [s.freed for s in rig.manager.switches]
    assert freed == [
        ("ollama: unload openbmb/minicpm-v4.5:8b",),
        ("vllm: sleep nanonets/Nanonets-OCR-s",),
    ]
    assert [s.started for s in rig.manager.switches] == [("vllm",), ()]


def test_stop_start_switching_never_runs_two_servers_at_once() -> None:
    rig = Rig([SMALL_GPU], prefer="restart")
    rig.read(4)
    assert rig.manager.switch_count == 2
    assert rig.host.max_resident_servers == 1
    assert rig.launcher.starts == {"ollama": 2, "vllm": 1}  # visual, then json
    assert all(s.freed[0].endswith(": stop") for s in rig.manager.switches)


def test_per_document_switching_grows_with_the_batch() -> None:
    """The seeds' procedure, for contrast: every document swaps every model."""
    rig = Rig([SMALL_GPU], prefer="restart")
    rig.read(4, per_document=True)
    assert rig.manager.switch_count == 4 * 3 - 1


def test_co_resident_plan_starts_everything_and_never_switches() -> None:
    rig = Rig([BIG_GPU])
    rig.read(3)
    assert rig.manager.plan.kind == "co-resident"
    assert rig.manager.switch_count == 0
    assert rig.host.max_resident_models == 3


def test_two_gpu_plan_runs_both_routes_at_once() -> None:
    # 24 GB each: the Ollama pair with its KV caches (20.8 GiB) fits 90% of one, not of an L4.
    rig = Rig([Gpu(0, "RTX 4090", 24564, 0), Gpu(1, "RTX 4090", 24564, 0)])
    rig.manager.up()
    assert all(rig.launcher.is_running(s) for s in SERVERS.servers)
    results: list[float] = []
    routes = [
        threading.Thread(
            target=lambda r=role: results.append(rig.manager.call(r, lambda: rig.request(r)))
        )
        for role in ("visual", "ocr")
    ]
    for thread in routes:
        thread.start()
    for thread in routes:
        thread.join()
    assert len(results) == 2 and rig.manager.switch_count == 0


def test_requests_per_server_never_exceed_the_limit(rig: Rig) -> None:
    rig.manager.activate("visual")
    limit = rig.manager.concurrency("visual")
    in_flight, peak = 0, 0
    lock = threading.Lock()

    def request() -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1

    threads = [
        threading.Thread(target=rig.manager.call, args=("visual", request)) for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == limit == 4


def test_activation_waits_for_the_other_roles_calls_to_finish(rig: Rig) -> None:
    rig.manager.activate("visual")
    release = threading.Event()
    order: list[str] = []

    def slow_visual() -> None:
        release.wait(5)
        order.append("visual call done")

    worker = threading.Thread(target=rig.manager.call, args=("visual", slow_visual))
    worker.start()
    time.sleep(0.05)

    def switch_to_ocr() -> None:
        rig.manager.activate("ocr")
        order.append("ocr")

    switcher = threading.Thread(target=switch_to_ocr)
    switcher.start()
    time.sleep(0.05)
    assert order == [] and rig.manager.active_role == "visual"
    release.set()
    worker.join()
    switcher.join()
    assert order == ["visual call done", "ocr"]


def test_a_server_that_dies_mid_batch_is_restarted_once_and_the_page_retried(rig: Rig) -> None:
    rig.manager.activate("ocr")
    vllm = SERVERS.server("vllm")
    calls = 0

    def page_that_finds_the_server_dead() -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            rig.launcher.crash(vllm)
        return rig.request("ocr")

    assert rig.manager.call("ocr", page_that_finds_the_server_dead) == 5.0
    assert calls == 2 and rig.manager.restarts["vllm"] == 1
    assert rig.launcher.starts["vllm"] == 2
    assert rig.manager.call("ocr", lambda: rig.request("ocr")) == 5.0

    rig.launcher.crash(vllm)
    with pytest.raises(
        ServersUnavailable, match=r"vllm at http://127\.0\.0\.1:8000 failed again after a restart"
    ):
        rig.manager.call("ocr", lambda: rig.request("ocr"))


def test_a_connection_lost_mid_request_is_retried_after_the_restart(rig: Rig) -> None:
    """A crash under a request in flight reaches the caller as a BackendError (the server was
    reached), not ServerUnreachable; the page is still retried, once the server is back."""
    rig.manager.activate("visual")
    attempts = 0

    def page() -> float:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            rig.launcher.crash(SERVERS.server("ollama"))
            raise BackendError("Ollama at http://127.0.0.1:11434: failed (connection lost)")
        return rig.request("visual")

    assert rig.manager.call("visual", page) == 4.0
    assert attempts == 2 and rig.manager.restarts["ollama"] == 1


def test_concurrent_failures_restart_the_server_only_once(rig: Rig) -> None:
    rig.manager.activate("visual")
    ollama = SERVERS.server("ollama")
    rig.launcher.crash(ollama)
    errors: list[BaseException] = []

    def page() -> None:
        try:
            rig.manager.call("visual", lambda: rig.request("visual"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=page) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert rig.manager.restarts["ollama"] == 1


def test_a_failure_while_the_server_answers_is_not_a_restart(rig: Rig) -> None:
    rig.manager.activate("json")

    def flaky() -> None:
        raise ServerUnreachable("read timeout")

    with pytest.raises(ServerUnreachable, match="read timeout"):
        rig.manager.call("json", flaky)
    assert rig.manager.restarts["ollama"] == 0


def test_external_servers_are_never_restarted() -> None:
    rig = Rig([SMALL_GPU])
    rig.launcher.can_stop = False
    rig.manager.activate("visual")
    rig.launcher.crash(SERVERS.server("ollama"))
    with pytest.raises(ServersUnavailable, match="not started by dualread"):
        rig.manager.recover("visual", ServerUnreachable("connection refused"))


def test_vllm_without_sleep_mode_falls_back_to_stop_start() -> None:
    rig = Rig([SMALL_GPU], sleep_ok=False)
    rig.read(2)
    assert rig.manager.switches[1].freed == ("vllm: stop",)
    assert rig.host.max_resident_models == 1
    assert rig.manager.status()[1]["switch"] == "restart"


def test_up_in_a_phased_plan_leaves_every_server_idle(rig: Rig) -> None:
    rig.manager.up()
    assert all(rig.launcher.is_running(s) for s in SERVERS.servers)
    assert rig.host.max_resident_models == 1  # vLLM loaded while starting, then slept
    assert all(not row["resident_models"] for row in rig.manager.status())


def test_close_stops_only_what_it_started(rig: Rig) -> None:
    rig.manager.activate("visual")
    rig.manager.close()
    assert not any(rig.launcher.is_running(s) for s in SERVERS.servers)
