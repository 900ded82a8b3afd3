"""Backend tests run against the stand-in servers (``dualread.testing.fixtures``); each test gets
its own server process."""

from __future__ import annotations

import io
import socket

import pytest
from PIL import Image


@pytest.fixture(scope="session")
def page_image() -> bytes:
    """A small PNG, enough for the stand-ins' image checks."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
