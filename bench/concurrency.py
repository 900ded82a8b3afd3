"""Concurrency: pages per second against one server as the in-flight limit grows.

Route A (``visual_json``, one request per page) reads a generated statement through the real
readers and backends, against a stand-in server (``python -m dualread.testing.standins``) that
answers from the oracle after a fixed per-request latency (its ``slow=S`` fault): 4 s, what the
visual model takes per page on a GPU host (``dualread.testing.simulated_servers.Costs``). With
``c`` requests in flight and a latency of ``L`` seconds, the ideal is ``c / L`` pages per
second; the target is within 10% of it, at c = 1, 2, 4 and 8, for both the Ollama and the
OpenAI stand-in.

Pages are rendered at a low DPI for this, so the measurement is of request concurrency, not of
this machine's CPU; a second series at the default DPI shows where the client's rendering and
PNG encoding become the limit on the machine that ran it. Concurrency levels are timed
interleaved, round by round, and the speed-up over c = 1 is the median of per-round ratios.

Run: ``uv run --frozen python -m bench.concurrency [--quick]``.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import (
    Run,
    base_parser,
    generated_statement,
    headline,
    interleaved,
    paired_ratio,
    summarize,
    target,
)
from dualread.cache import AnswerCache
from dualread.config import BackendKind, Settings
from dualread.documents import DEFAULT_DPI, Document, open_document
from dualread.readers import Readers
from dualread.stages.candidate import PassParams
from dualread.testing.oracle import build_oracle_index, write_oracle_index
from dualread.testing.simulated_servers import Costs
from dualread.testing.standins.launch import RunningStandin, start_standin

NAME = "concurrency"
LEVELS = (1, 2, 4, 8)
MECHANISM_DPI = 72  # small page images: the client's CPU stays out of the way
TARGET_EFFICIENCY = 0.9


@dataclasses.dataclass(frozen=True)
class Plan:
    pages: int
    latency_s: float
    levels: tuple[int, ...]
    rounds: int
    kinds: tuple[str, ...]
    default_dpi_levels: tuple[int, ...]


# The stand-in's latency is what the visual model takes per page on a GPU host (the reference
# cost in dualread.testing.simulated_servers), so the client's own per-page work weighs what it
# would weigh in production.
PAGE_LATENCY_S = Costs().page_s[Settings().model_visual]
FULL = Plan(16, PAGE_LATENCY_S, LEVELS, 2, ("ollama", "openai"), (max(LEVELS),))
QUICK = Plan(4, 0.1, (1, 4), 1, ("ollama", "openai"), ())


def readers_for(server: RunningStandin, concurrency: int, cache_dir: Path) -> Readers:
    """Readers whose visual role is the stand-in, with ``concurrency`` requests in flight."""
    backend: BackendKind = "ollama" if server.kind == "ollama" else "openai"
    settings = Settings(
        ollama_url=server.api_url,
        vllm_url=server.api_url,
        backend_visual=backend,
        concurrency=concurrency,
        use_cache=False,
        cache_dir=cache_dir,
    )
    return Readers(settings, AnswerCache(cache_dir, enabled=False))


def measure(
    server: RunningStandin,
    document: Document,
    plan: Plan,
    dpi: int,
    levels: Sequence[int],
    cache_dir: Path,
) -> dict[int, list[float]]:
    """Seconds to read the whole document at each level, interleaved over ``plan.rounds``."""
    params = PassParams(dpi=dpi)
    readers = {c: readers_for(server, c, cache_dir) for c in levels}

    def read(level: int) -> None:
        candidate = readers[level].visual(document, params)
        if len(candidate.statement.transactions) == 0:
            raise SystemExit("error: the stand-in's oracle did not recognise the pages")

    readers[levels[0]].visual(document, params, document.page_numbers[:1])  # warm connections
    seconds = interleaved({str(c): partial(read, c) for c in levels}, plan.rounds, warmup=0)
    return {int(c): values for c, values in seconds.items()}


def series(seconds: dict[int, list[float]], plan: Plan) -> dict[str, Any]:
    """Throughput per level, its efficiency against ``c / latency``, and the speed-up over c=1."""
    out: dict[str, Any] = {}
    for level, values in seconds.items():
        throughput = [plan.pages / s for s in values]
        ideal = level / plan.latency_s
        out[str(level)] = {
            "seconds": summarize(values),
            "pages_per_s": summarize(throughput),
            "ideal_pages_per_s": ideal,
            "efficiency": summarize([t / ideal for t in throughput], 4),
        }
        if 1 in seconds and level != 1:
            out[str(level)]["speedup_over_c1"] = paired_ratio(seconds[1], values)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser(__doc__)
    args = parser.parse_args(argv)
    run = Run(NAME, args)
    plan = QUICK if args.quick else FULL
    path = generated_statement(plan.pages)
    dpis = (MECHANISM_DPI, DEFAULT_DPI) if plan.default_dpi_levels else (MECHANISM_DPI,)
    results: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    targets = []
    headlines = []
    with tempfile.TemporaryDirectory(prefix="dualread-bench-") as temp:
        oracle = write_oracle_index(build_oracle_index([path], dpis), Path(temp) / "oracle.json")
        with open_document(path) as document:
            for kind in plan.kinds:
                with start_standin(
                    kind,
                    models=[Settings().model_visual],
                    oracle=oracle,
                    errors=f"slow={plan.latency_s}",
                ) as server:
                    mechanism = series(
                        measure(server, document, plan, MECHANISM_DPI, plan.levels, Path(temp)),
                        plan,
                    )
                    results[f"{kind}_dpi{MECHANISM_DPI}"] = mechanism
                    if plan.default_dpi_levels:
                        results[f"{kind}_dpi{DEFAULT_DPI}"] = series(
                            measure(
                                server,
                                document,
                                plan,
                                DEFAULT_DPI,
                                plan.default_dpi_levels,
                                Path(temp),
                            ),
                            plan,
                        )
                    rejected = server.stats()["rejections"]
                    if rejected:
                        raise SystemExit(
                            f"error: the {kind} stand-in rejected requests: {rejected}"
                        )
                for level in plan.levels:
                    row = mechanism[str(level)]
                    efficiency = row["efficiency"]["median"]
                    targets.append(
                        target(
                            f"{kind}: throughput at concurrency {level} / ideal",
                            efficiency,
                            TARGET_EFFICIENCY,
                            "ratio",
                            at_most=False,
                        )
                    )
                    if "speedup_over_c1" in row:
                        ratios[f"{kind}_speedup_c{level}_over_c1"] = row["speedup_over_c1"]
                cells = ", ".join(
                    f"c={c}: {mechanism[str(c)]['pages_per_s']['median']:.2f}"
                    f" ({mechanism[str(c)]['efficiency']['median']:.0%})"
                    for c in plan.levels
                )
                headlines.append(
                    headline(
                        f"{kind} stand-in, {plan.latency_s:g} s per request: pages/s "
                        "(share of ideal c/latency)",
                        cells,
                        f"≥ {TARGET_EFFICIENCY:.0%} of ideal",
                        all(t["ok"] for t in targets if t["name"].startswith(f"{kind}:")),
                    )
                )
                if plan.default_dpi_levels:
                    top = max(plan.default_dpi_levels)
                    at_default = results[f"{kind}_dpi{DEFAULT_DPI}"][str(top)]
                    headlines.append(
                        headline(
                            f"{kind} stand-in at {DEFAULT_DPI} DPI, c={top}: pages/s (client "
                            "renders and encodes every page)",
                            f"{at_default['pages_per_s']['median']:.2f}"
                            f" ({at_default['efficiency']['median']:.0%})",
                            "informative: bounded by this machine's CPU",
                            None,
                        )
                    )
    written = run.write(
        parameters={
            "document_pages": plan.pages,
            "latency_s": plan.latency_s,
            "levels": list(plan.levels),
            "rounds": plan.rounds,
            "servers": list(plan.kinds),
            "mechanism_dpi": MECHANISM_DPI,
            "default_dpi_levels": list(plan.default_dpi_levels),
            "stage": "visual_json through Readers.visual, answer cache off",
        },
        results=results,
        ratios=ratios,
        targets=targets,
        headlines=headlines,
        notes=[
            "Ideal throughput is concurrency / latency: every request costs the stand-in's fixed "
            "delay, and the stand-in serves requests in parallel threads.",
            f"At {MECHANISM_DPI} DPI the client's per-page CPU work (render, PNG, JSON) is small; "
            f"at {DEFAULT_DPI} DPI it is what limits throughput on a 2-core machine.",
        ],
    )
    print(f"written to {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
