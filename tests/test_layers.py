"""Imports flow one way: the readers and the shared parsing never reach into consensus."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dualread

pytestmark = pytest.mark.unit

PACKAGE = Path(dualread.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("layer", ["stages", "parsing"])
def test_layer_does_not_import_consensus(layer: str) -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        if any(name.startswith("dualread.consensus") for name in _imports(path))
    ]
    assert offenders == []


def test_parsing_and_choices_import_nothing_else_of_dualread() -> None:
    paths = [*sorted((PACKAGE / "parsing").rglob("*.py")), PACKAGE / "choices.py"]
    for path in paths:
        foreign = {
            name
            for name in _imports(path)
            if name.startswith("dualread.")
            and not name.startswith("dualread.parsing")
            and name != "dualread.choices"
        }
        assert foreign == set(), path
