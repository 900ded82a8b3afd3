"""The library API: ``extract()`` for one file, ``extract_many()`` for a batch.

Both return :class:`ExtractionResult` objects whose ``document`` is schema-valid JSON-ready data:
the statement, plus dualread's record (:class:`~dualread.record.ExtractionRecord`: what read it,
status, confidence, disputes, arithmetic, passes) under the ``extraction`` key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
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
from dualread.statement import SCHEMA_VERSION, validate_document

__all__ = [
    "Engine",
    "ExtractOptions",
    "ExtractionResult",
    "OcrEngine",
    "Route",
    "choose_engine",
    "extract",
    "extract_many",
]


@dataclass
class ExtractionResult:
    """One input file's outcome. ``error`` is set when nothing could be written for it; a file
    written in part (its servers went down), or with nothing read (every reader failed: an
    empty, unresolved result; ``record.nothing_read``), has both ``document`` and ``error``."""

    source: Path
    exit_code: int
    document: dict[str, Any] | None = None
    error: str | None = None
    engine: EngineUsed | None = None
    elapsed_s: float = 0.0
    page_count: int = 0
    explain: str | None = None
    record: ExtractionRecord | None = None

    @property
    def status(self) -> Status | None:
        return None if self.record is None else self.record.status


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
    record = ExtractionRecord.model_validate(
        {
            "source": str(path),
            "engine": used,
            **decision.to_dict(),
            "passes": evidence.passes,
            "seconds": seconds,
            "failures": evidence.failures,
        }
    )
    document = {
        "schema_version": SCHEMA_VERSION,
        **decision.statement.to_json_dict(),
        "extraction": record.to_json(),
    }
    validate_document(document)
    explain = None
    if options.explain and len(evidence.candidates) >= 2:
        explain = consensus.explain(
            evidence.candidates[0].statement, evidence.candidates[1].statement
        )
    # Exit 3 ("needs review"): a value in doubt, or a reading nothing could check.
    exit_code = EXIT_UNRESOLVED if record.status in ("unresolved", "unverified") else EXIT_OK
    error = None
    if not evidence.candidates:  # written, empty and unresolved; the line says why
        error = f"{path}: {'; '.join(evidence.failures) or 'no reader produced a reading'}"
    if evidence.servers_down:  # written with what was read before the servers went down
        exit_code, error = EXIT_SERVERS_UNAVAILABLE, f"{path}: {evidence.servers_down}"
    return ExtractionResult(path, exit_code, document, error, used, seconds, pages, explain, record)


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
