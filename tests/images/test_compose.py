"""compose.yaml runs the images build-images.sh makes, privately, on GPUs, with cached models.

No compose plugin is installed here, so the file is checked as data against the images.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.images.image_files import (
    REPO_ROOT,
    dockerfile_settings,
    npmci_tag,
    server_dockerfile,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    found: dict[str, Any] = compose["services"]
    assert set(found) == {"ollama", "vllm"}
    assert set(compose["volumes"]) == {
        volume.split(":", 1)[0] for service in found.values() for volume in service["volumes"]
    }
    return found


@pytest.mark.parametrize("kind", ["ollama", "vllm"])
def test_service_runs_the_built_image_with_its_cache_on_a_volume(
    services: dict[str, Any], kind: str
) -> None:
    service = services[kind]
    dockerfile = server_dockerfile(kind)
    assert service["image"] == "${IMAGE_REPO:-dualread}:" + npmci_tag(dockerfile.name)
    cache = dockerfile_settings(dockerfile, "LABEL")["dualread.model-cache"]
    assert [volume.split(":", 1)[1] for volume in service["volumes"]] == [cache]


@pytest.mark.parametrize("kind", ["ollama", "vllm"])
def test_service_publishes_on_loopback_only(services: dict[str, Any], kind: str) -> None:
    ports = services[kind]["ports"]
    assert ports and all(port.startswith("127.0.0.1:") for port in ports)


@pytest.mark.parametrize("kind", ["ollama", "vllm"])
def test_service_reserves_an_nvidia_gpu(services: dict[str, Any], kind: str) -> None:
    (device,) = services[kind]["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert device["capabilities"] == ["gpu"]
    assert device["device_ids"] == ["0"]
