"""A batch on a local Ray cluster: a head and two worker nodes (separate raylet processes), each
node with its own stand-in servers, reading the fixture corpus with the real pipeline."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dualread.api import ExtractOptions, extract_many
from dualread.cli import app
from dualread.cluster.driver import NodeProgress, Outcome, output_names, run_batch
from dualread.cluster.manifest import MANIFEST_NAME, Entry, Manifest, file_sha256
from dualread.config import Settings
from dualread.outputs.targets import OutputPlanError, plan_outputs
from dualread.testing.cluster_rig import LocalCluster, local_cluster
from dualread.testing.oracle import build_oracle_index, write_oracle_index
from tests.conftest import REPO_ROOT

CORPUS = sorted((REPO_ROOT / "fixtures" / "corpus").glob("d*.pdf"))[:9]
OPTIONS = ExtractOptions(engine="vlm", third_voter=False)


def statement_part(document: dict[str, Any]) -> dict[str, Any]:
    record = document["extraction"]
    return {k: v for k, v in document.items() if k != "extraction"} | {
        "status": record["status"],
        "disputes": record.get("disputes"),
    }


@pytest.mark.unit
def test_manifest_skips_only_what_was_written(tmp_path: Path) -> None:
    source = tmp_path / "a.pdf"
    source.write_bytes(b"%PDF-1.4 statement")
    sha = file_sha256(source)
    manifest = Manifest(tmp_path)
    assert manifest.done(sha) is None
    (tmp_path / "a.json").write_text("{}")
    manifest.record(Entry(sha, str(source), "a.json", "agreed", 0, "node-1"))
    with (tmp_path / MANIFEST_NAME).open("a") as handle:
        handle.write('{"sha256": "cut short')  # a crash mid-line
    again = Manifest(tmp_path)
    assert again.done(sha) == Entry(sha, str(source), "a.json", "agreed", 0, "node-1")
    assert (tmp_path / MANIFEST_NAME).stat().st_mode & 0o777 == 0o600
    (tmp_path / "a.json").unlink()
    assert Manifest(tmp_path).done(sha) is None  # its output is gone: redo it


@pytest.mark.unit
def test_outputs_are_named_as_a_local_batch_names_them(tmp_path: Path) -> None:
    files = [tmp_path / "x" / "jan.pdf", tmp_path / "y" / "jan.pdf", tmp_path / "feb.png"]
    out = tmp_path / "out"
    names = output_names(files, out, "csv")
    assert names == {files[0]: "x/jan.csv", files[1]: "y/jan.csv", files[2]: "feb.csv"}
    local = plan_outputs(files, f"{out}/", ".csv").targets
    assert {source: out / name for source, name in names.items()} == local
    # One input and a folder name without a trailing slash: still a folder on the cluster.
    assert output_names(files[2:], out, "json") == {files[2]: "feb.json"}


@pytest.mark.unit
@pytest.mark.parametrize("onto", ["the input", "a folder that is the input"])
def test_an_output_onto_an_input_is_refused_before_the_cluster_is_asked(
    tmp_path: Path, onto: str
) -> None:
    source = tmp_path / "in.pdf"
    source.write_bytes(CORPUS[0].read_bytes())
    output = str(source) if onto == "the input" else f"{source}/"
    # No cluster runs at this address: the refusal must come before any connection.
    result = CliRunner().invoke(
        app, ["extract", "--cluster", "ray://127.0.0.1:9", str(source), "-o", output]
    )
    assert result.exit_code == 2
    assert f"would overwrite the input {source}" in result.output
    with pytest.raises(OutputPlanError, match="would overwrite the input"):
        run_batch("ray://127.0.0.1:9", [source], source)
    assert source.read_bytes() == CORPUS[0].read_bytes()


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("oracle") / "index.json"
    return write_oracle_index(build_oracle_index(CORPUS, 200), path)


@pytest.fixture
def three_nodes(oracle: Path) -> Iterator[LocalCluster]:
    """A head and two workers, each with its own stand-ins."""
    with local_cluster(3, oracle) as cluster:
        yield cluster


def copies_of_corpus(folder: Path) -> list[Path]:
    """The corpus copied where every node reads it (a shared folder, here the same disk)."""
    folder.mkdir()
    paths = []
    for source in CORPUS:
        copy = folder / source.name
        copy.write_bytes(source.read_bytes())
        paths.append(copy)
    return paths


@pytest.mark.contract
@pytest.mark.slow
def test_cluster_batch_matches_one_host_survives_a_lost_worker_and_resumes(
    three_nodes: LocalCluster, tmp_path: Path
) -> None:
    inputs = copies_of_corpus(tmp_path / "in")
    out = tmp_path / "out"
    single = {
        r.source.name: statement_part(r.document)
        for r in extract_many(
            inputs,
            settings=Settings(
                ollama_url=three_nodes.nodes[0].ollama.api_url,
                vllm_url=three_nodes.nodes[0].openai.api_url,
                use_cache=False,
            ),
            options=OPTIONS,
        )
        if r.document is not None
    }
    assert len(single) == len(inputs)

    killed: list[str] = []
    lock = threading.Lock()

    def kill_first_worker_after_its_first_document(
        outcome: Outcome, node: NodeProgress | None
    ) -> None:
        with lock:
            if killed or node is None or node.documents != 1:
                return
            try:
                victim = three_nodes.worker(node.name)
            except StopIteration:
                return  # the head: keep it
            killed.append(node.name)
        three_nodes.remove(victim)

    summary = run_batch(
        three_nodes.address,
        inputs,
        out,
        options=OPTIONS,
        batch=1,
        on_outcome=kill_first_worker_after_its_first_document,
    )
    assert killed, "no worker node read a document"
    lost = summary.nodes[killed[0]]
    assert lost.lost and lost.retries >= 1
    assert summary.exit_code == 0, [o.error for o in summary.outcomes if o.error]
    assert sorted(o.source for o in summary.outcomes) == sorted(str(p) for p in inputs)
    written = {
        Path(o.source).name: statement_part(json.loads((out / str(o.output)).read_text()))
        for o in summary.outcomes
    }
    assert written == single  # nothing lost, same readings as one host
    assert len({o.node for o in summary.outcomes}) >= 2
    assert summary.to_dict()["driver_s_per_document"] >= 0.0

    # A re-run skips every finished document; one whose output went missing is read again.
    (out / str(summary.outcomes[0].output)).unlink()
    again = run_batch(three_nodes.address, inputs, out, options=OPTIONS)
    assert sum(o.skipped for o in again.outcomes) == len(inputs) - 1
    redone = [o for o in again.outcomes if not o.skipped]
    assert [o.source for o in redone] == [summary.outcomes[0].source]
    assert sum(n.documents for n in again.nodes.values()) == 1


@pytest.mark.unit
def test_cluster_extract_needs_an_output_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["extract", "--cluster", "local", str(CORPUS[0])])
    assert result.exit_code == 2
    assert "give an output folder with -o" in result.output


@pytest.mark.unit
def test_cluster_rerun_with_everything_done_connects_to_nothing(tmp_path: Path) -> None:
    source = tmp_path / "in.pdf"
    source.write_bytes(CORPUS[0].read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    (out / "in.json").write_text("{}")
    Manifest(out).record(Entry(file_sha256(source), str(source), "in.json", "agreed", 0, "n1"))
    # No cluster runs at this address: a batch with nothing left to do must not need one.
    summary = run_batch("ray://127.0.0.1:9", [source], out)
    assert [(o.skipped, o.output) for o in summary.outcomes] == [(True, "in.json")]
    assert summary.exit_code == 0
