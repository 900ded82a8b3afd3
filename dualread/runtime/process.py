"""Model servers as local processes (``ollama serve``, ``vllm serve``).

GPUs are assigned with CUDA_VISIBLE_DEVICES.

Each server runs in its own session, so a stop reaches its workers too (vLLM forks an engine
process). A pid file, with the process start time against pid reuse, lets ``dualread servers
down`` stop what an earlier ``servers up`` started. Logs go to ``<state dir>/<server>.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from dualread.runtime.errors import LauncherError
from dualread.runtime.launcher import LaunchState, Placement, require_local
from dualread.runtime.servers import ServerSpec


def default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir("dualread", appauthor=False)) / "servers"


def _start_ticks(pid: int) -> str | None:
    """The process start time (clock ticks since boot), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so split after its closing paren.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] if len(fields) > 19 and fields[0] != "Z" else None


class ProcessLauncher:
    kind = "process"
    can_stop = True
    provisions_models = False

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        stop_timeout_s: float = 10.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.state_dir = state_dir or default_state_dir()
        self.stop_timeout_s = stop_timeout_s
        self.environ = dict(os.environ if environ is None else environ)
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def _prepare_dir(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.state_dir.chmod(0o700)  # logs may name files and models: private

    def _pid_file(self, server: ServerSpec) -> Path:
        return self.state_dir / f"{server.name}.pid"

    def log_file(self, server: ServerSpec) -> Path:
        return self.state_dir / f"{server.name}.log"

    def pid(self, server: ServerSpec) -> int | None:
        """The live server process's id, from this launcher or a pid file."""
        child = self._children.get(server.name)
        if child is not None:
            return child.pid if child.poll() is None else None
        try:
            pid_text, ticks = self._pid_file(server).read_text().split()
        except (OSError, ValueError):
            return None
        pid = int(pid_text)
        return pid if _start_ticks(pid) == ticks else None

    def start(self, server: ServerSpec, placement: Placement) -> None:
        require_local(server, self.kind)
        if self.pid(server) is not None:
            return
        fraction = placement.gpu_memory_fraction
        argv = [
            server.render(part, gpu_memory_utilization=fraction) for part in server.process_argv
        ]
        if not argv:
            raise LauncherError(f"{server.name}: no command to run it as a process")
        env = dict(self.environ)
        env.update(
            {
                k: server.render(v, gpu_memory_utilization=fraction)
                for k, v in server.process_env.items()
            }
        )
        if placement.gpus:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(str(gpu) for gpu in placement.gpus)
        self._prepare_dir()
        log_fd = os.open(self.log_file(server), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            child = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise LauncherError(
                f"{server.name}: {argv[0]!r} is not installed here; "
                "install it or use --runtime docker"
            ) from None
        finally:
            os.close(log_fd)
        self._children[server.name] = child
        ticks = _start_ticks(child.pid)
        self._pid_file(server).write_text(f"{child.pid} {ticks}\n")

    def stop(self, server: ServerSpec) -> None:
        pid = self.pid(server)
        if pid is not None:
            self._signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + self.stop_timeout_s
            while self._alive(server, pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._alive(server, pid):
                self._signal_group(pid, signal.SIGKILL)
                while self._alive(server, pid):
                    time.sleep(0.05)
        self._children.pop(server.name, None)
        self._pid_file(server).unlink(missing_ok=True)

    def _alive(self, server: ServerSpec, pid: int) -> bool:
        child = self._children.get(server.name)
        if child is not None:
            return child.poll() is None
        return _start_ticks(pid) is not None

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)  # the server leads its own session: its workers go too

    def is_running(self, server: ServerSpec) -> bool:
        return self.pid(server) is not None

    def state(self, server: ServerSpec) -> LaunchState:
        pid = self.pid(server)
        if pid is not None:
            return LaunchState(
                server.name, True, f"process {pid}: running, log {self.log_file(server)}"
            )
        child = self._children.get(server.name)
        if child is not None:
            return LaunchState(
                server.name, False, f"process {child.pid}: exited {child.returncode}"
            )
        return LaunchState(server.name, False, "process: not running")

    def remove(self, server: ServerSpec) -> None:
        self.stop(server)
