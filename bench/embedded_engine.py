"""Embedded CPU engine: speed and accuracy against the issue's targets.

* **Text-layer pages**: every digital and encrypted fixture read by ``read_embedded``, in rounds;
  pages per second of the median round. Target: 20 pages/s or more.
* **A 100-page digital PDF**: a debit/credit statement of 5080 rows made by the fixture generator,
  read (a) in process by the engine alone and (b) end to end by ``dualread extract --engine
  embedded`` in a fresh process, whose wall time and peak RSS (``wait4``) are measured. The rows
  are compared with the generator's truth. Target: under 10 s, under 1 GB.
* **OCR pages**: the scanned and photographed fixtures through RapidOCR (the default) and
  Tesseract; seconds per page. Target: 6 s per page or less.
* **Accuracy**: every fixture scored with ``dualread.evaluate`` (row F1, header accuracy,
  arithmetic), per variant; and the real-world checks from ``../shared/realworld`` when present.
* **Real scans**: every image document of ``../shared/realworld/devset`` (photos, screenshots,
  image-only PDFs), each read by ``read_embedded`` in a fresh process: wall and CPU seconds per
  page (CPU counts the Tesseract processes too, and is what a busy machine distorts least), the
  process's own peak RSS, rows matched. ``--baseline DIR`` reads each one also with the code in
  DIR (a checkout of an older commit), alternating which goes first, so before and after share
  the machine's load; ``--scans-only`` runs just this part. Target: 10 s per page, under 1 GiB.

``--cores 0,1`` pins the benchmark (and the processes it starts) to those CPUs, so a bigger machine
measures what two cores do. Run: ``uv run --frozen python -m bench.embedded_engine [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import (
    CORPUS_DIR,
    RESULTS_DIR,
    ROOT,
    Run,
    base_parser,
    headline,
    summarize,
    target,
)
from dualread.arithmetic import check
from dualread.documents import open_document
from dualread.evaluate.metrics import match_rows
from dualread.evaluate.scores import DocumentScore, score_document, summarize_groups
from dualread.evaluate.truth import Case, find_cases, load_truth
from dualread.parsing import normalize_description
from dualread.stages.candidate import Candidate
from dualread.stages.embedded import EmbeddedReadError, OcrEngine, read_embedded
from dualread.stages.embedded.words import text_layer_words
from dualread.statement import Statement, Transaction
from fixtures.generator import corpus as generator

REALWORLD = ROOT.parent / "shared" / "realworld"
LONG_ROWS = 5080  # a debit/credit statement of this many rows fills 100 pages
TEXT_PAGES_PER_S = 20.0
OCR_S_PER_PAGE = 6.0
LONG_PDF_S = 10.0
LONG_PDF_RSS_MIB = 1024.0
SCAN_S_PER_PAGE = 10.0
SCAN_RSS_MIB = 1024.0
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


def _read(case: Case, ocr: OcrEngine = "rapidocr") -> tuple[Candidate | None, float, str | None]:
    started = time.perf_counter()
    try:
        with open_document(case.document, password=case.password) as document:
            candidate = read_embedded(document, ocr=ocr)
    except EmbeddedReadError as error:
        return None, time.perf_counter() - started, str(error)
    return candidate, time.perf_counter() - started, None


def _score(
    case: Case, candidate: Candidate | None, seconds: float, error: str | None
) -> DocumentScore:
    return score_document(
        case,
        candidate.statement if candidate else None,
        pages=len(candidate.pages) if candidate else 0,
        seconds=seconds,
        error=error,
    )


def text_layer_speed(
    cases: Sequence[Case], rounds: int
) -> tuple[dict[str, Any], list[DocumentScore]]:
    """Pages per second over all text-layer fixtures, per round; scores of the last round."""
    pages = 0
    round_seconds: list[float] = []
    scores: list[DocumentScore] = []
    for round_number in range(rounds + 1):  # round 0 warms imports and caches
        total, scores, pages = 0.0, [], 0
        for case in cases:
            candidate, seconds, error = _read(case)
            total += seconds
            pages += len(candidate.pages) if candidate else 0
            scores.append(_score(case, candidate, seconds, error))
        if round_number:
            round_seconds.append(total)
    per_round = summarize(round_seconds, 4)
    return {
        "documents": len(cases),
        "pages": pages,
        "seconds_per_round": per_round,
        "pages_per_s": round(pages / per_round["median"], 2),
    }, scores


def ocr_speed(cases: Sequence[Case], ocr: OcrEngine) -> tuple[dict[str, Any], list[DocumentScore]]:
    """Seconds per OCR page (one round: OCR dominates and varies little), and the scores."""
    _read(cases[0], ocr)  # load the models once, outside the timing
    scores = []
    per_page = []
    for case in cases:
        candidate, seconds, error = _read(case, ocr)
        scores.append(_score(case, candidate, seconds, error))
        if candidate:
            per_page.append(seconds / len(candidate.pages))
    return {
        "engine": ocr,
        "documents": len(cases),
        "seconds_per_page": summarize(per_page, 3),
    }, scores


def _long_pdf(folder: Path, rows: int) -> tuple[Path, dict[str, Any]]:
    built = generator.build_case(
        generator.Case("bench-long", "debit_credit", "en-GB", "digital", rows)
    )
    for name, content in built.files.items():
        (folder / name).write_bytes(content)
    return folder / built.entry["file"], built.entry


def _same_rows(path: Path, statement: dict[str, Any]) -> bool:
    truth = json.loads(path.with_name(path.stem + ".truth.json").read_text(encoding="utf-8"))
    return bool(truth["transactions"] == statement["transactions"]) and all(
        truth[k] == statement.get(k) for k in truth if k not in ("transactions", "schema_version")
    )


# Runs the CLI in this process and reports its own peak memory. VmHWM is the high-water mark of
# this program's memory alone: ru_maxrss would also count the benchmark's memory, which the child
# shares between fork and exec.
_CLI_RUNNER = """
import runpy, sys
sys.argv = ["dualread", *sys.argv[1:]]
try:
    runpy.run_module("dualread", run_name="__main__")
