"""ProcessLauncher details and ExternalLauncher, with the stand-in servers as real processes."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dualread.runtime.errors import LauncherError, ServersUnavailable
from dualread.runtime.external import ExternalLauncher
from dualread.runtime.launcher import Placement
from dualread.runtime.plan import make_plan
from dualread.runtime.process import ProcessLauncher
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import ServerSet, server_set
from tests.runtime.rigs import (
    ONE_SMALL_GPU,
    ProcessRig,
    loopback_settings,
    read_batch_through,
    resident_models,
    wait_until_answering,
)

pytestmark = pytest.mark.contract


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ProcessRig]:
    made = ProcessRig.create(tmp_path / "servers")
    yield made
    made.cleanup()


def test_a_later_launcher_finds_and_stops_what_an_earlier_one_started(rig: ProcessRig) -> None:
    """`dualread servers up` and `servers down` are separate processes: the pid file links them."""
    ollama = rig.servers.server("ollama")
    rig.launcher.start(ollama, Placement((0,)))
    pid = rig.launcher.pid(ollama)
    later = ProcessLauncher(rig.launcher.state_dir, stop_timeout_s=5.0)
    assert later.pid(ollama) == pid and later.is_running(ollama)
    later.stop(ollama)
    assert not rig.launcher.is_running(ollama) and later.pid(ollama) is None


def test_state_dir_and_logs_are_private(rig: ProcessRig) -> None:
    vllm = rig.servers.server("vllm")
    rig.launcher.start(vllm, Placement((0,), 0.19))
    wait_until_answering(ServerSet((vllm,), {}))
    assert stat.S_IMODE(rig.launcher.state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(rig.launcher.log_file(vllm).stat().st_mode) == 0o600
    assert "listening on" in rig.launcher.log_file(vllm).read_text()
    assert rig.gpu_ids(vllm) == "0"


def test_a_stale_pid_file_is_not_a_running_server(rig: ProcessRig) -> None:
    ollama = rig.servers.server("ollama")
    rig.launcher.state_dir.mkdir(parents=True)
    (rig.launcher.state_dir / "ollama.pid").write_text(f"{os.getpid()} 1\n")  # pid reused
    later = ProcessLauncher(rig.launcher.state_dir)
    assert later.pid(ollama) is None
    assert later.state(ollama).detail == "process: not running"


def test_a_missing_executable_is_named(tmp_path: Path) -> None:
    rig = ProcessRig.create(tmp_path / "servers")
    spec = replace(rig.servers.server("ollama"), process_argv=("no-such-ollama", "serve"))
    with pytest.raises(LauncherError, match="'no-such-ollama' is not installed here"):
        rig.launcher.start(spec, Placement())


def test_a_server_that_exits_while_starting_is_reported(rig: ProcessRig) -> None:
    broken = replace(rig.servers.server("ollama"), process_argv=("python3", "-c", "exit(3)"))
    servers = ServerSet((broken, rig.servers.server("vllm")), rig.servers.roles)
    manager = ServerManager(make_plan(ONE_SMALL_GPU, servers), servers, rig.launcher, poll_s=0.05)
    with pytest.raises(
        ServersUnavailable, match=r"^ollama exited while starting: process \d+: exited 3"
    ):
        manager.activate("visual")
    manager.close()


def test_external_servers_are_swapped_by_sleep_and_unload_and_never_stopped(
    rig: ProcessRig,
) -> None:
    for spec in rig.servers.servers:  # the user's own servers
        rig.launcher.start(spec, Placement())
    wait_until_answering(rig.servers)
    external = ExternalLauncher()
    plan = make_plan(ONE_SMALL_GPU, rig.servers, prefer="restart", can_stop=external.can_stop)
    manager = ServerManager(plan, rig.servers, external, poll_s=0.05)
    read_batch_through(rig, manager, 2)
    manager.close()
    assert manager.switch_count == 2  # visual -> ocr -> json
    assert all("stop" not in " ".join(record.freed) for record in manager.switches)
    assert rig.running() == {"ollama", "vllm"}  # close() left them running
    assert resident_models(rig.servers) == {"ollama:qwen3:8b"}  # the last phase's model


def test_an_external_server_that_does_not_answer_is_named_quickly() -> None:

    spec = server_set(loopback_settings()).server("ollama")
    started = time.monotonic()
    with pytest.raises(
        ServersUnavailable, match=r"no ollama server answers at http://127\.0\.0\.1:"
    ):
        ExternalLauncher(wait_s=0.5).start(spec, Placement())
    assert time.monotonic() - started < 5
