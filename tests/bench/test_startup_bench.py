"""``bench.startup`` in its quick mode: every variant timed, paired with the bare interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.test_benchmarks_quick import run_quick


@pytest.mark.slow
@pytest.mark.unit
def test_startup_quick(tmp_path: Path) -> None:
    result = run_quick("startup", tmp_path / "startup.json")
    bare = result["results"]["python -c pass"]
    assert bare["wall_s"]["n"] == 3 and bare["cpu_s"]["median"] > 0
    for option in ("--version", "--help"):
        name = f"after: dualread {option}"
        point = result["results"][name]
        # dualread starts an interpreter too, and imports typer on top: never cheaper than bare.
        assert point["wall_s"]["median"] > bare["wall_s"]["min"]
        assert point["added_cpu_s"]["n"] == 3
        assert f"{name} / python -c pass" in result["ratios"]
    assert {t["name"] for t in result["targets"]} == {
        "dualread --version: added start-up",
        "dualread --help: added start-up",
    }
