"""Checks an upload passes before it is queued: size and type (by its first bytes, not its name)
before it is stored, then that the library can open it with the job's options (password, pages,
page limit).

Each failure is the one-line message ``dualread extract`` prints for the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

from dualread.documents import UNSUPPORTED_FILE, DocumentError, open_document
from dualread.service.options import JobOptions

# First bytes of each accepted type -> the suffix the stored upload gets.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, ".pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, ".png"),
    (b"\xff\xd8\xff", 0, ".jpg"),
    (b"II*\x00", 0, ".tif"),
    (b"MM\x00*", 0, ".tif"),
    (b"WEBP", 8, ".webp"),  # after "RIFF" and the size
)


@dataclass(frozen=True)
class UploadRejected(Exception):
    """``message`` is one line naming the file; ``status`` the HTTP status to answer with."""

    status: int
    message: str

    def __str__(self) -> str:
        return self.message


def display_name(filename: str | None) -> str:
    """The uploaded file's own name, without any folder a client put in front of it."""
    name = PurePath((filename or "").replace("\\", "/")).name
    return name or "upload"


def sniff_suffix(head: bytes) -> str | None:
    for signature, offset, suffix in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if suffix == ".webp" and not head.startswith(b"RIFF"):
                continue
            return suffix
    return None


def check_upload(name: str, data: bytes, *, max_bytes: int) -> str:
    """Size and type, from the bytes alone; return the suffix the stored upload gets."""
    if len(data) > max_bytes:
        raise UploadRejected(413, f"{name}: the file is larger than the limit of {max_bytes} bytes")
    if not data:
        raise UploadRejected(422, f"{name}: the file is empty")
    suffix = sniff_suffix(data[:16])
    if suffix is None:
        # The CLI's words for the same file: the magic bytes, not the name, decide the format.
        raise UploadRejected(415, f"{name}: {UNSUPPORTED_FILE}")
    return suffix


def check_readable(name: str, path: Path, options: JobOptions, *, max_pages: int) -> None:
    """Open the stored upload as the job will, so a wrong password or page range is refused now,
    not when the job runs."""
    try:
        with open_document(
            path, password=options.password, pages=options.pages, max_pages=max_pages
        ):
            pass
    except DocumentError as error:
        raise UploadRejected(422, f"{name}: {error.problem}") from None
