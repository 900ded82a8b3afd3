"""The server images, built by build-images.sh and run for real on a Docker engine.

The upstream bases (ollama/ollama, vllm/vllm-openai) are stand-ins made locally under their exact
names (tests/docker_support.py); everything of ours in the images (entrypoints, health checks,
users, settings, labels) runs as it would on a GPU host. Containers use host networking (the test
engine has no bridge), each on its own free loopback port.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.docker_support import TEST_IMAGE_REPO, docker_cli
from tests.images.image_files import (
    dockerfile_settings,
    npmci_tag,
    package_version,
    server_dockerfile,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]

HEALTHY_WITHIN_S = 60.0
STOPPED_WITHIN_S = 10.0  # docker stop's default grace period before its SIGKILL
KINDS = ("ollama", "vllm")


def docker(socket_path: Path, *args: str, timeout_s: float = 120, check: bool = True) -> str:
    """The docker CLI against the test engine: its output, or an assertion showing it."""
    result = docker_cli(socket_path, *args, timeout_s=timeout_s)
    output = result.stdout + result.stderr
    assert result.returncode == 0 or not check, f"docker {' '.join(args)}:\n{output}"
    return output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Container:
    socket: Path
    name: str

    def docker(self, *args: str, timeout_s: float = 60) -> str:
        return docker(self.socket, *args, timeout_s=timeout_s)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(
            self.docker("inspect", "--format", "{{json .State}}", self.name)
        )
        return state

    def logs(self) -> str:
        return self.docker("logs", self.name)

    def wait_healthy(self, timeout_s: float = HEALTHY_WITHIN_S) -> float:
        """Seconds until the image's own health check passed; fails on unhealthy or exit."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            state = self.state()
            status = (state.get("Health") or {}).get("Status")
            if status == "healthy":
                return time.monotonic() - started
            assert state["Running"], f"{self.name} exited:\n{self.logs()}"
            assert status != "unhealthy", f"{self.name} unhealthy:\n{self.logs()}"
            time.sleep(0.5)
        pytest.fail(f"{self.name} not healthy within {timeout_s}s:\n{self.logs()}")

    def wait_for_log(self, text: str, timeout_s: float = HEALTHY_WITHIN_S) -> str:
        """The logs once they contain ``text``."""
        deadline = time.monotonic() + timeout_s
        while text not in (logs := self.logs()):
            assert time.monotonic() < deadline, f"no {text!r} in the logs of {self.name}:\n{logs}"
            time.sleep(0.5)
        return logs

    def stop(self) -> float:
        """Seconds ``docker stop`` took; a container that ignores SIGTERM takes 10 s and a kill."""
        started = time.monotonic()
        self.docker("stop", self.name, timeout_s=30)
        elapsed = time.monotonic() - started
        assert elapsed < STOPPED_WITHIN_S, self.logs()
        assert self.state()["ExitCode"] != 137, f"killed, not stopped:\n{self.logs()}"
        return elapsed


RunContainer = Callable[..., Container]


@pytest.fixture
def volume(docker_engine: Path) -> Iterator[str]:
    """A fresh named volume for one test's model cache (removed after its containers)."""
    name = f"dualread-imagetest-{uuid.uuid4().hex[:8]}"
    docker(docker_engine, "volume", "create", name)
    yield name
    docker(docker_engine, "volume", "rm", "--force", name, check=False)


