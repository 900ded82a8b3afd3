"""Retry rules: what is retried, how long it waits, and what a final failure becomes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dualread.backends.base import BackendError, ServerUnreachable
from dualread.backends.retry import MAX_BACKOFF_S, TransientError, backoff_delay, with_retries

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr("dualread.backends.retry.time.sleep", slept.append)
    return slept


def failing(*errors: Exception, result: str = "ok") -> Callable[[], str]:
    queue = list(errors)

    def attempt() -> str:
        if queue:
            raise queue.pop(0)
        return result

    return attempt


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_doubles_with_jitter_and_a_cap(attempt: int) -> None:
    full = min(0.5 * 2**attempt, MAX_BACKOFF_S)
    assert full / 2 <= backoff_delay(attempt, 0.5) <= full


def test_transient_failures_are_retried(no_sleeping: list[float]) -> None:
    attempt = failing(TransientError("HTTP 500", reached=True), TransientError("x", reached=True))
    assert with_retries(attempt, retries=3, backoff_s=0.5, server="s") == ("ok", 3)
    assert len(no_sleeping) == 2 and no_sleeping[1] > no_sleeping[0] / 2


def test_never_reached_is_server_unavailable() -> None:
    attempt = failing(*[TransientError("connection refused", reached=False)] * 4)
    with pytest.raises(ServerUnreachable, match="not reachable after 4 attempts"):
        with_retries(attempt, retries=3, backoff_s=0.5, server="s")


def test_reached_once_is_a_backend_error_not_unavailable() -> None:
    attempt = failing(
        TransientError("HTTP 500", reached=True), TransientError("refused", reached=False)
    )
    with pytest.raises(BackendError) as caught:
        with_retries(attempt, retries=1, backoff_s=0.5, server="s")
    assert not isinstance(caught.value, ServerUnreachable)
    assert "failed after 2 attempts (refused)" in str(caught.value)


def test_permanent_failures_are_not_retried(no_sleeping: list[float]) -> None:
    attempt = failing(BackendError("HTTP 404"))
    with pytest.raises(BackendError, match="404"):
        with_retries(attempt, retries=3, backoff_s=0.5, server="s")
    assert no_sleeping == []
