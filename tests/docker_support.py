"""A real Docker engine and registry-free base images for the ``docker`` test tier.

Used by the image tests (``tests/images``) and by the runtime tests; import the fixtures into a
``conftest.py`` (``from tests.docker_support import docker_engine, server_images``), or prepare
everything ahead with ``uv run --frozen python -m tests.docker_support``.

- :func:`docker_engine` reuses an engine that answers on the socket, or starts one with
  ``scripts/start-dockerd.sh`` (root only). The daemon is left running at the end: concurrent
  test sessions on one machine share it, and stopping it under them would kill their containers.
- No registry is reachable here, so base images are made locally: ``debootstrap`` a minimal
  Debian once, ``docker import`` it (:func:`ensure_debian_base`), then build a stand-in under
  every exact ``FROM`` name of ``images/Dockerfile_*`` (:func:`ensure_standin_bases`). A stand-in
  holds the ``dualread.testing`` stand-in servers and an ``ollama`` / ``vllm`` executable with
  the real CLI's shape, so the real entrypoints and health checks run unchanged;
- :func:`build_server_images` builds ``images/`` with ``build-images.sh`` on those bases.

Set ``DUALREAD_REQUIRE_DOCKER=1`` (CI) to turn "cannot set up Docker" into a failure, not a skip.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
IMAGES_DIR = REPO_ROOT / "images"
STANDIN_DIR = Path(__file__).resolve().parent / "images" / "standin"
START_DOCKERD = REPO_ROOT / "scripts" / "start-dockerd.sh"
BUILD_IMAGES = REPO_ROOT / "build-images.sh"
# The images' repository in tests, so they never stand in for a user's real dualread:<tag>.
TEST_IMAGE_REPO = "dualread-test"
# Label on every server image: "ollama" or "vllm".
SERVER_KIND_LABEL = "dualread.server"

DOCKER_SOCKET = Path(os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock"))
# One lock for every set-up step, so two test sessions never start two daemons or debootstrap
# the same base twice.
SETUP_LOCK = Path("/tmp/dualread-docker-setup.lock")

# Only python3, which runs the stand-in servers: a stand-in must not offer tools its upstream
# image lacks (ollama/ollama has no curl), or an entrypoint relying on them would pass here and
# fail on a GPU host. The tag names the package set, so changing it makes a new base.
DEBIAN_PACKAGES = ("python3",)
DEBIAN_BASE = f"dualread-standin/debian:bookworm-minbase-{'-'.join(DEBIAN_PACKAGES)}"
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")

# Upstream repository of a FROM name -> the stand-in recipe under tests/images/standin/<kind>/.
STANDIN_KINDS = {"ollama/ollama": "ollama", "vllm/vllm-openai": "vllm"}
# Label on a stand-in image: the hash of what it was built from, so edits rebuild it.
STANDIN_SOURCE_LABEL = "dualread.standin.sources"

_FROM_LINE = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", re.IGNORECASE | re.MULTILINE)
# A build argument's default ('ARG VLLM_IMAGE=vllm/vllm-openai:v0.32.0'), which a FROM may name.
_ARG_LINE = re.compile(r"^\s*ARG\s+(\w+)=(\S+)", re.IGNORECASE | re.MULTILINE)
_ARG_USE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


class DockerUnavailable(RuntimeError):
    """Docker cannot be set up here; the message names what is missing."""


def docker_client(socket: Path = DOCKER_SOCKET, timeout_s: float = 10.0) -> httpx.Client:
    """An httpx client for the Engine API on the unix socket (unversioned paths)."""
    return httpx.Client(
        transport=httpx.HTTPTransport(uds=str(socket)), base_url="http://docker", timeout=timeout_s
    )


def engine_answers(socket: Path = DOCKER_SOCKET) -> bool:
    if not socket.exists():
        return False
    try:
        with docker_client(socket, timeout_s=3.0) as client:
            return client.get("/_ping").text == "OK"
    except httpx.HTTPError:
        return False


@contextmanager
def _setup_lock() -> Iterator[None]:
    with SETUP_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _docker_env(socket: Path) -> dict[str, str]:
    """Environment for the docker CLI and our scripts: this socket, and no BuildKit (the test
    hosts have no buildx plugin)."""
    env = dict(os.environ, DOCKER_HOST=f"unix://{socket}", DOCKER_SOCKET=str(socket))
    env.setdefault("DOCKER_BUILDKIT", "0")
    return env


def docker_cli(
    socket: Path, *args: str, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    """``docker ARGS`` against the engine on ``socket``; the caller judges the result."""
    return subprocess.run(
        ["docker", *args],
        env=_docker_env(socket),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def ensure_engine(socket: Path = DOCKER_SOCKET) -> Path:
    """The socket of an answering engine, started here if needed.

    Raises :class:`DockerUnavailable`, naming what is missing, when there can be none.
    """
    if engine_answers(socket):
        return socket
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        raise DockerUnavailable("dockerd/docker not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        raise DockerUnavailable(f"no Docker engine on {socket} and starting dockerd needs root")
    with _setup_lock():
        if not engine_answers(socket):
            _run(["bash", str(START_DOCKERD)], socket, 120, DockerUnavailable)
    if not engine_answers(socket):
        raise DockerUnavailable(f"dockerd started but {socket} does not answer /_ping")
    return socket


def image_exists(name: str, socket: Path = DOCKER_SOCKET) -> bool:
    with docker_client(socket) as client:
        return client.get(f"/images/{name}/json").status_code == 200


def image_labels(name: str, socket: Path = DOCKER_SOCKET) -> dict[str, str]:
    with docker_client(socket) as client:
        response = client.get(f"/images/{name}/json")
        response.raise_for_status()
        labels: dict[str, str] | None = response.json()["Config"].get("Labels")
        return labels or {}


def _run(
    argv: list[str],
    socket: Path,
    timeout_s: float,
    error: type[Exception] = RuntimeError,
    **env: str,
) -> str:
    """Run a set-up command; its stdout, or ``error`` with the end of its output.

    ``error`` is :class:`DockerUnavailable` (a skip) where the host is at fault, a plain error
    (a failure) where our own files are.
    """
    result = subprocess.run(
        argv,
        env=dict(_docker_env(socket), **env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise error(f"{Path(argv[0]).name} {Path(argv[1]).name} ... failed:\n{tail}")
    return result.stdout


def ensure_debian_base(socket: Path = DOCKER_SOCKET) -> str:
    """The local minimal Debian image: debootstrap + docker import on first use (~1 min)."""
    if image_exists(DEBIAN_BASE, socket):
        return DEBIAN_BASE
    if shutil.which("debootstrap") is None:
        raise DockerUnavailable("debootstrap not installed (apt-get install debootstrap)")
    with _setup_lock():
        if image_exists(DEBIAN_BASE, socket):
            return DEBIAN_BASE
        rootfs = Path(tempfile.mkdtemp(prefix="dualread-rootfs-", dir="/var/tmp"))
        try:
            _run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(DEBIAN_PACKAGES)}",
                    "bookworm",
                    str(rootfs),
                    DEBIAN_MIRROR,
                ],
                socket,
                900,
                DockerUnavailable,  # no mirror reachable: the host's fault
            )
            # Downloaded .debs and package lists are a third of the tree and never used again.
            for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for path in (rootfs / leftover).glob("*"):
                    if path.is_file():
                        path.unlink()
            _import_rootfs(rootfs, socket)
        finally:
            shutil.rmtree(rootfs, ignore_errors=True)
    return DEBIAN_BASE


def _import_rootfs(rootfs: Path, socket: Path) -> None:
    """``tar -C rootfs -c . | docker import - DEBIAN_BASE``."""
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    assert tar.stdout is not None
    result = subprocess.run(
        ["docker", "import", "-", DEBIAN_BASE],
        stdin=tar.stdout,
        env=_docker_env(socket),
        capture_output=True,
        text=True,
        timeout=600,
    )
    tar.stdout.close()
    if tar.wait() != 0 or result.returncode != 0:
        raise DockerUnavailable(f"docker import of the debootstrap tree failed: {result.stderr}")


def dockerfile_bases(images_dir: Path = IMAGES_DIR) -> set[str]:
    """Every image name after a ``FROM`` in ``images_dir/Dockerfile*``, a build argument there
    read as its default (what build-images.sh builds from unless told otherwise)."""
    names: set[str] = set()
    for dockerfile in images_dir.glob("Dockerfile*"):
        text = dockerfile.read_text()
        defaults = dict(_ARG_LINE.findall(text))
        names.update(_with_defaults(name, defaults) for name in _FROM_LINE.findall(text))
    return names


def _with_defaults(text: str, defaults: dict[str, str]) -> str:
    """``text`` with each ``${NAME}`` / ``$NAME`` replaced by its default, where it has one."""
    return _ARG_USE.sub(lambda use: defaults.get(use[1] or use[2], use[0]), text)


def standin_kind(image: str) -> str | None:
    """``ollama`` / ``vllm`` for an upstream image name this module can stand in for."""
    repository = image.split("@", 1)[0].rsplit(":", 1)[0]
    return STANDIN_KINDS.get(repository)


def _standin_context_files(kind: str) -> dict[str, Path]:
    """Build-context path -> source: the kind's Dockerfile, the stand-in CLI, dualread.testing."""
    files = {
        "Dockerfile": STANDIN_DIR / kind / "Dockerfile",
        "standin_cli.py": STANDIN_DIR / "standin_cli.py",
        "dualread/__init__.py": REPO_ROOT / "dualread" / "__init__.py",
    }
    for path in sorted((REPO_ROOT / "dualread" / "testing").rglob("*.py")):
        files[str(path.relative_to(REPO_ROOT))] = path
    return files