@pytest.fixture
def run_container(docker_engine: Path, volume: str) -> Iterator[RunContainer]:
    """``run(image, env, *mounts)``: a detached container with its cache on the test's volume.

    The health check runs every second here (the images' 30 s is for production); everything
    else about it, the command included, is the image's own.
    """
    names: list[str] = []

    def run(image: str, env: dict[str, str], *mounts: str) -> Container:
        container = Container(docker_engine, f"dualread-imagetest-{uuid.uuid4().hex[:8]}")
        kind = next(kind for kind in KINDS if f".{kind}." in image)
        cache = dockerfile_settings(server_dockerfile(kind), "LABEL")["dualread.model-cache"]
        args = ["run", "--detach", "--name", container.name, "--network", "host"]
        args += ["--volume", f"{volume}:{cache}", "--health-interval", "1s"]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        for mount in mounts:
            args += ["--volume", mount]
        container.docker(*args, image)
        names.append(container.name)
        return container

    yield run
    for name in names:
        docker(docker_engine, "rm", "--force", name, check=False)


def test_build_images_builds_every_image_with_its_tag_and_labels(
    server_images: dict[str, str], docker_engine: Path
) -> None:
    assert server_images == {
        kind: f"{TEST_IMAGE_REPO}:{npmci_tag(server_dockerfile(kind).name)}" for kind in KINDS
    }
    for kind, name in server_images.items():
        labels = json.loads(
            docker(docker_engine, "inspect", "--format", "{{json .Config.Labels}}", name)
        )
        assert labels["version"] == package_version()
        assert labels["dualread.server"] == kind
        declared = dockerfile_settings(server_dockerfile(kind), "LABEL")
        assert labels["dualread.model-cache"] == declared["dualread.model-cache"]


def test_ollama_image_pulls_missing_models_once_and_stops_on_sigterm(
    server_images: dict[str, str], run_container: RunContainer
) -> None:
    image = server_images["ollama"]
    env_of_image = dockerfile_settings(server_dockerfile("ollama"), "ENV")
    models = env_of_image["OLLAMA_PULL_MODELS"].split(",")
    port = free_port()
    env = {"OLLAMA_HOST": f"127.0.0.1:{port}"}

    first = run_container(image, env)
    healthy_s = first.wait_healthy()
    # Healthy means the models are listed; the entrypoint may log its last lines just after.
    logs = first.wait_for_log("dualread-entrypoint: ready")
    for model in models:
        assert f"{model}: missing from the model store, pulling" in logs
        assert f"{model}: pulled" in logs
    tags = httpx.get(f"http://127.0.0.1:{port}/api/tags", timeout=5).json()
    assert sorted(model["name"] for model in tags["models"]) == sorted(models)
    stop_s = first.stop()

    # A new container on the same volume finds both models and pulls nothing.
    second = run_container(image, env)
    second.wait_healthy()
    logs = second.wait_for_log("dualread-entrypoint: ready")
    for model in models:
        assert f"{model}: present in the model store, not pulling" in logs
    assert not re.search(r"(?<!not )pulling", logs), logs
    second.stop()
    print(f"ollama: healthy after {healthy_s:.1f}s, docker stop took {stop_s:.1f}s")


def ollama_shim(tmp_path: Path, shell_lines: str) -> str:
    """A mount that puts a bash ``ollama`` before the image's on PATH: ``shell_lines`` run first,
    then it hands over to the image's own /usr/bin/ollama."""
    shim = tmp_path / "ollama-shim"
    shim.write_text(f'#!/bin/bash\n{shell_lines}\nexec /usr/bin/ollama "$@"\n')
    shim.chmod(0o755)
    return f"{shim}:/usr/local/bin/ollama:ro"


def wait_for_exit(container: Container, timeout_s: float = HEALTHY_WITHIN_S) -> int:
    deadline = time.monotonic() + timeout_s
    while (state := container.state())["Running"]:
        assert time.monotonic() < deadline, container.logs()
        time.sleep(0.5)
    exit_code: int = state["ExitCode"]
    return exit_code


def test_ollama_image_stops_promptly_in_the_middle_of_a_pull(
    server_images: dict[str, str], run_container: RunContainer, tmp_path: Path
) -> None:
    """A pull of several GB must not hold up `docker stop` (bash defers traps during a job)."""
    shim = ollama_shim(tmp_path, "[[ $1 != pull ]] || sleep 300")
    env = {"OLLAMA_HOST": f"127.0.0.1:{free_port()}"}
    container = run_container(server_images["ollama"], env, shim)
    container.wait_for_log("missing from the model store, pulling")
    container.stop()
    assert container.state()["ExitCode"] == 0
    assert "dualread-entrypoint: stopping" in container.logs()


