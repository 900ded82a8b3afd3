"""On-disk cache of model answers, so a re-run or a resumed batch never repeats a model call.

Keys hash everything that changes an answer: the file's content, the stage, the model, the prompt
version and the pass parameters. The cache holds bank data, so it is private: directories 0700,
files 0600, written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from dualread.outputs.atomic import write_atomic
from dualread.stages.candidate import Candidate, PassParams, RawOutput
from dualread.statement import Statement


def candidate_to_dict(candidate: Candidate) -> dict[str, Any]:
    return {
        "route": candidate.route,
        "statement": candidate.statement.to_json_dict(),
        "pages": list(candidate.pages),
        "params": dataclasses.asdict(candidate.params),
        "raw": [dataclasses.asdict(r) for r in candidate.raw],
        "timings": candidate.timings,
        "notes": candidate.notes,
    }


def candidate_from_dict(data: dict[str, Any]) -> Candidate:
    return Candidate(
        route=data["route"],
        statement=Statement.model_validate(data["statement"]),
        pages=tuple(data["pages"]),
        params=PassParams(**data["params"]),
        raw=[RawOutput(**{**r, "pages": tuple(r["pages"])}) for r in data["raw"]],
        timings=data["timings"],
        notes=data["notes"],
    )


class AnswerCache:
    """JSON payloads under ``root/<2 hex>/<key>.json``; disabled caches never hit."""

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled

    @staticmethod
    def key(**parts: Any) -> str:
        canonical = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        try:
            return json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None  # missing or damaged entries are simply recomputed

    def put(self, key: str, payload: Any) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        for directory in (self.root, path.parent):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
        write_atomic(path, json.dumps(payload, ensure_ascii=False))
