"""Drives a :class:`~dualread.runtime.scheduler.ServerManager` with model calls in the orders a
batch can take, for runtime tests and the switching benchmark.

- :func:`run_phases`: the pipeline's order, each role across the whole batch in turn
  (visual -> ocr -> json -> extra visual passes on the disputed documents);
- :func:`run_per_document`: the seeds' order, every role for one document before the next.

Requests of one phase run concurrently, up to the server's limit, as the pipeline sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from dualread.config import Role
from dualread.runtime.scheduler import ServerManager

Request = Callable[[Role], object]


def run_phase(manager: ServerManager, role: Role, requests: int, request: Request) -> None:
    """Activate ``role`` and send it ``requests`` calls, as many at once as its server takes."""
    manager.activate(role)
    with ThreadPoolExecutor(max_workers=manager.concurrency(role)) as pool:
        futures = [pool.submit(manager.call, role, lambda: request(role)) for _ in range(requests)]
        for future in futures:
            future.result()


def run_phases(
    manager: ServerManager,
    documents: int,
    pages: int,
    request: Request,
    *,
    disputed_documents: int = 1,
) -> None:
    """Page requests for the image models, one text request per document for the JSON model,
    then one page again for each disputed document."""
    run_phase(manager, "visual", documents * pages, request)
    run_phase(manager, "ocr", documents * pages, request)
    run_phase(manager, "json", documents, request)
    if disputed_documents:
        run_phase(manager, "visual", min(disputed_documents, documents), request)


def run_per_document(
    manager: ServerManager,
    documents: int,
    pages: int,
    request: Request,
    *,
    disputed_documents: int = 1,
) -> None:
    """The seeds' procedure: each document goes through every model before the next starts."""
    for number in range(documents):
        run_phases(manager, 1, pages, request, disputed_documents=int(number < disputed_documents))