def _sources_digest(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_standin(image: str, socket: Path = DOCKER_SOCKET) -> str:
    """Build the stand-in tagged as the exact upstream name ``image``; skipped when up to date."""
    kind = standin_kind(image)
    if kind is None:
        raise RuntimeError(f"no stand-in for base image {image} (see {STANDIN_DIR})")
    files = _standin_context_files(kind)
    digest = _sources_digest(files)
    up_to_date = image_exists(image, socket) and (
        image_labels(image, socket).get(STANDIN_SOURCE_LABEL) == digest
    )
    if up_to_date:
        return image
    base = ensure_debian_base(socket)
    with _setup_lock(), tempfile.TemporaryDirectory(prefix="dualread-standin-") as context:
        for name, source in files.items():
            target = Path(context) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        _run(
            [
                "docker",
                "build",
                "--network",
                "host",
                "--build-arg",
                f"BASE={base}",
                "--label",
                f"{STANDIN_SOURCE_LABEL}={digest}",
                "--tag",
                image,
                context,
            ],
            socket,
            600,
        )
    return image


def ensure_standin_bases(
    socket: Path = DOCKER_SOCKET, images_dir: Path = IMAGES_DIR
) -> dict[str, str]:
    """Stand-ins for every upstream base that ``images_dir`` builds FROM: FROM name -> kind."""
    made: dict[str, str] = {}
    for name in sorted(dockerfile_bases(images_dir)):
        kind = standin_kind(name)
        if kind is not None:
            ensure_standin(name, socket)
            made[name] = kind
    return made


def build_server_images(
    socket: Path = DOCKER_SOCKET, image_repo: str = TEST_IMAGE_REPO
) -> dict[str, str]:
    """``build-images.sh`` on the stand-in bases: server kind (its ``dualread.server`` label) ->
    image name. Cached layers make a rebuild take about a second."""
    ensure_standin_bases(socket)
    output = _run(
        ["bash", str(BUILD_IMAGES), "--network", "host"], socket, 900, IMAGE_REPO=image_repo
    )
    built = re.findall(r"^==> building (\S+) from ", output, re.MULTILINE)
    return {image_labels(name, socket)[SERVER_KIND_LABEL]: name for name in built}


def _unavailable(reason: str) -> None:
    if os.environ.get("DUALREAD_REQUIRE_DOCKER") == "1":
        pytest.fail(f"Docker required (DUALREAD_REQUIRE_DOCKER=1): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_engine() -> Path:
    """The socket of a running Docker engine (skips, naming what is missing, when there is none)."""
    try:
        return ensure_engine()
    except DockerUnavailable as error:
        _unavailable(str(error))
        raise  # unreachable: skip/fail raise


@pytest.fixture(scope="session")
def standin_bases(docker_engine: Path) -> dict[str, str]:
    """Every upstream ``FROM`` image of ``images/`` present locally as a stand-in."""
    started = time.monotonic()
    try:
        made = ensure_standin_bases(docker_engine)
    except DockerUnavailable as error:
        _unavailable(str(error))
        raise
    print(f"stand-in bases ready in {time.monotonic() - started:.1f}s: {sorted(made)}")
    return made


@pytest.fixture(scope="session")
def server_images(docker_engine: Path, standin_bases: dict[str, str]) -> dict[str, str]:
    """The server images built by build-images.sh: ``{"ollama": name, "vllm": name}``."""
    started = time.monotonic()
    images = build_server_images(docker_engine)
    print(f"build-images.sh built {sorted(images.values())} in {time.monotonic() - started:.1f}s")
    return images


if __name__ == "__main__":  # CI or a developer: prepare the engine and images before the tests
    print("engine:", ensure_engine())
    print("stand-in bases:", ensure_standin_bases())
    print("server images:", build_server_images())