finally:
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    print("peak_rss_kib", status, file=sys.stderr)
"""


def _end_to_end(path: Path, output: Path) -> dict[str, Any]:
    """``dualread extract`` in a fresh process: its wall time and its own peak memory."""
    command = [sys.executable, "-c", _CLI_RUNNER, "extract", str(path), "--engine", "embedded"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "-o", str(output)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    lines = done.stderr.strip().splitlines()
    peak = next((int(line.split()[1]) for line in lines if line.startswith("peak_rss_kib")), 0)
    return {
        "exit_code": done.returncode,
        "wall_s": round(wall, 3),
        "peak_rss_mib": round(peak / 1024, 1),
        "stderr_tail": [line for line in lines if not line.startswith("peak_rss_kib")][-2:],
    }


def long_pdf(rows: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dualread-bench-") as folder:
        path, entry = _long_pdf(Path(folder), rows)
        engine_seconds, engine_correct = [], True
        for _ in range(rounds):
            started = time.perf_counter()
            with open_document(path) as document:
                candidate = read_embedded(document)
            engine_seconds.append(time.perf_counter() - started)
            engine_correct &= _same_rows(path, candidate.statement.to_json_dict())
        runs = [_end_to_end(path, Path(folder) / f"out{i}.json") for i in range(rounds)]
        output = json.loads((Path(folder) / "out0.json").read_text(encoding="utf-8"))
        return {
            "pages": entry["pages"],
            "rows": entry["transactions"],
            "engine_only_s": summarize(engine_seconds, 3),
            "engine_rows_exact": engine_correct,
            "end_to_end_wall_s": summarize([r["wall_s"] for r in runs], 3),
            "end_to_end_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
            "end_to_end_exit_codes": [r["exit_code"] for r in runs],
            "end_to_end_rows_exact": _same_rows(path, output),
            "end_to_end_stderr": runs[0]["stderr_tail"],
        }


def realworld() -> dict[str, Any] | None:
    """The issue's real-world checks, when ``../shared/realworld`` is there."""
    postbank = REALWORLD / "postbank-demo" / "PB_KAZ_KtoNr_9999999999_06-04-2017_1200.pdf"
    if not postbank.is_file():
        return None
    truth = load_truth(postbank.with_name(postbank.stem + "-expected.json")).statement
    with open_document(postbank) as document:
        got = read_embedded(document).statement
    bookings = sum(
        (g.date, g.amount) == (t.date, t.amount)
        and normalize_description(g.description)
        == normalize_description(t.description.removesuffix(" Muster"))
        for g, t in zip(got.transactions, truth.transactions, strict=False)
    )
    result: dict[str, Any] = {
        "postbank_bookings_exact": bookings,
        "postbank_bookings": len(truth.transactions),
        "postbank_balances_exact": (got.opening_balance, got.closing_balance)
        == (Decimal("2853.82"), Decimal("5314.05")),
        "bankstatemently": [],
    }
    for pdf in sorted((REALWORLD / "bankstatemently").glob("bsb-*-statement.pdf")):
        info = json.loads(pdf.with_name(pdf.name.replace(".pdf", "-info.json")).read_text())
        with open_document(pdf) as document:
            candidate = read_embedded(document)
        report = check(candidate.statement)
        result["bankstatemently"].append(
            {
                "id": info["id"],
                "transactions": len(candidate.statement.transactions)
                + sum(len(a.transactions) for a in candidate.other_accounts),
                "expected_transactions": info["transactionCount"],
                "opening_plus_sum_equals_closing": report.totals_ok,
            }
        )
    return result


