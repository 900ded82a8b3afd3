"""Stand-in servers with replicas, run by the real :class:`ProcessLauncher` and
:class:`ServerManager`, for the replica tests and the scaling benchmark.

Each copy is a stand-in process (``python -m dualread.testing.standins``) answering from an
oracle index with a fixed latency per request (``slow=S``), so the pipeline, the dispatch and
the restart-once path are the product's own and only the model is simulated.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dualread.config import ServerKind, Settings
from dualread.runtime.gpu import Gpu
from dualread.runtime.plan import make_plan
from dualread.runtime.process import ProcessLauncher
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import ServerSet, ServerSpec, server_set

STANDIN = (sys.executable, "-m", "dualread.testing.standins")
# Cards big enough for one copy of each server, as many as a test or benchmark wants.
SIMULATED_GPU_MIB = 143771


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1 (copy ``i`` listens on the
    configured port plus ``i - 1``)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first: int = probe.getsockname()[1]
        try:
            with contextlib.ExitStack() as held:
                for port in range(first, first + count):
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


def loopback_settings(copies: int, **changes: Any) -> Settings:
    """Settings whose two servers have room for ``copies`` copies each on free ports."""
    return Settings(
        ollama_url=f"http://127.0.0.1:{free_ports(copies)}",
        vllm_url=f"http://127.0.0.1:{free_ports(copies)}/v1",
        use_cache=False,
        retries=0,
        timeout_s=60.0,
        connect_timeout_s=2.0,
    ).replace(**changes)


def standin_servers(
    settings: Settings, oracle: Path, errors: Mapping[ServerKind, str] | None = None
) -> ServerSet:
    """The configured servers, each started as a stand-in of its kind answering from
    ``oracle``, with its fault profile from ``errors`` (``slow=S`` for a fixed latency)."""
    base = server_set(settings)
    kinds = {"ollama": ("ollama",), "vllm": ("openai", "--enable-sleep-mode")}
    specs = tuple(
        dataclasses.replace(
            spec,
            process_argv=(
                *STANDIN,
                *kinds[spec.kind],
                *("--host", "{host}", "--port", "{port}", "--models", "{models}"),
                *("--oracle", str(oracle), "--errors", (errors or {}).get(spec.kind, "")),
            ),
            process_env={},
        )
        for spec in base.servers
    )
    return ServerSet(specs, base.roles)


def replica_manager(
    servers: ServerSet, state_dir: Path, copies: int, *, health_timeout_s: float = 60.0
) -> ServerManager:
    """A manager running ``copies`` copies of every server on simulated GPUs, one per GPU."""
    # Two GPUs at least: one copy each still runs as replicas (the dispatch path), not co-resident.
    gpus = [Gpu(i, f"simulated GPU {i}", SIMULATED_GPU_MIB, 0) for i in range(max(copies, 2))]
    plan = make_plan(gpus, servers, replicas={s.name: copies for s in servers.servers})
    launcher = ProcessLauncher(state_dir, stop_timeout_s=5.0)
    return ServerManager(plan, servers, launcher, health_timeout_s=health_timeout_s, poll_s=0.05)


def kill_copy(manager: ServerManager, copy: ServerSpec) -> None:
    """SIGKILL a running copy, as a GPU fault or an OOM kill would."""
    launcher = manager.launcher
    assert isinstance(launcher, ProcessLauncher)
    pid = launcher.pid(copy)
    if pid is None:
        raise RuntimeError(f"{copy.name} is not running")
    os.killpg(pid, signal.SIGKILL)
