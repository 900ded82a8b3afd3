"""Consensus on real errors: two genuinely different readers of the page images, and their vote.

``consensus_value`` injects our own error model. Here the errors are real: the stand-in Ollama
server (route A, visual) reads each page image with RapidOCR alone, the stand-in vLLM server
(route B, OCR markdown) with Tesseract alone, both through the embedded engine's rule-based
reader (``--reader --reader-ocr``), each page on its own, as a model sees it. The real pipeline
(:func:`dualread.pipeline.read_batch`, the embedded third voter off) aligns, votes, runs its
extra passes and checks the arithmetic, over the real-world statements with row truth in
``../shared/realworld`` (devset and the Postbank demo).

Per document and in total: rows wrong for route A alone (its first pass), route B alone, and
consensus (a row wrong in date, amount, balance or text counts once; a dropped or extra row
once), and silent errors (wrong rows and balances under a status that claims a check:
``dualread.evaluate``'s definition). Run: ``uv run --frozen python -m bench.consensus_real``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench.common import ROOT, Run, base_parser, headline
from bench.consensus_value import row_errors
from dualread.cache import AnswerCache
from dualread.config import Settings
from dualread.documents import open_document
from dualread.evaluate.scores import score_accounts
from dualread.evaluate.truth import Case, find_cases
from dualread.pipeline import AlwaysReady, BatchOptions, DocumentEvidence, read_batch
from dualread.readers import Readers
from dualread.statement import Statement
from dualread.testing.standins.launch import start_standin

REALWORLD = ROOT.parent / "shared" / "realworld"
READER_TIMEOUT_S = 900.0  # a page read by OCR on a busy two-core machine


def _route_alone(reading: DocumentEvidence, route: str) -> Statement | None:
    """The route's first reading of the whole document, before any vote."""
    first = next((c for c in reading.candidates if c.route == route), None)
    return first.statement if first is not None else None


def _document_row(case: Case, reading: DocumentEvidence, seconds: float) -> dict[str, Any]:
    truth = case.truth.statement
    decision = reading.decision
    accounts = [(a.statement, a.status) for a in decision.accounts] if decision else []
    result = accounts[0][0] if accounts else None  # the routes read one statement each
    routes = {"route_a": _route_alone(reading, "visual"), "route_b": _route_alone(reading, "ocr")}
    wrong = {
        name: row_errors(truth, statement if statement is not None else Statement())
        for name, statement in {**routes, "consensus": result}.items()
    }
    status = decision.status if decision is not None else None
    score = score_accounts(case, accounts, status=status)
    return {
        "document": case.document.name,
        "rows": len(truth.transactions),
        "rows_wrong": wrong,
        "status": status,
        "passes": len(reading.passes),
        "silent_errors": score.silent_errors,
        "failures": reading.failures[-2:],
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--max-passes", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    args = parser.parse_args(argv)
    run = Run("consensus_real", args)
    if not REALWORLD.is_dir():
        print(f"no {REALWORLD}: nothing to measure", file=sys.stderr)
        return 2
    cases = find_cases([REALWORLD / "devset", REALWORLD / "postbank-demo"])
    limit = 1 if run.quick else args.limit
    cases = cases[:limit] if limit else cases

    rows = []
    with (
        start_standin("ollama", reader=True, reader_ocr="rapidocr") as route_a,
        start_standin("openai", reader=True, reader_ocr="tesseract") as route_b,
    ):
        settings = Settings(
            ollama_url=route_a.url,
            vllm_url=route_b.api_url,
            timeout_s=READER_TIMEOUT_S,
            retries=0,
            use_cache=False,
            max_passes=args.max_passes,
        )
        readers = Readers(settings, AnswerCache(settings.cache_dir, enabled=False), "rapidocr")
        options = BatchOptions(routes=("visual", "ocr"), embedded=False, max_passes=args.max_passes)
        for case in cases:
            started = time.perf_counter()
            with open_document(case.document, password=case.password) as document:
                (reading,) = read_batch([document], readers, settings, options, AlwaysReady())
                row = _document_row(case, reading, time.perf_counter() - started)
            print(json.dumps(row), flush=True)
            rows.append(row)

    totals = {
        "rows": sum(r["rows"] for r in rows),
        "rows_wrong": {
            name: sum(r["rows_wrong"][name] for r in rows)
            for name in ("route_a", "route_b", "consensus")
        },
        "silent_errors": sum(r["silent_errors"] for r in rows),
        "documents_with_silent_errors": sum(r["silent_errors"] > 0 for r in rows),
        "statuses": {s: sum(r["status"] == s for r in rows) for s in {r["status"] for r in rows}},
    }
    wrong = totals["rows_wrong"]
    headlines = [
        headline(
            "rows wrong: RapidOCR reader / Tesseract reader / consensus",
            f"{wrong['route_a']} / {wrong['route_b']} / {wrong['consensus']} of {totals['rows']}",
            "consensus below either",
            wrong["consensus"] < min(wrong["route_a"], wrong["route_b"]),
        ),
        headline("silent errors (consensus)", str(totals["silent_errors"]), "0", None),
    ]
    path = run.write(
        parameters={
            "documents": [c.document.name for c in cases],
            "max_passes": args.max_passes,
            "route_a": "stand-in Ollama, reader mode, RapidOCR alone",
            "route_b": "stand-in vLLM, reader mode, Tesseract alone",
            "third_voter": False,
        },
        results={"documents": rows, "totals": totals},
        ratios={
            "consensus_vs_best_route_rows_wrong": round(
                wrong["consensus"] / min(wrong["route_a"], wrong["route_b"]), 3
            )
            if min(wrong["route_a"], wrong["route_b"])
            else None
        },
        targets=[],
        headlines=headlines,
        notes=[
            "Each stand-in reads every page image on its own (as a model sees one page), so a "
            "page without the table's header may read as empty: a real limit of these readers.",
        ],
    )
    print(f"wrote {path}")
    print(json.dumps(totals, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
