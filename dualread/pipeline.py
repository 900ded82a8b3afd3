"""Reading a batch of documents: every way dualread reads one, as four phases.

1. **extract**: each reader reads every document. Route A (``visual``), then route B
   (``ocr``: every document's markdown, then every document's JSON), one model at a time across
   the whole batch, so one GPU swaps models a constant number of times per batch
   (``ServerControl.activate`` is where a swap happens). The embedded engine reads on the CPU
   beside them, or alone when it is the only reader.
2. **vote**: consensus decides each document's statement and status from its readings.
3. **reread**: route A re-reads the disputed pages, one round across the batch per extra pass,
   and consensus votes again.
4. **hand over**: each document is yielded as soon as it is final. With the embedded engine
   alone that is right after its reading; with model servers, after the last phase.

A model server that stays down (:class:`ServersUnavailable` from the control, or
:class:`ServerUnreachable` from a server the user runs) ends the model phases: what was read
before it is still voted and handed over, and the documents it left unread say so. So does a
server that leaves :data:`SILENT_DOCUMENTS` documents in a row unanswered (:class:`NoAnswer`):
a hung server costs the batch that many timeouts, not one per document.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

from dualread import consensus
from dualread.backends.base import Backend, BackendError, NoAnswer, ServerUnreachable
from dualread.choices import OnDispute, Route
from dualread.config import Role, Settings
from dualread.documents import Document
from dualread.readers import Readers
from dualread.record import PassRecord
from dualread.runtime.errors import LauncherError, ServersUnavailable
from dualread.runtime.external import check_awake
from dualread.stages.candidate import Candidate, PassParams
from dualread.stages.ocr_markdown import OcrPages

T = TypeVar("T")
Progress = Callable[[str, int], None]

# What ends the model phases: no server to ask any more.
SERVERS_DOWN = (ServerUnreachable, ServersUnavailable, LauncherError)
SILENT_DOCUMENTS = 2
"""Documents in a row whose request a role's server left unanswered before the batch takes the
server for dead. One timeout may be a pathological page; two in a row across documents is a hung
server, and each further document would cost another ``timeout_s``."""


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
    """For servers the user runs: nothing to start, swap, wake or restart.

    Given the settings that name them, each phase first checks that its server is awake
    (:func:`~dualread.runtime.external.check_awake`): a sleeping vLLM would hold the phase's
    requests until someone woke it, and when to wake it is the user's business. Without them
    (fakes in tests, benchmarks that bring their own clients) it checks nothing.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings

    def activate(self, role: Role) -> None:
        if self.settings is not None:
            check_awake(self.settings, role)

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
class BatchOptions:
    """Which readers read every document, and how consensus treats what they say."""

    routes: tuple[Route, ...] = ("visual", "ocr")
    embedded: bool = False  # the embedded engine reads too (alone when ``routes`` is empty)
    max_passes: int = 4
    on_dispute: OnDispute = "null"

    @property
    def readers(self) -> int:
        return len(self.routes) + self.embedded


