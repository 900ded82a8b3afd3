"""The consensus-value benchmark runs, and consensus beats either route on the fixture corpus."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.unit, pytest.mark.slow]

CORPUS = REPO_ROOT / "fixtures" / "corpus"


def _bench() -> ModuleType:
    path = REPO_ROOT / "bench" / "consensus_value.py"
    spec = importlib.util.spec_from_file_location("consensus_value", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not any(CORPUS.glob("*.truth.json")), reason="fixtures/corpus has no *.truth.json"
)
def test_one_seed_of_the_benchmark(tmp_path: Path) -> None:
    output = tmp_path / "value.json"
    assert _bench().main(["--seeds", "1", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    rates = {k: v["median"] for k, v in result["medians"]["row_error_rate"].items()}
    assert rates["consensus"] < min(rates["route_a"], rates["route_b"]) / 2
    assert 2.0 <= result["medians"]["passes_per_document"]["median"] <= 2.5  # the target
    values = {k: v["median"] for k, v in result["medians"]["value_error_rate"].items()}
    assert values["consensus"] < min(values["route_a"], values["route_b"]) / 5
    assert result["medians"]["silent_value_error_rate"]["median"] <= values["consensus"]
    assert result["corpus"]["documents"] >= 1
    assert {"platform", "cpus"} <= set(result["machine"])
