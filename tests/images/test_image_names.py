"""Image names and settings: npmci's tag rule, build-images.sh's tags and order, model defaults."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dualread.config import DEFAULT_MODEL_JSON, DEFAULT_MODEL_OCR, DEFAULT_MODEL_VISUAL
from tests.images.image_files import (
    BUILD_IMAGES,
    IMAGES_DIR,
    NPMCI_BASE_IMAGE,
    dockerfile_settings,
    dockerfiles,
    npmci_tag,
    package_version,
    server_dockerfile,
)

pytestmark = pytest.mark.unit


def dry_run(images_dir: Path = IMAGES_DIR, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(BUILD_IMAGES), "--dry-run", *args],
        env={"PATH": "/usr/bin:/bin", "IMAGES_DIR": str(images_dir)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def built_tags(output: str) -> list[str]:
    """The --tag values of the docker build commands a dry run prints, in build order."""
    return re.findall(r"^docker build .*--tag \S+?:(\S+)", output, re.MULTILINE)


def test_every_dockerfile_has_a_unique_npmci_tag_that_is_not_latest() -> None:
    tags = [npmci_tag(path.name) for path in dockerfiles()]
    assert len(tags) == 2, tags
    assert "latest" not in tags
    assert len(set(tags)) == len(tags)


def test_build_images_uses_npmci_tags_label_and_context() -> None:
    result = dry_run()
    assert result.returncode == 0, result.stderr
    assert sorted(built_tags(result.stdout)) == sorted(npmci_tag(p.name) for p in dockerfiles())
    for line in (line for line in result.stdout.splitlines() if line.startswith("docker build")):
        assert f"--label version={package_version()}" in line
        assert line.split()[-1] == str(IMAGES_DIR)  # npmci's context: the images folder


def test_npmci_reads_the_same_version_as_build_images() -> None:
    """npmci labels with images/package.json's version; build-images.sh with the package's."""
    assert json.loads((IMAGES_DIR / "package.json").read_text())["version"] == package_version()


def test_images_do_not_build_from_each_other() -> None:
    """npmci's FROM regex has no '.', so it would cut a dotted local tag and misorder the build."""
    tags = {npmci_tag(path.name) for path in dockerfiles()}
    for path in dockerfiles():
        base = NPMCI_BASE_IMAGE.search(path.read_text())
        assert base is not None
        assert base.group(1).rsplit(":", 1)[-1] not in tags


def test_a_dockerfile_is_built_after_the_local_image_it_builds_from(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile_app").write_text("FROM dualread:base\n")
    (tmp_path / "Dockerfile_base").write_text("FROM debian:bookworm\n")
    (tmp_path / "Dockerfile_tool").write_text("FROM --platform=linux/amd64 dualread:app AS t\n")
    result = dry_run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert built_tags(result.stdout) == ["base", "app", "tool"]


def test_colliding_tags_and_cycles_fail_clearly(tmp_path: Path) -> None:
    collide = tmp_path / "collide"
    collide.mkdir()
    for name in ("Dockerfile_x_y", "Dockerfile_x_z"):  # both "latest" under npmci's rule
        (collide / name).write_text("FROM debian:bookworm\n")
    result = dry_run(collide)
    assert result.returncode == 1
    assert "both give the tag 'latest'" in result.stderr

    cycle = tmp_path / "cycle"
    cycle.mkdir()
    (cycle / "Dockerfile_a").write_text("FROM dualread:b\n")
    (cycle / "Dockerfile_b").write_text("FROM dualread:a\n")
    result = dry_run(cycle)
    assert result.returncode == 1
    assert "cycle" in result.stderr


def test_only_registry_and_push_options() -> None:
    tag = npmci_tag(dockerfiles()[0].name)
    result = dry_run(IMAGES_DIR, "--only", tag, "--registry", "registry.example:5000/", "--push")
    assert result.returncode == 0, result.stderr
    assert built_tags(result.stdout) == [tag]
    assert f"docker tag dualread:{tag} registry.example:5000/dualread:{tag}" in result.stdout
    assert f"docker push registry.example:5000/dualread:{tag}" in result.stdout

    unknown = dry_run(IMAGES_DIR, "--only", "no.such.tag")
    assert unknown.returncode == 1
    assert "no such tag" in unknown.stderr


def run_with_tools(bin_dir: Path, docker_script: str | None) -> subprocess.CompletedProcess[str]:
    """build-images.sh with only the tools it needs on PATH, and ``docker`` as given (or none)."""
    for tool in ("awk", "basename", "dirname", "find", "sort"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    if docker_script is not None:
        (bin_dir / "docker").write_text(f"#!/bin/bash\n{docker_script}\n")
        (bin_dir / "docker").chmod(0o755)
    return subprocess.run(
        ["/bin/bash", str(BUILD_IMAGES)],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_missing_docker_fails_with_a_clear_message(tmp_path: Path) -> None:
    result = run_with_tools(tmp_path, docker_script=None)
    assert result.returncode == 1
    assert "docker not found" in result.stderr


def test_a_failing_build_stops_with_a_clear_message(tmp_path: Path) -> None:
    result = run_with_tools(tmp_path, docker_script='echo "no space left on device" >&2; exit 1')
    assert result.returncode == 1
    first = dockerfiles()[0]
    assert f"building dualread:{npmci_tag(first.name)} from {first} failed" in result.stderr
    assert result.stdout.count("==> building") == 1  # nothing after the failed build


def test_images_serve_the_configured_default_models() -> None:
    ollama_env = dockerfile_settings(server_dockerfile("ollama"), "ENV")
    assert ollama_env["OLLAMA_PULL_MODELS"].split(",") == [DEFAULT_MODEL_VISUAL, DEFAULT_MODEL_JSON]
    vllm_env = dockerfile_settings(server_dockerfile("vllm"), "ENV")
    assert vllm_env["MODEL_NAME"] == DEFAULT_MODEL_OCR
    assert vllm_env["VLLM_SERVER_DEV_MODE"] == "1"


def test_base_images_are_pinned() -> None:
    """A base image named by a build argument (the vLLM image's CUDA 12 fallback) is pinned by
    the argument's default."""
    for path in dockerfiles():
        text = path.read_text()
        defaults = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.MULTILINE))
        for named in re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE):
            argument = re.fullmatch(r"\$\{(\w+)\}", named)
            base = defaults.get(argument[1], named) if argument else named
            assert re.search(r":v?\d+\.\d+\.\d+$", base), f"{path.name}: unpinned base {base}"


def test_the_stand_in_bases_cover_every_from_image_with_its_argument_read() -> None:
    """'ARG VLLM_IMAGE=...' then 'FROM ${VLLM_IMAGE}': the Docker tier must build a stand-in for
    the default the argument names, or a fresh machine pulls the real vLLM image."""
    from tests.docker_support import dockerfile_bases, standin_kind

    bases = dockerfile_bases()
    assert {standin_kind(name) for name in bases} == {"ollama", "vllm"}
    assert not any("$" in name for name in bases)
