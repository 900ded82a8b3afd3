"""What the image tests read from images/: the Dockerfiles, their npmci tags and settings.

npmci (``@shipzone/npmci``) cannot be installed here, so its rules are applied with its own
regular expressions, copied from its ``Dockerfile`` class.
"""

from __future__ import annotations

import re
from pathlib import Path

import dualread

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = REPO_ROOT / "images"
BUILD_IMAGES = REPO_ROOT / "build-images.sh"
# npmci's Dockerfile.dockerFileVersion and Dockerfile.dockerBaseImage.
NPMCI_TAG = re.compile(r"Dockerfile_([a-zA-Z0-9\.]*)$")
NPMCI_BASE_IMAGE = re.compile(r"FROM\s([a-zA-z0-9\/\-\:]*)\n?")


def npmci_tag(filename: str) -> str:
    match = NPMCI_TAG.search(filename)
    return match.group(1) if match else "latest"


def dockerfiles() -> list[Path]:
    """What npmci builds: every file named Dockerfile* directly in images/."""
    return sorted(path for path in IMAGES_DIR.glob("Dockerfile*") if path.is_file())


def server_dockerfile(kind: str) -> Path:
    """The Dockerfile of the ``ollama`` or ``vllm`` image (its tag names the runtime)."""
    (path,) = (p for p in dockerfiles() if f".{kind}." in npmci_tag(p.name))
    return path


def package_version() -> str:
    """The version the wheel is built with (hatch reads it from ``dualread.__version__``)."""
    return dualread.__version__


def dockerfile_settings(dockerfile: Path, instruction: str) -> dict[str, str]:
    """The KEY=value pairs of every ENV or LABEL instruction, continuation lines joined."""
    text = dockerfile.read_text().replace("\\\n", " ")
    settings: dict[str, str] = {}
    for line in re.findall(rf"^{instruction}\s+(.*)$", text, re.MULTILINE):
        for key, value in re.findall(r'([\w.-]+)=("[^"]*"|\S+)', line):
            settings[key] = value.strip('"')
    return settings
