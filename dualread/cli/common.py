"""What every command shares: settings from flags, and a stderr reporter with progress bars.

stdout is reserved for data, so everything human-facing goes to stderr. At the default level no
statement content is printed: only file names, counts and statuses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dualread.config import Settings, load_settings, redact_url

# rich's console and progress bars are imported where a command first reports, not at start-up:
# `dualread --version` has no use for them.
if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from dualread.api import ExtractionResult


def one_line(text: str) -> str:
    """Control characters (newlines, tabs, escapes) written as Python escapes, so a hostile file
    name can neither split an error line nor send terminal escape sequences."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def settings_from_options(config: Path | None, **flags: Any) -> Settings:
    """Flags override env vars, which override the config file (None means "not given")."""
    return load_settings(config).replace(**flags)


@dataclass
class _Advance:
    """One bar per batch phase (visual, ocr, json, extra, embedded), each counting documents."""

    progress: Progress | None
    total: int
    tasks: dict[str, TaskID] = field(default_factory=dict)

    def phase(self, name: str, count: int) -> None:
        if self.progress is None:
            return
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=self.total)
        self.progress.advance(self.tasks[name], count)


class Reporter:
    """stderr output at three levels: quiet (errors only), normal, verbose."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.WARNING
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")

    def error(self, message: str) -> None:
        """One line, whatever the message holds: a newline in a file name is shown as ``\\n``."""
        self.console.print(f"error: {one_line(redact_url(message))}", markup=False, style="red")

    def warning(self, message: str) -> None:
        self.console.print(f"warning: {one_line(redact_url(message))}", markup=False)

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(one_line(redact_url(message)), markup=False)

    def engine(self, engine: str, reason: str) -> None:
        self.info(f"engine: {engine} ({reason})")

    def result(self, result: ExtractionResult) -> None:
        """One line per account of the file (usually one), naming the account when several."""
        if self.quiet:
            return
        for account in result.accounts:
            record = account.record
            rows = len(account.document["transactions"])
            passes = len(record.model_passes)
            where = str(result.source)
            if record.account is not None:
                where += f" (account {record.account.index} of {record.account.count})"
            line = f"{where}: {record.status}, {rows} transactions"
            if record.disputes:
                line += f", {len(record.disputes)} disputed"
                if record.text_disputes:
                    line += f" ({record.text_disputes} text only)"
            if passes:
                line += f", {passes} passes"
            self.info(f"{line}, {result.elapsed_s:.1f}s")
            if record.review is not None:
                self.info(f"  review: {record.review}")

    def explain(self, text: str) -> None:
        self.console.print(text, markup=False)

    @contextmanager
    def progress(self, *, total: int) -> Iterator[_Advance]:
        """Progress bars for the batch phases, shown only on a terminal and when not quiet."""
        if self.quiet or not self.console.is_terminal:
            yield _Advance(None, total)
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=self.console, transient=True) as progress:
            yield _Advance(progress, total)
