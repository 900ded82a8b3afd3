"""Model switching on one GPU: the seeds' per-document stop/start against phases across the batch.

Three ways to read a batch on a GPU too small for every model at once (the plan dualread picks
for a 24 GB card), all through the product's own :func:`dualread.pipeline.read_batch`:

* ``per_document_stop_start``: the seeds' procedure. ``read_batch`` is called once per
  document, so each document goes through MiniCPM-V, Nanonets and Qwen3 before the next, and
  each switch stops one server and starts the next;
* ``phases_stop_start``: one ``read_batch`` over the batch (visual for every document -> ocr ->
  json), switching by stop/start;
* ``phases_sleep_unload``: the same phases, switching by vLLM sleep/wake and Ollama unload.

The servers are simulated (``dualread.testing.simulated_servers``) with the costs of a real GPU
host, slept at ``--scale`` real seconds per simulated second, and driven by the real
``ServerManager`` and plan; the real stages render the pages, send them through simulated
clients that answer from the fixture's truth, parse the answers and vote. The time reported is
the GPU host's busy time in simulated (real-world) seconds: the union of the intervals in which
it started, loaded, switched or answered, over the scale. The pipeline's own CPU work between
requests is the same in every variant and is left out (its real wall time is reported beside).
Costs, their sources and the scale are in the result file.

Run: ``uv run --frozen python -m bench.runtime_switching [--quick]``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Run, base_parser, headline, paired_ratio, summarize, target
from dualread.config import Settings
from dualread.runtime.gpu import Gpu
from dualread.runtime.plan import Preference, make_plan
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import server_set
from dualread.testing.simulated_servers import (
    Costs,
    SimulatedHost,
    SimulatedLauncher,
    read_simulated,
    simulated_admins,
    simulated_control,
)

NAME = "runtime_switching"
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "corpus" / "d14-carried-forward-de-DE.pdf"  # three pages
# Rendered small: the page images only need to reach the simulated clients; the GPU costs are
# the simulated host's, whatever the image size.
SETTINGS = Settings(ollama_url="http://127.0.0.1:11434", use_cache=False, dpi=72)
SERVERS = server_set(SETTINGS)
GPU = Gpu(0, "24 GB GPU (e.g. RTX 4090)", 24564, 0)  # too small for the 31 GiB of all models
TARGET_RATIO = 10.0

STRATEGIES: dict[str, tuple[bool, Preference]] = {  # (one read_batch per document, plan)
    "per_document_stop_start": (True, "restart"),
    "phases_stop_start": (False, "restart"),
    "phases_sleep_unload": (False, "best"),
}


def read_batch_with(
    strategy: str, documents: Sequence[Path], scale: float, costs: Costs
) -> dict[str, Any]:
    """One batch over simulated servers; returns host seconds, switches and what held the GPU."""
    per_document, prefer = STRATEGIES[strategy]
    host = SimulatedHost(costs, scale=scale)
    launcher = SimulatedLauncher(host)
    plan = make_plan([GPU], SERVERS, prefer=prefer)
    manager = ServerManager(
        plan, SERVERS, launcher, admins=simulated_admins(SERVERS.servers, host), poll_s=scale / 2
    )
    control = simulated_control(manager, host, [FIXTURE], SETTINGS)
    started = time.perf_counter()
    batches = [[d] for d in documents] if per_document else [list(documents)]
    evidence = [item for batch in batches for item in read_simulated(batch, control, SETTINGS)]
    wall = time.perf_counter() - started
    manager.close(stop=False)
    assert host.max_resident_models == 1, "two models held the one GPU at once"
    assert host.implicit_loads == 0, "a request found its model unloaded"
    statuses = {e.decision.status if e.decision else "failed" for e in evidence}
    assert statuses == {"agreed"}, statuses
    return {
        "simulated_s": host.busy_s(),
        "real_wall_s": wall,
        "switches": manager.switch_count,
        "server_starts": dict(launcher.starts),
        "plan": plan.kind,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=None, help="repetitions (default 3; 1 quick)")
    parser.add_argument(
        "--scale", type=float, default=None, help="real seconds per simulated second [0.002]"
    )
    args = parser.parse_args(argv)
    run = Run(NAME, args)
    rounds = args.rounds or (1 if args.quick else 3)
    scale = args.scale or (0.0005 if args.quick else 0.002)
    batches = (1, 2) if args.quick else (1, 5, 20)
    costs = Costs()
    folder = Path(tempfile.mkdtemp(prefix="dualread-switching-"))
    copies = [folder / f"statement-{n:02}.pdf" for n in range(max(batches))]
    for copy in copies:
        shutil.copy(FIXTURE, copy)

    results: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    for documents in batches:
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in STRATEGIES}
        for _ in range(rounds):  # interleaved: load bursts hit every strategy of a round alike
            for name in STRATEGIES:
                samples[name].append(read_batch_with(name, copies[:documents], scale, costs))
        batch: dict[str, Any] = {}
        for name, runs in samples.items():
            batch[name] = {
                "wall_s": summarize([r["simulated_s"] for r in runs], 1),
                "pipeline_real_wall_s": summarize([r["real_wall_s"] for r in runs], 2),
                "switches": runs[0]["switches"],
                "server_starts": runs[0]["server_starts"],
            }
        results[f"{documents}_documents"] = batch
        per_doc = [r["simulated_s"] for r in samples["per_document_stop_start"]]
        ratios[f"{documents}_documents"] = {
            "per_document_stop_start / phases_sleep_unload": paired_ratio(
                per_doc, [r["simulated_s"] for r in samples["phases_sleep_unload"]]
            ),
            "per_document_stop_start / phases_stop_start": paired_ratio(
                per_doc, [r["simulated_s"] for r in samples["phases_stop_start"]]
            ),
            "phases_stop_start / phases_sleep_unload": paired_ratio(
                [r["simulated_s"] for r in samples["phases_stop_start"]],
                [r["simulated_s"] for r in samples["phases_sleep_unload"]],
            ),
        }

    largest = f"{batches[-1]}_documents"
    speedup = ratios[largest]["per_document_stop_start / phases_sleep_unload"]["median"]
    switches = {name: results[largest][name]["switches"] for name in STRATEGIES}
    targets = [
        target(
            f"phases with sleep/unload vs per-document stop/start, {batches[-1]} documents",
            speedup,
            TARGET_RATIO,
            "x faster",
            at_most=False,
        )
    ]
    minutes = {n: results[largest][n]["wall_s"]["median"] / 60 for n in STRATEGIES}
    headlines = [
        headline(
            f"one-GPU batch of {batches[-1]} documents: phases with sleep/unload vs the seeds' "
            "per-document stop/start (simulated)",
            f"{speedup:.1f}x faster ({minutes['phases_sleep_unload']:.1f} vs "
            f"{minutes['per_document_stop_start']:.1f} min; {switches['phases_sleep_unload']} "
            f"vs {switches['per_document_stop_start']} switches)",
            f">= {TARGET_RATIO:g}x",
            speedup >= TARGET_RATIO,
        )
    ]
    path = run.write(
        parameters={
            "batches_documents": list(batches),
            "document": str(FIXTURE.relative_to(ROOT)),
            "pages_per_document": 3,
            "dpi": SETTINGS.dpi,
            "driver": "dualread.pipeline.read_batch (both routes, no embedded engine)",
            "rounds": rounds,
            "scale_real_s_per_simulated_s": scale,
            "gpu": {"name": GPU.name, "memory_total_mib": GPU.memory_total_mib},
            "plan": make_plan([GPU], SERVERS).to_dict(),
            "concurrency_per_server": {s.name: s.max_concurrency for s in SERVERS.servers},
            "costs_s": costs.to_dict(),
        },
        results=results,
        ratios=ratios,
        targets=targets,
        headlines=headlines,
        notes=[
            "wall_s is the simulated GPU host's busy time (starts, loads, switches, pages) in "
            "simulated seconds; pipeline_real_wall_s is the real wall time of the run, the "
            "pipeline's own CPU work included",
            "the documents agree at the first pass, so no extra route-A phase runs (the former "
            "copy of the pipeline's phases added one for 25% of documents)",
            "a switch is an activation that moved a model on or off the GPU; cold starts of the "
            "first phase are not switches",
            f"median of per-round ratios over {rounds} interleaved rounds",
        ],
    )
    print(f"{NAME}: {speedup:.1f}x at {batches[-1]} documents; switches {switches}; {path}")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
