"""The scheduler with real servers: stand-in processes, and product containers on a real engine.

The same tests run on both launchers. "GPU" here is a plan's promise, not hardware: the checks
are on what the servers and the engine report (running containers, /api/ps, /is_sleeping).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dualread.config import Role
from dualread.runtime.errors import ServersUnavailable
from tests.runtime.rigs import (
    TWO_GPUS,
    DockerRig,
    ProcessRig,
    Rig,
    manager_for,
    model_request,
    read_batch_through,
    resident_models,
    standin_stats,
)

pytestmark = pytest.mark.slow


@pytest.fixture(
    params=[
        pytest.param("process", marks=pytest.mark.contract),
        pytest.param("docker", marks=pytest.mark.docker),
    ]
)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    if request.param == "process":
        made: Rig = ProcessRig.create(tmp_path / "servers")
    else:
        made = DockerRig.create(
            request.getfixturevalue("docker_engine"), request.getfixturevalue("product_images")
        )
    yield made
    made.cleanup()


class Watch:
    """Polls a probe in the background and keeps the largest answer it saw."""

    def __init__(self, probe: Callable[[], set[str]], interval_s: float = 0.05) -> None:
        self.probe, self.interval_s = probe, interval_s
        self.peak: set[str] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            seen = self.probe()
            self.samples += 1
            if len(seen) > len(self.peak):
                self.peak = seen
            time.sleep(self.interval_s)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def test_stop_start_phases_never_run_two_servers_at_once(rig: Rig) -> None:
    manager = manager_for(rig, prefer="restart")
    during_requests: list[tuple[str, set[str]]] = []

    def request(role: Role) -> None:
        during_requests.append((rig.servers.roles[role].server, rig.running()))

    try:
        with Watch(rig.running) as watch:
            read_batch_through(rig, manager, 3, request)
    finally:
        manager.close()
    assert manager.plan.kind == "phased"
    assert all(running == {server} for server, running in during_requests), during_requests
    assert watch.samples >= 3 and len(watch.peak) == 1, watch.peak
    assert manager.switch_count == 2  # visual -> ocr -> json
    assert all(record.freed[-1].endswith(": stop") for record in manager.switches)
    assert rig.running() == set()


def test_sleep_and_unload_phases_hold_one_model_at_a_time(rig: Rig) -> None:
    manager = manager_for(rig)
    during_requests: list[tuple[str, set[str]]] = []

    def request(role: Role) -> None:
        spec = rig.servers.server_for(role)
        expected = f"{spec.name}:{rig.servers.model_for(role)}"
        during_requests.append((expected, resident_models(rig.servers)))

    try:
        with Watch(lambda: resident_models(rig.servers)) as watch:
            evidence = read_batch_through(rig, manager, 3, request)
        assert rig.running() == {"ollama", "vllm"}  # switched without a restart
        loads = standin_stats(rig.servers.server("ollama"))["loads"]
    finally:
        manager.close()
    assert all(resident == {model} for model, resident in during_requests), during_requests
    assert watch.samples >= 3 and len(watch.peak) == 1, watch.peak
    assert manager.switch_count == 2
    assert [record.freed for record in manager.switches] == [
        ("ollama: unload openbmb/minicpm-v4.5:8b",),
        ("vllm: sleep nanonets/Nanonets-OCR-s",),
    ]
    assert manager.cold_starts == 2
    # Each phase loads its model once: the warm-up sends the requests' num_ctx (another would
    # make Ollama reload). A phase of extra route-A passes, when consensus asks for one, reloads
    # what the json phase unloaded; whether it runs depends on how the stand-ins' answers vote.
    visual_phases = 1 + any(sum(p.route == "visual" for p in e.passes) > 1 for e in evidence)
    assert loads == {"openbmb/minicpm-v4.5:8b": visual_phases, "qwen3:8b": 1}


def test_the_number_of_switches_does_not_grow_with_the_batch(rig: Rig) -> None:
    counts = {}
    for documents in (1, 6):
        manager = manager_for(rig)
        try:
            read_batch_through(rig, manager, documents)
        finally:
            manager.close()
        counts[documents] = manager.switch_count
    assert counts == {1: 2, 6: 2}


def test_a_crashed_server_is_restarted_once_then_the_batch_fails_clearly(rig: Rig) -> None:
    manager = manager_for(rig)
    vllm = rig.servers.server("vllm")
    try:
        manager.activate("ocr")
        rig.crash(vllm)
        assert manager.call("ocr", lambda: model_request(rig, "ocr"))  # restarted, retried
        assert manager.restarts == {"ollama": 0, "vllm": 1}
        assert "vllm" in rig.running()
        rig.crash(vllm)
        with pytest.raises(
            ServersUnavailable, match=r"^vllm at http://127\.0\.0\.1:\d+ failed again"
        ):
            manager.call("ocr", lambda: model_request(rig, "ocr"))
    finally:
        manager.close()


def test_close_stops_every_server_it_started_within_the_grace_period(rig: Rig) -> None:
    manager = manager_for(rig, gpus=TWO_GPUS)
    manager.up()
    assert rig.running() == {"ollama", "vllm"}
    started = time.monotonic()
    manager.close()
    assert time.monotonic() - started < 10.0 * 2
    assert rig.running() == set()


def test_two_gpu_plan_runs_both_servers_at_once_on_distinct_gpus(rig: Rig) -> None:
    manager = manager_for(rig, gpus=TWO_GPUS)
    try:
        manager.up()
        assert manager.plan.kind == "multi-gpu"
        assert rig.running() == {"ollama", "vllm"}
        ids = {spec.name: rig.gpu_ids(spec) for spec in rig.servers.servers}
        assert sorted(ids.values()) == ["0", "1"], ids
        assert manager.call("visual", lambda: model_request(rig, "visual"))
        assert manager.call("ocr", lambda: model_request(rig, "ocr"))
        assert manager.switch_count == 0
    finally:
        manager.close()
