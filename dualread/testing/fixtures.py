"""pytest fixtures for the stand-in servers (register with
``pytest_plugins = ["dualread.testing.fixtures"]``).

Every stand-in a test starts is checked when the test ends: a request it rejected fails the test,
unless the test started it with ``allow_rejections=True`` to exercise a rejection on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dualread.config import Role, Settings
from dualread.testing.standins.launch import RunningStandin, start_standin

# The model clients and the oracle (the embedded engine) are imported where they are used: every
# pytest process loads this plugin, the xdist controller too, which runs no test at all.
if TYPE_CHECKING:
    from dualread.backends.base import Backend

# A reader-mode page costs the embedded engine's OCR time: 3-6 s on two idle cores, several
# times that on a loaded CI machine.
READER_TIMEOUT_S = 300.0

StartStandin = Callable[..., RunningStandin]
OracleFile = Callable[..., Path]


@dataclass
class StandinRoutes:
    """Both stand-ins, sharing one oracle, and Settings whose URLs point at them."""

    ollama: RunningStandin
    openai: RunningStandin
    settings: Settings

    def backend(self, role: Role) -> Backend:
        from dualread.backends.factory import make_backend

        return make_backend(self.settings.role(role), self.settings)


StartRoutes = Callable[..., StandinRoutes]


@pytest.fixture
def standin_server() -> Iterator[StartStandin]:
    """``standin_server(kind, allow_rejections=False, **options)`` starts a stand-in (options as
    :func:`start_standin`); all are stopped, and checked for rejections, after the test."""
    running: list[tuple[RunningStandin, bool]] = []

    def start(kind: str, *, allow_rejections: bool = False, **options: Any) -> RunningStandin:
        server = start_standin(kind, **options)
        running.append((server, allow_rejections))
        return server

    yield start
    problems = []
    for server, allow_rejections in running:
        try:
            if not allow_rejections:
                rejections = server.stats()["rejections"]
                problems += [f"{server.kind}: {r['path']}: {r['reason']}" for r in rejections]
        finally:
            server.stop()
    if problems:
        pytest.fail("stand-in rejected requests:\n" + "\n".join(problems))


@pytest.fixture(scope="session")
def oracle_file(tmp_path_factory: pytest.TempPathFactory) -> OracleFile:
    """``oracle_file(fixtures, dpi=200)``: the path of an oracle index for those fixtures, built
    once per session for each distinct request."""
    built: dict[tuple[tuple[str, ...], tuple[int, ...]], Path] = {}

    def build(fixtures: Sequence[Path | str], dpi: int | Sequence[int] = 200) -> Path:
        from dualread.testing.oracle import build_oracle_index, write_oracle_index

        dpis = (dpi,) if isinstance(dpi, int) else tuple(dpi)
        key = (tuple(str(Path(f).resolve()) for f in fixtures), dpis)
        if key not in built:
            path = tmp_path_factory.mktemp("oracle") / "index.json"
            built[key] = write_oracle_index(build_oracle_index(fixtures, dpis), path)
        return built[key]

    return build


@pytest.fixture
def standin_routes(standin_server: StartStandin, oracle_file: OracleFile) -> StartRoutes:
    """``standin_routes(fixtures=(), reader=False, dpi=200, ollama={...}, openai={...},
    **settings)``: the stand-in Ollama and vLLM servers answering from ``fixtures``' truth, and in
    reader mode from the embedded engine's reading of any other page (server options as
    :func:`start_standin`), and Settings for them (``settings`` override its fields; one retry
    and a 30 s timeout by default, so a failing test fails fast; in reader mode 300 s, as reading
    a page takes its OCR time)."""

    def start(
        fixtures: Sequence[Path | str] = (),
        *,
        reader: bool = False,
        dpi: int | Sequence[int] = 200,
        ollama: dict[str, Any] | None = None,
        openai: dict[str, Any] | None = None,
        **settings: Any,
    ) -> StandinRoutes:
        oracle = oracle_file(fixtures, dpi) if fixtures else None
        ollama_server = standin_server("ollama", oracle=oracle, reader=reader, **(ollama or {}))
        openai_server = standin_server("openai", oracle=oracle, reader=reader, **(openai or {}))
        timeout_s = READER_TIMEOUT_S if reader else 30.0
        chosen = {"retries": 1, "timeout_s": timeout_s, **settings}
        configured = Settings(
            ollama_url=ollama_server.url, vllm_url=openai_server.api_url, **chosen
        )
        return StandinRoutes(ollama_server, openai_server, configured)

    return start
