"""The wheel as a user installs it: the product and its data files, no test tooling.

It builds the real wheel with ``uv build`` (offline: ``uv sync`` has already cached the build
backend) and reads it as an archive, so what is checked is what ships.
"""

from __future__ import annotations

import ast
import email.parser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path, PurePosixPath

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.unit, pytest.mark.slow]

TEST_TOOLING = ("dualread.testing", "pytest", "_pytest", "hypothesis")


def _uv() -> str:
    """The uv that `make` uses: on PATH, else where the Makefile installs it."""
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    assert Path(found).exists(), "uv is not installed (make setup installs it)"
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [_uv(), "build", "--wheel", "--offline", "--quiet", "--out-dir", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "UV_NO_PROGRESS": "1"},
    )
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("dualread-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


@dataclass(frozen=True)
class Import:
    """One name an import statement brings in: ``module`` must be a module; ``member`` (from
    ``from module import member``) may be a submodule or an attribute."""

    importer: str
    module: str
    member: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        if self.member is None:
            return (self.module,)
        return (self.module, f"{self.module}.{self.member}")


def _modules(wheel: zipfile.ZipFile) -> dict[str, tuple[bool, ast.Module]]:
    """Every Python module in the wheel by dotted name: whether it is a package, and its AST."""
    modules = {}
    for name in wheel.namelist():
        if name.endswith(".py"):
            parts = PurePosixPath(name).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            dotted = ".".join(parts[:-1] if is_package else parts)
            modules[dotted] = (is_package, ast.parse(wheel.read(name), filename=name))
    return modules


def _imports(wheel: zipfile.ZipFile) -> Iterator[Import]:
    """Every import statement of every module in the wheel, relative ones made absolute."""
    for importer, (is_package, tree) in _modules(wheel).items():
        package = importer if is_package else importer.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (Import(importer, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*anchor, module] if module else anchor)
                yield from (Import(importer, module, alias.name) for alias in node.names)


def _requirement_names(wheel: zipfile.ZipFile) -> set[str]:
    """Normalised names of the distributions the wheel's metadata requires (extras included)."""
    (metadata_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = email.parser.Parser().parsestr(wheel.read(metadata_name).decode())
    names = set()
    for requirement in metadata.get_all("Requires-Dist") or []:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, requirement
        names.add(_normalise(match.group()))
    return names


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def test_the_wheel_carries_the_schema_and_every_prompt(wheel: zipfile.ZipFile) -> None:
    shipped = set(wheel.namelist())
    data = [
        path.relative_to(REPO_ROOT).as_posix()
        for folder in ("dualread/schemas", "dualread/stages/prompts")
        for path in sorted((REPO_ROOT / folder).iterdir())
        if path.suffix in (".json", ".txt")
    ]
    assert any(p.endswith(".schema.json") for p in data) and any(p.endswith(".txt") for p in data)
    assert [p for p in data if p not in shipped] == []


def test_the_wheel_carries_no_test_tooling(wheel: zipfile.ZipFile) -> None:
    assert [n for n in wheel.namelist() if n.startswith("dualread/testing/")] == []
    assert "dualread/cli/__init__.py" in wheel.namelist()  # the exclusion took only the tooling
    offenders = {
        f"{found.importer} imports {name}"
        for found in _imports(wheel)
        for name in found.names
        if any(name == tool or name.startswith(tool + ".") for tool in TEST_TOOLING)
    }
    assert sorted(offenders) == []


def test_every_import_in_the_wheel_resolves_to_the_wheel_or_a_declared_dependency(
    wheel: zipfile.ZipFile,
) -> None:
    """A product module that imports a dev-only package (or a module left out of the wheel)
    would fail for a user who installed the wheel alone."""
    modules = _modules(wheel)
    declared = _requirement_names(wheel)
    providers = packages_distributions()
    missing = set()
    for found in _imports(wheel):
        top = found.module.split(".")[0]
        if top == "dualread":
            in_wheel = found.module in modules and (
                found.member is None
                or found.names[-1] in modules
                or found.member in _bound_names(modules[found.module][1])
            )
            if not in_wheel:
                missing.add(f"{found.importer} imports {found.names[-1]}: not in the wheel")
        elif top not in sys.stdlib_module_names and top != "__future__":
            distributions = {_normalise(d) for d in providers.get(top, [])}
            if not distributions & declared:
                missing.add(f"{found.importer} imports {top}, which no requirement provides")
    assert sorted(missing) == []


def _bound_names(tree: ast.Module) -> set[str]:
    """The names a module binds anywhere: definitions, assignments and imports."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names
