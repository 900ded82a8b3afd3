"""How much context each role gets, and how many tokens a text costs: one figure per role for a
whole batch.

Ollama reloads a model (a new runner, a new KV cache) whenever a request's ``num_ctx`` differs
from the one it was loaded with, so a context sized per document would cost a reload per
document. Every request of a role, and the warm-up load before its phase, sends the same
``num_ctx``; a document longer than one context is read in windows that fit
(:mod:`dualread.stages.markdown_json`).

The KV cache a server reserves grows with these figures times its parallel slots
(:func:`dualread.runtime.servers.kv_cache_gib`), so they are as small as the work allows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from dualread.config import Role

# visual: a page image (MiniCPM-V slices a page into up to ~6k image tokens) plus a page of rows
#   as JSON, with room to spare.
# json: the markdown->JSON windows are cut to fit this (instructions + window + answer).
# ocr: vLLM's --max-model-len: a page image (6144 tokens at most, see the vLLM image) + prompt
#   + ocr_max_tokens (6000), rounded up.
NUM_CTX: Mapping[Role, int] = {"visual": 16384, "json": 16384, "ocr": 16384}

# Qwen-family tokenizers (Qwen3, MiniCPM-V 4.5, Nanonets-OCR-s) give every digit a token of its
# own, and bank statements are mostly digits; a run of other text (words, HTML tags, the "." in
# a date) starts a new token and runs 3-4 characters a token. The estimate takes the low end of
# that and a whole token for each run's start, so a window never runs past its context.
CHARS_PER_TEXT_TOKEN = 3
_TEXT_RUN = re.compile(r"\D+")


def estimate_tokens(text: str) -> int:
    """An upper estimate of ``text``'s tokens: one per digit, one per run of other characters,
    and one per 3 of those characters."""
    runs = _TEXT_RUN.findall(text)
    other = sum(map(len, runs))
    digits = len(text) - other
    return digits + len(runs) + math.ceil(other / CHARS_PER_TEXT_TOKEN)
