"""Atomic, private file writes: a temp file beside the target, fsync, then rename.

A crash or Ctrl-C mid-batch leaves either the old file or the new one, never half of one. Files are
created 0600: they hold bank data.

Only a regular file is ever replaced. A target that is something else (``-o /dev/null``, a FIFO,
``-o /dev/stdout``) is written into: renaming over it would put a file where a device was (as root,
``-o /dev/null`` would break the machine's ``/dev/null``) and send the output nowhere. A symbolic
link is followed: the file it points to is replaced, the link stays.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> None:
    payload = data.encode() if isinstance(data, str) else data
    if _is_stream(path):
        with path.open("wb") as stream:
            stream.write(payload)
        return
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(payload)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _is_stream(path: Path) -> bool:
    """An existing target that is neither a regular file nor a folder (a folder in the way stays
    the replace's error): a device, a FIFO, a socket, or a link to one."""
    try:
        mode = path.stat().st_mode
    except OSError:  # not there yet (or unreachable: the write says why)
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
