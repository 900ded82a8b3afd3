"""Real servers for the lifecycle tests: stand-in Ollama and vLLM as local processes, or the
product images (built on stand-in bases) as containers on the test Docker engine.

A rig gives the scheduler its launcher and server specs, and gives the tests what the scheduler
does not: what runs right now, which models hold (simulated) GPU memory, and a way to crash a
server the way a GPU OOM or a segfault would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

from dualread.backends.base import Backend, ChatRequest
from dualread.backends.factory import make_backend
from dualread.cache import AnswerCache
from dualread.config import Role, Settings
from dualread.documents import open_document
from dualread.pipeline import BatchOptions, DocumentEvidence, read_batch
from dualread.readers import Readers
from dualread.runtime.docker import DockerEngine, DockerLauncher
from dualread.runtime.gpu import Gpu
from dualread.runtime.launcher import Launcher
from dualread.runtime.plan import Preference, make_plan
from dualread.runtime.process import ProcessLauncher
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import ServerSet, ServerSpec, server_set
from dualread.stages.contexts import NUM_CTX
from tests.conftest import REPO_ROOT
from tests.docker_support import docker_client

T = TypeVar("T")

IMAGE_REPO = "dualread-test"  # the repository tests/images builds the product images under
ONE_SMALL_GPU = [Gpu(0, "simulated 24 GB GPU", 24564, 0)]
TWO_GPUS = [Gpu(0, "simulated GPU 0", 24564, 0), Gpu(1, "simulated GPU 1", 24564, 0)]
STANDIN = (sys.executable, "-m", "dualread.testing.standins")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def loopback_settings() -> Settings:
    return Settings(
        ollama_url=f"http://127.0.0.1:{free_port()}",
        vllm_url=f"http://127.0.0.1:{free_port()}/v1",
        retries=0,
        timeout_s=30.0,
        connect_timeout_s=2.0,
    )


class Rig(Protocol):
    backends: dict[Role, Backend]  # one client per role, shared by the request threads

    @property
    def settings(self) -> Settings: ...

    @property
    def servers(self) -> ServerSet: ...

    @property
    def launcher(self) -> Launcher: ...

    def running(self) -> set[str]:
        """Names of the servers whose process or container runs now."""

    def crash(self, server: ServerSpec) -> None:
        """Kill the server with SIGKILL, as a GPU fault or an OOM kill would."""

    def gpu_ids(self, server: ServerSpec) -> str:
        """The GPU ids the running server was given."""

    def cleanup(self) -> None: ...


_probe = httpx.Client(timeout=2.0)


def resident_models(servers: ServerSet) -> set[str]:
    """Models holding GPU memory, as the servers themselves report it (/api/ps, /is_sleeping)."""
    found: set[str] = set()
    for spec in servers.servers:
        try:
            if spec.kind == "ollama":
                listing = _probe.get(f"{spec.base_url}/api/ps").json()["models"]
                found |= {f"{spec.name}:{m['model']}" for m in listing}
            else:
                answer = _probe.get(f"{spec.base_url}/is_sleeping")
                if answer.status_code == 200 and not answer.json()["is_sleeping"]:
                    found.add(f"{spec.name}:{spec.models[0].name}")
        except httpx.HTTPError:
            continue  # not running: holds nothing
    return found


def wait_until_answering(servers: ServerSet, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    for spec in servers.servers:
        while True:
            try:
                if _probe.get(spec.base_url + spec.health_path).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{spec.name} did not answer"
            time.sleep(0.05)


def manager_for(
    rig: Rig, gpus: list[Gpu] = ONE_SMALL_GPU, prefer: Preference = "best"
) -> ServerManager:
    plan = make_plan(gpus, rig.servers, prefer=prefer)
    return ServerManager(plan, rig.servers, rig.launcher, health_timeout_s=60.0, poll_s=0.05)


def model_request(rig: Rig, role: Role) -> str:
    """One short chat through the product's backend for ``role`` (real client, real HTTP)."""
    if role not in rig.backends:
        rig.backends[role] = make_backend(rig.settings.role(role), rig.settings)
    reply = rig.backends[role].chat(
        ChatRequest(
            model=rig.servers.model_for(role),
            prompt="ping",
            max_tokens=8,
            num_ctx=NUM_CTX[role],  # as the stages send it: one context per role
        )
    )
    return reply.text


def standin_stats(spec: ServerSpec) -> dict[str, Any]:
    stats: dict[str, Any] = _probe.get(f"{spec.base_url}/_standin/stats").json()
    return stats


@dataclass
class ProcessRig:
    """Stand-in servers run by :class:`ProcessLauncher` with the stand-ins as their command,
    given the product's own flags and environment (the stand-ins take vLLM's flags, and read
    OLLAMA_HOST and OLLAMA_CONTEXT_LENGTH as `ollama serve` does)."""

    settings: Settings
    servers: ServerSet
    launcher: ProcessLauncher
    backends: dict[Role, Backend] = field(default_factory=dict)

    @classmethod
    def create(cls, state_dir: Path) -> ProcessRig:
        settings = loopback_settings()
        base = server_set(settings)
        ollama, vllm = base.server("ollama"), base.server("vllm")
        assert ollama.process_argv == ("ollama", "serve")
        assert vllm.process_argv[:3] == ("vllm", "serve", "{model}")
        models = ("--models", "{models}")
        servers = ServerSet(
            (
                replace(ollama, process_argv=(*STANDIN, "ollama", *models)),
                replace(vllm, process_argv=(*STANDIN, "openai", *models, *vllm.process_argv[3:])),
            ),
            base.roles,
        )
        return cls(settings, servers, ProcessLauncher(state_dir, stop_timeout_s=5.0))

    def running(self) -> set[str]:
        return {s.name for s in self.servers.servers if self.launcher.pid(s) is not None}

    def crash(self, server: ServerSpec) -> None:
        pid = self.launcher.pid(server)
        assert pid is not None, f"{server.name} is not running"
        os.killpg(pid, signal.SIGKILL)
        self.launcher._children[server.name].wait(5)  # reap it, as a dead server stays dead

    def gpu_ids(self, server: ServerSpec) -> str:
        pid = self.launcher.pid(server)
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        values = [e.split(b"=", 1)[1] for e in environ if e.startswith(b"CUDA_VISIBLE_DEVICES=")]
        return values[0].decode() if values else ""

    def cleanup(self) -> None:
        for spec in self.servers.servers:
            self.launcher.stop(spec)