def test_ollama_image_gives_up_when_the_server_never_answers(
    server_images: dict[str, str], run_container: RunContainer, tmp_path: Path
) -> None:
    hung_server = "[[ $1 != serve ]] || exec sleep 300\n[[ $1 != list ]] || exit 1"
    shim = ollama_shim(tmp_path, hung_server)
    env = {"OLLAMA_HOST": f"127.0.0.1:{free_port()}", "OLLAMA_READY_TIMEOUT_S": "2"}
    container = run_container(server_images["ollama"], env, shim)
    assert wait_for_exit(container) == 1
    assert "error: ollama serve did not answer within 2s" in container.logs()


def test_ollama_image_fails_clearly_when_a_pull_fails(
    server_images: dict[str, str], run_container: RunContainer
) -> None:
    # Three path parts is not a valid model name: the stand-in registry refuses it as Ollama's does.
    env = {"OLLAMA_HOST": f"127.0.0.1:{free_port()}", "OLLAMA_PULL_MODELS": "not/a/valid:name"}
    container = run_container(server_images["ollama"], env)
    assert wait_for_exit(container) == 1
    assert "error: pulling not/a/valid:name failed" in container.logs()


def test_vllm_image_runs_non_root_with_its_settings_and_cache_on_the_volume(
    server_images: dict[str, str], run_container: RunContainer
) -> None:
    image = server_images["vllm"]
    env_of_image = dockerfile_settings(server_dockerfile("vllm"), "ENV")
    model = env_of_image["MODEL_NAME"]
    cache = dockerfile_settings(server_dockerfile("vllm"), "LABEL")["dualread.model-cache"]
    port = free_port()
    # Host networking: listen on loopback only. GPU_MEMORY_UTILIZATION: the setting is honoured.
    env = {"SERVER_HOST": "127.0.0.1", "SERVER_PORT": str(port), "GPU_MEMORY_UTILIZATION": "0.55"}

    first = run_container(image, env)
    healthy_s = first.wait_healthy()
    logs = first.logs()
    command_line = re.search(r"stand-in vllm serve: (\{.*\})", logs)
    assert command_line is not None, logs
    serve_args = json.loads(command_line[1])
    assert serve_args["model"] == model
    assert serve_args["max_model_len"] == int(env_of_image["MAX_MODEL_LEN"])
    assert serve_args["gpu_memory_utilization"] == 0.55
    assert serve_args["limit_mm_per_prompt"] == {"image": 1, "video": 0}
    assert serve_args["enable_sleep_mode"] is True
    assert f"downloading {model} into {cache}/huggingface/hub/" in logs
    assert first.docker("exec", first.name, "id", "-u").strip() == "10001"

    base = f"http://127.0.0.1:{port}"
    served = httpx.get(f"{base}/v1/models", timeout=5).json()["data"]
    assert [entry["id"] for entry in served] == [model]
    # Sleep mode is reachable: VLLM_SERVER_DEV_MODE=1 reached the server with the flag.
    assert httpx.post(f"{base}/sleep", params={"level": "1"}, timeout=5).status_code == 200
    assert httpx.get(f"{base}/is_sleeping", timeout=5).json() == {"is_sleeping": True}
    assert httpx.post(f"{base}/wake_up", timeout=5).status_code == 200
    stop_s = first.stop()

    second = run_container(image, env)
    second.wait_healthy()
    second.wait_for_log(f"{model} found in the Hugging Face cache")
    second.stop()
    print(f"vllm: healthy after {healthy_s:.1f}s, docker stop took {stop_s:.1f}s")
