"""The CI pipeline files: valid against their platforms' schemas (check-jsonschema's vendored
GitLab CI and GitHub workflow schemas, offline), tests before images, images pushed only from
tags, credentials only from CI variables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[1]
GITLAB = REPO_ROOT / ".gitlab-ci.yml"
GITHUB = REPO_ROOT / ".github" / "workflows" / "images.yml"


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


@pytest.mark.parametrize(
    ("path", "schema"),
    [(GITLAB, "vendor.gitlab-ci"), (GITHUB, "vendor.github-workflows")],
)
def test_pipeline_files_match_their_schemas(path: Path, schema: str) -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_runs_the_tests_first_and_pushes_with_npmci_only_from_tags() -> None:
    pipeline = load(GITLAB)
    assert pipeline["stages"][0] == "test"
    assert pipeline["test"]["script"] == ["make test"]
    build, release = pipeline["images"], pipeline["release-images"]
    for job in (build, release):
        assert job["needs"] == ["test"] and job["script"][0] == "cd images"
    assert "npmci docker build" in build["script"]
    assert not any("push" in line for line in build["script"])
    assert build["rules"] == [{"if": "$CI_COMMIT_TAG == null"}]
    assert release["rules"] == [{"if": "$CI_COMMIT_TAG"}]
    assert release["script"][1:] == [
        "npmci docker login",
        "npmci docker build",
        'npmci docker push "$DOCKER_REGISTRY"',
    ]


def test_github_builds_with_build_images_and_pushes_only_from_tags() -> None:
    workflow = load(GITHUB)
    assert workflow["jobs"]["images"]["needs"] == "test"
    assert workflow["jobs"]["test"]["steps"][-1] == {"run": "make test"}
    steps = {step.get("name"): step for step in workflow["jobs"]["images"]["steps"]}
    assert steps["Build"]["run"] == "./build-images.sh"
    tag_only = "startsWith(github.ref, 'refs/tags/')"
    assert steps["Build and push"]["if"] == tag_only == steps["Log in to the registry"]["if"]
    assert "--push" in steps["Build and push"]["run"]
    login = steps["Log in to the registry"]
    assert login["env"]["REGISTRY_PASSWORD"] == "${{ secrets.REGISTRY_PASSWORD }}"
    assert "--password-stdin" in login["run"]
