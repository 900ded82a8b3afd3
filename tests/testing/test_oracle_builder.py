"""The oracle index: built from fixtures exactly as the stages send the pages."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dualread.documents import open_document
from dualread.stages.pageimage import page_png
from dualread.statement import HEADER_FIELDS
from dualread.testing.oracle import build_oracle_index, load_truth, write_oracle_index
from dualread.testing.standins.oracle_index import OracleIndex, merge_truths

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "d03-soll-haben-de-DE.pdf"


@pytest.fixture(scope="module")
def fixture() -> Path:
    if not FIXTURE.with_suffix(".truth.json").is_file():
        pytest.skip(f"fixture {FIXTURE} with ground truth is missing")
    return FIXTURE


def test_every_page_at_every_dpi_is_indexed_by_its_bytes(fixture: Path, tmp_path: Path) -> None:
    index = build_oracle_index([fixture], dpi=[100, 150])
    with open_document(fixture) as document:
        expected = {
            hashlib.sha256(page_png(document, n, dpi)).hexdigest(): f"{fixture.name}#{n}@{dpi}"
            for n in document.page_numbers
            for dpi in (100, 150)
        }
    assert {digest: entry["source"] for digest, entry in index.items()} == expected
    path = write_oracle_index(index, tmp_path / "oracle.json")
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text()) == index


def test_page_truths_add_up_to_the_document_truth(fixture: Path) -> None:
    index = build_oracle_index([fixture], dpi=100)
    pages = sorted(index.values(), key=lambda e: e["source"])
    truth = load_truth(fixture)
    assert merge_truths([e["truth"] for e in pages]) == truth
    assert all(pages[1]["truth"][name] is None for name in HEADER_FIELDS)  # header on page 1


def test_the_markdown_holds_the_rows_and_finds_its_page(fixture: Path) -> None:
    index = build_oracle_index([fixture], dpi=100)
    for entry in index.values():
        markdown = entry["markdown"]
        assert markdown.count("<tr>") == len(entry["truth"]["transactions"]) + 1  # + the header row
        assert OracleIndex(index).pages_in(f"intro\n{markdown}\noutro") == [entry]


def test_a_truth_without_pages_is_refused(tmp_path: Path, fixture: Path) -> None:
    copy = tmp_path / "x.pdf"
    copy.write_bytes(fixture.read_bytes())
    truth = json.loads(fixture.with_suffix(".truth.json").read_text())
    truth["transactions"][0]["page"] = None
    copy.with_suffix(".truth.json").write_text(json.dumps(truth))
    with pytest.raises(ValueError, match="every transaction needs its page"):
        build_oracle_index([copy], dpi=100)