# Reads one document with read_embedded in a fresh process and prints what it cost. Only APIs that
# the starting commit has too, so ``--baseline`` can run the same script against older code.
_SCAN_RUNNER = """
import json, resource, sys, time
from dualread.documents import open_document
from dualread.stages.embedded import EmbeddedReadError, read_embedded
started = time.perf_counter()
try:
    with open_document(sys.argv[1]) as document:
        candidate = read_embedded(document)
    result = {"pages": len(candidate.pages), "statement": candidate.statement.to_json_dict(),
              "timings": candidate.timings, "notes": {k: v for k, v in candidate.notes.items()
              if k in ("page_sources", "second_ocr", "second_ocr_pages", "text_layer_check")}}
except EmbeddedReadError as error:
    result = {"pages": 0, "error": str(error)}
result["wall_s"] = time.perf_counter() - started
usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
result["cpu_s"] = sum(u.ru_utime + u.ru_stime for u in usage)
result["peak_rss_mib"] = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
result["largest_child_rss_mib"] = usage[1].ru_maxrss / 1024
print(json.dumps(result))
"""


def scan_documents() -> list[Path]:
    """The devset's image documents: photos and screenshots, and PDFs without a text layer."""
    found = []
    for path in sorted((REALWORLD / "devset").iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            found.append(path)
        elif path.suffix.lower() == ".pdf":
            with open_document(path) as document:
                if not any(
                    text_layer_words(document, n)[1].has_text for n in document.page_numbers
                ):
                    found.append(path)
    return found


def _truth_rows(path: Path) -> Statement:
    """The devset truth's rows (its extra keys, provenance and traps, are not statement data)."""
    data = json.loads(path.with_name(path.stem + ".truth.json").read_text(encoding="utf-8"))
    rows = [
        {k: v for k, v in row.items() if k in Transaction.model_fields}
        for row in data["transactions"]
    ]
    return Statement(transactions=[Transaction.model_validate(row) for row in rows])


def _read_scan(path: Path, code: Path | None) -> dict[str, Any]:
    """One document read in a fresh process, by this checkout's code or by the code in ``code``."""
    # ``python -c`` puts its working folder first on the import path: that folder decides
    # which dualread is read.
    folder = code or ROOT
    env = {**os.environ, "PYTHONPATH": str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", _SCAN_RUNNER, str(path.resolve())],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"exit_code": done.returncode, "stderr_tail": done.stderr.strip().splitlines()[-2:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    statement = result.pop("statement", None)
    truth = _truth_rows(path)
    read = Statement.model_validate(statement) if statement else Statement()
    result["rows_matched"] = len(match_rows(truth.transactions, read.transactions))
    result["rows_read"] = len(read.transactions)
    result["rows_expected"] = len(truth.transactions)
    pages = result["pages"] or 1
    result["s_per_page"] = round(result["wall_s"] / pages, 2)
    result["cpu_s_per_page"] = round(result["cpu_s"] / pages, 2)
    for key in ("wall_s", "cpu_s", "peak_rss_mib", "largest_child_rss_mib"):
        result[key] = round(result[key], 2)
    result["timings"] = {k: round(v, 2) for k, v in result.get("timings", {}).items()}
    return result


def real_scans(baseline: Path | None, quick: bool) -> dict[str, Any] | None:
    """Every devset image document read by this code (and by ``baseline``'s), each in turn."""
    if not (REALWORLD / "devset").is_dir():
        return None
    documents = scan_documents()
    if quick:
        documents = documents[:1]
    rows = []
    for index, path in enumerate(documents):
        codes: list[tuple[str, Path | None]] = [("after", None)]
        if baseline is not None:
            codes.append(("before", baseline))
            codes = (
                codes if index % 2 else codes[::-1]
            )  # alternate which one meets a busier machine
        row: dict[str, Any] = {"document": path.name}
        for label, code in codes:
            row[label] = _read_scan(path, code)
            print(f"scan {path.name} {label}: {json.dumps(row[label])[:300]}", flush=True)
        rows.append(row)
    return {"documents": rows, "baseline": str(baseline) if baseline else None}


def _scan_summary(scans: dict[str, Any], label: str) -> dict[str, Any]:
    runs = [row[label] for row in scans["documents"] if label in row and "pages" in row[label]]
    return {
        "s_per_page": summarize([r["s_per_page"] for r in runs], 2),
        "cpu_s_per_page": summarize([r["cpu_s_per_page"] for r in runs], 2),
        "worst_s_per_page": max(r["s_per_page"] for r in runs),
        "worst_cpu_s_per_page": max(r["cpu_s_per_page"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "rows_matched": sum(r["rows_matched"] for r in runs),
        "rows_expected": sum(r["rows_expected"] for r in runs),
    }


def _scan_ratios(scans: dict[str, Any]) -> dict[str, Any]:
    """Per document, after / before, for wall time, CPU time and peak memory (same run)."""
    pairs = [
        (row["after"], row["before"])
        for row in scans["documents"]
        if "pages" in row.get("after", {}) and "pages" in row.get("before", {})
    ]
    if not pairs:
        return {}
    return {
        f"scans_after_vs_before_{key}": summarize([a[key] / b[key] for a, b in pairs if b[key]], 3)
        for key in ("wall_s", "cpu_s", "peak_rss_mib")
    }


def scans_only(args: argparse.Namespace, run: Run) -> int:
    """``--scans-only``: just the real scans, before and after."""
    scans = real_scans(args.baseline, run.quick)
    if scans is None:
        print("no ../shared/realworld/devset: nothing to measure", file=sys.stderr)
        return 2
    after = _scan_summary(scans, "after")
    targets = [
        target("real scans, worst wall s/page", after["worst_s_per_page"], SCAN_S_PER_PAGE, "s"),
        target("real scans, peak RSS", after["peak_rss_mib"], SCAN_RSS_MIB, "MiB"),
    ]
    headlines = [
        headline(
            "real scans, worst s/page (wall)",
            f"{after['worst_s_per_page']:.1f}",
            "<= 10",
            targets[0]["ok"],
        ),
        headline(
            "real scans, peak RSS", f"{after['peak_rss_mib']:.0f} MiB", "< 1 GiB", targets[1]["ok"]
        ),
    ]
    summary = {"after": after}
    if args.baseline is not None:
        summary["before"] = _scan_summary(scans, "before")
    path = run.write(
        parameters={"baseline": scans["baseline"], "cores": args.cores},
        results={"real_scans": scans, "real_scans_summary": summary},
        ratios=_scan_ratios(scans),
        targets=targets,
        headlines=headlines,
        notes=[
            "Each document is read in a fresh process; before and after alternate per document "
            "so both meet the same machine load. Wall time on a shared machine varies with its "
            "load (load_average_1m_at_end); CPU time (process plus Tesseract children) much less."
        ],
    )
    print(f"wrote {path}")
    print(json.dumps(summary, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--cores", default=None, help="CPUs to pin to, e.g. 0,1")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="also read the real scans with this checkout"
    )
    parser.add_argument("--scans-only", action="store_true", help="only the real scans")
    args = parser.parse_args(argv)
    if args.cores:
        os.sched_setaffinity(0, {int(c) for c in args.cores.split(",")})
    if args.scans_only:
        if args.output is None and not args.quick:
            args.output = RESULTS_DIR / "embedded_engine_scans.json"
        return scans_only(args, Run("embedded_engine", args))
    run = Run("embedded_engine", args)

    cases = find_cases([CORPUS_DIR])
    text_cases = [c for c in cases if c.group in ("digital", "encrypted")]
    image_cases = [c for c in cases if c.group in ("scan", "photo")]
    if run.quick:
        text_cases, image_cases = text_cases[:3], image_cases[:1]
    rounds = 1 if run.quick else 5

    text, text_scores = text_layer_speed(text_cases, rounds)
    rapid, rapid_scores = ocr_speed(image_cases, "rapidocr")
    tess, tess_scores = ocr_speed(image_cases, "tesseract")
    long = long_pdf(LONG_ROWS // 10 if run.quick else LONG_ROWS, 1 if run.quick else 3)
    real = realworld()
    scans = real_scans(args.baseline, run.quick)

    groups = summarize_groups(text_scores + rapid_scores)
    accuracy = {group: summary.to_dict() for group, summary in groups.items()}
    tesseract_groups = {g: s.to_dict() for g, s in summarize_groups(tess_scores).items()}
    rapid_s = rapid["seconds_per_page"]["median"]
    long_s = long["end_to_end_wall_s"]["median"]
    targets = [
        target(
            "text-layer pages per second",
            text["pages_per_s"],
            TEXT_PAGES_PER_S,
            "pages/s",
            at_most=False,
        ),
        target("OCR seconds per page (RapidOCR, median)", rapid_s, OCR_S_PER_PAGE, "s"),
        target("100-page digital PDF end to end", long_s, LONG_PDF_S, "s"),
        target(
            "100-page digital PDF peak RSS",
            long["end_to_end_peak_rss_mib"],
            LONG_PDF_RSS_MIB,
            "MiB",
        ),
    ]
    for group, limit in (("digital", 1.0), ("encrypted", 1.0), ("scan", 0.97)):
        if group in groups:
            targets.append(
                target(f"row F1, {group} fixtures", groups[group].rows.f1, limit, "", at_most=False)
            )
    headlines = [
        headline("text-layer pages/s", f"{text['pages_per_s']:.1f}", ">= 20", targets[0]["ok"]),
        headline("OCR s/page (RapidOCR)", f"{rapid_s:.2f}", "<= 6", targets[1]["ok"]),
        headline("100-page PDF, extract end to end", f"{long_s:.2f} s", "< 10 s", targets[2]["ok"]),
        headline(
            "100-page PDF, peak RSS",
            f"{long['end_to_end_peak_rss_mib']:.0f} MiB",
            "< 1 GiB",
            targets[3]["ok"],
        ),
    ] + [
        headline(
            f"row F1, {group}",
            f"{summary.rows.f1:.3f}",
            "1.0" if group != "scan" else ">= 0.97",
            None,
        )
        for group, summary in groups.items()
    ]
    notes = [
        "Timings on a shared machine: load_average_1m in 'machine' and at the end says how busy "
        "it was; --cores pins to two CPUs on a bigger one.",
        "The end-to-end time includes the CLI's start-up, JSON-schema validation and writing, "
        "which are not the engine's; 'engine_only_s' is read_embedded alone.",
    ]
    path = run.write(
        parameters={
            "text_layer_documents": len(text_cases),
            "image_documents": len(image_cases),
            "rounds": rounds,
            "long_pdf_rows": long["rows"],
            "cores": args.cores,
        },
        results={
            "text_layer": text,
            "ocr_rapidocr": rapid,
            "ocr_tesseract": tess,
            "long_pdf": long,
            "accuracy_by_variant": accuracy,
            "accuracy_tesseract_images": tesseract_groups,
            "documents": [s.to_dict() for s in text_scores + rapid_scores + tess_scores],
            "realworld": real,
            "real_scans": scans,
            "real_scans_summary": scans and {"after": _scan_summary(scans, "after")},
        },
        ratios={
            **(_scan_ratios(scans) if scans else {}),
            "ocr_tesseract_vs_rapidocr_s_per_page": round(
                tess["seconds_per_page"]["median"] / rapid_s, 3
            )
            if rapid_s
            else None,
        },
        targets=targets,
        headlines=headlines,
        notes=notes,
    )
    print(f"wrote {path}")
    print(json.dumps({t["name"]: [t["value"], t["ok"]] for t in targets}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
