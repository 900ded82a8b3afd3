"""On-disk cache of model answers, so a re-run or a resumed batch never repeats a model call.

Keys hash everything that changes an answer: the file's content, the stage, the model, the prompt
version and the pass parameters. The cache holds bank data, so it is private: directories 0700,
files 0600, written atomically. A ``cache_dir`` that already exists and is not private to this
user (``/tmp``, a shared folder) is never changed: the cache goes into a private subfolder of it.

An entry that cannot be read back as what it claims to be (truncated, edited, from an older
format) is a miss, never an error: the answer is simply asked for again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from dualread.outputs.atomic import write_atomic
from dualread.stages.candidate import Candidate

T = TypeVar("T")
log = logging.getLogger(__name__)


def candidate_to_dict(candidate: Candidate) -> dict[str, Any]:
    return {
        "route": candidate.route,
        "statement": candidate.statement.to_json_dict(),
        "pages": list(candidate.pages),
        "params": dataclasses.asdict(candidate.params),
        "raw": [dataclasses.asdict(r) for r in candidate.raw],
        "timings": candidate.timings,
        "notes": candidate.notes,
        "other_accounts": [account.to_json_dict() for account in candidate.other_accounts],
    }


def candidate_from_dict(data: dict[str, Any]) -> Candidate:
    return typed(Candidate, data)


def typed(kind: type[T], data: Any) -> T:
    """``data`` read back as a ``kind`` (a dataclass), every field's type checked: a value that
    cannot be read as its field's type (a list that is null, a number that is 'abc') fails here,
    as a ValueError, and not later in the stage that uses it."""
    adapter: TypeAdapter[T] | None = _ADAPTERS.get(kind)
    if adapter is None:  # built once per kind: building costs more than validating
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter.validate_python(data)


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _is_private(path: Path) -> bool:
    """A real directory (not a link) owned by this user that nobody else may enter."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def private_folder(configured: Path) -> Path | None:
    """The folder to keep the cache in: ``configured`` when it is ours and private (created now
    if missing), else ``configured/dualread-<uid>``; None when neither can be made private."""
    try:
        configured.mkdir(mode=0o700, parents=True)
        return configured
    except FileExistsError:
        if _is_private(configured):
            return configured
    except OSError:
        return None
    own = configured / f"dualread-{os.getuid()}"
    try:
        own.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return own if _is_private(own) else None


class AnswerCache:
    """JSON payloads under ``root/<2 hex>/<key>.json``; disabled caches never hit."""

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.configured = root
        self.enabled = enabled
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """The private folder in use, decided (and made) on first use."""
        if self._root is None:
            folder = private_folder(self.configured)
            if folder is None:
                log.warning("cache_dir %s cannot be made private: caching is off", self.configured)
                self.enabled = False
                folder = self.configured
            self._root = folder
        return self._root

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

    def load(self, key: str, parse: Callable[[Any], T]) -> T | None:
        """The entry under ``key`` parsed by ``parse``; None when missing or not parseable."""
        payload = self.get(key)
        if payload is None:
            return None
        try:
            return parse(payload)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            log.info("cache entry %s is damaged: asking again", key[:12])
            return None

    def put(self, key: str, payload: Any) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        if not self.enabled:  # the folder proved unusable just now
            return
        path.parent.mkdir(mode=0o700, exist_ok=True)  # inside our private folder
        write_atomic(path, json.dumps(payload, ensure_ascii=False))