@dataclass
class DocumentEvidence:
    """Everything learnt about one document: its readings (candidates), the passes that made
    them, what failed, and, once consensus has voted, the decision."""

    document: Document
    candidates: list[Candidate] = field(default_factory=list)
    passes: list[PassRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    decision: consensus.FileDecision | None = None  # one decision per account of the file
    servers_down: str | None = None  # why a reader could not read it: its servers were down
    voting_s: float = 0.0

    @property
    def model_passes(self) -> int:
        """Passes that asked a model (the embedded engine's is not one), failed ones included."""
        return sum(1 for p in self.passes if p.route != "embedded")

    @property
    def seconds(self) -> float:
        """This document's own time: its passes and its votes. Phases interleave the batch's
        documents, so this is not the wall time from the batch's start."""
        return sum(p.seconds for p in self.passes) + self.voting_s

    def record_pass(
        self, route: str, pages: Sequence[int], seconds: float, params: PassParams | None = None
    ) -> PassRecord:
        asked = (
            {}
            if params is None
            else {"temperature": params.temperature, "seed": params.seed, "dpi": params.dpi}
        )
        record = PassRecord(
            number=len(self.passes) + 1,
            route=route,
            pages=list(pages),
            seconds=seconds,
            params=asked,
        )
        self.passes.append(record)
        return record


def read_batch(
    documents: Sequence[Document],
    readers: Readers,
    settings: Settings,
    options: BatchOptions,
    control: ServerControl | None = None,
    on_progress: Progress | None = None,
) -> Iterator[DocumentEvidence]:
    """Read every document with the chosen readers, vote, re-read disputed pages, and yield each
    document's evidence as soon as it is final (in the order given)."""
    control = control or AlwaysReady()
    readers.use(control.backends(settings))
    batch = _Batch(documents, readers, settings, options, control, on_progress)
    if not options.routes:
        yield from batch.embedded_alone()
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded") as cpu:
        beside = batch.embedded_beside(cpu) if options.embedded else {}
        batch.extract_with_models()
        batch.collect(beside)
    batch.vote_all()
    batch.reread()
    yield from batch.evidence


class _Batch:
    """One batch's evidence and the phases that add to it."""

    def __init__(
        self,
        documents: Sequence[Document],
        readers: Readers,
        settings: Settings,
        options: BatchOptions,
        control: ServerControl,
        on_progress: Progress | None,
    ) -> None:
        self.evidence = [DocumentEvidence(doc) for doc in documents]
        self.readers, self.settings, self.options = readers, settings, options
        self.control = control
        self.advance = on_progress or (lambda phase, n: None)
        self.first = pass_params(1, settings.dpi)
        self.down: str | None = None  # set once a server stays down: no more model calls
        self._silent: dict[Role, int] = {}  # documents in a row a role's server left unanswered
        self._silent_lock = threading.Lock()  # phases may read several documents at once

    # -- extract ---------------------------------------------------------------------------

    def embedded_alone(self) -> Iterator[DocumentEvidence]:
        """The embedded engine is the only reader: read, vote and hand over one by one."""
        for item in self.evidence:
            started = time.perf_counter()
            outcome = _Outcome.of(partial(self.readers.embedded, item.document), item.document)
            self._take_embedded(item, outcome, time.perf_counter() - started)
            self.vote(item)
            self.advance("embedded", 1)
            yield item

    def embedded_beside(self, cpu: ThreadPoolExecutor) -> dict[int, Future[Candidate]]:
        """The CPU engine reads beside the GPU phases; it waits for no server."""
        return {
            i: cpu.submit(self.readers.embedded, e.document) for i, e in enumerate(self.evidence)
        }

    def collect(self, beside: dict[int, Future[Candidate]]) -> None:
        for index, job in beside.items():
            outcome = _Outcome.of(job.result, self.evidence[index].document)
            # Its own time, not the wait for it beside the model phases.
            seconds = outcome.candidate.timings.get("embedded", 0.0) if outcome.candidate else 0.0
            self._take_embedded(self.evidence[index], outcome, seconds)

    def _take_embedded(self, item: DocumentEvidence, outcome: _Outcome, seconds: float) -> None:
        record = item.record_pass("embedded", item.document.page_numbers, seconds)
        if outcome.candidate is not None:
            item.candidates.append(outcome.candidate)
        else:
            record.error = outcome.error
            item.failures.append(f"embedded: {outcome.error}")

    def extract_with_models(self) -> None:
        if "visual" in self.options.routes:
            self._phase("visual", self._read_visual)
        if "ocr" in self.options.routes:
            markdown: dict[int, tuple[OcrPages, float]] = {}
            self._phase("ocr", partial(self._read_markdown, markdown))
            self._phase(
                "json", partial(self._read_json, markdown), only=lambda index: index in markdown
            )

    def _phase(
        self,
        role: Role,
        read: Callable[[int, DocumentEvidence], None],
        only: Callable[[int], bool] = lambda index: True,
    ) -> None:
        """One model across the batch; a server that stays down ends this and every later model
        phase, and each document it left unread says so."""
        todo = [(i, item) for i, item in enumerate(self.evidence) if only(i)]
        if not self.down:
            try:
                self.control.activate(role)
            except SERVERS_DOWN as error:
                self.down = str(error)

        def one(index: int, item: DocumentEvidence) -> None:
            if self.down:
                item.servers_down = item.servers_down or self.down
                return
            try:
                read(index, item)
            except SERVERS_DOWN as error:
                self.down = str(error)
                item.servers_down = self.down
            self.advance(role, 1)

        _each(todo, self.control.documents_at_once(role), one)

    def _ask(
        self,
        item: DocumentEvidence,
        role: Role,
        pages: Sequence[int],
        params: PassParams,
        request: Callable[[], T],
    ) -> tuple[T | None, float]:
        """One model call through the control. A call that fails is recorded as a failed pass
        of its route and the vote goes on without it; a server that stays down is raised on to
        the phase."""
        route = "ocr" if role == "json" else role
        started = time.perf_counter()
        try:
            answer = self.control.call(role, request)
        except (BackendError, *SERVERS_DOWN) as failure:
            seconds = time.perf_counter() - started
            item.record_pass(route, pages, seconds, params).error = str(failure)
            item.failures.append(f"{route}: {failure}")
            if isinstance(failure, SERVERS_DOWN):
                raise
            self._count_silence(role, failure)
            return None, seconds
        self._count_silence(role, None)
        return answer, time.perf_counter() - started

    def _count_silence(self, role: Role, failure: BackendError | None) -> None:
        """Count the documents in a row that ``role``'s server left unanswered; raise
        :class:`ServersUnavailable` (the server is dead for this batch) at SILENT_DOCUMENTS."""
        with self._silent_lock:
            silent = self._silent.get(role, 0) + 1 if isinstance(failure, NoAnswer) else 0
            self._silent[role] = silent
        if silent >= SILENT_DOCUMENTS:
            raise ServersUnavailable(
                f"{failure}, for {silent} documents in a row: the batch asks this server no more"
            )

    def _read_visual(self, index: int, item: DocumentEvidence) -> None:
        doc = item.document
        request = partial(self.readers.visual, doc, self.first)
        candidate, seconds = self._ask(item, "visual", doc.page_numbers, self.first, request)
        if candidate is not None:
            item.record_pass("visual", doc.page_numbers, seconds, self.first)
            item.candidates.append(candidate)

    def _read_markdown(
        self, markdown: dict[int, tuple[OcrPages, float]], index: int, item: DocumentEvidence
    ) -> None:
        """Route B's first half; its time counts in the route's one pass (see ``_read_json``)."""
        doc = item.document
        request = partial(self.readers.ocr_markdown, doc, self.first)
        pages, seconds = self._ask(item, "ocr", doc.page_numbers, self.first, request)
        if pages is not None:
            markdown[index] = (pages, seconds)

    def _read_json(
        self, markdown: dict[int, tuple[OcrPages, float]], index: int, item: DocumentEvidence
    ) -> None:
        doc = item.document
        pages, markdown_s = markdown[index]
        request = partial(self.readers.markdown_json, doc, pages, self.first)
        candidate, seconds = self._ask(item, "json", doc.page_numbers, self.first, request)
        if candidate is None:
            item.passes[-1].seconds += markdown_s  # the failed pass of the route, both halves
        else:
            item.record_pass("ocr", doc.page_numbers, markdown_s + seconds, self.first)
            item.candidates.append(candidate)

    # -- vote ------------------------------------------------------------------------------

    def vote(self, item: DocumentEvidence) -> None:
        if not item.candidates and item.servers_down:
            return  # not read because the servers went down: reported, not written
        started = time.perf_counter()
        item.decision = consensus.decide_accounts(
            item.candidates, on_dispute=self.options.on_dispute, readers=self.options.readers
        )
        item.voting_s += time.perf_counter() - started

    def vote_all(self) -> None:
        for item in self.evidence:
            self.vote(item)

    # -- reread ----------------------------------------------------------------------------

    def reread(self) -> None:
        """Re-ask route A on disputed pages only, one round across the batch per extra pass."""
        if "visual" not in self.options.routes or len(self.options.routes) < 2:
            return
        activated = False
        while not self.down:
            pending = [item for item in self.evidence if self._worth_rereading(item)]
            if not pending:
                return
            if not activated:
                try:
                    self.control.activate("visual")
                except SERVERS_DOWN as error:
                    self.down = str(error)
                    return
                activated = True

            def one(index: int, item: DocumentEvidence) -> None:
                if self.down:
                    return
                try:
                    self._reread(item)
                except SERVERS_DOWN as error:
                    self.down = str(error)
                self.vote(item)
                self.advance("extra", 1)

            _each(list(enumerate(pending)), self.control.documents_at_once("visual"), one)

    def _worth_rereading(self, item: DocumentEvidence) -> bool:
        decision = item.decision
        return (
            decision is not None
            and decision.status == "unresolved"
            and bool(decision.disputed_pages)
            and any(c.route == "visual" for c in item.candidates)
            and item.model_passes < self.options.max_passes
        )

    def _reread(self, item: DocumentEvidence) -> None:
        assert item.decision is not None
        params = pass_params(item.model_passes + 1, self.settings.dpi)
        pages = sorted(item.decision.disputed_pages)
        request = partial(self.readers.visual, item.document, params, pages)
        candidate, seconds = self._ask(item, "visual", pages, params, request)
        if candidate is not None:
            item.record_pass("visual", pages, seconds, params)
            # A partial reading votes only on its own pages (see consensus.decide).
            item.candidates.append(candidate)


def _each(
    items: Sequence[tuple[int, DocumentEvidence]],
    width: int,
    read: Callable[[int, DocumentEvidence], None],
) -> None:
    """``read`` every document of a phase, ``width`` at a time (replicas take several at once),
    in order when ``width`` is 1."""
    if width <= 1:
        for index, item in items:
            read(index, item)
        return
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="documents") as pool:
        for job in [pool.submit(read, index, item) for index, item in items]:
            job.result()


@dataclass
class _Outcome:
    """The embedded engine's reading of one document, or why there is none. The engine is one
    reader among several: its failure is this document's, never the batch's."""

    candidate: Candidate | None = None
    error: str | None = None

    @classmethod
    def of(cls, read: Callable[[], Candidate], document: Document) -> _Outcome:
        try:
            return cls(candidate=read())
        except Exception as failure:  # any reader failure is this document's
            # The record and the error line name the file already.
            message = str(failure).removeprefix(f"{document.path}: ")
            if "Traceback (most recent call last)" in message:
                # A library that puts its traceback in the message (onnxruntime's out of memory,
                # through RapidOCR): its last line says what failed.
                message = message.strip().splitlines()[-1]
            return cls(error=message or type(failure).__name__)  # MemoryError() says nothing
