"""Strict request checks: keys, types and images, each failure a :class:`Rejected` with a reason.

Stricter than the real servers on purpose (which often ignore unknown keys): a typo in a request
field silently does nothing against a real server, so the stand-ins make it fail the test.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from typing import Any

from .server import Rejected

IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
}


def bad(reason: str) -> Rejected:
    return Rejected(400, reason)


def check_keys(
    obj: Any, where: str, *, allowed: Collection[str], required: Collection[str] = ()
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise bad(f"{where} must be an object")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise bad(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(set(required) - set(obj))
    if missing:
        raise bad(f"{where}: missing key(s) {', '.join(missing)}")
    return obj


def check_str(value: Any, where: str, *, non_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise bad(f"{where} must be a string")
    if non_empty and not value:
        raise bad(f"{where} must not be empty")
    return value


def check_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise bad(f"{where} must be true or false")
    return value


def check_int(value: Any, where: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{where} must be an integer")
    if minimum is not None and value < minimum:
        raise bad(f"{where} must be at least {minimum}")
    return value


def check_number(value: Any, where: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{where} must be a number")
    if minimum is not None and value < minimum:
        raise bad(f"{where} must be at least {minimum}")
    return float(value)


def check_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise bad(f"{where} must be a list")
    return value


def check_schema(value: Any, where: str) -> dict[str, Any]:
    """A JSON schema for structured output: an object schema, as both servers need."""
    if not isinstance(value, dict) or value.get("type") != "object":
        raise bad(f"{where} must be a JSON schema of type object")
    if not isinstance(value.get("properties", {}), dict):
        raise bad(f"{where}.properties must be an object")
    return value


def decode_base64_image(
    encoded: Any, where: str, mimes: Collection[str] = tuple(IMAGE_MAGIC)
) -> bytes:
    """The image bytes in a base64 string; rejects non-base64 and non-image data."""
    if not isinstance(encoded, str):
        raise bad(f"{where} must be a base64 string")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise bad(f"{where} is not valid base64") from None
    if not any(data.startswith(magic) for mime in mimes for magic in IMAGE_MAGIC[mime]):
        raise bad(f"{where} is not a {' or '.join(sorted(mimes))} image")
    return data


def decode_data_url(url: Any, where: str) -> bytes:
    """The image in a ``data:image/<type>;base64,<data>`` URL, whose bytes must match the type."""
    if not isinstance(url, str) or not url.startswith("data:"):
        raise bad(f"{where} must be a data: URL (the stand-in fetches nothing)")
    header, comma, payload = url[5:].partition(",")
    mime, _, encoding = header.partition(";")
    if not comma or encoding != "base64" or mime not in IMAGE_MAGIC:
        raise bad(f"{where} must be data:image/png|jpeg|webp;base64,...")
    return decode_base64_image(payload, where, (mime,))
