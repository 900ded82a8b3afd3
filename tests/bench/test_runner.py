"""``python -m bench``: finding the benchmarks, quick runs, the Performance table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.__main__ as runner

pytestmark = pytest.mark.unit


def test_discovers_every_benchmark_but_the_shared_code() -> None:
    names = runner.discover()
    assert {"overhead", "concurrency", "long_statements"} <= set(names)
    assert not {"common", "__init__", "__main__"} & set(names)


def test_reads_the_options_a_benchmark_declares() -> None:
    for name in ("overhead", "concurrency", "long_statements"):
        assert {"--quick", "--output"} <= runner.options_of(name)


def _fake_bench(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(source)


def test_a_quick_run_skips_a_benchmark_without_a_quick_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_bench(tmp_path, "no_quick", 'ARGS = ["--seeds"]\n')
    monkeypatch.setattr(runner, "BENCH_DIR", tmp_path)
    outcome = runner.run_one("no_quick", quick=True)
    assert outcome.status.startswith("skipped") and outcome.result_file is None


def test_the_table_has_a_row_per_headline_with_its_command(tmp_path: Path) -> None:
    result = {
        "benchmark": "demo",
        "command": "uv run --frozen python -m bench.demo",
        "machine": {"cpu": "Some CPU", "usable_cores": 2},
        "headline": [
            {"metric": "a | b", "value": "1 ms", "target": "≤ 2 ms", "ok": True},
            {"metric": "c", "value": "3", "target": "n/a", "ok": None},
        ],
    }
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(result))
    table = runner.markdown_table([path])
    lines = table.splitlines()
    assert lines[0].startswith("| benchmark | metric")
    assert (
        "| demo | a \\| b | 1 ms | ≤ 2 ms | yes | `uv run --frozen python -m bench.demo` |" in lines
    )
    assert "| demo | c | 3 | n/a | n/a |" in table
    assert "`demo` ran on Some CPU, 2 cores." in table


def test_unknown_names_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["no_such_benchmark"]) == 2
    assert "no benchmark no_such_benchmark" in capsys.readouterr().err
