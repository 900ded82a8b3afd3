"""The runtime tests' fixtures: the shared Docker engine and stand-in bases
(tests/docker_support.py), and the product images built on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docker_support import docker_engine, standin_bases
from tests.runtime.rigs import build_product_images

__all__ = ["docker_engine", "product_images", "standin_bases"]


@pytest.fixture(scope="session")
def product_images(docker_engine: Path, standin_bases: dict[str, str]) -> dict[str, str]:
    """kind -> name of the product image, built by build-images.sh on the stand-in bases."""
    return build_product_images(docker_engine)
