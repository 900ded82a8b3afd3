"""Model switching on one GPU: the seeds' per-document stop/start against phases across the batch.

Three ways to read a batch on a GPU too small for every model at once (the plan dualread picks
for a 24 GB card):

* ``per_document_stop_start``: the seeds' procedure. Each document goes through MiniCPM-V,
  Nanonets and Qwen3 (and MiniCPM-V again when disputed) before the next, and each switch stops
  one server and starts the next;
* ``phases_stop_start``: dualread's phases (visual for every document -> ocr -> json -> extra
  visual passes), switching by stop/start;
* ``phases_sleep_unload``: the same phases, switching by vLLM sleep/wake and Ollama unload.

The servers are simulated (``dualread.testing.simulated_servers``) with the costs of a real GPU
host, slept at ``--scale`` real seconds per simulated second, and driven by the real
``ServerManager`` and plan. Wall times are reported in simulated (real-world) seconds: measured
wall time divided by the scale. Costs, their sources and the scale are in the result file.

Run: ``uv run --frozen python -m bench.runtime_switching [--quick]``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.common import Run, base_parser, headline, paired_ratio, summarize, target
from dualread.config import Role, Settings
from dualread.runtime.gpu import Gpu
from dualread.runtime.plan import Preference, make_plan
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import server_set
from dualread.testing.batch_driver import run_per_document, run_phases
from dualread.testing.simulated_servers import (
    Costs,
    SimulatedHost,
    SimulatedLauncher,
    simulated_admins,
)

NAME = "runtime_switching"
SERVERS = server_set(Settings(ollama_url="http://127.0.0.1:11434"))
GPU = Gpu(0, "24 GB GPU (e.g. RTX 4090)", 24564, 0)  # too small for the 31 GiB of all models
PAGES_PER_DOCUMENT = 3
DISPUTED_SHARE = 0.25  # documents that need an extra route-A pass on one page
TARGET_RATIO = 10.0

Driver = Callable[..., None]
STRATEGIES: dict[str, tuple[Driver, Preference]] = {
    "per_document_stop_start": (run_per_document, "restart"),
    "phases_stop_start": (run_phases, "restart"),
    "phases_sleep_unload": (run_phases, "best"),
}


def disputed_documents(documents: int) -> int:
    return math.ceil(documents * DISPUTED_SHARE)


def read_batch(strategy: str, documents: int, scale: float, costs: Costs) -> dict[str, Any]:
    """One simulated batch; returns simulated seconds, switches and what held the GPU."""
    driver, prefer = STRATEGIES[strategy]
    host = SimulatedHost(costs, scale=scale)
    launcher = SimulatedLauncher(host)
    plan = make_plan([GPU], SERVERS, prefer=prefer)
    manager = ServerManager(
        plan, SERVERS, launcher, admins=simulated_admins(SERVERS.servers, host), poll_s=scale / 2
    )

    def request(role: Role) -> float:
        return host.page(SERVERS.server_for(role), SERVERS.model_for(role))

    started = time.perf_counter()
    driver(
        manager,
        documents,
        PAGES_PER_DOCUMENT,
        request,
        disputed_documents=disputed_documents(documents),
    )
    wall = time.perf_counter() - started
    manager.close(stop=False)
    assert host.max_resident_models == 1, "two models held the one GPU at once"
    assert host.implicit_loads == 0, "a request found its model unloaded"
    return {
        "simulated_s": wall / scale,
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

    results: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    for documents in batches:
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in STRATEGIES}
        for _ in range(rounds):  # interleaved: load bursts hit every strategy of a round alike
            for name in STRATEGIES:
                samples[name].append(read_batch(name, documents, scale, costs))
        batch: dict[str, Any] = {}
        for name, runs in samples.items():
            batch[name] = {
                "wall_s": summarize([r["simulated_s"] for r in runs], 1),
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
            "pages_per_document": PAGES_PER_DOCUMENT,
            "disputed_share": DISPUTED_SHARE,
            "disputed_documents": {n: disputed_documents(n) for n in batches},
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
            "wall_s is simulated seconds: measured wall time / scale; thread scheduling on a "
            "loaded machine adds a little to every variant alike",
            "a switch is an activation that moved a model on or off the GPU; cold starts of the "
            "first phase are not switches",
            f"median of per-round ratios over {rounds} interleaved rounds",
        ],
    )
    print(f"{NAME}: {speedup:.1f}x at {batches[-1]} documents; switches {switches}; {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
