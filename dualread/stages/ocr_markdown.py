"""Route B, first half, ``ocr_markdown``: Nanonets-OCR-s transcribes each page to markdown with
HTML tables.

Nanonets-OCR-s is asked exactly as its model card says: the official prompt, after the image,
one page per request, temperature 0. It can loop on empty tables, so ``max_tokens`` is capped and
loops are cut afterwards; no repetition penalty, which would corrupt tables whose rows repeat.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from dualread.backends.base import Backend, ChatRequest
from dualread.backends.textclean import cut_repeated_lines, strip_think
from dualread.config import Settings
from dualread.documents import Document
from dualread.stages.answers import raw_outputs
from dualread.stages.candidate import PassParams, RawOutput
from dualread.stages.contexts import NUM_CTX
from dualread.stages.pageimage import PNG_MIME, page_png
from dualread.stages.parallel import map_concurrently
from dualread.stages.prompts import load_prompt, prompt_key

STAGE = "ocr_markdown"
PROMPT = load_prompt("ocr_markdown", 1)
PROMPT_KEY = prompt_key(PROMPT)


@dataclass(frozen=True)
class PageMarkdown:
    """One page's transcription: the cleaned markdown, and the raw answer it came from."""

    page: int
    markdown: str
    raw: RawOutput
    truncated: bool  # the answer hit max_tokens
    loop_cut: bool  # a repetition loop was cut out
    encode_s: float


@dataclass(frozen=True)
class OcrPages:
    """A document's transcription, page by page, in page order."""

    pages: tuple[PageMarkdown, ...]
    model: str
    elapsed_s: float

    @property
    def page_numbers(self) -> tuple[int, ...]:
        return tuple(p.page for p in self.pages)


def transcribe(
    document: Document,
    backend: Backend,
    settings: Settings,
    params: PassParams,
    pages: Sequence[int] | None = None,
) -> OcrPages:
    """Transcribe ``pages`` (default: all selected pages) of ``document``; only ``params.dpi`` is
    used, since OCR always runs at temperature 0."""
    started = time.perf_counter()
    numbers = tuple(document.page_numbers if pages is None else pages)
    model = settings.role("ocr").model

    def read_page(page: int) -> PageMarkdown:
        encode_started = time.perf_counter()
        image = page_png(document, page, params.dpi)
        encode_s = time.perf_counter() - encode_started
        reply = backend.chat(
            ChatRequest(
                model=model,
                prompt=PROMPT.text,
                images=(image,),
                image_mime=PNG_MIME,
                temperature=0.0,
                max_tokens=settings.ocr_max_tokens,
                num_ctx=NUM_CTX["ocr"],  # read by Ollama only, should the role run there
            )
        )
        truncated = reply.finish_reason == "length"
        text = strip_think(reply.text)
        markdown = cut_repeated_lines(text, truncated=truncated).strip()
        loop_cut = len(markdown) < len(text.strip())
        (raw,) = raw_outputs(STAGE, (page,), (reply,))
        return PageMarkdown(page, markdown, raw, truncated, loop_cut, encode_s)

    transcribed = map_concurrently(read_page, numbers, settings.concurrency)
    return OcrPages(tuple(transcribed), model, time.perf_counter() - started)
