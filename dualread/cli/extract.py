"""``dualread extract``: files in, statements out; progress and errors on stderr."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dualread.choices import Engine, Mode, OcrEngine, OnDispute, OutputFormat, Route, RuntimeKind
from dualread.cli.common import Reporter, settings_from_options
from dualread.config import ConfigError, network_warnings
from dualread.exit_codes import EXIT_INPUT_ERROR

if TYPE_CHECKING:
    from dualread.api import ExtractionResult


PASSWORD_ENV = "DUALREAD_PASSWORD"


class UsageError(ValueError):
    """A flag that cannot be used: one line on stderr, exit 2."""


def _password_from(password: str | None, password_file: Path | None) -> str | None:
    """The PDF password: ``--password-file``, ``--password -`` (asked for, not echoed),
    ``--password`` (visible in ``ps``) or ``$DUALREAD_PASSWORD``, in that order of preference."""
    if password is not None and password_file is not None:
        raise UsageError("give either --password or --password-file, not both")
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, UnicodeError, IndexError) as error:
            problem = getattr(error, "strerror", None) or "it holds no password"
            raise UsageError(f"--password-file {password_file}: {problem}") from None
    if password == "-":
        try:
            return str(typer.prompt("PDF password", hide_input=True, err=True))
        except (typer.Abort, EOFError):
            raise UsageError("--password -: no password was typed") from None
    return password if password is not None else os.environ.get(PASSWORD_ENV)


def _write_stdout(text: str) -> str | None:
    """Write the data to stdout; the reason it failed (closed, broken pipe, full disk) or None."""
    try:
        if sys.stdout is None:
            return "stdout is closed"
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    except (OSError, ValueError) as error:
        # Point stdout at /dev/null so the interpreter's own flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)
        return getattr(error, "strerror", None) or str(error)


def _render_stdout(results: list[ExtractionResult], fmt: str) -> str:
    """Each file's output in turn: JSON Lines for several files (a line per file: a statement,
    or an array of a file's accounts), CSV under one header row."""
    from dualread.outputs import RENDERERS, render_csv, render_json

    outputs = [r.documents for r in results if r.accounts]
    if fmt == "json" and len(outputs) > 1:
        return "".join(render_json(d, compact=True) for d in outputs)  # JSON Lines
    if fmt == "csv":
        return "".join(render_csv(d, header=i == 0) for i, d in enumerate(outputs))
    return "".join(RENDERERS[fmt](d) for d in outputs)


