"""What a cluster batch has already written, keyed by the hash of each input file's bytes.

The manifest is a JSON Lines file in the output folder. Each finished document appends one line
(its input hash, output file and status) after its output was renamed into place, so a line
always names a complete file; a re-run of the same batch skips every input whose hash is listed
and whose output is still there. A line cut short by a crash is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_NAME = ".dualread-manifest.jsonl"
CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    sha256: str
    source: str
    output: str  # file name inside the output folder
    status: str | None
    exit_code: int
    node: str


class Manifest:
    """The manifest of one output folder; safe to record from several threads."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / MANIFEST_NAME
        self._lock = threading.Lock()
        self.entries: dict[str, Entry] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = Entry(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line cut short by a crash: its document is simply redone
                self.entries[entry.sha256] = entry

    def done(self, sha256: str) -> Entry | None:
        """The finished entry for this input, if its output is still there."""
        entry = self.entries.get(sha256)
        if entry is None or not (self.path.parent / entry.output).exists():
            return None
        return entry

    def record(self, entry: Entry) -> None:
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        with self._lock:
            fresh = not self.path.exists()
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(descriptor, line.encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if fresh:
                os.chmod(self.path, 0o600)
            self.entries[entry.sha256] = entry
