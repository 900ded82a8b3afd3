"""The ``dualread`` command: stdout carries data, stderr carries progress and errors."""

from __future__ import annotations

import typer

from dualread import __version__
from dualread.cli.eval import eval_command
from dualread.cli.extract import extract_command
from dualread.cli.serve import serve_command
from dualread.cli.servers import doctor_command, servers_app

app = typer.Typer(
    name="dualread",
    help="Bank statements (PDF, scans, photos) to validated JSON, CSV and OFX, read twice and "
    "kept only where the reads agree.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: typer's rich rendering imports rich's markdown, syntax and
    # traceback machinery, which would take most of `dualread --help`'s start-up time.
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},  # as wide as the terminal, up to 120 columns
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dualread {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """dualread: read bank statements twice, keep what agrees."""


@app.command()
def schema() -> None:
    """Print the statement JSON schema (the output contract).

    One statement per account: a file that holds several accounts gives an array of statements
    ($defs/statements, schema revision 1.2), each with extraction.account.
    """
    from dualread.statement import schema_text  # pydantic and jsonschema: only when asked

    typer.echo(schema_text(), nl=False)


app.command("extract")(extract_command)
app.command("eval")(eval_command)
app.add_typer(servers_app, name="servers")
app.command("doctor")(doctor_command)
app.command("serve")(serve_command)


def main() -> None:
    app()