def extract_command(
    files: list[Path] = typer.Argument(
        ..., help="Statements to read: PDF, PNG, JPEG, TIFF or WebP.", show_default=False
    ),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Where to write: a file, a folder (one file per input), or - for stdout (default).",
    ),
    fmt: OutputFormat = typer.Option("json", "--format", "-f", help="Output format."),
    engine: Engine = typer.Option(
        "auto",
        "--engine",
        help="auto: the two VLM routes when their servers answer, else the embedded CPU engine.",
    ),
    route: Route | None = typer.Option(
        None, "--route", help="Run one VLM route only (no consensus): visual or ocr."
    ),
    third_voter: bool | None = typer.Option(
        None,
        "--third-voter/--no-third-voter",
        help="Let the embedded engine vote beside the two VLM routes (default: on).",
    ),
    ocr: OcrEngine = typer.Option(
        "rapidocr", "--ocr", help="OCR for scans in the embedded engine."
    ),
    dpi: int | None = typer.Option(None, "--dpi", min=50, max=600, help="Render DPI [200]."),
    pages: str | None = typer.Option(None, "--pages", help="Pages to read, e.g. 1-3,5."),
    password: str | None = typer.Option(
        None,
        "--password",
        help="Password of an encrypted PDF; - asks for it. A password on the command line shows "
        f"in ps: prefer --password-file or ${PASSWORD_ENV}.",
    ),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="Read the PDF password from the first line of this file."
    ),
    max_pages: int | None = typer.Option(None, "--max-pages", min=1, help="Page limit [1000]."),
    max_passes: int | None = typer.Option(
        None, "--max-passes", min=2, help="Model passes per document, extra passes included [4]."
    ),
    on_dispute: OnDispute | None = typer.Option(
        None, "--on-dispute", help="An unresolved value becomes null (default) or the best guess."
    ),
    explain: bool = typer.Option(
        False, "--explain", help="Print the difference between the two routes on stderr."
    ),
    ollama_url: str | None = typer.Option(None, "--ollama-url", help="Ollama server URL."),
    vllm_url: str | None = typer.Option(
        None, "--vllm-url", help="OpenAI-compatible (vLLM) server URL, ending in /v1."
    ),
    model_visual: str | None = typer.Option(None, "--model-visual", help="Route A model."),
    model_ocr: str | None = typer.Option(None, "--model-ocr", help="Route B OCR model."),
    model_json: str | None = typer.Option(None, "--model-json", help="Route B JSON model."),
    servers: RuntimeKind | None = typer.Option(
        None,
        "--servers",
        help="Who runs the model servers: external (you, the default), docker or process "
        "(dualread starts, swaps and stops them).",
    ),
    mode: Mode | None = typer.Option(
        None,
        "--mode",
        help="With --servers docker|process: parallel (one server per GPU), sequential (phases "
        "on one GPU) or auto.",
    ),
    gpus: str | None = typer.Option(
        None, "--gpus", help="GPUs the servers may use (0,2,3); default every visible one."
    ),
    replicas: str | None = typer.Option(
        None, "--replicas", help="Copies of each server: N, or per server or role (ocr=3)."
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        help="Read on a Ray cluster (ray://HEAD:10001, or local); needs -o FOLDER and paths "
        "every node can read.",
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached model answers."),
    config: Path | None = typer.Option(None, "--config", help="TOML config file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail on stderr."),
) -> None:
    """Read bank statements into JSON, CSV or OFX.

    Exit codes: 0 agreed, resolved or single, 2 bad input or usage, 3 needs review (unresolved
    disputes, or unverified: nothing printed let the arithmetic check the reading), 4 model servers
    unavailable. With several files the worst code wins, and every readable file is still written.
    With -o FOLDER, inputs whose names collide keep their relative path; an -o that would
    overwrite an input is refused.
    """
    reporter = Reporter(quiet=quiet, verbose=verbose)
    try:
        flags = dict(
            ollama_url=ollama_url,
            vllm_url=vllm_url,
            model_visual=model_visual,
            model_ocr=model_ocr,
            model_json=model_json,
            dpi=dpi,
            max_pages=max_pages,
            max_passes=max_passes,
            on_dispute=on_dispute,
            use_cache=False if no_cache else None,
            servers=servers,
            mode=mode,
            gpus=gpus,
            replicas=replicas,
        )
        settings = settings_from_options(config, **flags)
    except ConfigError as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    for warning in network_warnings(settings):
        reporter.warning(f"{warning}: statements will be sent there")

    # Imported here so that --help and --version stay fast: the readers pull in OCR and clients,
    # the writers pydantic and jsonschema.
    from dualread.api import ExtractOptions, extract_many
    from dualread.outputs import RENDERERS, SUFFIXES, write_atomic
    from dualread.outputs.targets import OutputPlanError, plan_outputs

    try:  # before anything is read: an -o onto an input is refused, same names made unique
        plan = plan_outputs(files, output, SUFFIXES[fmt], folder=cluster is not None)
        pdf_password = _password_from(password, password_file)
    except (OutputPlanError, UsageError) as error:
        reporter.error(str(error))
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    for source, renamed in plan.renamed:
        reporter.info(f"{source}: written to {renamed} (another input has the same name)")

    options = ExtractOptions(
        engine=engine,
        route=route,
        password=pdf_password,
        pages=pages,
        third_voter=third_voter,
        ocr=ocr,
        explain=explain,
    )
    if cluster is not None:
        from dualread.cli.cluster import extract_on_cluster

        given = {name: value for name, value in flags.items() if value is not None}
        raise typer.Exit(extract_on_cluster(reporter, cluster, files, output, fmt, given, options))
    worst = 0
    to_stdout: list[ExtractionResult] = []
    with reporter.progress(total=len(files)) as advance:
        for result in extract_many(
            files,
            settings=settings,
            options=options,
            on_engine=reporter.engine,
            on_progress=advance.phase,
        ):
            worst = max(worst, result.exit_code)
            if result.error:
                reporter.error(result.error)
            if not result.accounts:
                continue
            reporter.result(result)
            if result.explain:
                reporter.explain(result.explain)
            target = plan.targets.get(result.source)
            if target is None:
                to_stdout.append(result)
                continue
            try:
                write_atomic(target, RENDERERS[fmt](result.documents))
            except OSError as error:  # read-only folder, a directory in the way, a full disk
                reporter.error(f"{result.source}: cannot write {target} ({error.strerror})")
                worst = max(worst, EXIT_INPUT_ERROR)
    if to_stdout and (problem := _write_stdout(_render_stdout(to_stdout, fmt))):
        reporter.error(f"cannot write the output to stdout ({problem})")
        worst = max(worst, EXIT_INPUT_ERROR)
    raise typer.Exit(worst)
