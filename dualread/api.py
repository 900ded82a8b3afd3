"""The library API: ``extract()`` for one file, ``extract_many()`` for a batch.

Both return :class:`ExtractionResult` objects whose ``document`` is schema-valid JSON-ready data:
the statement, plus dualread's record (engine, status, confidence, disputes, arithmetic, passes)
under the ``extraction`` key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dualread import consensus
from dualread.backends.base import ServerUnavailable
from dualread.cache import AnswerCache
from dualread.choices import Engine as EngineChoice
from dualread.choices import OcrEngine, Route, Status
from dualread.config import Settings, load_settings
from dualread.documents import Document, DocumentError, open_document
from dualread.exit_codes import (
    EXIT_INPUT_ERROR,
    EXIT_OK,
    EXIT_SERVERS_UNAVAILABLE,
    EXIT_UNRESOLVED,
)
from dualread.pipeline import (
    UNVERIFIED_REVIEW,
    UNVERIFIED_ROW_CONFIDENCE,
    BatchOptions,
    DocumentReading,
    ServerControl,
    read_batch,
    single_reader_status,
)
from dualread.readers import Readers
from dualread.record import ExtractionRecord, PassRecord
from dualread.runtime.errors import LauncherError, ServersUnavailable
from dualread.runtime.factory import open_manager
from dualread.stages.embedded import EmbeddedReadError
from dualread.statement import SCHEMA_VERSION, validate_document

__all__ = [
    "Engine",
    "ExtractOptions",
    "ExtractionResult",
    "OcrEngine",
    "choose_engine",
    "extract",
    "extract_many",
]

Engine = Literal[EngineChoice, Route]


@dataclass
class ExtractionResult:
    """One input file's outcome. ``error`` is set (and ``document`` is None) when it failed."""

    source: Path
    exit_code: int
    document: dict[str, Any] | None = None
    error: str | None = None
    engine: str | None = None
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
    password: str | None = None
    pages: str | None = None
    third_voter: bool | None = None  # None: on when the embedded engine can join the vote
    ocr: OcrEngine = "rapidocr"
    explain: bool = False


def choose_engine(requested: Engine, readers: Readers) -> tuple[str, str]:
    """Resolve ``auto``: the VLM consensus when its servers answer, else the embedded engine.

    Returns the engine and a one-line reason for the user.
    """
    if requested != "auto":
        return requested, f"requested with --engine/--route {requested}"
    silent = readers.unreachable_roles(("visual", "ocr", "json"))
    if not silent:
        return "vlm", "model servers answered"
    where = ", ".join(sorted({readers.settings.role(role).url for role in silent}))
    return "embedded", f"no model server answered at {where}"


def _routes_for(engine: str) -> tuple[str, ...]:
    return {"vlm": ("visual", "ocr"), "visual": ("visual",), "ocr": ("ocr",)}.get(engine, ())


def _document_for(
    reading: DocumentReading, engine: str, elapsed_s: float
) -> tuple[dict[str, Any], ExtractionRecord]:
    decision = reading.decision
    assert decision is not None
    body = decision.statement.to_json_dict()
    record = ExtractionRecord.model_validate(
        {
            "source": str(reading.document.path),
            "engine": engine,
            **decision.to_dict(),
            "status": reading.status,  # the pipeline's view: "resolved" after extra passes
            "passes": reading.passes,
            "seconds": elapsed_s,
            "failures": reading.failures,
        }
    )
    if reading.status == "unverified":
        rows = [min(c, UNVERIFIED_ROW_CONFIDENCE) for c in record.confidence.transactions]
        record = record.model_copy(
            update={
                "review": UNVERIFIED_REVIEW,
                "confidence": record.confidence.model_copy(update={"transactions": rows}),
            }
        )
    document = {"schema_version": SCHEMA_VERSION, **body, "extraction": record.to_json()}
    validate_document(document)
    return document, record


def _exit_code(status: str) -> int:
    """Exit 3 ("needs review") for a value in doubt or a reading nothing could check."""
    return EXIT_UNRESOLVED if status in ("unresolved", "unverified") else EXIT_OK


