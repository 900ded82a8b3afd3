"""The library API: ``extract()`` for one file, ``extract_many()`` for a batch.

Both return :class:`ExtractionResult` objects holding one :class:`AccountResult` per account the
file holds (usually one), whose ``document`` is schema-valid JSON-ready data: the statement, plus
dualread's record (:class:`~dualread.record.ExtractionRecord`: what read it, status, confidence,
disputes, arithmetic, passes) under the ``extraction`` key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualread import consensus
from dualread.cache import AnswerCache
from dualread.choices import Engine, EngineUsed, OcrEngine, Route, Status
from dualread.config import Settings, load_settings
from dualread.documents import Document, DocumentError, open_document
from dualread.exit_codes import (
    EXIT_INPUT_ERROR,
    EXIT_OK,
    EXIT_SERVERS_UNAVAILABLE,
    EXIT_UNRESOLVED,
)
from dualread.pipeline import (
    AlwaysReady,
    BatchOptions,
    DocumentEvidence,
    ServerControl,
    read_batch,
)
from dualread.readers import Readers
from dualread.record import ExtractionRecord
from dualread.runtime.factory import open_manager
from dualread.runtime.readiness import auto_engine, probe_servers
from dualread.statement import SCHEMA_VERSION, validate_output

__all__ = [
    "AccountResult",
    "Engine",
    "ExtractOptions",
    "ExtractionResult",
    "OcrEngine",
    "Route",
    "choose_engine",
    "extract",
    "extract_many",
]


@dataclass(frozen=True)
class AccountResult:
    """One account's statement (schema-valid, JSON-ready) and dualread's record of reading it."""

    document: dict[str, Any]
    record: ExtractionRecord


@dataclass
class ExtractionResult:
    """One input file's outcome: a statement per account it holds (usually one). ``error`` is
    set when nothing could be written for it; a file written in part (its servers went down),
    or with nothing read (every reader failed: an empty, unresolved result;
    ``record.nothing_read``), has both ``accounts`` and ``error``."""

    source: Path
    exit_code: int
    error: str | None = None
    engine: EngineUsed | None = None
    elapsed_s: float = 0.0
    page_count: int = 0
    explain: str | None = None
    accounts: list[AccountResult] = field(default_factory=list)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The file's output, one statement per account, as the writers render it."""
        return [account.document for account in self.accounts]

    @property
    def document(self) -> dict[str, Any] | None:
        """The first account's statement: the whole output of a file with one account."""
        return self.accounts[0].document if self.accounts else None

    @property
    def record(self) -> ExtractionRecord | None:
        """The record of the first account's statement (see :attr:`document`)."""
        return self.accounts[0].record if self.accounts else None

    @property
    def status(self) -> Status | None:
        """The file's status: its least sure account's."""
        if not self.accounts:
            return None
        return consensus.worst_status([account.record.status for account in self.accounts])


@dataclass
class ExtractOptions:
    engine: Engine = "auto"
    route: Route | None = None  # one VLM route alone, without consensus (``--route``)
    password: str | None = None
    pages: str | None = None
    third_voter: bool | None = None  # None: on; the embedded engine votes beside the routes
    ocr: OcrEngine = "rapidocr"
    explain: bool = False


def choose_engine(
    engine: Engine, route: Route | None, settings: Settings
) -> tuple[EngineUsed, str]:
    """What reads the batch: the route asked for, the engine asked for, or for ``auto`` the
    verdict :func:`dualread.runtime.readiness.auto_engine` gives (``doctor`` shows the same).

    Returns it and a one-line reason for the user.
    """
    if route is not None:
        return route, f"requested with --route {route}"
    if engine != "auto":
        return engine, f"requested with --engine {engine}"
    return auto_engine(probe_servers(settings))


def _batch_options(used: EngineUsed, options: ExtractOptions, settings: Settings) -> BatchOptions:
    """Which readers read the batch: the routes of what was chosen, and the embedded engine
    alone or (unless ``third_voter`` is False) as the third voter beside both routes."""
    routes: tuple[Route, ...] = ()
    if used == "vlm":
        routes = ("visual", "ocr")
    elif used != "embedded":
        routes = (used,)
    third_voter = options.third_voter is not False and used == "vlm"
    return BatchOptions(
        routes=routes,
        embedded=used == "embedded" or third_voter,
        max_passes=settings.max_passes,
        on_dispute=settings.on_dispute,
    )


