"""Route B, second half, ``markdown_json``: a text model (Qwen3) turns the whole document's
markdown into schema JSON.

The whole document goes in one request, so the model sees the header on page 1 with the rows on
later pages, and rows split across a page break. Page markers let it set each row's ``page``.
"""

from __future__ import annotations

import math
import time

from dualread.backends.base import Backend, ChatRequest
from dualread.backends.jsonreply import ask_json
from dualread.config import Settings
from dualread.stages.answers import answer_statement, check_statement_answer, raw_outputs
from dualread.stages.candidate import Candidate, PassParams
from dualread.stages.ocr_markdown import PROMPT_KEY as OCR_PROMPT_KEY
from dualread.stages.ocr_markdown import OcrPages
from dualread.stages.prompts import load_prompt, prompt_key
from dualread.statement import model_output_schema

STAGE = "markdown_json"
PROMPT = load_prompt("markdown_json", 1)
RULES = load_prompt("statement_rules", 1)
REPAIR = load_prompt("repair", 1)
PROMPT_KEY = prompt_key(PROMPT, RULES, REPAIR)

# Context for Ollama, which otherwise truncates long prompts silently at its small default.
# Markdown with HTML tags runs about 3 characters per token; the JSON answer is about as long as
# the rows it copies, so the window holds the prompt twice plus slack, rounded up to 4k tokens.
CHARS_PER_TOKEN = 3
MIN_NUM_CTX = 8192
MAX_NUM_CTX = 40960  # Qwen3-8B's native context


def page_block(page: int, markdown: str) -> str:
    return f"=== PAGE {page} ===\n{markdown}\n=== END OF PAGE {page} ==="


def document_markdown(ocr: OcrPages) -> str:
    return "\n\n".join(page_block(p.page, p.markdown) for p in ocr.pages)


def context_window(prompt: str) -> int:
    tokens = 2 * len(prompt) / CHARS_PER_TOKEN + 2048
    return max(MIN_NUM_CTX, min(MAX_NUM_CTX, 4096 * math.ceil(tokens / 4096)))


def markdown_to_candidate(
    ocr: OcrPages, backend: Backend, settings: Settings, params: PassParams
) -> Candidate:
    """The statement in ``ocr``'s markdown, read by the JSON model, as the OCR route's candidate.

    Raises :class:`~dualread.backends.base.BackendError` when no valid answer comes.
    """
    started = time.perf_counter()
    model = settings.role("json").model
    prompt = PROMPT.fill(rules=RULES.text, markdown=document_markdown(ocr))
    request = ChatRequest(
        model=model,
        prompt=prompt,
        json_schema=model_output_schema(),
        temperature=params.temperature,
        seed=params.seed,
        num_ctx=context_window(prompt),
        think=False,  # Qwen3 thinks by default; the answer is a copy job, not a puzzle
    )
    pages = ocr.page_numbers
    answer = ask_json(
        backend, request, lambda data: check_statement_answer(data, pages), repair=REPAIR.text
    )
    return Candidate(
        route="ocr",
        statement=answer_statement(answer),
        pages=pages,
        params=params,
        raw=[p.raw for p in ocr.pages] + raw_outputs(STAGE, pages, answer.replies),
        timings={
            "ocr_markdown": ocr.elapsed_s,
            "encode": sum(p.encode_s for p in ocr.pages),
            STAGE: time.perf_counter() - started,
        },
        notes={
            "model": {"ocr": ocr.model, "json": model},
            "prompt": {"ocr": OCR_PROMPT_KEY, "json": PROMPT_KEY},
            "repaired": answer.repaired,
            "loop_cut_pages": [p.page for p in ocr.pages if p.loop_cut],
            "truncated_pages": [p.page for p in ocr.pages if p.truncated],
        },
    )
