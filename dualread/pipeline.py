"""Reading a batch of documents: the two routes, extra passes on disputed pages, and the vote.

The batch runs in phases, one model at a time across every document (route A, then Nanonets,
then Qwen3, then extra route-A passes), so a host with one GPU swaps models a constant number of
times per batch, not per document. ``ServerControl.activate`` is where a swap happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

from dualread import consensus
from dualread.backends.base import Backend, BackendError, ServerUnavailable
from dualread.choices import OnDispute, Status
from dualread.config import Role, Settings
from dualread.documents import Document
from dualread.readers import Readers
from dualread.record import PassRecord
from dualread.stages.candidate import Candidate, PassParams

# Why an unverified result needs a person (the record's "review" line).
UNVERIFIED_REVIEW = (
    "one reader, and the statement prints no running balance and no opening and closing "
    "balance (or printed totals) to check its rows against: check them by hand"
)
UNVERIFIED_ROW_CONFIDENCE = 0.3  # below a single reading's 0.5: nothing confirmed these rows


def single_reader_status(decision: consensus.Decision) -> Status:
    """One reader's result: its arithmetic decides whether it is checked at all."""
    ok = decision.arithmetic.ok
    return "unresolved" if ok is False else "single" if ok else "unverified"


T = TypeVar("T")


class ServerControl(Protocol):
    """Makes a role's server ready (on one GPU, this is where models are swapped) and runs model
    calls through it, so a server that dies mid-call is restarted once and the call retried.

    :class:`dualread.runtime.scheduler.ServerManager` is the real one. Where it runs replicas
    of a server, ``backends`` gives the clients that spread page requests over them and
    ``documents_at_once`` how many documents a phase reads at once to keep them busy.
    """

    def activate(self, role: Role) -> None: ...

    def call(self, role: Role, request: Callable[[], T]) -> T: ...

    def backends(self, settings: Settings) -> Mapping[Role, Backend]: ...

    def documents_at_once(self, role: Role) -> int: ...


class AlwaysReady:
    """For servers the user runs: nothing to start, swap or restart."""

    def activate(self, role: Role) -> None:
        return None

    def call(self, role: Role, request: Callable[[], T]) -> T:
        return request()

    def backends(self, settings: Settings) -> Mapping[Role, Backend]:
        return {}

    def documents_at_once(self, role: Role) -> int:
        return 1


def pass_params(pass_number: int, base_dpi: int) -> PassParams:
    """How extra pass N asks: vary temperature, seed and DPI so a model's errors decorrelate."""
    if pass_number <= 2:
        return PassParams(temperature=0.0, seed=0, dpi=base_dpi)
    ladder = [(0.3, base_dpi), (0.0, round(base_dpi * 1.5)), (0.6, round(base_dpi * 1.25))]
    temperature, dpi = ladder[(pass_number - 3) % len(ladder)]
    return PassParams(temperature=temperature, seed=pass_number, dpi=dpi)


@dataclass
class DocumentReading:
    """Everything learnt about one document; ``decision`` is set once the vote has run."""

    document: Document
    candidates: list[Candidate] = field(default_factory=list)
    passes: list[PassRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    decision: consensus.Decision | None = None
    status: Status = "unresolved"


def _timed(
    reading: DocumentReading,
    control: ServerControl,
    role: Role,
    params: PassParams,
    pages: Sequence[int],
    read: Callable[..., Candidate],
    *args: Any,
) -> Candidate | None:
    """Run ``read(*args)`` through ``control``; a model that fails is recorded, and the vote goes
    on without it."""
    route = "ocr" if role == "json" else role
    started = time.perf_counter()
    error: str | None = None
    candidate: Candidate | None = None
    try:
        candidate = control.call(role, partial(read, *args))
    except ServerUnavailable:
        raise
    except BackendError as failure:
        error = str(failure)
        reading.failures.append(f"{route}: {failure}")
    number = len(reading.passes) + 1
    reading.passes.append(
        PassRecord(
            number=number,
            route=route,
            pages=list(pages),
            seconds=time.perf_counter() - started,
            params={"temperature": params.temperature, "seed": params.seed, "dpi": params.dpi},
            error=error,
        )
    )
    return candidate


def _each(
    readings: Sequence[DocumentReading], width: int, read: Callable[[int, DocumentReading], None]
) -> None:
    """``read`` every document of a phase, ``width`` at a time (replicas take several at once),
    in order when ``width`` is 1."""
    if width <= 1:
        for index, reading in enumerate(readings):
            read(index, reading)
        return
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="documents") as pool:
        for job in [pool.submit(read, i, r) for i, r in enumerate(readings)]:
            job.result()


@dataclass
class BatchOptions:
    routes: tuple[str, ...] = ("visual", "ocr")
    third_voter: bool = False
    max_passes: int = 4
    on_dispute: OnDispute = "null"


