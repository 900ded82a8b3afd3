"""Atomic, private file writes: a temp file beside the target, fsync, then rename.

A crash or Ctrl-C mid-batch leaves either the old file or the new one, never half of one. Files are
created 0600: they hold bank data.

Only a regular file is ever replaced. A target that is something else (``-o /dev/null``, a FIFO,
``-o /dev/stdout``) is written into: renaming over it would put a file where a device was (as root,
``-o /dev/null`` would break the machine's ``/dev/null``) and send the output nowhere. A symbolic
link is followed: the file it points to is replaced, the link stays. A name for one of this
process's open descriptors (``/dev/stdout``, ``/dev/fd/N``) is written through that descriptor:
opening the name again would truncate a file the shell redirected it to (``>> all.json``) and
resolving it would rename over that file.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

_DESCRIPTOR = re.compile(
    r"/dev/(?:std(?P<std>in|out|err)|fd/(?P<fd>\d+))|/proc/self/fd/(?P<own>\d+)"
)
_STANDARD = {"in": 0, "out": 1, "err": 2}


def write_atomic(path: Path, data: str | bytes) -> None:
    payload = data.encode() if isinstance(data, str) else data
    if (descriptor := _open_descriptor(path)) is not None:
        with os.fdopen(os.dup(descriptor), "wb") as stream:  # shares its offset and O_APPEND
            stream.write(payload)
        return
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


def _open_descriptor(path: Path) -> int | None:
    """The descriptor ``path`` names (``/dev/stdout`` is 1), where this process has it open."""
    found = _DESCRIPTOR.fullmatch(os.path.abspath(path))
    if found is None:
        return None
    std, fd, own = found.group("std", "fd", "own")
    descriptor = _STANDARD[std] if std else int(fd or own)
    try:
        os.fstat(descriptor)
    except OSError:
        return None  # not open here: the name is only a path (the write says why it fails)
    return descriptor


def _is_stream(path: Path) -> bool:
    """An existing target that is neither a regular file nor a folder (a folder in the way stays
    the replace's error): a device, a FIFO, a socket, or a link to one."""
    try:
        mode = path.stat().st_mode
    except OSError:  # not there yet (or unreachable: the write says why)
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
