"""Per-page requests run concurrently, up to the per-server limit; servers batch them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_concurrently(function: Callable[[T], R], items: Sequence[T], limit: int) -> list[R]:
    """``[function(item) for item in items]`` with at most ``limit`` calls in flight.

    On the first failure the calls not yet started are cancelled and that failure is raised, so a
    dead server costs one round of timeouts, not one per page.
    """
    if limit <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(
        max_workers=min(limit, len(items)), thread_name_prefix="dualread-page"
    ) as pool:
        futures = [pool.submit(function, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            error = future.exception()
            if error is not None:
                for pending in futures:
                    pending.cancel()
                raise error
        return [future.result() for future in futures]
