"""Stage tests: the real clients against stand-in servers whose oracle knows the fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualread.testing.fixtures import StandinRoutes, StartRoutes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# One of each kind: one page, two pages, four pages with 150 rows, a scan, a phone photo.
ROUTE_FIXTURES = [
    FIXTURES / "sample" / "statement.pdf",
    FIXTURES / "corpus" / "d03-soll-haben-de-DE.pdf",
    FIXTURES / "corpus" / "d02-debit-credit-en-GB.pdf",
    FIXTURES / "corpus" / "s02-soll-haben-de-DE.pdf",
    FIXTURES / "corpus" / "p01-signed-en-GB.jpg",
]


@pytest.fixture(scope="session")
def route_fixtures() -> list[Path]:
    missing = [p for p in ROUTE_FIXTURES if not p.with_suffix(".truth.json").is_file()]
    if missing:
        pytest.skip(f"fixtures with ground truth missing: {', '.join(map(str, missing))}")
    return ROUTE_FIXTURES


@pytest.fixture
def servers(
    standin_routes: StartRoutes, route_fixtures: list[Path]
) -> Callable[..., StandinRoutes]:
    """``servers(**options)``: :func:`standin_routes` over all the route fixtures."""

    def start(**options: Any) -> StandinRoutes:
        return standin_routes(route_fixtures, **options)

    return start
