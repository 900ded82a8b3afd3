"""The container each server becomes: API version, ports, volumes, GPUs (no engine needed)."""

from __future__ import annotations

import pytest

from dualread.config import Settings
from dualread.runtime.docker import (
    DockerEngine,
    DockerError,
    DockerLauncher,
    negotiate_api_version,
    socket_path_from_env,
)
from dualread.runtime.errors import LauncherError
from dualread.runtime.launcher import Placement
from dualread.runtime.servers import server_set

pytestmark = pytest.mark.unit
SERVERS = server_set(Settings(ollama_url="http://127.0.0.1:11434"))


def launcher(**options: object) -> DockerLauncher:
    return DockerLauncher(DockerEngine("/nonexistent.sock"), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("newest", "oldest", "spoken"),
    [
        ("1.41", "1.12", "1.41"),  # Debian bookworm's docker.io 20.10
        ("1.51", "1.24", "1.47"),  # newer daemon: our newest checked version
        ("1.52", "1.44", "1.47"),  # Docker 29 refuses anything older than 1.44
        ("1.52", "1.48", "1.48"),
    ],
)
def test_api_version_negotiation(newest: str, oldest: str, spoken: str) -> None:
    assert negotiate_api_version(newest, oldest) == spoken


def test_a_daemon_without_device_requests_is_refused() -> None:
    with pytest.raises(DockerError, match=r"too old; dualread needs 1\.40"):
        negotiate_api_version("1.39", "1.12")


def test_docker_host_env_names_the_socket() -> None:
    assert socket_path_from_env({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}) == (
        "/run/user/1000/docker.sock"
    )
    assert socket_path_from_env({}) == "/var/run/docker.sock"


def test_ports_are_published_on_loopback_only() -> None:
    config = launcher().container_config(SERVERS.server("ollama"), Placement((0,)))
    assert config["ExposedPorts"] == {"11434/tcp": {}}
    assert config["HostConfig"]["PortBindings"] == {
        "11434/tcp": [{"HostIp": "127.0.0.1", "HostPort": "11434"}]
    }
    assert config["HostConfig"]["NetworkMode"] == "bridge"
    assert config["HostConfig"]["RestartPolicy"] == {"Name": "no"}


def test_model_cache_is_a_named_volume() -> None:
    ollama = launcher().container_config(SERVERS.server("ollama"), Placement())
    vllm = launcher().container_config(SERVERS.server("vllm"), Placement())
    assert ollama["HostConfig"]["Mounts"] == [
        {"Type": "volume", "Source": "dualread-ollama", "Target": "/root/.ollama"}
    ]
    assert vllm["HostConfig"]["Mounts"] == [
        {"Type": "volume", "Source": "dualread-hf-cache", "Target": "/home/vllm/.cache"}
    ]
    # The image says where its cache lives (label dualread.model-cache); that path wins.
    labelled = launcher().container_config(
        SERVERS.server("vllm"), Placement(), cache_path="/root/.cache/huggingface"
    )
    assert labelled["HostConfig"]["Mounts"][0]["Target"] == "/root/.cache/huggingface"


def test_gpus_are_device_requests_or_nvidia_env() -> None:
    vllm = SERVERS.server("vllm")
    config = launcher().container_config(vllm, Placement((1,), 0.19))
    assert config["HostConfig"]["DeviceRequests"] == [
        {"Driver": "nvidia", "DeviceIDs": ["1"], "Capabilities": [["gpu"]]}
    ]
    assert "GPU_MEMORY_UTILIZATION=0.19" in config["Env"]
    assert "MODEL_NAME=nanonets/Nanonets-OCR-s" in config["Env"]
    assert config["Cmd"] == ["--max-num-seqs", "8"]  # appended to the image's `vllm serve`
    assert config["Labels"]["dualread.gpus"] == "1"

    env_bound = launcher(gpu_binding="nvidia-env").container_config(vllm, Placement((0, 1)))
    assert "DeviceRequests" not in env_bound["HostConfig"]
    assert "NVIDIA_VISIBLE_DEVICES=0,1" in env_bound["Env"]
    assert "DeviceRequests" not in launcher().container_config(vllm, Placement())["HostConfig"]


def test_config_digest_changes_with_the_placement() -> None:
    ollama = SERVERS.server("ollama")
    first = launcher().container_config(ollama, Placement((0,)))
    again = launcher().container_config(ollama, Placement((0,)))
    moved = launcher().container_config(ollama, Placement((1,)))
    assert first["Labels"]["dualread.config"] == again["Labels"]["dualread.config"]
    assert first["Labels"]["dualread.config"] != moved["Labels"]["dualread.config"]


def test_host_networking_binds_the_servers_to_loopback_on_their_url_port() -> None:
    servers = server_set(
        Settings(ollama_url="http://127.0.0.1:11500", vllm_url="http://127.0.0.1:8100/v1")
    )
    host = launcher(network_mode="host")
    ollama = host.container_config(servers.server("ollama"), Placement())
    vllm = host.container_config(servers.server("vllm"), Placement())
    assert "PortBindings" not in ollama["HostConfig"] and "ExposedPorts" not in ollama
    assert "OLLAMA_HOST=127.0.0.1:11500" in ollama["Env"]
    assert {"SERVER_HOST=127.0.0.1", "SERVER_PORT=8100"} <= set(vllm["Env"])
    bridged = launcher().container_config(servers.server("ollama"), Placement())
    assert not any(e.startswith("OLLAMA_HOST=") for e in bridged["Env"])  # image: 0.0.0.0


def test_remote_servers_are_not_started_here() -> None:
    remote = server_set(Settings(ollama_url="http://gpu-box:11434")).server("ollama")
    with pytest.raises(LauncherError, match="its URL is not on this host"):
        launcher().create(remote, Placement())


def test_an_unreachable_engine_is_one_clear_line() -> None:
    with pytest.raises(DockerError, match=r"^Docker engine not reachable at /nonexistent.sock: "):
        DockerEngine("/nonexistent.sock").version()
