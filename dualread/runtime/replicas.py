"""Replicas: several copies of one server, and which copy answers each page request.

A plan that runs replicas (:attr:`~dualread.runtime.plan.Plan.replicas`) names one placement
per copy. Copy 1 is the configured server itself; copy ``i`` is named ``NAME-i`` and listens on
the configured port plus ``i - 1``.

:class:`ReplicaBackend` is the role's client in such a plan: each page request goes to the live
copy with the fewest requests in flight (never more than its per-server limit). A copy that
stops answering is taken out at once, the request it held goes to another copy, and the copy is
restarted once in the background (the scheduler's restart-once rule). A request is sent again
only when its copy gave no answer, so no page is lost and none is read twice.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from dualread.backends.base import Backend, BackendError, ChatReply, ChatRequest, ServerUnreachable
from dualread.runtime.servers import ServerSpec

log = logging.getLogger("dualread.runtime")


def replica_specs(spec: ServerSpec, count: int) -> tuple[ServerSpec, ...]:
    """The ``count`` copies of ``spec``: itself, then ``NAME-2`` on port + 1, and so on."""
    copies = [spec]
    for number in range(2, count + 1):
        copies.append(
            dataclasses.replace(spec, name=f"{spec.name}-{number}", port=spec.port + number - 1)
        )
    return tuple(copies)


def replica_url(url: str, replica: ServerSpec) -> str:
    """A role URL (``http://127.0.0.1:8000/v1``) moved to the replica's host and port."""
    parts = urlsplit(url)
    host = f"[{replica.host}]" if ":" in replica.host else replica.host
    return urlunsplit(parts._replace(netloc=f"{host}:{replica.port}"))


@dataclass
class _Copy:
    spec: ServerSpec
    backend: Backend
    in_flight: int = 0
    alive: bool = True
    reviving: bool = False
    served: int = 0


@dataclass(frozen=True)
class DispatchStats:
    served: dict[str, int]  # answered requests per copy
    in_flight: dict[str, int]  # requests each copy holds now
    moved: int  # requests re-sent to another copy after theirs stopped answering
    taken_out: tuple[str, ...]  # copies taken out, in order (a copy revived and lost twice: twice)


class ReplicaBackend:
    """One role's client over every copy of its server; safe to use from many threads.

    ``healthy(spec)`` tells a copy that failed a request from one that is down; ``revive(spec)``
    restarts a copy once and returns when it serves again (it raises when it cannot).
    """

    def __init__(
        self,
        copies: Sequence[tuple[ServerSpec, Backend]],
        *,
        limit: int,
        healthy: Callable[[ServerSpec], bool],
        revive: Callable[[ServerSpec], None],
    ) -> None:
        if not copies:
            raise ValueError("a replica backend needs at least one copy")
        self._copies = [_Copy(spec, backend) for spec, backend in copies]
        self.name = copies[0][1].name
        self.base_url = copies[0][1].base_url
        self.limit = max(limit, 1)
        self._healthy = healthy
        self._revive = revive
        self._lock = threading.Condition()
        self._moved = 0
        self._taken_out: list[str] = []
        self._revivals: list[threading.Thread] = []

    @property
    def width(self) -> int:
        """Requests the copies take at once, all together."""
        return self.limit * len(self._copies)

    def stats(self) -> DispatchStats:
        with self._lock:
            return DispatchStats(
                {c.spec.name: c.served for c in self._copies},
                {c.spec.name: c.in_flight for c in self._copies},
                self._moved,
                tuple(self._taken_out),
            )

    def is_available(self) -> bool:
        return any(c.alive and c.backend.is_available() for c in self._copies)

    def chat(self, request: ChatRequest) -> ChatReply:
        while True:
            copy = self._take()
            try:
                reply = copy.backend.chat(request)
            except BackendError as error:
                self._give_back(copy)
                if not self._lost(copy, error):
                    raise  # the copy still answers: the failure is the request's own
                continue
            self._give_back(copy, served=True)
            return reply

    # ----------------------------------------------------------------- internals

    def _take(self) -> _Copy:
        """The live copy with the fewest requests in flight, waiting for a free slot or for a
        copy being revived; raises when every copy is down for good."""
        with self._lock:
            while True:
                live = [c for c in self._copies if c.alive]
                free = [c for c in live if c.in_flight < self.limit]
                if free:
                    copy = min(free, key=lambda c: c.in_flight)
                    copy.in_flight += 1
                    return copy
                if not live and not any(c.reviving for c in self._copies):
                    names = ", ".join(c.spec.name for c in self._copies)
                    raise ServerUnreachable(f"every copy of {self.name} is down ({names})")
                self._lock.wait()

    def _give_back(self, copy: _Copy, *, served: bool = False) -> None:
        with self._lock:
            copy.in_flight -= 1
            copy.served += served
            self._lock.notify_all()

    def _lost(self, copy: _Copy, error: BackendError) -> bool:
        """Whether ``copy`` is down (then it is taken out, revived once, and the request moves
        on); False when it still answers."""
        if not isinstance(error, ServerUnreachable) and self._healthy(copy.spec):
            return False
        with self._lock:
            self._moved += 1
            if not copy.alive:
                return True  # another request already took it out
            copy.alive = False
            self._taken_out.append(copy.spec.name)
            first_loss = self._taken_out.count(copy.spec.name) == 1
            copy.reviving = first_loss
            self._lock.notify_all()
        log.warning(
            "%s stopped answering (%s); its requests go to the other copies", copy.spec.name, error
        )
        if first_loss:
            revival = threading.Thread(
                target=self._bring_back, args=(copy,), name=f"revive-{copy.spec.name}", daemon=True
            )
            self._revivals.append(revival)
            revival.start()
        return True

    def close(self, timeout_s: float = 120.0) -> None:
        """Wait for restarts under way, so that nothing starts a server after its owner's
        shutdown."""
        for revival in list(self._revivals):
            revival.join(timeout_s)

    def _bring_back(self, copy: _Copy) -> None:
        try:
            self._revive(copy.spec)
        except Exception as error:  # it stays out; the other copies carry on
            log.warning("%s could not be restarted: %s", copy.spec.name, error)
            revived = False
        else:
            revived = True
        with self._lock:
            copy.alive = revived
            copy.reviving = False
            self._lock.notify_all()
