"""Shared test helpers. Tier-specific fixtures live in each tier's own conftest or plugin module."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["dualread.testing.fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
# The bankstatemently statements that print both an opening and a closing balance (bsb-004
# prints neither): only these can be held to opening + sum = closing.
BANKSTATEMENTLY_PRINTS_BOTH_BALANCES = {"bsb-001", "bsb-002", "bsb-003", "bsb-005"}


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep tests away from the developer's real config and cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    for name in ("DUALREAD_CONFIG", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)
