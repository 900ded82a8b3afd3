"""Route B end to end: ``ocr_markdown`` then ``markdown_json``.

A single-GPU batch runs the two halves as separate phases (every document's OCR, one model swap,
every document's JSON) and calls them directly; this is the one-document convenience.
"""

from __future__ import annotations

from collections.abc import Sequence

from dualread.backends.base import Backend
from dualread.config import Settings
from dualread.documents import Document
from dualread.stages.candidate import Candidate, PassParams
from dualread.stages.markdown_json import markdown_to_candidate
from dualread.stages.ocr_markdown import transcribe


def read_ocr(
    document: Document,
    ocr_backend: Backend,
    json_backend: Backend,
    settings: Settings,
    params: PassParams,
    pages: Sequence[int] | None = None,
) -> Candidate:
    """Transcribe ``pages`` (default: all selected) and read the statement from the markdown."""
    ocr = transcribe(document, ocr_backend, settings, params, pages)
    return markdown_to_candidate(ocr, json_backend, settings, params)
