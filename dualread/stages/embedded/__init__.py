"""Embedded CPU engine: PDF text layer or OCR, then a rule-based statement reader.

Public API::

    read_embedded(document, *, ocr="rapidocr", dpi=None, verify_text_layer="auto") -> Candidate
    EmbeddedReadError  # one-line message naming the file; no statement table, or OCR failed
"""

from dualread.choices import OcrEngine
from dualread.stages.embedded.engine import (
    DEFAULT_OCR_DPI,
    EmbeddedReadError,
    TextCheck,
    read_embedded,
)
from dualread.stages.embedded.ocr import OCR_ENGINES

__all__ = [
    "DEFAULT_OCR_DPI",
    "OCR_ENGINES",
    "EmbeddedReadError",
    "OcrEngine",
    "TextCheck",
    "read_embedded",
]