def extract_many(
    paths: Sequence[Path | str],
    *,
    settings: Settings | None = None,
    options: ExtractOptions | None = None,
    control: ServerControl | None = None,
    on_engine: Callable[[str, str], None] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> Iterator[ExtractionResult]:
    """Extract a batch. Bad inputs yield an error result; the other files still complete."""
    settings = settings or load_settings()
    options = options or ExtractOptions()
    readers = Readers(
        settings, AnswerCache(settings.cache_dir, enabled=settings.use_cache), options.ocr
    )
    engine, reason = choose_engine(options.engine, readers)
    if on_engine:
        on_engine(engine, reason)

    with ExitStack() as stack:
        documents: list[Document] = []
        for path in paths:
            try:
                document = open_document(
                    path,
                    password=options.password,
                    pages=options.pages,
                    max_pages=settings.max_pages,
                )
            except DocumentError as error:
                yield ExtractionResult(Path(path), EXIT_INPUT_ERROR, error=str(error))
                continue
            stack.enter_context(document)
            documents.append(document)

        if engine == "embedded":
            yield from _embedded_batch(documents, readers, on_progress)
            return

        batch = BatchOptions(
            routes=_routes_for(engine),
            third_voter=bool(options.third_voter) and engine == "vlm",
            max_passes=settings.max_passes,
            on_dispute=settings.on_dispute,
        )
        if control is None and settings.servers != "external":
            # dualread runs the servers itself: the manager swaps and restarts them as needed.
            manager = open_manager(settings, runtime=settings.servers, mode=settings.mode)
            stack.callback(manager.close)
            control = manager
        started = time.perf_counter()
        try:
            readings = read_batch(documents, readers, settings, batch, control, on_progress)
        except (ServerUnavailable, ServersUnavailable, LauncherError) as error:
            for document in documents:
                yield ExtractionResult(
                    document.path, EXIT_SERVERS_UNAVAILABLE, error=f"{document.path}: {error}"
                )
            return
        elapsed = (time.perf_counter() - started) / max(len(readings), 1)
        for reading in readings:
            yield _result_for(reading, engine, elapsed, options)


def _result_for(
    reading: DocumentReading,
    engine: str,
    elapsed: float,
    options: ExtractOptions,
) -> ExtractionResult:
    path = reading.document.path
    pages = len(reading.document.pages)
    if reading.decision is None:
        problem = "; ".join(reading.failures) or "no route produced a reading"
        return ExtractionResult(path, EXIT_UNRESOLVED, error=f"{path}: {problem}", engine=engine)
    document, record = _document_for(reading, engine, elapsed)
    explain = None
    if options.explain and len(reading.candidates) >= 2:
        explain = consensus.explain(
            reading.candidates[0].statement, reading.candidates[1].statement
        )
    return ExtractionResult(
        path, _exit_code(reading.status), document, None, engine, elapsed, pages, explain, record
    )


def _embedded_batch(
    documents: Sequence[Document],
    readers: Readers,
    on_progress: Callable[[str, int], None] | None,
) -> Iterator[ExtractionResult]:
    for document in documents:
        started = time.perf_counter()
        reading = DocumentReading(document)
        try:
            reading.candidates.append(readers.embedded(document))
        except EmbeddedReadError as error:  # its message already names the file
            yield ExtractionResult(
                document.path, EXIT_UNRESOLVED, error=str(error), engine="embedded"
            )
            continue
        except Exception as error:  # any other reader failure is this file's, not the batch's
            yield ExtractionResult(
                document.path, EXIT_UNRESOLVED, error=f"{document.path}: {error}", engine="embedded"
            )
            continue
        elapsed = time.perf_counter() - started
        reading.passes.append(
            PassRecord(number=1, route="embedded", pages=document.page_numbers, seconds=elapsed)
        )
        reading.decision = consensus.decide(reading.candidates, on_dispute="best")
        reading.status = single_reader_status(reading.decision)
        if on_progress:
            on_progress("embedded", 1)
        output, record = _document_for(reading, "embedded", elapsed)
        yield ExtractionResult(
            document.path,
            _exit_code(reading.status),
            output,
            None,
            "embedded",
            elapsed,
            len(document.pages),
            record=record,
        )


def extract(
    path: Path | str,
    *,
    settings: Settings | None = None,
    engine: Engine = "auto",
    password: str | None = None,
    pages: str | None = None,
    **kwargs: Any,
) -> ExtractionResult:
    """Extract one file; see :func:`extract_many`."""
    options = ExtractOptions(engine=engine, password=password, pages=pages, **kwargs)
    return next(iter(extract_many([path], settings=settings, options=options)))
