"""The one interface the scheduler uses to start and stop a server, whatever runs it.

Implementations: containers (:mod:`dualread.runtime.docker`), local processes
(:mod:`dualread.runtime.process`) and servers the user runs (:mod:`dualread.runtime.external`).
They know nothing about models; :mod:`dualread.runtime.admin` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dualread.runtime.errors import LauncherError
from dualread.runtime.servers import ServerSpec


@dataclass(frozen=True)
class Placement:
    """Where a server runs: its GPUs, and for vLLM the share of GPU memory it may take."""

    gpus: tuple[int, ...] = ()
    gpu_memory_fraction: float | None = None  # vLLM --gpu-memory-utilization; None: 0.9

    def describe(self) -> str:
        if not self.gpus:
            return "no GPU"
        share = (
            f", {self.gpu_memory_fraction:.0%} of its memory" if self.gpu_memory_fraction else ""
        )
        return f"GPU {','.join(map(str, self.gpus))}{share}"


@dataclass(frozen=True)
class LaunchState:
    """What the launcher sees of a server, for ``servers status`` and error messages."""

    server: str
    running: bool
    detail: str  # "container dualread-ollama: running", "pid 1234: exited 1"


class Launcher(Protocol):
    kind: str  # "docker", "process" or "external"
    can_stop: bool  # False: servers dualread did not start are never stopped
    provisions_models: bool  # True: a started server fetches its missing models itself

    def start(self, server: ServerSpec, placement: Placement) -> None:
        """Start the server (idempotent); returns once started, before it is healthy."""

    def stop(self, server: ServerSpec) -> None:
        """Stop the server gracefully, then by force; a stopped server is left as is."""

    def is_running(self, server: ServerSpec) -> bool: ...

    def state(self, server: ServerSpec) -> LaunchState: ...

    def remove(self, server: ServerSpec) -> None:
        """Stop and forget the server (a container is deleted; its model volume stays)."""


def require_local(server: ServerSpec, launcher_kind: str) -> None:
    """A launcher on this host can only start a server whose URL points at this host."""
    if not server.is_local:
        raise LauncherError(
            f"{server.name}: cannot start a {launcher_kind} server for {server.base_url}; "
            "its URL is not on this host (use --servers external for remote servers)"
        )
