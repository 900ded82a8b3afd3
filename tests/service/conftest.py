"""Fixtures for the service tests: the app in process, and ``dualread serve`` as a process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualread.config import Settings
from dualread.service.app import create_app
from dualread.service.config import ServiceConfig
from tests.service.support import ServeProcess

MakeClient = Callable[..., TestClient]
StartServe = Callable[..., ServeProcess]


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[MakeClient]:
    """``make_client(**config)``: the app in process (lifespan and workers running), on a fresh
    data folder unless ``data_dir`` is given."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "settings": Settings(use_cache=False),
            "workers": 1,
        }
        values |= overrides
        client = TestClient(create_app(ServiceConfig(**values)))  # type: ignore[arg-type]
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[StartServe]:
    """``serve(*args, env={...}, data_dir=...)``: ``dualread serve`` started as a process."""
    running: list[ServeProcess] = []

    def start(
        *args: str, env: dict[str, str] | None = None, data_dir: Path | None = None
    ) -> ServeProcess:
        process = ServeProcess(data_dir or tmp_path / "data", list(args), env or {})
        running.append(process)
        return process.start()

    yield start
    for process in running:
        process.stop()
