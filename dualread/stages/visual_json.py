"""Route A, ``visual_json``: a vision model (MiniCPM-V) reads each page image and answers schema
JSON; the page answers are merged into one statement.

One request per page keeps every answer short (a page's rows, not a document's), lets a server
batch the pages of a document, and lets extra passes re-read only the disputed pages.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from dualread.backends.base import Backend, ChatRequest
from dualread.backends.jsonreply import JsonAnswer, ask_json
from dualread.config import Settings
from dualread.documents import Document
from dualread.stages.answers import answer_statement, check_statement_answer, raw_outputs
from dualread.stages.candidate import Candidate, PassParams
from dualread.stages.contexts import NUM_CTX
from dualread.stages.merge import merge_pages
from dualread.stages.pageimage import PNG_MIME, page_png
from dualread.stages.parallel import map_concurrently
from dualread.stages.prompts import load_prompt, prompt_key
from dualread.statement import Statement, model_output_schema

STAGE = "visual_json"
PROMPT = load_prompt("visual_json", 1)
RULES = load_prompt("statement_rules", 1)
REPAIR = load_prompt("repair", 1)
PROMPT_KEY = prompt_key(PROMPT, RULES, REPAIR)
# A page's rows as JSON take a few thousand tokens; a model that loops (repeating a row until the
# context is full) is cut here rather than after minutes. It leaves the page image (up to ~6k
# tokens) and the prompt their room in the role's context.
MAX_ANSWER_TOKENS = 8192


@dataclass(frozen=True)
class _PageReading:
    page: int
    statement: Statement
    answer: JsonAnswer
    encode_s: float


def read_visual(
    document: Document,
    backend: Backend,
    settings: Settings,
    params: PassParams,
    pages: Sequence[int] | None = None,
) -> Candidate:
    """Read ``pages`` (default: all selected pages) of ``document`` with the visual model.

    Raises :class:`~dualread.backends.base.BackendError` when a page cannot be read.
    """
    started = time.perf_counter()
    numbers = tuple(document.page_numbers if pages is None else pages)
    model = settings.role("visual").model
    prompt = PROMPT.fill(rules=RULES.text)

    def read_page(page: int) -> _PageReading:
        encode_started = time.perf_counter()
        image = page_png(document, page, params.dpi)
        encode_s = time.perf_counter() - encode_started
        request = ChatRequest(
            model=model,
            prompt=prompt,
            images=(image,),
            image_mime=PNG_MIME,
            json_schema=model_output_schema(),
            temperature=params.temperature,
            seed=params.seed,
            num_ctx=NUM_CTX["visual"],
            max_tokens=MAX_ANSWER_TOKENS,
        )
        answer = ask_json(backend, request, check_statement_answer, repair=REPAIR.text)
        return _PageReading(page, answer_statement(answer), answer, encode_s)

    readings = map_concurrently(read_page, numbers, settings.concurrency)
    return Candidate(
        route="visual",
        statement=merge_pages([(r.page, r.statement) for r in readings]),
        pages=numbers,
        params=params,
        raw=[out for r in readings for out in raw_outputs(STAGE, (r.page,), r.answer.replies)],
        timings={
            STAGE: time.perf_counter() - started,
            "encode": sum(r.encode_s for r in readings),
        },
        notes={
            "model": model,
            "prompt": PROMPT_KEY,
            "repaired_pages": [r.page for r in readings if r.answer.repaired],
        },
    )
