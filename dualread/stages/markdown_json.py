"""Route B, second half, ``markdown_json``: a text model (Qwen3) turns the document's markdown
into schema JSON, in page windows that fit its context.

A window is a run of whole pages whose prompt, plus room for the answer, fits the json role's
fixed context (:data:`~dualread.stages.contexts.NUM_CTX`). Sending more would not be read:
Ollama keeps the first 4 tokens and the tail of a prompt longer than ``num_ctx``, dropping the
instructions and the early pages without a word. Each window's answer carries the header fields
its pages print; :func:`~dualread.stages.merge.merge_pages` takes each field from the pages that
print it, as for the visual route's page answers. Page markers let the model set each row's
``page``. A page too long for a window on its own is split at line breaks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from dualread.backends.base import Backend, ChatRequest
from dualread.backends.jsonreply import JsonAnswer, ask_json
from dualread.config import Settings
from dualread.stages.answers import answer_statement, check_statement_answer, raw_outputs
from dualread.stages.candidate import Candidate, PassParams
from dualread.stages.contexts import NUM_CTX, estimate_tokens
from dualread.stages.merge import merge_pages
from dualread.stages.ocr_markdown import PROMPT_KEY as OCR_PROMPT_KEY
from dualread.stages.ocr_markdown import OcrPages
from dualread.stages.parallel import map_concurrently
from dualread.stages.prompts import load_prompt, prompt_key
from dualread.statement import Statement, model_output_schema

STAGE = "markdown_json"
PROMPT = load_prompt("markdown_json", 2)
RULES = load_prompt("statement_rules", 1)
REPAIR = load_prompt("repair", 1)
PROMPT_KEY = prompt_key(PROMPT, RULES, REPAIR)

# The JSON answer repeats every row with its field names: up to about 1.5 times the tokens of
# the markdown rows it copies. Plus a margin for the chat template and the repair note.
ANSWER_PER_MARKDOWN_TOKEN = 1.5
TEMPLATE_MARGIN_TOKENS = 512

Piece = tuple[int, str]  # (page number, markdown): a page, or a part of a long page


@dataclass(frozen=True)
class Window:
    """Pages read in one request, in page order."""

    pieces: tuple[Piece, ...]

    @property
    def page_numbers(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(page for page, _ in self.pieces))

    @property
    def markdown(self) -> str:
        return "\n\n".join(page_block(page, text) for page, text in self.pieces)


def page_block(page: int, markdown: str) -> str:
    return f"=== PAGE {page} ===\n{markdown}\n=== END OF PAGE {page} ==="


def window_prompt(window: Window, total: int) -> str:
    numbers = window.page_numbers
    return PROMPT.fill(
        first=str(numbers[0]),
        last=str(numbers[-1]),
        total=str(total),
        rules=RULES.text,
        markdown=window.markdown,
    )


def window_budget(num_ctx: int) -> int:
    """Tokens of page markdown one window may hold: the context less the instructions, the
    template margin and the answer's room."""
    instructions = estimate_tokens(
        PROMPT.fill(first="0000", last="0000", total="0000", rules=RULES.text, markdown="")
    )
    free = num_ctx - instructions - TEMPLATE_MARGIN_TOKENS
    return max(int(free / (1 + ANSWER_PER_MARKDOWN_TOKEN)), 1)


def _cost(piece: Piece) -> int:
    return estimate_tokens(page_block(*piece)) + 1  # +1: the blank line between pages


def _split_page(page: int, markdown: str, budget: int) -> list[Piece]:
    """A page longer than ``budget`` in parts of whole lines (an overlong line alone)."""
    parts: list[Piece] = []
    lines: list[str] = []
    for line in markdown.splitlines():
        if lines and _cost((page, "\n".join([*lines, line]))) > budget:
            parts.append((page, "\n".join(lines)))
            lines = []
        lines.append(line)
    parts.append((page, "\n".join(lines)))
    return parts


def page_windows(pages: Sequence[Piece], budget: int) -> list[Window]:
    """Consecutive pages packed into windows of at most ``budget`` markdown tokens."""
    pieces = [
        piece
        for page, markdown in pages
        for piece in (
            [(page, markdown)]
            if _cost((page, markdown)) <= budget
            else _split_page(page, markdown, budget)
        )
    ]
    windows: list[Window] = []
    current: list[Piece] = []
    used = 0
    for piece in pieces:
        if current and used + _cost(piece) > budget:
            windows.append(Window(tuple(current)))
            current, used = [], 0
        current.append(piece)
        used += _cost(piece)
    if current:
        windows.append(Window(tuple(current)))
    return windows


def markdown_to_candidate(
    ocr: OcrPages, backend: Backend, settings: Settings, params: PassParams
) -> Candidate:
    """The statement in ``ocr``'s markdown, read by the JSON model window by window, as the OCR
    route's candidate.

    Raises :class:`~dualread.backends.base.BackendError` when a window gets no valid answer.
    """
    started = time.perf_counter()
    model = settings.role("json").model
    num_ctx = NUM_CTX["json"]
    windows = page_windows([(p.page, p.markdown) for p in ocr.pages], window_budget(num_ctx))
    total = max(ocr.page_numbers, default=0)

    def read_window(window: Window) -> tuple[Window, Statement, JsonAnswer]:
        prompt = window_prompt(window, total)
        request = ChatRequest(
            model=model,
            prompt=prompt,
            json_schema=model_output_schema(),
            temperature=params.temperature,
            seed=params.seed,
            num_ctx=num_ctx,
            # The answer gets what the prompt leaves, so it never runs past the context, where
            # Ollama would shift the window and lose the instructions mid-answer.
            max_tokens=num_ctx - estimate_tokens(prompt) - TEMPLATE_MARGIN_TOKENS,
        )
        pages = window.page_numbers
        answer = ask_json(
            backend, request, lambda data: check_statement_answer(data, pages), repair=REPAIR.text
        )
        return window, answer_statement(answer), answer

    readings = map_concurrently(read_window, windows, settings.concurrency)
    statement = merge_pages(
        [(window.page_numbers[0], statement) for window, statement, _ in readings],
        rows_know_their_page=True,
    )
    return Candidate(
        route="ocr",
        statement=statement,
        pages=ocr.page_numbers,
        params=params,
        raw=[p.raw for p in ocr.pages]
        + [
            out
            for window, _, answer in readings
            for out in raw_outputs(STAGE, window.page_numbers, answer.replies)
        ],
        timings={
            "ocr_markdown": ocr.elapsed_s,
            "encode": sum(p.encode_s for p in ocr.pages),
            STAGE: time.perf_counter() - started,
        },
        notes={
            "model": {"ocr": ocr.model, "json": model},
            "prompt": {"ocr": OCR_PROMPT_KEY, "json": PROMPT_KEY},
            "repaired": any(answer.repaired for _, _, answer in readings),
            "windows": [list(window.page_numbers) for window in windows],
            "loop_cut_pages": [p.page for p in ocr.pages if p.loop_cut],
            "truncated_pages": [p.page for p in ocr.pages if p.truncated],
        },
    )
