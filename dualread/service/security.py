"""Who may talk to the service.

On a loopback address only this machine's users can connect, so no token is needed (one may
still be set). Any other address needs a token, sent as ``Authorization: Bearer <token>``; the
review page, which a browser cannot give a header, exchanges it once for an HttpOnly,
SameSite=Strict cookie. The token comes from ``DUALREAD_TOKEN`` or a token file, so it stays out
of the process list; ``--token`` works too.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import stat
from pathlib import Path

TOKEN_ENV = "DUALREAD_TOKEN"
COOKIE_NAME = "dualread_token"
MIN_TOKEN_LENGTH = 16


class SecurityError(ValueError):
    """A start-up that would expose the service; the message is one line."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def read_token_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise SecurityError(f"{path}: cannot read the token file ({error.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecurityError(
            f"{path}: the token file must be readable by its owner only (chmod 600)"
        )
    return token


def resolve_token(
    host: str, flag: str | None, token_file: Path | None, environ: dict[str, str] | None = None
) -> str | None:
    """The token to require, from the flag, the file or the environment (first given wins);
    :class:`SecurityError` when binding off loopback without one, or with a short one."""
    environ = dict(os.environ) if environ is None else environ
    token = flag or (read_token_file(token_file) if token_file else None) or environ.get(TOKEN_ENV)
    token = token.strip() if token else None
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise SecurityError(f"the token is too short: use at least {MIN_TOKEN_LENGTH} characters")
    if not token and not is_loopback(host):
        raise SecurityError(
            f"binding {host} needs a token: set {TOKEN_ENV} or pass --token-file "
            "(clients send it as 'Authorization: Bearer <token>')"
        )
    return token or None


def token_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None
