"""The service benchmark's quick mode: a complete result file, and no job lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.test_benchmarks_quick import run_quick


@pytest.mark.slow
@pytest.mark.contract
def test_service_quick(tmp_path: Path) -> None:
    result = run_quick("service", tmp_path / "service.json")
    load = result["results"]["concurrency"]
    assert load["jobs_returned"] == load["distinct_ids"] == load["jobs_listed"] == 8
    assert load["wrong_or_failed"] == [] and load["names_match"]
    (intact,) = [t for t in result["targets"] if t["name"] == "jobs lost, doubled or wrong"]
    assert intact["ok"] is True
    assert 0 < result["results"]["server_peak_rss_mb"] < 1024
