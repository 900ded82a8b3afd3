"""The bounded worker pool: a few threads that take queued jobs from the store and read them
through :func:`dualread.api.extract_many`, the same call ``dualread extract`` makes.

Each job keeps the statement of every account its file holds, as ``dualread extract`` writes them.

A worker claims the oldest queued job together with the queued jobs that share its options, and
reads them as one batch, so on one GPU a burst of uploads costs one round of model swaps, not one
per file. Results go to the store as they come; a worker that dies with the server leaves its jobs
"running", and the next start queues them again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from dualread.api import ExtractionResult, extract_many
from dualread.service.config import ServiceConfig
from dualread.service.options import JobOptions
from dualread.service.store import Job, JobStore

log = logging.getLogger("dualread.service")
IDLE_WAIT_S = 1.0  # how long an idle worker sleeps when no one wakes it


class WorkerPool:
    def __init__(
        self,
        store: JobStore,
        config: ServiceConfig,
        on_finished: Callable[[str], None] = lambda job_id: None,
    ) -> None:
        self.store = store
        self.config = config
        self.on_finished = on_finished
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        requeued = self.store.requeue_running()
        if requeued:
            log.warning(
                "queued again %d job(s) that were running when the server stopped", requeued
            )
        for number in range(self.config.workers):
            thread = threading.Thread(
                target=self._run, name=f"dualread-worker-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def notify(self) -> None:
        """New jobs are queued: wake the idle workers."""
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop taking jobs. A job still being read after ``timeout_s`` stays "running" in the
        store and is queued again on the next start."""
        self._stopping.set()
        self.notify()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                jobs = self.store.claim(self.config.batch_size)
            except Exception:  # the store closed under us at shutdown
                if self._stopping.is_set():
                    return
                raise
            if not jobs:
                with self._wake:
                    self._wake.wait(IDLE_WAIT_S)
                continue
            self._read(jobs)

    def _read(self, jobs: Sequence[Job]) -> None:
        options = JobOptions.model_validate(jobs[0].options)
        settings, extract_options = options.for_library(self.config.settings)
        by_path = {job.upload: job for job in jobs}
        started = time.perf_counter()
        try:
            for result in extract_many(list(by_path), settings=settings, options=extract_options):
                job = by_path.pop(result.source, None)
                if job is not None:
                    self._record(job, result, time.perf_counter() - started)
        except Exception as error:  # one batch's failure must not stop the worker
            log.error("batch of %d job(s) failed: %s", len(jobs), type(error).__name__)
            for job in by_path.values():
                self._finish(job, [], f"{job.filename}: internal error ({type(error).__name__})", 1)
            return
        for job in by_path.values():  # the library yields one result per file; never lose one
            self._finish(job, [], f"{job.filename}: no result", 1)

    def _record(self, job: Job, result: ExtractionResult, seconds: float) -> None:
        documents = result.documents
        for document in documents:
            # The result names the file the user uploaded, not where the server keeps it.
            document["extraction"]["source"] = job.filename
        error = result.error and result.error.replace(str(job.upload), job.filename)
        log.info(
            "job %s: %s, %d account(s), exit %d, %.2f s",
            job.id,
            result.status or "failed",
            len(documents),
            result.exit_code,
            seconds,
        )
        self._finish(job, documents, error, result.exit_code)

    def _finish(
        self, job: Job, documents: Sequence[dict[str, Any]], error: str | None, exit_code: int
    ) -> None:
        if not self.store.finish(job.id, documents=documents, error=error, exit_code=exit_code):
            log.info("job %s was deleted while it ran; its result is dropped", job.id)
        self.on_finished(job.id)