def extract_many(
    paths: Sequence[Path | str],
    *,
    settings: Settings | None = None,
    options: ExtractOptions | None = None,
    control: ServerControl | None = None,
    on_engine: Callable[[str, str], None] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> Iterator[ExtractionResult]:
    """Extract a batch, yielding each file's result as soon as it is final. Bad inputs yield an
    error result; the other files still complete."""
    settings = settings or load_settings()
    options = options or ExtractOptions()
    readers = Readers(
        settings, AnswerCache(settings.cache_dir, enabled=settings.use_cache), options.ocr
    )
    used, reason = choose_engine(options.engine, options.route, settings)
    if on_engine:
        on_engine(used, reason)
    batch = _batch_options(used, options, settings)

    with ExitStack() as stack:
        documents: list[Document] = []
        for path in paths:
            try:
                document = open_document(
                    path,
                    password=options.password,
                    pages=options.pages,
                    max_pages=settings.max_pages,
                    dpi=settings.dpi,
                )
            except DocumentError as error:
                yield ExtractionResult(Path(path), EXIT_INPUT_ERROR, error=str(error))
                continue
            stack.enter_context(document)
            documents.append(document)

        if control is None and batch.routes and settings.servers == "external":
            control = AlwaysReady(settings)  # the user's servers: checked, never woken
        elif control is None and batch.routes:
            # dualread runs the servers itself: the manager swaps and restarts them as needed.
            manager = open_manager(settings, runtime=settings.servers, mode=settings.mode)
            stack.callback(manager.close)
            control = manager
        for evidence in read_batch(documents, readers, settings, batch, control, on_progress):
            yield _result_for(evidence, used, options)


def _result_for(
    evidence: DocumentEvidence, used: EngineUsed, options: ExtractOptions
) -> ExtractionResult:
    path = evidence.document.path
    pages = len(evidence.document.pages)
    seconds = evidence.seconds
    decision = evidence.decision
    if decision is None:  # its servers went down before any reader read it
        return ExtractionResult(
            path,
            EXIT_SERVERS_UNAVAILABLE,
            error=f"{path}: {evidence.servers_down}",
            engine=used,
            elapsed_s=seconds,
        )
    count = len(decision.accounts)
    accounts = [
        _account_result(evidence, used, account, index, count)
        for index, account in enumerate(decision.accounts, 1)
    ]
    validate_output([account.document for account in accounts])
    explain = None
    if options.explain and len(evidence.candidates) >= 2:
        explain = consensus.explain(
            evidence.candidates[0].statement, evidence.candidates[1].statement
        )
    # Exit 3 ("needs review"): a value in doubt, or a reading nothing could check.
    needs_review = decision.status in ("unresolved", "unverified")
    exit_code = EXIT_UNRESOLVED if needs_review else EXIT_OK
    error = None
    if not evidence.candidates:  # written, empty and unresolved; the line says why
        error = f"{path}: {'; '.join(evidence.failures) or 'no reader produced a reading'}"
    if evidence.servers_down:  # written with what was read before the servers went down
        exit_code, error = EXIT_SERVERS_UNAVAILABLE, f"{path}: {evidence.servers_down}"
    return ExtractionResult(path, exit_code, error, used, seconds, pages, explain, accounts)


def _account_result(
    evidence: DocumentEvidence,
    used: EngineUsed,
    decision: consensus.Decision,
    index: int,
    count: int,
) -> AccountResult:
    """One account's statement and record; a file of several accounts says which it is."""
    record = ExtractionRecord.model_validate(
        {
            "source": str(evidence.document.path),
            "engine": used,
            **decision.to_dict(),
            "passes": evidence.passes,
            "seconds": evidence.seconds,
            "failures": evidence.failures,
            "account": {"index": index, "count": count} if count > 1 else None,
        }
    )
    document = {
        "schema_version": SCHEMA_VERSION,
        **decision.statement.to_json_dict(),
        "extraction": record.to_json(),
    }
    return AccountResult(document, record)


def extract(
    path: Path | str,
    *,
    settings: Settings | None = None,
    engine: Engine = "auto",
    route: Route | None = None,
    password: str | None = None,
    pages: str | None = None,
    **kwargs: Any,
) -> ExtractionResult:
    """Extract one file; see :func:`extract_many`."""
    options = ExtractOptions(engine=engine, route=route, password=password, pages=pages, **kwargs)
    return next(iter(extract_many([path], settings=settings, options=options)))
