"""Tests of the stand-in servers themselves."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image


@pytest.fixture(scope="session")
def png_base64() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()
