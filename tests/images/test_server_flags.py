"""One definition of how each server runs (dualread/runtime/servers.py), and the three places that
run it: the process launcher, the images' ENV and entrypoints, and compose.yaml.

The vLLM entrypoint is run for real, with a stand-in ``vllm`` on PATH that prints its argv, so
the flags compared are the ones vLLM would get.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dualread.config import Settings
from dualread.runtime.servers import OLLAMA_ENV, ServerSpec, server_set
from tests.images.image_files import IMAGES_DIR, REPO_ROOT, dockerfile_settings, server_dockerfile

pytestmark = pytest.mark.unit

SERVERS = server_set(Settings())


def rendered(spec: ServerSpec, values: dict[str, str]) -> dict[str, str]:
    return {k: spec.render(v, gpu_memory_utilization=None) for k, v in values.items()}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    return loaded


def compose_env(service: str) -> dict[str, str]:
    """A service's environment, with ``${NAME:-default}`` read as its default."""
    env = compose()["services"][service]["environment"]
    return {k: str(v).split(":-", 1)[-1].rstrip("}") for k, v in env.items()}


def test_the_vllm_entrypoint_passes_the_process_launchers_flags(tmp_path: Path) -> None:
    stub = tmp_path / "vllm"
    stub.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    stub.chmod(0o755)
    image_env = dockerfile_settings(server_dockerfile("vllm"), "ENV")
    env = {**image_env, "PATH": f"{tmp_path}:{os.environ['PATH']}", "SERVER_HOST": "127.0.0.1"}
    spec = SERVERS.server("vllm")
    container_cmd = [spec.render(part, gpu_memory_utilization=None) for part in spec.container_cmd]
    result = subprocess.run(
        ["bash", str(IMAGES_DIR / "vllm" / "entrypoint.sh"), *container_cmd],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    from_image = result.stdout.splitlines()
    process = [spec.render(part, gpu_memory_utilization=0.9) for part in spec.process_argv]
    assert from_image == process[1:]  # the same flags, values and order after `vllm`
    assert '{"image": 1, "video": 0}' in from_image
    assert {"--max-model-len", "--mm-processor-kwargs", "--enable-sleep-mode"} <= set(from_image)


def test_the_images_compose_and_launchers_set_the_same_environment() -> None:
    ollama, vllm = SERVERS.server("ollama"), SERVERS.server("vllm")
    ollama_image = dockerfile_settings(server_dockerfile("ollama"), "ENV")
    server_env = rendered(ollama, dict(OLLAMA_ENV))
    for where in (ollama_image, compose_env("ollama"), rendered(ollama, dict(ollama.process_env))):
        assert {k: where.get(k) for k in server_env} == server_env
    launcher_env = rendered(vllm, dict(vllm.container_env))
    vllm_image = dockerfile_settings(server_dockerfile("vllm"), "ENV")
    for key in ("MAX_MODEL_LEN", "MAX_IMAGE_PIXELS"):
        assert vllm_image[key] == compose_env("vllm")[key] == launcher_env[key]
    assert vllm_image["GPU_MEMORY_UTILIZATION"] == launcher_env["GPU_MEMORY_UTILIZATION"]


def test_compose_and_the_launcher_share_the_model_volumes() -> None:
    """Otherwise `docker compose up` and `dualread servers up` would each download the models."""
    volumes = compose()["volumes"]
    for service, spec in (("ollama", SERVERS.server("ollama")), ("vllm", SERVERS.server("vllm"))):
        (mount,) = compose()["services"][service]["volumes"]
        key, path = mount.split(":", 1)
        assert (volumes[key]["name"], path) == (spec.cache_volume, spec.cache_path)


def test_compose_does_not_give_vllm_most_of_a_shared_gpu() -> None:
    """vLLM exits when the memory it asks for is not free: on the GPU it shares with Ollama
    (compose's default) it asks for its need on a 24 GB GPU, as dualread's plan would."""
    services = compose()["services"]
    ollama_gpus = services["ollama"]["deploy"]["resources"]["reservations"]["devices"]
    vllm_gpus = services["vllm"]["deploy"]["resources"]["reservations"]["devices"]
    assert ollama_gpus[0]["device_ids"] == vllm_gpus[0]["device_ids"]
    share = float(compose_env("vllm")["GPU_MEMORY_UTILIZATION"])
    need = SERVERS.server("vllm").vram_gib
    assert need / 24.0 <= share < 0.6
    assert services["vllm"]["restart"].startswith("on-failure:")
