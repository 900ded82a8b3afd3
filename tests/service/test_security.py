"""The loopback rule and where the token comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualread.service.security import SecurityError, bearer, is_loopback, resolve_token

pytestmark = pytest.mark.unit

TOKEN = "0123456789abcdef-token"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.0.2.10", False),
        ("::", False),
        ("example.internal", False),  # a name may resolve anywhere
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_loopback_needs_no_token_and_anything_else_does() -> None:
    assert resolve_token("127.0.0.1", None, None, environ={}) is None
    with pytest.raises(SecurityError, match=r"binding 0\.0\.0\.0 needs a token"):
        resolve_token("0.0.0.0", None, None, environ={})
    assert resolve_token("0.0.0.0", None, None, environ={"DUALREAD_TOKEN": TOKEN}) == TOKEN
    assert resolve_token("0.0.0.0", TOKEN, None, environ={}) == TOKEN
    with pytest.raises(SecurityError, match="too short"):
        resolve_token("0.0.0.0", "short", None, environ={})


def test_a_token_file_must_be_the_owners_alone(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o644)
    with pytest.raises(SecurityError, match="chmod 600"):
        resolve_token("0.0.0.0", None, path, environ={})
    path.chmod(0o600)
    assert resolve_token("0.0.0.0", None, path, environ={}) == TOKEN
    with pytest.raises(SecurityError, match="cannot read"):
        resolve_token("0.0.0.0", None, tmp_path / "missing", environ={})


def test_bearer_header() -> None:
    assert bearer(f"Bearer {TOKEN}") == TOKEN
    assert bearer(f"bearer  {TOKEN} ") == TOKEN
    assert bearer(f"Basic {TOKEN}") is None
    assert bearer(None) is None
