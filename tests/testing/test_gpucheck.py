"""``make gpu-check``'s dry run: the whole command against the stand-in servers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dualread.testing.gpucheck import main

pytestmark = [pytest.mark.contract, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"


def test_the_dry_run_goes_end_to_end_and_writes_its_report(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("d01-signed-en-US", "d02-debit-credit-en-GB"):
        for suffix in (".pdf", ".truth.json"):
            shutil.copy(CORPUS / f"{name}{suffix}", corpus)
    output = tmp_path / "gpu-check.json"
    code = main(
        [
            "--dry-run",
            "--corpus",
            f"fixtures={corpus}",
            "--output",
            str(output),
            "--state",
            str(tmp_path / "state"),
        ]
    )
    report = json.loads(output.read_text())
    assert code == 0, report["evals"]
    assert report["dry_run"] is True and report["plan"]["kind"] == "phased"
    assert [(run["engine"], run["documents"]) for run in report["evals"]] == [
        ("vlm", 2),
        ("visual", 2),
        ("ocr", 2),
    ]
    for run in report["evals"]:  # the stand-ins answer the fixtures' truth
        assert run["failed"] == 0 and run["row_f1"] == 1.0 and run["pages_per_s"] > 0, run
    # One walk through the phases: visual -> ocr -> json -> visual, each switch timed.
    assert [(s["from"], s["to"]) for s in report["switches"]] == [
        ("visual", "ocr"),
        ("ocr", "json"),
        ("json", "visual"),
    ]
    assert all(s["seconds"] >= 0 and s["freed"] for s in report["switches"])
    assert report["gpu_memory_peak_mib"] is None  # no NVML here: said, not invented
