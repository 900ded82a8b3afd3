"""The readers a batch uses, each a stage call behind the answer cache.

One place builds the backends for the configured roles and keys every cached answer by the file's
hash, the stage, the model, the prompt version and the pass parameters, so a re-run or a resumed
batch repeats no model call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from dualread.backends.base import Backend
from dualread.backends.factory import make_backend
from dualread.cache import AnswerCache, candidate_from_dict, candidate_to_dict, typed
from dualread.config import Role, Settings
from dualread.documents import Document
from dualread.stages import markdown_json, ocr_markdown, visual_json
from dualread.stages.candidate import Candidate, PassParams
from dualread.stages.embedded import OcrEngine, read_embedded
from dualread.stages.ocr_markdown import OcrPages


def _ocr_to_dict(ocr: OcrPages) -> dict[str, Any]:
    return dataclasses.asdict(ocr)


def _ocr_from_dict(data: dict[str, Any]) -> OcrPages:
    return typed(OcrPages, data)


class Readers:
    """Stage calls for one batch: ``visual``, ``ocr_markdown``, ``markdown_json``, ``embedded``."""

    def __init__(
        self, settings: Settings, cache: AnswerCache, ocr_engine: OcrEngine = "rapidocr"
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.ocr_engine = ocr_engine
        self._backends: dict[Role, Backend] = {}

    def use(self, backends: Mapping[Role, Backend]) -> None:
        """Read through these clients (a runtime's, spreading requests over replicas)."""
        self._backends.update(backends)

    def backend(self, role: Role) -> Backend:
        if role not in self._backends:
            self._backends[role] = make_backend(self.settings.role(role), self.settings)
        return self._backends[role]

    def unreachable_roles(self, roles: Sequence[Role]) -> list[Role]:
        """The roles whose server does not answer a health check (one check per distinct URL)."""
        answers: dict[str, bool] = {}
        silent = []
        for role in roles:
            url = self.settings.role(role).url
            if url not in answers:
                answers[url] = self.backend(role).is_available()
            if not answers[url]:
                silent.append(role)
        return silent

    def _key(self, document: Document, stage: str, role: Role, prompt: str, **parts: Any) -> str:
        return self.cache.key(
            file=document.sha256,
            stage=stage,
            model=self.settings.role(role).model,
            prompt=prompt,
            **parts,
        )

    def visual(
        self, document: Document, params: PassParams, pages: Sequence[int] | None = None
    ) -> Candidate:
        numbers = list(document.page_numbers if pages is None else pages)
        key = self._key(
            document,
            visual_json.STAGE,
            "visual",
            visual_json.PROMPT_KEY,
            params=params,
            pages=numbers,
        )
        if (hit := self.cache.load(key, candidate_from_dict)) is not None:
            return hit
        candidate = visual_json.read_visual(
            document, self.backend("visual"), self.settings, params, numbers
        )
        self.cache.put(key, candidate_to_dict(candidate))
        return candidate

    def ocr_markdown(self, document: Document, params: PassParams) -> OcrPages:
        key = self._key(
            document,
            ocr_markdown.STAGE,
            "ocr",
            ocr_markdown.PROMPT_KEY,
            dpi=params.dpi,
            max_tokens=self.settings.ocr_max_tokens,
            pages=document.page_numbers,
        )
        if (ocr_hit := self.cache.load(key, _ocr_from_dict)) is not None:
            return ocr_hit
        ocr = ocr_markdown.transcribe(document, self.backend("ocr"), self.settings, params)
        self.cache.put(key, _ocr_to_dict(ocr))
        return ocr

    def markdown_json(self, document: Document, ocr: OcrPages, params: PassParams) -> Candidate:
        markdown_hash = self.cache.key(pages=[(p.page, p.markdown) for p in ocr.pages])
        key = self._key(
            document,
            markdown_json.STAGE,
            "json",
            markdown_json.PROMPT_KEY,
            params=params,
            markdown=markdown_hash,
        )
        if (hit := self.cache.load(key, candidate_from_dict)) is not None:
            return hit
        candidate = markdown_json.markdown_to_candidate(
            ocr, self.backend("json"), self.settings, params
        )
        self.cache.put(key, candidate_to_dict(candidate))
        return candidate

    def embedded(self, document: Document) -> Candidate:
        """The CPU engine is deterministic and costs no model time: it is not cached."""
        return read_embedded(document, ocr=self.ocr_engine)
