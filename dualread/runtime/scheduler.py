"""Runs a :class:`~dualread.runtime.plan.Plan`: brings servers up, swaps models between phases,
limits requests per server, and restarts a server that dies mid-batch once.

In a plan that runs replicas (several copies of a server, :mod:`dualread.runtime.replicas`),
every copy is started, and the pipeline's model calls go through :meth:`ServerManager.backends`,
which spreads page requests over the copies and revives a dead copy once through
:meth:`ServerManager.revive`.

The caller (``api``/``pipeline``) drives the phases with :meth:`ServerManager.activate` and makes
model calls through :meth:`ServerManager.call`, or calls :meth:`ServerManager.recover` itself
when a call finds its server gone. Nothing here knows about stages or documents.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from dualread.backends.base import Backend, BackendError
from dualread.backends.factory import make_backend
from dualread.config import ROLES, Role, RoleSettings, Settings
from dualread.runtime.admin import ServerAdmin, admin_for
from dualread.runtime.errors import LauncherError, ServersUnavailable
from dualread.runtime.gpu import free_memory_gib
from dualread.runtime.launcher import Launcher
from dualread.runtime.plan import Plan, SwitchStrategy
from dualread.runtime.replicas import ReplicaBackend, replica_specs, replica_url
from dualread.runtime.servers import ServerSet, ServerSpec

log = logging.getLogger("dualread.runtime")
T = TypeVar("T")

HEALTH_TIMEOUT_S = 900.0  # a first start may pull an image's model into its volume
MAX_RESTARTS = 1
# After an unload or a sleep the driver returns the memory a little later; a model loaded into
# memory that is not free yet fails (vLLM) or spills to the CPU (Ollama). Bounded: a GPU that
# others use may never show it all free, and the switch then goes ahead, logged.
GPU_FREE_TIMEOUT_S = 60.0

GpuFreeGib = Callable[[tuple[int, ...]], float | None]


@dataclass(frozen=True)
class SwitchRecord:
    """One change of active role that moved models on or off the GPU."""

    from_role: Role | None
    to_role: Role
    freed: tuple[str, ...]  # "vllm: sleep", "ollama: unload qwen3:8b", "ollama: stop"
    started: tuple[str, ...]  # servers cold-started for this switch
    seconds: float


class ServerManager:
    """Owns the servers of one batch (or of ``dualread servers up``).

    ``activate(role)`` blocks until the role's server is healthy with its model loaded and, in a
    phased plan, every other model is asleep, unloaded or stopped. ``switch_count`` counts those
    activations that had to move a model; a batch costs the same count whatever its size.
    """

    def __init__(
        self,
        plan: Plan,
        servers: ServerSet,
        launcher: Launcher,
        *,
        admins: Mapping[str, ServerAdmin] | None = None,
        health_timeout_s: float = HEALTH_TIMEOUT_S,
        poll_s: float = 0.25,
        gpu_free_gib: GpuFreeGib = free_memory_gib,
        gpu_free_timeout_s: float = GPU_FREE_TIMEOUT_S,
    ) -> None:
        self.plan = plan
        self.servers = servers
        self.launcher = launcher
        self.health_timeout_s = health_timeout_s
        self.poll_s = poll_s
        self.gpu_free_gib = gpu_free_gib
        self.gpu_free_timeout_s = gpu_free_timeout_s
        # Every copy of every server: the configured server first, then its replicas.
        self.copies: dict[str, tuple[ServerSpec, ...]] = {
            s.name: replica_specs(s, len(plan.replicas[s.name])) for s in servers.servers
        }
        self._all = tuple(copy for copies in self.copies.values() for copy in copies)
        self._copy_of = {copy.name: name for name, copies in self.copies.items() for copy in copies}
        self._placement = {
            copy.name: placement
            for name, copies in self.copies.items()
            for copy, placement in zip(copies, plan.replicas[name], strict=True)
        }
        given = dict(admins or {})
        self._admins = {c.name: given.get(c.name) or admin_for(c) for c in self._all}
        self._lock = threading.RLock()
        self._drained = threading.Condition(self._lock)
        self._inflight: dict[Role, int] = dict.fromkeys(ROLES, 0)
        self._limits = {
            c.name: threading.BoundedSemaphore(plan.concurrency[self._copy_of[c.name]])
            for c in self._all
        }
        self._active: Role | None = None
        self._ready: set[Role] = set()
        self._started: set[str] = set()
        self._fallback: dict[str, SwitchStrategy] = {}
        self.restarts: dict[str, int] = {c.name: 0 for c in self._all}
        self._generation: dict[str, int] = {c.name: 0 for c in self._all}
        self._dispatch: dict[str, ReplicaBackend] = {}  # per server, in a replicated plan
        self.switches: list[SwitchRecord] = []
        self.cold_starts = 0

    # ----------------------------------------------------------------- public API

    @property
    def switch_count(self) -> int:
        return len(self.switches)

    @property
    def active_role(self) -> Role | None:
        return self._active

    def concurrency(self, role: Role) -> int:
        """How many requests the role's server takes at once (its per-server limit)."""
        return self.plan.concurrency[self.servers.roles[role].server]

    def up(self) -> None:
        """Start what the plan keeps running. In a phased plan servers that can free the GPU
        without stopping are started one by one and put to rest; the others wait for their phase.
        """
        with self._lock:
            if not self.plan.phased:
                self._start(list(self._all))
                return
            # vLLM first: at start-up it claims its share of GPU memory, which must be free.
            for spec in sorted(self.servers.servers, key=lambda s: s.kind != "vllm"):
                if self._strategy(spec) in ("sleep", "unload"):
                    self._start([spec])
                    self._release(spec, keep=None)

    def activate(self, role: Role) -> None:
        with self._lock:
            if not self.plan.phased:
                copies = self.copies[self.servers.roles[role].server]
                self._start([c for c in copies if not self.launcher.is_running(c)])
                for copy in copies:
                    self._admin(copy).acquire(self.servers.model_for(role))
                self._ready.add(role)
                return
            if self._active == role:
                return
            while any(count for other, count in self._inflight.items() if other != role):
                self._drained.wait()
            self._switch_to(role)

    def call(self, role: Role, request: Callable[[], T]) -> T:
        """Run one model call for ``role``: within the server's concurrency limit, with the
        role active, and retried once after a restart if the server died under it.

        A failure while the server still answers is the request's own and is raised as is.
        In a replicated plan the request's own client (:meth:`backends`) spreads its page
        requests over the copies and handles a copy that dies.
        """
        server = self.servers.roles[role].server
        if self.plan.replicated:
            with self._lock:
                if role not in self._ready:
                    self.activate(role)
            return request()
        for attempt in (1, 2):
            with self._lock:
                if self._active != role and role not in self._ready:
                    self.activate(role)
                self._wake_if_put_to_sleep(role)
                self._inflight[role] += 1
                generation = self._generation[server]
            try:
                with self._limits[server]:
                    return request()
            except BackendError as error:
                if not self._recovered(role, generation, error) or attempt == 2:
                    raise
            finally:
                with self._lock:
                    self._inflight[role] -= 1
                    self._drained.notify_all()
        raise AssertionError("unreachable")

    def _wake_if_put_to_sleep(self, role: Role) -> None:
        """A server dualread does not run may have been put to sleep by someone else since it
        was activated (another dualread's phase switch, `dualread servers up`): vLLM would queue
        the request until a wake-up that may never come, so ask first and wake it."""
        spec = self.servers.server_for(role)
        if spec.kind == "vllm" and not self.launcher.can_stop:
            self._admin(spec).acquire(self.servers.model_for(role))

    def _recovered(self, role: Role, generation: int, error: BaseException) -> bool:
        """Whether a failed call deserves a retry: its server was restarted since the call
        began, or is down and was restarted now. Raises when it cannot be brought back."""
        with self._lock:
            spec = self.servers.server_for(role)
            if self._generation[spec.name] != generation:
                return True
            if self._admin(spec).healthy():
                return False
            self.recover(role, error)
            return True

    def recover(self, role: Role, error: BaseException | None = None) -> None:
        """After a call found the role's server unreachable: restart it once, then give up.

        Returns when the server answers again (the caller retries its in-flight pages);
        raises :class:`ServersUnavailable` when it cannot be restarted or died a second time.
        """
        with self._lock:
            spec = self.servers.server_for(role)
            admin = self._admin(spec)
            if admin.healthy():
                return  # another caller already restarted it, or the failure was passing
            why = f" ({error})" if error else ""
            if not self.launcher.can_stop:
                raise ServersUnavailable(
                    f"{spec.name} at {spec.base_url} stopped answering{why}; it is not started "
                    "by dualread, so dualread cannot restart it"
                )
            if self.restarts[spec.name] >= MAX_RESTARTS:
                raise ServersUnavailable(
                    f"{spec.name} at {spec.base_url} failed again after a restart{why}; "
                    f"giving up ({self.launcher.state(spec).detail})"
                )
            self.restarts[spec.name] += 1
            self._generation[spec.name] += 1
            log.warning("%s stopped answering%s; restarting it once", spec.name, why)
            try:
                self.launcher.stop(spec)
            except LauncherError as stop_error:
                log.warning("%s: stop before restart failed: %s", spec.name, stop_error)
            self._start([spec])
            current = self._active if self.plan.phased else role
            if current is not None and self.servers.server_for(current) == spec:
                admin.acquire(self.servers.model_for(current))

    def backends(self, settings: Settings) -> dict[Role, Backend]:
        """In a replicated plan, each role's client over every copy of its server (one per
        server, shared by its roles, so a copy's requests are counted once); else empty: the
        readers' own clients reach the one server, and :meth:`call` restarts it."""
        if not self.plan.replicated:
            return {}
        with self._lock:
            for role in ROLES:
                server = self.servers.roles[role].server
                if server in self._dispatch:
                    continue
                chosen = settings.role(role)
                clients = [
                    (
                        copy,
                        make_backend(
                            RoleSettings(
                                chosen.backend, replica_url(chosen.url, copy), chosen.model
                            ),
                            settings,
                        ),
                    )
                    for copy in self.copies[server]
                ]
                self._dispatch[server] = ReplicaBackend(
                    clients,
                    limit=self.plan.concurrency[server],
                    healthy=lambda spec: self._admin(spec).healthy(),
                    revive=self.revive,
                )
            return {role: self._dispatch[self.servers.roles[role].server] for role in ROLES}

    @property
    def dispatchers(self) -> Mapping[str, ReplicaBackend]:
        """Per server, the client spreading its requests over the copies (once made)."""
        return dict(self._dispatch)

    def documents_at_once(self, role: Role) -> int:
        """How many documents a phase may read at once: as many as the role's copies take
        requests together in a replicated plan, else one (its pages still run concurrently)."""
        dispatch = self._dispatch.get(self.servers.roles[role].server)
        return dispatch.width if dispatch is not None else 1

    def revive(self, copy: ServerSpec) -> None:
        """Restart a dead copy once (without holding up the other copies) and load the models
        of the roles in use; raises :class:`ServersUnavailable` when it cannot."""
        with self._lock:
            if not self.launcher.can_stop:
                raise ServersUnavailable(
                    f"{copy.name} at {copy.base_url} stopped answering; it is not started by "
                    "dualread, so dualread cannot restart it"
                )
            if self.restarts[copy.name] >= MAX_RESTARTS:
                raise ServersUnavailable(f"{copy.name} failed again after a restart; giving up")
            self.restarts[copy.name] += 1
            roles = [
                r for r in self._ready if self.servers.roles[r].server == self._copy_of[copy.name]
            ]
        log.warning("%s stopped answering; restarting it once", copy.name)
        try:
            self.launcher.stop(copy)
        except LauncherError as stop_error:
            log.warning("%s: stop before restart failed: %s", copy.name, stop_error)
        self._start([copy])
        for role in roles:
            self._admin(copy).acquire(self.servers.model_for(role))

    def status(self) -> list[dict[str, Any]]:
        """Per server: how it runs, whether it answers, and which models hold GPU memory."""
        report = []
        for spec in self._all:
            state = self.launcher.state(spec)
            admin = self._admin(spec)
            healthy = admin.healthy()
            resident: list[str] = []
            if healthy:
                try:
                    resident = sorted(admin.resident_models())
                except ServersUnavailable:
                    healthy = False
            report.append(
                {
                    "server": spec.name,
                    "kind": spec.kind,
                    "url": spec.base_url,
                    "runs_as": state.detail,
                    "running": state.running,
                    "healthy": healthy,
                    "resident_models": resident,
                    "roles": [
                        r
                        for r, b in self.servers.roles.items()
                        if b.server == self._copy_of[spec.name]
                    ],
                    "replica_of": self._copy_of[spec.name],
                    "placement": self._placement[spec.name].describe(),
                    "switch": self._strategy(spec),
                }
            )
        return report

    def close(self, *, stop: bool = True) -> None:
        """Stop the servers this manager started (unless ``stop`` is False) and drop clients."""
        for dispatch in self._dispatch.values():
            dispatch.close()  # outside the lock: a restart under way needs it to finish
        with self._lock:
            if stop:
                for spec in self._all:
                    if spec.name in self._started:
                        try:
                            self.launcher.stop(spec)
                        except LauncherError as error:
                            log.warning("%s: stop failed: %s", spec.name, error)
            for admin in self._admins.values():
                admin.close()

    def __enter__(self) -> ServerManager:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ----------------------------------------------------------------- internals

    def _admin(self, spec: ServerSpec) -> ServerAdmin:
        return self._admins[spec.name]

    def _strategy(self, spec: ServerSpec) -> SwitchStrategy:
        return self._fallback.get(spec.name, self.plan.switch[spec.name])

    def _serves(self, spec: ServerSpec) -> bool:
        """Healthy and able to serve its models. A server that does not fetch missing models
        itself fails at once, naming them, rather than after the health timeout."""
        admin = self._admin(spec)
        if not admin.healthy():
            return False
        missing = admin.missing_models()
        if missing and not self.launcher.provisions_models:
            raise ServersUnavailable(
                f"{spec.name} at {spec.base_url} lacks {', '.join(missing)}; pull them first"
                + (f" (ollama pull {' '.join(missing)})" if spec.kind == "ollama" else "")
            )
        return not missing

    def _start(self, specs: list[ServerSpec]) -> None:
        """Start every server, then wait for all of them: cold loads overlap where they can."""
        for spec in specs:
            try:
                self.launcher.start(spec, self._placement[spec.name])
            except LauncherError as error:
                message = str(error)
                if not message.startswith(f"{spec.name}:"):
                    message = f"{spec.name}: {message}"
                raise ServersUnavailable(message) from None
            self._started.add(spec.name)
            self.cold_starts += 1
        deadline = time.monotonic() + self.health_timeout_s
        waiting = list(specs)
        while waiting:
            waiting = [spec for spec in waiting if not self._serves(spec)]
            for spec in waiting:
                if not self.launcher.is_running(spec):
                    raise ServersUnavailable(
                        f"{spec.name} exited while starting: {self.launcher.state(spec).detail}"
                    )
            if waiting and time.monotonic() > deadline:
                names = ", ".join(f"{s.name} ({s.base_url}{s.health_path})" for s in waiting)
                raise ServersUnavailable(
                    f"not ready (healthy, with its models) after {self.health_timeout_s:.0f} s: "
                    + names
                )
            if waiting:
                time.sleep(self.poll_s)

    def _release(self, spec: ServerSpec, keep: str | None) -> list[str]:
        """Free ``spec``'s GPU memory except ``keep``'s, by the plan's strategy for it."""
        if not self.launcher.is_running(spec):
            return []
        strategy = self._strategy(spec)
        admin = self._admin(spec)
        if strategy in ("sleep", "unload") and not admin.supports_release():
            strategy = "restart" if self.launcher.can_stop else "none"
            self._fallback[spec.name] = strategy
            log.warning(
                "%s cannot free GPU memory while running; switching by %s", spec.name, strategy
            )
        if strategy in ("sleep", "unload"):
            return [f"{spec.name}: {strategy} {model}" for model in admin.release(keep)]
        if strategy == "restart":
            others = {admin.model_key(m) for m in admin.resident_models()}
            if keep is not None and not others - {admin.model_key(keep)}:
                return []  # only the model wanted is loaded: no reason to restart
            self.launcher.stop(spec)
            return [f"{spec.name}: stop"]
        return []

    def _wait_for_gpu_memory(self, target: ServerSpec, model: str) -> None:
        """Until the target's GPUs have room for ``model`` (where NVML can tell), bounded."""
        gpus = self.plan.placements[target.name].gpus
        need = next((m.vram_gib for m in target.models if m.name == model), 0.0)
        deadline = time.monotonic() + self.gpu_free_timeout_s
        while (free := self.gpu_free_gib(gpus)) is not None and free < need:
            if time.monotonic() > deadline:
                log.warning(
                    "GPU %s: %.1f GiB free after the switch, %s needs %.1f GiB; going ahead",
                    ",".join(map(str, gpus)),
                    free,
                    model,
                    need,
                )
                return
            time.sleep(self.poll_s)

    def _switch_to(self, role: Role) -> None:
        started_at = time.monotonic()
        target = self.servers.server_for(role)
        model = self.servers.model_for(role)
        freed: list[str] = []
        for spec in self.servers.servers:
            if spec != target:
                freed += self._release(spec, keep=None)
        freed += self._release(target, keep=model)
        started: list[str] = []
        if freed:
            self._wait_for_gpu_memory(target, model)
        if not self.launcher.is_running(target):
            self._start([target])
            started.append(target.name)
        self._admin(target).acquire(model)
        if self._active is not None and (freed or started):
            record = SwitchRecord(
                self._active, role, tuple(freed), tuple(started), time.monotonic() - started_at
            )
            self.switches.append(record)
            log.info(
                "switch %s -> %s in %.1f s: %s",
                record.from_role,
                role,
                record.seconds,
                ", ".join(freed + [f"{name}: start" for name in started]),
            )
        self._active = role