def build_product_images(socket_path: Path) -> dict[str, str]:
    """The product images, built by build-images.sh on the stand-in bases, which must exist
    (cached layers make a rebuild take seconds); returns kind -> image name."""
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "build-images.sh"), "--network", "host"],
        env=dict(
            os.environ,
            IMAGE_REPO=IMAGE_REPO,
            DOCKER_HOST=f"unix://{socket_path}",
            DOCKER_BUILDKIT="0",
        ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    defaults = server_set(Settings()).servers
    return {s.kind: f"{IMAGE_REPO}:{s.image.split(':', 1)[1]}" for s in defaults}


@dataclass
class DockerRig:
    """The product images as containers. The test engine has no bridge network, so containers
    use host networking and bind 127.0.0.1 on their URL's port (the product's loopback env)."""

    settings: Settings
    servers: ServerSet
    launcher: DockerLauncher
    socket_path: Path
    run_label: str
    backends: dict[Role, Backend] = field(default_factory=dict)

    @classmethod
    def create(cls, socket_path: Path, images: dict[str, str]) -> DockerRig:
        settings = loopback_settings()
        run = uuid.uuid4().hex[:8]
        base = server_set(settings, {"ollama": images["ollama"], "vllm": images["vllm"]})
        servers = ServerSet(
            tuple(replace(s, cache_volume=f"dualread-test-{run}-{s.name}") for s in base.servers),
            base.roles,
        )
        launcher = DockerLauncher(
            DockerEngine(str(socket_path)),
            network_mode="host",
            gpu_binding="nvidia-env",  # no NVIDIA runtime on the test engine; see test_docker
            name_prefix=f"dualread-test-{run}-",
            stop_timeout_s=10,
            labels={"dualread.test-run": run},
        )
        return cls(settings, servers, launcher, socket_path, run)

    def containers(self, *, running_only: bool) -> list[dict[str, object]]:
        listed = self.launcher.engine.list_containers(
            {"dualread.test-run": self.run_label}, include_stopped=not running_only
        )
        return listed

    def running(self) -> set[str]:
        """Asked of the engine itself: containers of this run in state running."""
        return {
            str(c["Labels"]["dualread.server"])  # type: ignore[index]
            for c in self.containers(running_only=True)
        }

    def crash(self, server: ServerSpec) -> None:
        self.launcher.engine.kill(self.launcher.container_name(server))

    def gpu_ids(self, server: ServerSpec) -> str:
        found = self.launcher.engine.inspect(self.launcher.container_name(server))
        assert found is not None
        env = [e for e in found["Config"]["Env"] if e.startswith("NVIDIA_VISIBLE_DEVICES=")]
        return env[0].split("=", 1)[1] if env else ""

    def cleanup(self) -> None:
        for container in self.containers(running_only=False):
            self.launcher.engine.remove(str(container["Id"]), force=True)
        with docker_client(self.socket_path) as client:
            for spec in self.servers.servers:
                client.delete(f"/volumes/{spec.cache_volume}")
        self.launcher.engine.close()


SAMPLE = REPO_ROOT / "fixtures" / "sample" / "statement.pdf"


class _Recording:
    """The manager as the pipeline's control, telling ``on_call`` of each model call (a
    document's reading by one role) as it starts."""

    def __init__(self, manager: ServerManager, on_call: Callable[[Role], object]) -> None:
        self.manager, self.on_call = manager, on_call

    def activate(self, role: Role) -> None:
        self.manager.activate(role)

    def call(self, role: Role, request: Callable[[], T]) -> T:
        def recorded() -> T:
            self.on_call(role)
            return request()

        return self.manager.call(role, recorded)

    def backends(self, settings: Settings) -> Mapping[Role, Backend]:
        return self.manager.backends(settings)

    def documents_at_once(self, role: Role) -> int:
        return self.manager.documents_at_once(role)


def read_batch_through(
    rig: Rig,
    manager: ServerManager,
    documents: int,
    on_call: Callable[[Role], object] = lambda role: None,
) -> list[DocumentEvidence]:
    """Read ``documents`` copies of the sample with both routes through the product's own
    :func:`~dualread.pipeline.read_batch`, its servers run by ``manager``; the stand-ins answer
    what they answer for a page they hold no truth for."""
    settings = replace(rig.settings, use_cache=False)
    readers = Readers(settings, AnswerCache(settings.cache_dir, enabled=False))
    options = BatchOptions(routes=("visual", "ocr"), embedded=False)
    control = _Recording(manager, on_call)
    with ExitStack() as stack:
        opened = [stack.enter_context(open_document(SAMPLE)) for _ in range(documents)]
        return list(read_batch(opened, readers, settings, options, control))
