"""DockerLauncher against the real test engine: API version, what the engine stores for our
containers (ports, volumes, GPU requests), container reuse, and stop times.

The test engine has no NVIDIA runtime, so a container with an nvidia DeviceRequest can be
created and inspected but not started; that refusal is asserted too, so the limit is explicit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dualread.runtime.docker import OLDEST_API, DockerEngine, DockerLauncher
from dualread.runtime.errors import LauncherError, ServersUnavailable
from dualread.runtime.launcher import Placement
from dualread.runtime.plan import make_plan
from dualread.runtime.scheduler import ServerManager
from tests.runtime.rigs import TWO_GPUS, DockerRig

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
def rig(docker_engine: Path, product_images: dict[str, str]) -> Iterator[DockerRig]:
    made = DockerRig.create(docker_engine, product_images)
    yield made
    made.cleanup()


def _launcher_like(rig: DockerRig, **options: object) -> DockerLauncher:
    """A launcher with the rig's names and labels but other options (cleaned up by the rig)."""
    return DockerLauncher(
        rig.launcher.engine,
        name_prefix=rig.launcher.name_prefix,
        labels=rig.launcher.labels,
        **options,  # type: ignore[arg-type]
    )


def test_api_version_is_negotiated_with_the_engine(docker_engine: Path) -> None:
    engine = DockerEngine(str(docker_engine))
    info = engine.version()
    spoken = tuple(int(p) for p in engine.api_version.split("."))
    assert tuple(int(p) for p in OLDEST_API.split(".")) <= spoken
    assert spoken <= tuple(int(p) for p in info["ApiVersion"].split("."))
    engine.close()


def test_two_gpu_plan_asks_docker_for_distinct_nvidia_devices(rig: DockerRig) -> None:
    plan = make_plan(TWO_GPUS, rig.servers)
    launcher = _launcher_like(rig, network_mode="host", gpu_binding="device-requests")
    requests = {}
    for spec in rig.servers.servers:
        container = launcher.create(spec, plan.placements[spec.name])
        stored = launcher.engine.inspect(container)
        assert stored is not None
        requests[spec.name] = stored["HostConfig"]["DeviceRequests"]
    assert {name: r[0]["DeviceIDs"] for name, r in requests.items()} == {
        "ollama": ["0"],
        "vllm": ["1"],
    }
    assert all(
        r[0]["Driver"] == "nvidia" and r[0]["Capabilities"] == [["gpu"]] for r in requests.values()
    )


def test_without_the_nvidia_runtime_a_gpu_container_fails_with_one_clear_line(
    rig: DockerRig,
) -> None:
    plan = make_plan(TWO_GPUS, rig.servers)
    launcher = _launcher_like(rig, network_mode="host", gpu_binding="device-requests")
    manager = ServerManager(plan, rig.servers, launcher, health_timeout_s=30, poll_s=0.05)
    with pytest.raises(ServersUnavailable) as failure:
        manager.activate("visual")
    message = str(failure.value)
    assert "\n" not in message and "500" in message
    assert "nvidia" in message or "device driver" in message, message
    manager.close()


def test_bridge_networking_publishes_on_loopback_only(rig: DockerRig) -> None:
    launcher = _launcher_like(rig, network_mode="bridge")
    spec = rig.servers.server("ollama")
    stored = launcher.engine.inspect(launcher.create(spec, Placement()))
    assert stored is not None
    assert stored["HostConfig"]["PortBindings"] == {
        "11434/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(spec.port)}]
    }


def test_model_caches_are_named_volumes_where_the_image_keeps_them(rig: DockerRig) -> None:
    for spec in rig.servers.servers:
        rig.launcher.start(spec, Placement())
        stored = rig.launcher.engine.inspect(rig.launcher.container_name(spec))
        assert stored is not None
        (mount,) = stored["Mounts"]
        assert (mount["Type"], mount["Name"]) == ("volume", spec.cache_volume)
        # From the image's dualread.model-cache label (the vLLM image runs as a non-root user).
        expected = "/root/.ollama" if spec.kind == "ollama" else "/home/vllm/.cache"
        assert mount["Destination"] == expected


def test_a_stopped_container_is_started_again_and_a_new_placement_replaces_it(
    rig: DockerRig,
) -> None:
    spec = rig.servers.server("vllm")
    rig.launcher.start(spec, Placement((0,)))
    first = rig.launcher.engine.inspect(rig.launcher.container_name(spec))
    assert first is not None
    started = time.monotonic()
    rig.launcher.stop(spec)
    assert time.monotonic() - started < 10.0  # the entrypoint forwards SIGTERM
    assert not rig.launcher.is_running(spec)
    rig.launcher.start(spec, Placement((0,)))
    again = rig.launcher.engine.inspect(rig.launcher.container_name(spec))
    assert again is not None and again["Id"] == first["Id"]  # `docker start`, as the seeds did
    rig.launcher.start(spec, Placement((1,)))  # running: a start is a no-op while running
    rig.launcher.stop(spec)
    rig.launcher.start(spec, Placement((1,)))
    moved = rig.launcher.engine.inspect(rig.launcher.container_name(spec))
    assert moved is not None and moved["Id"] != first["Id"]
    assert moved["Config"]["Labels"]["dualread.gpus"] == "1"


def test_a_missing_image_is_named(rig: DockerRig) -> None:
    spec = replace(rig.servers.server("ollama"), image="dualread-test:no-such-tag")
    with pytest.raises(LauncherError, match="image dualread-test:no-such-tag is not on this host"):
        rig.launcher.start(spec, Placement())
