"""Run the extractor over evaluation cases and score each result."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from dualread.api import extract
from dualread.choices import Engine, OcrEngine, Route
from dualread.config import Settings
from dualread.evaluate.scores import DocumentScore, score_accounts, score_document
from dualread.evaluate.truth import Case, statement_from_document


def evaluate_case(
    case: Case,
    *,
    settings: Settings,
    engine: Engine,
    route: Route | None = None,
    ocr: OcrEngine = "rapidocr",
    third_voter: bool | None = None,
) -> DocumentScore:
    """Extract one case (with its manifest password) and score it; ``route`` and
    ``third_voter`` as in :class:`dualread.api.ExtractOptions`."""
    result = extract(
        case.document,
        settings=settings,
        engine=engine,
        route=route,
        password=case.password,
        ocr=ocr,
        third_voter=third_voter,
    )
    if result.record is None or result.record.nothing_read:
        return score_document(
            case, None, seconds=result.elapsed_s, error=result.error or "no result"
        )
    record = result.record  # every account's passes are the file's
    return score_accounts(
        case,
        [(statement_from_document(a.document), a.record.status) for a in result.accounts],
        pages=result.page_count,
        seconds=result.elapsed_s,
        passes=len(record.model_passes) if record.engine != "embedded" else None,
        status=result.status,
    )


def evaluate(
    cases: Sequence[Case],
    *,
    settings: Settings,
    engine: Engine = "auto",
    route: Route | None = None,
    ocr: OcrEngine = "rapidocr",
    third_voter: bool | None = None,
    on_score: Callable[[DocumentScore], None] | None = None,
) -> Iterator[DocumentScore]:
    """Score every case in turn (a generator, so a caller can show progress)."""
    for case in cases:
        score = evaluate_case(
            case, settings=settings, engine=engine, route=route, ocr=ocr, third_voter=third_voter
        )
        if on_score is not None:
            on_score(score)
        yield score