def read_batch(
    documents: Sequence[Document],
    readers: Readers,
    settings: Settings,
    options: BatchOptions,
    control: ServerControl | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> list[DocumentReading]:
    """Read every document along the configured routes, phase by phase, and vote."""
    control = control or AlwaysReady()
    readers.use(control.backends(settings))
    readings = [DocumentReading(doc) for doc in documents]
    first = pass_params(1, settings.dpi)
    advance = on_progress or (lambda phase, n: None)

    embedded_jobs: dict[int, Future[Candidate]] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded") as cpu_pool:
        if options.third_voter:
            # The CPU engine runs beside the GPU phases; it does not wait for any server.
            for index, reading in enumerate(readings):
                embedded_jobs[index] = cpu_pool.submit(readers.embedded, reading.document)

        if "visual" in options.routes:
            control.activate("visual")

            def read_visual(_: int, reading: DocumentReading) -> None:
                doc = reading.document
                candidate = _timed(
                    reading, control, "visual", first, doc.page_numbers, readers.visual, doc, first
                )
                if candidate:
                    reading.candidates.append(candidate)
                advance("visual", 1)

            _each(readings, control.documents_at_once("visual"), read_visual)

        if "ocr" in options.routes:
            control.activate("ocr")
            markdown: dict[int, Any] = {}

            def read_ocr(index: int, reading: DocumentReading) -> None:
                doc = reading.document
                try:
                    markdown[index] = control.call("ocr", partial(readers.ocr_markdown, doc, first))
                except ServerUnavailable:
                    raise
                except BackendError as failure:
                    reading.failures.append(f"ocr: {failure}")
                advance("ocr", 1)

            _each(readings, control.documents_at_once("ocr"), read_ocr)
            control.activate("json")

            def read_json(index: int, reading: DocumentReading) -> None:
                if index not in markdown:
                    return
                doc, pages_markdown = reading.document, markdown[index]
                candidate = _timed(
                    reading,
                    control,
                    "json",
                    first,
                    doc.page_numbers,
                    readers.markdown_json,
                    doc,
                    pages_markdown,
                    first,
                )
                if candidate:
                    reading.candidates.append(candidate)
                advance("json", 1)

            _each(readings, control.documents_at_once("json"), read_json)

        for index, job in embedded_jobs.items():
            reading = readings[index]
            seconds, error = 0.0, None
            try:
                candidate = job.result()
                reading.candidates.append(candidate)
                seconds = candidate.timings.get("embedded", 0.0)  # its own time, not the wait
            except Exception as failure:  # the third voter is optional: note and go on
                error = str(failure)
            reading.passes.append(
                PassRecord(
                    number=len(reading.passes) + 1,
                    route="embedded",
                    pages=reading.document.page_numbers,
                    seconds=seconds,
                    error=error,
                )
            )

    _vote_all(readings, options)
    _extra_passes(readings, readers, settings, options, control, advance)
    return readings


def _vote_all(readings: Sequence[DocumentReading], options: BatchOptions) -> None:
    for reading in readings:
        if not reading.candidates:
            continue
        if len(reading.candidates) == 1:
            reading.decision = consensus.decide(reading.candidates, on_dispute=options.on_dispute)
            reading.status = (
                single_reader_status(reading.decision) if len(options.routes) == 1 else "unresolved"
            )
            continue
        decision = consensus.decide(reading.candidates, on_dispute=options.on_dispute)
        reading.decision = decision
        reading.status = decision.status


def _extra_passes(
    readings: Sequence[DocumentReading],
    readers: Readers,
    settings: Settings,
    options: BatchOptions,
    control: ServerControl,
    advance: Callable[[str, int], None],
) -> None:
    """Re-ask route A on disputed pages only, one round across the batch per extra pass."""
    if "visual" not in options.routes or len(options.routes) < 2:
        return
    activated = False
    while True:
        pending = [
            r
            for r in readings
            if r.status == "unresolved"
            and r.decision is not None
            and r.decision.disputed_pages
            and any(c.route == "visual" for c in r.candidates)
            and sum(1 for p in r.passes if p.route != "embedded") < options.max_passes
        ]
        if not pending:
            return
        if not activated:
            control.activate("visual")
            activated = True

        def reread(_: int, reading: DocumentReading) -> None:
            assert reading.decision is not None
            model_passes = sum(1 for p in reading.passes if p.route != "embedded")
            params = pass_params(model_passes + 1, settings.dpi)
            pages = sorted(reading.decision.disputed_pages)
            doc = reading.document
            again = _timed(
                reading, control, "visual", params, pages, readers.visual, doc, params, pages
            )
            if again is not None:
                # A partial reading votes only on its own pages (see consensus.decide).
                reading.candidates.append(again)
            reading.decision = consensus.decide(reading.candidates, on_dispute=options.on_dispute)
            reading.status = reading.decision.status
            if reading.status == "agreed":
                reading.status = "resolved"  # agreement reached only after extra passes
            advance("extra", 1)

        _each(pending, control.documents_at_once("visual"), reread)
