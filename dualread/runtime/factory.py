"""From settings to a running :class:`ServerManager`: the one call ``api`` and the CLI make."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dualread.choices import GpuBinding, Mode, NetworkMode, RuntimeKind
from dualread.config import ServerKind, Settings
from dualread.runtime.docker import DockerEngine, DockerLauncher
from dualread.runtime.external import ExternalLauncher
from dualread.runtime.gpu import GpuReport
from dualread.runtime.host_plan import plan_for
from dualread.runtime.launcher import Launcher
from dualread.runtime.plan import Preference
from dualread.runtime.process import ProcessLauncher
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import server_set


def make_launcher(
    runtime: RuntimeKind,
    *,
    docker_socket: str | None = None,
    network_mode: NetworkMode = "bridge",
    gpu_binding: GpuBinding = "device-requests",
    state_dir: Path | None = None,
) -> Launcher:
    if runtime == "docker":
        return DockerLauncher(
            DockerEngine(docker_socket), network_mode=network_mode, gpu_binding=gpu_binding
        )
    if runtime == "process":
        return ProcessLauncher(state_dir)
    return ExternalLauncher()


def open_manager(
    settings: Settings,
    *,
    runtime: RuntimeKind = "external",
    mode: Mode = "auto",
    launcher: Launcher | None = None,
    gpus: GpuReport | None = None,
    images: Mapping[ServerKind, str] | None = None,
    prefer: Preference = "best",
) -> ServerManager:
    """A manager for the configured roles; nothing starts until ``up()`` or ``activate()``."""
    servers = server_set(settings, images)
    launcher = launcher or make_launcher(runtime)
    plan = plan_for(servers, settings, gpus, mode=mode, prefer=prefer, can_stop=launcher.can_stop)
    return ServerManager(plan, servers, launcher)
