"""``dualread eval``: extract documents that have ground truth and report accuracy.

Tables go to stdout (they are this command's data); ``--json`` and ``--markdown`` print the same
report as JSON or as the README's summary table. Exit code 1 when a threshold is missed, 2 on bad
input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dualread.choices import Engine, OcrEngine, Route
from dualread.cli.common import Reporter, settings_from_options
from dualread.config import ConfigError
from dualread.exit_codes import EXIT_INPUT_ERROR

if TYPE_CHECKING:
    from dualread.evaluate.scores import DocumentScore

EXIT_BELOW_THRESHOLD = 1


def _threshold_failures(
    scores: list[DocumentScore], min_row_f1: float | None, min_header_accuracy: float | None
) -> list[str]:
    from dualread.evaluate.scores import summarize

    summary = summarize(scores)
    failures = []
    if min_row_f1 is not None and summary.rows.f1 < min_row_f1:
        failures.append(f"row F1 {summary.rows.f1:.4f} is below --min-row-f1 {min_row_f1}")
    if min_header_accuracy is not None and summary.header_accuracy < min_header_accuracy:
        failures.append(
            f"header accuracy {summary.header_accuracy:.4f} is below "
            f"--min-header-accuracy {min_header_accuracy}"
        )
    return failures


def eval_command(
    paths: list[Path] = typer.Argument(
        ...,
        help="Documents or folders (searched recursively) with X.truth.json or X-expected.json "
        "beside each X.pdf/.jpg.",
        show_default=False,
    ),
    engine: Engine = typer.Option("auto", "--engine", help="Which engine reads the documents."),
    route: Route | None = typer.Option(
        None, "--route", help="Read with one VLM route only (no consensus): visual or ocr."
    ),
    ocr: OcrEngine = typer.Option("rapidocr", "--ocr", help="OCR of the embedded engine."),
    third_voter: bool = typer.Option(
        True,
        "--third-voter/--no-third-voter",
        help="With --engine vlm/auto: let the embedded engine vote beside the two VLM routes.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the summary as Markdown."),
    min_row_f1: float | None = typer.Option(
        None, "--min-row-f1", min=0, max=1, help="Exit 1 when pooled row F1 is below this."
    ),
    min_header_accuracy: float | None = typer.Option(
        None, "--min-header-accuracy", min=0, max=1, help="Exit 1 when header accuracy is below."
    ),
    ollama_url: str | None = typer.Option(None, "--ollama-url", help="Ollama server URL."),
    vllm_url: str | None = typer.Option(None, "--vllm-url", help="OpenAI-compatible server URL."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached model answers."),
    config: Path | None = typer.Option(None, "--config", help="TOML config file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
) -> None:
    """Measure accuracy against ground truth: header fields, transaction rows (precision, recall,
    F1), the statements' arithmetic, passes per document and time per page."""
    # Imported here so that --help and --version stay fast: evaluation pulls in every engine.
    from dualread.evaluate import TruthError, evaluate, find_cases
    from dualread.evaluate.report import print_tables, report_json, report_markdown

    reporter = Reporter(quiet=quiet)
    try:
        settings = settings_from_options(
            config,
            ollama_url=ollama_url,
            vllm_url=vllm_url,
            use_cache=False if no_cache else None,
        )
        cases = find_cases(paths)
    except (ConfigError, TruthError) as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    if not cases:
        reporter.error(f"no documents with ground truth under {', '.join(map(str, paths))}")
        raise typer.Exit(EXIT_INPUT_ERROR)

    def progress(score: DocumentScore) -> None:
        line = f"{score.document}: row F1 {score.rows.f1:.3f}, header {score.header_accuracy:.3f}"
        if score.error:
            reporter.error(score.error)
        reporter.info(line)

    with reporter.progress(total=len(cases)) as advance:
        scores = []
        for score in evaluate(
            cases,
            settings=settings,
            engine=engine,
            route=route,
            ocr=ocr,
            third_voter=third_voter,
            on_score=progress,
        ):
            scores.append(score)
            advance.phase("evaluate", 1)

    if json_output:
        sys.stdout.write(report_json(scores, route or engine))
    elif markdown:
        sys.stdout.write(report_markdown(scores, route or engine))
    else:
        from rich.console import Console

        # Off a terminal rich would wrap the table at 80 columns; a report file wants it whole.
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=220)
        print_tables(scores, console)
    failures = _threshold_failures(scores, min_row_f1, min_header_accuracy)
    for failure in failures:
        reporter.error(failure)
    raise typer.Exit(EXIT_BELOW_THRESHOLD if failures else 0)
