"""The oracle: fixture ground truth found by what a request carries.

The index file maps the sha256 of a page image, exactly as the client sends it, to that page's
truth (a statement dict holding the page's header fields and rows) and to a markdown
transcription with an HTML table. ``dualread.testing.oracle`` builds it by rendering the fixtures
the way the stages do.

* An image request is answered from the entry of its image's hash.
* A text request is answered from the entries whose markdown occurs in its text: the
  markdown->JSON stage sends back the markdown the OCR stand-in gave it.

In reader mode a :class:`PageReader` makes the entry of an image the index does not hold.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .server import Rejected, Stats

# dualread.statement.HEADER_FIELDS, repeated because the stand-ins may not import pydantic (a
# test keeps the two equal).
HEADER_FIELDS = (
    "bank_name",
    "account_holder",
    "account_number",
    "iban",
    "bic",
    "currency",
    "period_start",
    "period_end",
    "opening_balance",
    "closing_balance",
)


def empty_statement() -> dict[str, Any]:
    """What a model answers for a page it finds nothing on."""
    return {**dict.fromkeys(HEADER_FIELDS), "transactions": []}


def merge_truths(truths: list[dict[str, Any]]) -> dict[str, Any]:
    """Page truths, in order -> one statement: each header field from the first page that has
    it, the rows concatenated."""
    merged = empty_statement()
    for truth in truths:
        for name in HEADER_FIELDS:
            if merged[name] is None:
                merged[name] = truth.get(name)
        merged["transactions"].extend(truth.get("transactions", []))
    return merged


class OracleIndex:
    def __init__(self, entries: dict[str, dict[str, Any]]) -> None:
        for digest, entry in entries.items():
            if not isinstance(entry, dict) or not {"truth", "markdown"} <= set(entry):
                raise ValueError(f"oracle entry {digest[:12]} needs 'truth' and 'markdown'")
        self.entries = entries
        # One entry per distinct markdown (the same page at several DPIs has several hashes).
        self._by_markdown = {e["markdown"]: e for e in entries.values() if e["markdown"]}

    @classmethod
    def load(cls, path: str | Path) -> OracleIndex:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def page(self, image: bytes) -> dict[str, Any] | None:
        return self.entries.get(hashlib.sha256(image).hexdigest())

    def pages_in(self, text: str) -> list[dict[str, Any]]:
        """Entries whose markdown occurs in ``text``, in the order they occur. A match that lies
        inside a longer match (a near-empty page's markdown inside a full page) is dropped."""
        spans = []
        for markdown, entry in self._by_markdown.items():
            start = text.find(markdown)
            if start != -1:
                spans.append((start, start + len(markdown), entry))
        spans.sort(key=lambda span: (span[0], -span[1]))
        kept: list[tuple[int, int, dict[str, Any]]] = []
        for start, end, entry in spans:
            if not any(k_start <= start and end <= k_end for k_start, k_end, _ in kept):
                kept.append((start, end, entry))
        return [entry for _, _, entry in kept]


class PageReader:
    """Reader mode: entries for page images without ground truth, made by ``read`` (in the
    stand-ins, ``dualread.testing.oracle.read_page_entry``: the embedded engine) once per
    distinct image and kept in memory. Counted in the stats under ``reader``."""

    def __init__(self, read: Callable[[bytes], dict[str, Any]], stats: Stats) -> None:
        self._read = read
        self._stats = stats
        # One reading at a time: OCR already uses every core, and a page asked for twice at
        # once (a retry after a client timeout) is read once.
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}

    def page(self, image: bytes) -> dict[str, Any]:
        """The entry of ``image``; an image that cannot be decoded is rejected (HTTP 400)."""
        digest = hashlib.sha256(image).hexdigest()
        with self._lock:
            if digest not in self._entries:
                try:
                    entry = self._read(image)
                except ValueError as error:  # passed the magic-byte check, yet will not decode
                    raise Rejected(400, str(error)) from None
                self._stats.count("reader", "pages_read")
                if "problem" in entry:
                    self._stats.count("reader", "unreadable")
                    print(
                        f"stand-in reader: page {digest[:12]}: {entry['problem']}", file=sys.stderr
                    )
                self._entries[digest] = entry
            return self._entries[digest]
