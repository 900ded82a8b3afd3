"""Running ``dualread extract`` for the safety probes: in process (fast), or as a real child
process when the probe is about the process's own file descriptors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from dualread.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample" / "statement.pdf"


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No user config, a private cache under ``tmp_path``, no retries."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALREAD_")}
    env.update(
        DUALREAD_CONFIG=str(tmp_path / "no-config.toml"),
        DUALREAD_CACHE_DIR=str(tmp_path / "cache"),
        DUALREAD_RETRIES="0",
    )
    env.update(extra)
    return env


def extract(tmp_path: Path, *args: str, input: str | None = None, **env: str) -> Outcome:
    """``dualread extract ARGS`` in this process (the embedded engine unless ARGS say otherwise)."""
    engine = [] if "--engine" in args else ["--engine", "embedded"]
    result = CliRunner().invoke(
        app,
        ["extract", *args, *engine],
        env=isolated_env(tmp_path, **env),
        input=input,
        catch_exceptions=False,
    )
    return Outcome(result.exit_code, result.stdout, result.stderr)


def extract_process(
    tmp_path: Path, *args: str, shell_redirect: str = ""
) -> subprocess.CompletedProcess[str]:
    """``python -m dualread extract ARGS`` as a child process, its stdout redirected by
    ``shell_redirect`` (``>&-`` closes it, ``>/dev/full`` fills the disk)."""
    command = " ".join([sys.executable, "-m", "dualread", "extract", *args, "--engine embedded"])
    return subprocess.run(
        ["bash", "-c", f"exec {command} {shell_redirect}"],
        capture_output=not shell_redirect,
        stderr=subprocess.PIPE if shell_redirect else None,
        text=True,
        cwd=ROOT,
        env=isolated_env(tmp_path),
        timeout=120,
    )


def sample_copy(path: Path) -> Path:
    """The sample statement (16 rows, read in a tenth of a second by the embedded engine)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(SAMPLE, path))
