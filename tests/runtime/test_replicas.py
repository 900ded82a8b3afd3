"""Replicas: page requests go to the copy with the fewest in flight; a copy that dies is taken
out, its pages move to the others, it is restarted once; nothing is lost or read twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dualread.api import extract_many
from dualread.backends.base import BackendError, ChatReply, ChatRequest, ServerUnreachable
from dualread.config import Settings
from dualread.runtime.replicas import ReplicaBackend, replica_specs, replica_url
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import ServerSpec, server_set
from dualread.testing.replica_rig import (
    kill_copy,
    loopback_settings,
    replica_manager,
    standin_servers,
)
from tests.conftest import REPO_ROOT

CORPUS = sorted((REPO_ROOT / "fixtures" / "corpus").glob("d0*.pdf"))[:4]
SPEC = server_set(Settings()).server("vllm")


class Copy:
    """An in-process model server client: answers after ``gate`` opens, or is down."""

    name = "openai"

    def __init__(self, url: str, gate: threading.Event | None = None) -> None:
        self.base_url = url
        self.gate = gate
        self.down = False
        self.seen: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def chat(self, request: ChatRequest) -> ChatReply:
        if self.down:
            raise ServerUnreachable(f"{self.base_url}: connection refused")
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                self.gate.wait(10)
            with self._lock:
                self.seen.append(request.prompt)
            return ChatReply(text=request.prompt, model=request.model, elapsed_s=0.0)
        finally:
            with self._lock:
                self.in_flight -= 1

    def is_available(self) -> bool:
        return not self.down


def dispatch(
    copies: list[Copy], limit: int, revive: Callable[[ServerSpec], None] | None = None
) -> ReplicaBackend:
    specs = replica_specs(SPEC, len(copies))
    down = {spec.name: copy for spec, copy in zip(specs, copies, strict=True)}
    return ReplicaBackend(
        list(zip(specs, copies, strict=True)),
        limit=limit,
        healthy=lambda spec: not down[spec.name].down,
        revive=revive or (lambda spec: None),
    )


def ask_all(backend: ReplicaBackend, prompts: list[str]) -> list[str]:
    answers: dict[str, str] = {}

    def ask(prompt: str) -> None:
        answers[prompt] = backend.chat(ChatRequest(model="m", prompt=prompt)).text

    threads = [threading.Thread(target=ask, args=(p,)) for p in prompts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return [answers[p] for p in prompts]


@pytest.mark.unit
def test_copies_are_named_and_addressed_one_port_apart() -> None:
    names = [(c.name, c.port) for c in replica_specs(SPEC, 3)]
    assert names == [("vllm", 8000), ("vllm-2", 8001), ("vllm-3", 8002)]
    assert replica_url("http://127.0.0.1:8000/v1", replica_specs(SPEC, 2)[1]) == (
        "http://127.0.0.1:8001/v1"
    )


@pytest.mark.unit
def test_requests_go_to_the_copy_with_the_fewest_in_flight_within_its_limit() -> None:
    gate = threading.Event()
    copies = [Copy(f"c{i}", gate) for i in range(3)]
    backend = dispatch(copies, limit=2)
    prompts = [f"page {i}" for i in range(6)]
    done: list[list[str]] = []
    worker = threading.Thread(target=lambda: done.append(ask_all(backend, prompts)))
    worker.start()
    deadline = time.monotonic() + 5
    while sum(c.in_flight for c in copies) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    # Six requests over three copies of limit 2: two each, none waiting on a busy copy.
    assert [c.in_flight for c in copies] == [2, 2, 2]
    gate.set()
    worker.join(10)
    assert done == [prompts]
    assert max(c.most_in_flight for c in copies) == 2
    assert backend.width == 6


@pytest.mark.unit
def test_a_dead_copy_is_taken_out_its_requests_move_and_it_is_revived_once() -> None:
    copies = [Copy("c0"), Copy("c1")]
    copies[0].down = True
    revived: list[str] = []

    def revive(spec: ServerSpec) -> None:
        revived.append(spec.name)
        raise RuntimeError("no GPU")  # it stays out; the other copy carries the batch

    backend = dispatch(copies, limit=4, revive=revive)
    prompts = [f"page {i}" for i in range(12)]
    assert ask_all(backend, prompts) == prompts
    time.sleep(0.1)
    stats = backend.stats()
    assert revived == ["vllm"] and stats.taken_out == ("vllm",)
    assert sorted(copies[1].seen) == sorted(prompts)  # every page answered once, by the live one
    assert stats.moved >= 1 and stats.served == {"vllm": 0, "vllm-2": 12}


@pytest.mark.unit
def test_a_request_that_fails_on_a_live_copy_is_its_own_failure() -> None:
    class Refuses(Copy):
        def chat(self, request: ChatRequest) -> ChatReply:
            raise BackendError("400: prompt too long")

    backend = dispatch([Refuses("c0")], limit=1)
    with pytest.raises(BackendError, match="prompt too long"):
        backend.chat(ChatRequest(model="m", prompt="p"))
    assert backend.stats().taken_out == ()


@pytest.mark.unit
def test_every_copy_down_for_good_fails_the_request_clearly() -> None:
    copies = [Copy("c0"), Copy("c1")]
    for copy in copies:
        copy.down = True

    def revive(spec: ServerSpec) -> None:
        raise RuntimeError("gone")

    with pytest.raises(ServerUnreachable, match="every copy of openai is down"):
        dispatch(copies, limit=1, revive=revive).chat(ChatRequest(model="m", prompt="p"))


# ----------------------------------------------------------------- the real pipeline


@pytest.fixture
def replica_settings(oracle_file: Callable[..., Path]) -> tuple[Settings, Path]:
    settings = loopback_settings(3, concurrency=2)
    return settings, oracle_file(CORPUS, dpi=200)


@pytest.fixture
def copies(tmp_path: Path, replica_settings: tuple[Settings, Path]) -> Iterator[ServerManager]:
    settings, oracle = replica_settings
    manager = replica_manager(
        standin_servers(settings, oracle, {"ollama": "slow=0.2", "vllm": "slow=0.2"}),
        tmp_path / "servers",
        3,
    )
    yield manager
    manager.close()


def outcome(settings: Settings, manager: ServerManager) -> list[dict[str, Any]]:
    results = list(extract_many(CORPUS, settings=settings, control=manager))
    assert all(r.document is not None for r in results), [r.error for r in results]
    return [
        {k: v for k, v in r.document.items() if k != "extraction"} | {"status": r.status}
        for r in results
        if r.document is not None
    ]


@pytest.mark.contract
@pytest.mark.slow
def test_a_copy_killed_mid_batch_loses_no_page_and_reads_none_twice(
    copies: ServerManager, replica_settings: tuple[Settings, Path]
) -> None:
    settings, _ = replica_settings
    manager = copies
    manager.up()
    expected = outcome(settings, manager)  # the same batch, nothing killed
    served_before = {n: d.stats().served for n, d in manager.dispatchers.items()}
    victim = manager.copies["vllm"][1]

    def kill_when_busy() -> None:
        dispatch = manager.dispatchers["vllm"]
        deadline = time.monotonic() + 60
        while not dispatch.stats().in_flight[victim.name] and time.monotonic() < deadline:
            time.sleep(0.005)
        kill_copy(manager, victim)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    again = outcome(settings, manager)
    killer.join(10)
    assert again == expected
    stats = manager.dispatchers["vllm"].stats()
    assert stats.taken_out == (victim.name,) and stats.moved >= 1
    assert manager.restarts[victim.name] == 1
    # Every OCR page answered exactly once in each run: the second run served what the first did.
    ocr_pages = sum(served_before["vllm"].values())
    assert sum(stats.served.values()) == 2 * ocr_pages
