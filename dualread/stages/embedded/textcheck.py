"""Does a page's text layer say what the page shows?

Two checks. The cheap one reads the layer alone: a statement's text is mostly letters and digits,
so a layer of symbols (glyphs that a font without a Unicode map extracts as punctuation) is not
text, whatever its characters are. The costly one is for layers whose characters look valid but
are wrong (a 'P' drawn, an 'm' extracted): only reading the picture tells. It crops a sample of
words from the rendered page, has RapidOCR recognise just those crops (no detection, so it is
quick), and compares.
"""

from __future__ import annotations

import statistics

from PIL import Image

from dualread.parsing import description_similarity
from dualread.stages.embedded.ocr import recognize_crops
from dualread.stages.embedded.words import PageWords, Word

# Letters and digits make up about 85% of a statement page's visible characters (dates,
# amounts, words; the rest is punctuation). A layer under half is symbols, not text.
MIN_ALNUM_SHARE = 0.5
SAMPLE_WORDS = 16
MIN_WORD_CHARS = 4
MIN_SIMILARITY = 0.5  # median similarity of the sample below this: the layer is broken


def looks_like_text(page: PageWords) -> bool:
    """Are most of the layer's visible characters letters or digits?"""
    chars = "".join(word.text for word in page.words)
    return sum(c.isalnum() for c in chars) >= MIN_ALNUM_SHARE * len(chars)


def _sample(words: tuple[Word, ...]) -> list[Word]:
    candidates = [
        w for w in words if len(w.text) >= MIN_WORD_CHARS and any(c.isalnum() for c in w.text)
    ]
    if len(candidates) <= SAMPLE_WORDS:
        return candidates
    step = len(candidates) / SAMPLE_WORDS
    return [candidates[int(i * step)] for i in range(SAMPLE_WORDS)]


def text_layer_matches_image(page: PageWords, image: Image.Image) -> bool | None:
    """True when OCR of sampled word boxes agrees with the text layer; None without a sample."""
    sample = _sample(page.words)
    if not sample:
        return None
    scale = image.width / page.width
    crops = []
    for word in sample:
        pad = 0.15 * word.height
        box = (
            max(0, round((word.x0 - pad) * scale)),
            max(0, round((word.top - pad) * scale)),
            min(image.width, round((word.x1 + pad) * scale)),
            min(image.height, round((word.bottom + pad) * scale)),
        )
        crops.append(image.crop(box))
    seen = recognize_crops(crops)
    scores = [description_similarity(w.text, text) for w, text in zip(sample, seen, strict=True)]
    return statistics.median(scores) >= MIN_SIMILARITY
