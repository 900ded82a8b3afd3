"""The shared benchmark helpers: summaries, paired ratios, targets, the machine, result files."""

from __future__ import annotations

import argparse
import json
import stat
from pathlib import Path

import pytest

from bench.common import (
    LinearScaling,
    Run,
    _without_output,
    generated_statement,
    interleaved,
    machine_description,
    own_peak_rss_mib,
    paired_ratio,
    result_path,
    statement_copies,
    summarize,
    target,
)
from dualread.documents import open_document

pytestmark = pytest.mark.unit


def test_summarize_gives_median_range_and_samples() -> None:
    summary = summarize([3.0, 1.0, 2.0, 10.0])
    assert summary == {
        "median": 2.5,
        "min": 1.0,
        "max": 10.0,
        "n": 4,
        "samples": [3.0, 1.0, 2.0, 10.0],
    }
    with pytest.raises(ValueError):
        summarize([])


def test_paired_ratio_is_the_median_of_per_round_ratios() -> None:
    # A noisy round slows both sides; its ratio stays 2 and the median ignores the outlier.
    slow = [2.0, 20.0, 4.0]
    fast = [1.0, 10.0, 1.0]
    assert paired_ratio(slow, fast)["median"] == 2.0
    with pytest.raises(ValueError):
        paired_ratio([1.0], [1.0, 2.0])


def test_interleaved_runs_variants_in_turn_and_drops_warmup() -> None:
    calls: list[str] = []
    seconds = interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=2, warmup=1
    )
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert {name: len(values) for name, values in seconds.items()} == {"a": 2, "b": 2}


def test_target_checks_either_direction() -> None:
    assert target("t", 0.5, 1.0, "s")["ok"] is True
    assert target("t", 1.5, 1.0, "s")["ok"] is False
    assert target("t", 0.95, 0.9, "ratio", at_most=False)["ok"] is True
    assert target("t", 0.5, 0.9, "ratio", at_most=False)["comparison"] == "at least"


def test_linear_scaling_compares_each_count_with_the_first_round_by_round() -> None:
    # Work doubles with the workers. Round 2 is slowed by load at every count alike, so its
    # ratios match round 1's; at 4 workers the wall time grows by a quarter: 0.8 of linear.
    scaling = LinearScaling.measure({1: [10.0, 20.0], 2: [10.0, 20.0], 4: [12.5, 25.0]}, 3.0)
    assert scaling.rates[1] == [0.3, 0.15]
    assert scaling.ratios[2]["median"] == 1.0
    assert scaling.top == 4 and scaling.at_top == 0.8
    assert set(scaling.ratio_summary()) == {"linear_1", "linear_2", "linear_4"}
    assert scaling.seconds_summary()["4"]["median"] == 18.75
    assert scaling.target("nodes", 0.85)["name"] == "ratio of linear at 4 nodes"
    assert scaling.target("nodes", 0.85)["ok"] is False
    assert scaling.headline("docs/s", 0.75) == {
        "metric": "docs/s",
        "value": "0.80",
        "target": ">= 0.75",
        "ok": True,
    }


def test_machine_description_names_cpu_cores_memory_python_and_commit() -> None:
    machine = machine_description()
    assert machine["cpu"]
    assert machine["usable_cores"] >= 1
    assert machine["logical_cores"] >= machine["usable_cores"]
    assert machine["ram_gib"] > 0
    assert machine["python"].split()[1].startswith("3.")
    assert machine["os"]
    assert "git_commit" in machine and "git_dirty" in machine


def test_run_writes_the_whole_result_atomically(tmp_path: Path) -> None:
    output = tmp_path / "out" / "demo.json"
    run = Run("demo", argparse.Namespace(quick=True, output=output))
    written = run.write(
        parameters={"n": 1},
        results={"x": summarize([1.0])},
        ratios={"a_over_b": paired_ratio([2.0], [1.0])},
        targets=[target("x", 1.0, 2.0, "s")],
        headlines=[{"metric": "x", "value": "1 s", "target": "≤ 2 s", "ok": True}],
    )
    assert written == output
    result = json.loads(output.read_text())
    assert result["benchmark"] == "demo" and result["quick"] is True
    assert result["command"].startswith("uv run --frozen python -m bench.demo")
    assert {"cpu", "usable_cores", "ram_gib", "python", "git_commit"} <= set(result["machine"])
    assert result["ratios"]["a_over_b"]["median"] == 2.0
    assert [p.name for p in output.parent.iterdir()] == ["demo.json"]  # no temp file left
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_quick_results_never_land_beside_the_real_ones() -> None:
    assert result_path("x", None, quick=True).parent.name == "tmp"
    assert result_path("x", None, quick=False).parent.name == "results"
    assert result_path("x", Path("/elsewhere/y.json"), quick=True) == Path("/elsewhere/y.json")


@pytest.mark.slow
def test_generated_statement_has_the_pages_asked_for() -> None:
    path = generated_statement(2)
    with open_document(path) as document:
        assert len(document.pages) == 2
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    assert {row["page"] for row in truth["transactions"]} == {1, 2}


@pytest.mark.slow
def test_statement_copies_are_one_statement_under_distinct_names(tmp_path: Path) -> None:
    paths = statement_copies(1, tmp_path / "in", 3)
    assert [p.name for p in paths] == [f"statement-00{n}.pdf" for n in range(3)]
    assert len({p.read_bytes() for p in paths}) == 1


def test_own_peak_memory_is_at_least_what_is_held_now() -> None:
    held = bytearray(64 * 2**20)  # touch 64 MiB so they count as resident
    held[::4096] = b"x" * len(held[::4096])
    assert own_peak_rss_mib() >= 64


def test_the_recorded_command_leaves_out_where_the_result_went() -> None:
    assert _without_output(["--quick", "--output", "x.json", "--rounds", "3"]) == [
        "--quick",
        "--rounds",
        "3",
    ]
    assert _without_output(["--output=x.json"]) == []
