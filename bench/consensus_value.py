"""What consensus is worth: row error rates of route A alone, route B alone, and consensus.

Over the fixture corpus (``fixtures/corpus/*.truth.json``), each route reads every statement with
its own seeded, independent, model-like errors (``dualread.testing.errors``, about 5% of rows
wrong). Consensus then runs as the pipeline runs it: decide after the two first passes; while
the document is unresolved, fewer than ``--max-passes`` passes ran, and some page is left where
another pass could change the outcome (``Decision.disputed_pages``), re-read only those pages
with a fresh route-A draw, and decide again.

Reported, as medians over repeated seeds with the spread: the row error rate (a row wrong in a
value or in its text) and the value error rate (date, amount, balance, or the row itself) of
each route alone and of consensus; header-field error rates; passes per document; documents
left unresolved (a value in doubt: exit code 3) and documents resolved with only a row's text in
doubt. Consensus errors are split by who is told: a wrong value in an unresolved document is
flagged (this includes values nulled by ``--on-dispute null``), one in an agreed or resolved
document is silent; a wrong text is listed when its row carries a text dispute, else silent.
``silent_row_error_rate`` counts both silent kinds, ``silent_value_error_rate`` wrong values only.

Run: ``uv run --frozen python bench/consensus_value.py`` (writes
``bench/results/consensus_value.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dualread.consensus import Decision, decide
from dualread.consensus.normalize import field_key, normalize_statement
from dualread.parsing import normalize_description
from dualread.stages.candidate import Candidate
from dualread.statement import HEADER_FIELDS, Statement, Transaction
from dualread.testing.errors import apply_errors, restrict_to_pages

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "corpus"
RESULT = ROOT / "bench" / "results" / "consensus_value.json"


@dataclass(frozen=True)
class Outcome:
    rows: int
    row_errors: dict[str, int]  # reader -> wrong rows (a value or the text)
    value_errors: dict[str, int]  # reader -> rows wrong in a value (date, amount, balance)
    texts_listed: int  # consensus rows right in value, wrong in text, with a text dispute
    header_errors: dict[str, int]  # reader -> wrong header fields
    headers_listed: int  # consensus header fields wrong (or left null) with a dispute listed
    passes: int
    status: str
    disputes: Counter[tuple[str, str]]  # (severity, field) -> disputes left
    decide_s: float


def _row_key(row: Transaction, *, text: bool = True) -> tuple[Any, ...]:
    values = (row.date, row.amount, row.balance)
    return (*values, normalize_description(row.description)) if text else values


def row_errors(truth: Statement, reading: Statement, *, text: bool = True) -> int:
    """Rows not read exactly: max(truth rows with no identical reading, read rows with no
    identical truth), so a misread row counts once, a dropped or extra row once, a merge twice.
    Identical means same date, amount, balance and (with ``text``) normalised description."""

    def keys(statement: Statement) -> Counter[tuple[Any, ...]]:
        return Counter(_row_key(t, text=text) for t in normalize_statement(statement).transactions)

    expected, found = keys(truth), keys(reading)
    return max(sum((expected - found).values()), sum((found - expected).values()))


def texts_listed(truth: Statement, decision: Decision) -> int:
    """Result rows whose values are right and text wrong, and that carry a text dispute."""
    expected = normalize_statement(truth).transactions
    values, exact = {_row_key(t, text=False) for t in expected}, {_row_key(t) for t in expected}
    rows = normalize_statement(decision.statement).transactions
    disputed = {d.row for d in decision.disputes if d.severity == "text"}
    return sum(
        _row_key(rows[i], text=False) in values and _row_key(rows[i]) not in exact
        for i in disputed
        if i is not None
    )


def wrong_header_fields(truth: Statement, reading: Statement) -> set[str]:
    left, right = normalize_statement(truth), normalize_statement(reading)
    return {
        name
        for name in HEADER_FIELDS
        if field_key(name, getattr(left, name)) != field_key(name, getattr(right, name))
    }


def _statement(document: dict[str, Any]) -> Statement:
    """A truth or reading document as a Statement (its provenance keys are not statement data)."""
    return Statement.model_validate(
        {k: v for k, v in document.items() if k in Statement.model_fields}
    )


def _pages(document: dict[str, Any]) -> tuple[int, ...]:
    return tuple(sorted({row["page"] for row in document["transactions"]} | {1}))


def run_document(
    name: str, truth_doc: dict[str, Any], profile: dict[str, Any], seed: int, max_passes: int
) -> Outcome:
    """One statement, read by both routes and settled as the pipeline does."""
    truth = _statement(truth_doc)
    pages = _pages(truth_doc)

    def read(route: str, number: int, on_pages: Sequence[int]) -> Candidate:
        rng = random.Random(f"{seed}/{name}/{route}/{number}")
        drawn = apply_errors(truth_doc, profile, rng, pages=on_pages)
        if tuple(on_pages) != pages:
            drawn = restrict_to_pages(drawn, on_pages)
        return Candidate(route=route, statement=_statement(drawn), pages=tuple(on_pages))

    candidates = [read("visual", 1, pages), read("ocr", 1, pages)]
    started = time.perf_counter()
    decision = decide(candidates)
    while (
        decision.status == "unresolved" and decision.disputed_pages and len(candidates) < max_passes
    ):
        candidates.append(read("visual", len(candidates), sorted(decision.disputed_pages)))
        decision = decide(candidates)
    elapsed = time.perf_counter() - started
    readings = {
        "route_a": candidates[0].statement,
        "route_b": candidates[1].statement,
        "consensus": decision.statement,
    }
    return Outcome(
        rows=len(truth.transactions),
        row_errors={name: row_errors(truth, s) for name, s in readings.items()},
        value_errors={name: row_errors(truth, s, text=False) for name, s in readings.items()},
        texts_listed=texts_listed(truth, decision),
        header_errors={name: len(wrong_header_fields(truth, s)) for name, s in readings.items()},
        headers_listed=len(
            wrong_header_fields(truth, decision.statement)
            & {d.field for d in decision.disputes if d.row is None}
        ),
        passes=len(candidates),
        status=decision.status,
        disputes=Counter((d.severity, d.field) for d in decision.disputes),
        decide_s=elapsed,
    )


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    rows = sum(o.rows for o in outcomes)
    fields = len(HEADER_FIELDS) * len(outcomes)
    readers = ("route_a", "route_b", "consensus")
    flagged = [o for o in outcomes if o.status == "unresolved"]
    settled = [o for o in outcomes if o.status != "unresolved"]
    # Consensus rows right in every value but wrong in text, listed or not as a text dispute.
    wrong_texts = sum(o.row_errors["consensus"] - o.value_errors["consensus"] for o in outcomes)
    listed_texts = sum(o.texts_listed for o in outcomes)
    silent_values = sum(o.value_errors["consensus"] for o in settled)
    silent = silent_values + max(wrong_texts - listed_texts, 0)
    disputes = sum((o.disputes for o in outcomes), Counter[tuple[str, str]]())
    # What keeps documents open: per field, the unresolved documents with a value dispute on it.
    holding = Counter(
        name for o in flagged for name in {f for (sev, f) in o.disputes if sev == "value"}
    )
    return {
        "row_error_rate": {r: sum(o.row_errors[r] for o in outcomes) / rows for r in readers},
        "value_error_rate": {r: sum(o.value_errors[r] for o in outcomes) / rows for r in readers},
        "header_field_error_rate": {
            r: sum(o.header_errors[r] for o in outcomes) / fields for r in readers
        },
        "passes_per_document": sum(o.passes for o in outcomes) / len(outcomes),
        "status": dict(Counter(o.status for o in outcomes)),
        "unresolved_documents": len(flagged),
        "text_only_documents": sum(
            1 for o in settled if o.disputes and all(sev == "text" for sev, _ in o.disputes)
        ),
        "disputes_listed": {
            severity: sum(n for (sev, _), n in disputes.items() if sev == severity)
            for severity in ("value", "text")
        },
        "unresolved_documents_by_field": dict(holding.most_common()),
        "consensus_wrong_rows": {
            "values_flagged": sum(o.value_errors["consensus"] for o in flagged),
            "values_silent": silent_values,
            "texts_listed": listed_texts,
            "texts_unlisted": max(wrong_texts - listed_texts, 0),
        },
        "silent_row_error_rate": silent / rows,
        "silent_value_error_rate": silent_values / rows,
        # Flagged: in an unresolved result, or listed as a dispute (a name left null is listed).
        "wrong_header_fields_flagged": sum(o.header_errors["consensus"] for o in flagged)
        + sum(o.headers_listed for o in settled),
        "wrong_header_fields_silent": sum(
            o.header_errors["consensus"] - o.headers_listed for o in settled
        ),
        "decide_seconds_per_document": sum(o.decide_s for o in outcomes) / len(outcomes),
    }


def _median_summary(runs: Sequence[dict[str, Any]], path: tuple[str, ...]) -> dict[str, float]:
    values = []
    for run in runs:
        node: Any = run
        for key in path:
            node = node[key]
        values.append(float(node))
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=7, help="repetitions with fresh errors")
    parser.add_argument("--row-error-rate", type=float, default=0.05)
    parser.add_argument("--header-error-rate", type=float, default=0.1)
    parser.add_argument("--max-passes", type=int, default=4)
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args(argv)

    truth_files = sorted(CORPUS.glob("*.truth.json"))
    if not truth_files:
        print(f"error: no *.truth.json under {CORPUS}: build the fixtures first", file=sys.stderr)
        return 2
    documents: dict[str, dict[str, Any]] = {}
    for path in truth_files:
        # A file of several accounts has a statement per account, each read as a statement.
        truth = json.loads(path.read_text())
        accounts = truth if isinstance(truth, list) else [truth]
        for index, account in enumerate(accounts, 1):
            documents[path.name + ("" if index == 1 else f"#{index}")] = account
    profile = {
        "row_error_rate": args.row_error_rate,
        "header_error_rate": args.header_error_rate,
    }
    started = time.perf_counter()
    runs = []
    for seed in range(args.seeds):
        outcomes = [
            run_document(name, doc, profile, seed, args.max_passes)
            for name, doc in documents.items()
        ]
        runs.append({"seed": seed, **summarise(outcomes)})
    readers = ("route_a", "route_b", "consensus")
    medians: dict[str, Any] = {
        "row_error_rate": {r: _median_summary(runs, ("row_error_rate", r)) for r in readers},
        "value_error_rate": {r: _median_summary(runs, ("value_error_rate", r)) for r in readers},
        "header_field_error_rate": {
            r: _median_summary(runs, ("header_field_error_rate", r)) for r in readers
        },
        "passes_per_document": _median_summary(runs, ("passes_per_document",)),
        "silent_row_error_rate": _median_summary(runs, ("silent_row_error_rate",)),
        "silent_value_error_rate": _median_summary(runs, ("silent_value_error_rate",)),
        "unresolved_documents": _median_summary(runs, ("unresolved_documents",)),
        "text_only_documents": _median_summary(runs, ("text_only_documents",)),
    }
    best_single = min(
        medians["row_error_rate"]["route_a"]["median"],
        medians["row_error_rate"]["route_b"]["median"],
    )
    consensus_rate = medians["row_error_rate"]["consensus"]["median"]
    result = {
        "benchmark": "consensus_value",
        "corpus": {
            "documents": len(documents),
            "rows": sum(len(d["transactions"]) for d in documents.values()),
            "source": str(CORPUS.relative_to(ROOT)),
        },
        "error_profile_per_route": profile,
        "max_passes": args.max_passes,
        "seeds": args.seeds,
        "medians": medians,
        "target": {
            "consensus_at_most_fifth_of_best_route": consensus_rate <= best_single / 5,
            "ratio_consensus_to_best_route": consensus_rate / best_single if best_single else None,
            "passes_at_most_2_5": medians["passes_per_document"]["median"] <= 2.5,
        },
        "runs": runs,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    rates = medians["row_error_rate"]
    print(
        "row error rate (median over seeds): "
        f"route A {rates['route_a']['median']:.4f}, route B {rates['route_b']['median']:.4f}, "
        f"consensus {rates['consensus']['median']:.4f} "
        f"(silent {medians['silent_row_error_rate']['median']:.4f}, silent values "
        f"{medians['silent_value_error_rate']['median']:.4f}); "
        f"passes/doc {medians['passes_per_document']['median']:.2f}; unresolved documents "
        f"{medians['unresolved_documents']['median']:.0f} of {len(documents)}, text disputes "
        f"only {medians['text_only_documents']['median']:.0f}; "
        f"written to {args.output}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
