"""Retries with exponential backoff, shared by every backend.

Only failures that a second try can fix are retried: the server could not be reached, dropped
the connection, or answered 5xx. A 4xx is our mistake (bad request, unknown model) and a read
timeout means the model is busy with this very request; repeating either only adds load.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from dualread.backends.base import BackendError, ServerUnreachable

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BACKOFF_S = 30.0


class TransientError(Exception):
    """One failed attempt that may succeed when repeated.

    ``reached`` says whether the server answered at all: a call whose every attempt failed
    without reaching the server becomes :class:`ServerUnreachable`, anything else
    :class:`BackendError`.
    """

    def __init__(self, reason: str, *, reached: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reached = reached


def backoff_delay(attempt: int, base_s: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (0-based).

    Exponential, capped, with "equal jitter" so that the threads of one pool that failed together
    do not all retry in the same instant.
    """
    delay = min(base_s * 2.0**attempt, MAX_BACKOFF_S)
    return delay / 2 + random.uniform(0, delay / 2)


def with_retries(
    attempt: Callable[[], T], *, retries: int, backoff_s: float, server: str
) -> tuple[T, int]:
    """Run ``attempt`` up to ``retries + 1`` times; return its result and the attempts used.

    ``attempt`` raises :class:`TransientError` for a failure worth repeating and
    :class:`BackendError` for one that is not.
    """
    reached = False
    total = retries + 1
    last: TransientError | None = None
    for number in range(total):
        try:
            return attempt(), number + 1
        except TransientError as error:
            reached = reached or error.reached
            last = error
            if number + 1 < total:
                delay = backoff_delay(number, backoff_s)
                log.warning(
                    "%s: %s; retry %d of %d in %.1f s",
                    server,
                    error.reason,
                    number + 1,
                    retries,
                    delay,
                )
                time.sleep(delay)
    assert last is not None
    if not reached:
        raise ServerUnreachable(f"{server}: not reachable after {total} attempts ({last.reason})")
    raise BackendError(f"{server}: failed after {total} attempts ({last.reason})")


class RetryingBackend:
    """What both backends share: where the server is, how long to wait and how often to retry.

    Subclasses set ``name`` and ``label`` and build their client in :meth:`_connect`, once, so
    that all threads share one connection pool.
    """

    name: str
    label: str

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 300.0,
        connect_timeout_s: float = 5.0,
        retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._connect()

    def _connect(self) -> None:
        raise NotImplementedError

    def describe(self, model: str) -> str:
        return f"{self.label} at {self.base_url} (model {model})"

    def retrying(self, attempt: Callable[[], T], model: str) -> tuple[T, int]:
        return with_retries(
            attempt, retries=self.retries, backoff_s=self.backoff_s, server=self.describe(model)
        )
