"""Start-up stays light: ``--version`` and every ``--help`` load no client, OCR or runtime module.

Each check runs in a fresh interpreter (this test process has imported everything already) and
reads that interpreter's ``sys.modules`` after the command ran.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dualread.cli import app
from dualread.config import DEFAULT_IMAGES

pytestmark = pytest.mark.unit

# Modules a help screen has no use for: model clients, OCR, PDF rendering, array maths, the
# consensus diff, the service's web stack, the cluster client, and dualread's own server runtime.
HEAVY = (
    "ollama",
    "openai",
    "rapidocr",
    "onnxruntime",
    "pypdfium2",
    "numpy",
    "deepdiff",
    "fastapi",
    "uvicorn",
    "ray",
    "dualread.runtime",
)

# Runs one command line through the real entry point, then reports what it imported.
_RUN_ENTRY_POINT = """
import json, sys
from dualread.cli import main
sys.argv = ["dualread", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
sys.stderr.flush()  # no arguments: the help goes to stderr
print("\\n" + json.dumps(sorted(sys.modules)))
"""

# Renders the --help of every command and sub-command, found by walking the click command tree.
_RUN_EVERY_HELP = """
import json, sys
import typer.main
from typer.testing import CliRunner
from dualread.cli import app

def paths(command, prefix):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():  # a group's sub-commands
        yield from paths(sub, [*prefix, name])

runner = CliRunner()
seen = []
for path in paths(typer.main.get_command(app), []):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
    seen.append(" ".join(path))
print(json.dumps({"commands": seen, "modules": sorted(sys.modules)}))
"""


def _fresh_python(code: str, *args: str) -> str:
    """What ``code`` prints (stdout and stderr) when a new interpreter runs it."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout
    return done.stdout


# What showing a plan has no use for: the heavy modules less the plan's own part of the runtime,
# and the runtime's model clients, launchers and scheduler.
PLAN_NEEDS_NONE_OF = (
    *(h for h in HEAVY if h != "dualread.runtime"),
    "dualread.backends.factory",
    "dualread.runtime.admin",
    "dualread.runtime.docker",
    "dualread.runtime.factory",
    "dualread.runtime.scheduler",
)


def _heavy(modules: list[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy)]


@pytest.mark.parametrize("argv", [["--version"], ["--help"], []])
def test_version_and_help_import_no_heavy_module(argv: list[str]) -> None:
    output = _fresh_python(_RUN_ENTRY_POINT, json.dumps(argv))
    printed, _, modules_line = output.rstrip("\n").rpartition("\n")
    assert "dualread" in printed
    assert _heavy(json.loads(modules_line)) == []


def test_every_command_help_imports_no_heavy_module() -> None:
    report = json.loads(_fresh_python(_RUN_EVERY_HELP))
    # The walk must reach the sub-commands, or it proves nothing about them.
    assert {"extract", "eval", "doctor", "servers up", "servers status"} <= set(report["commands"])
    assert _heavy(report["modules"]) == []


def test_servers_plan_imports_no_model_client() -> None:
    output = _fresh_python(_RUN_ENTRY_POINT, json.dumps(["servers", "plan", "--json"]))
    printed, _, modules_line = output.rstrip("\n").rpartition("\n")
    assert '"plan"' in printed
    modules = json.loads(modules_line)
    assert "dualread.runtime.host_plan" in modules  # it did make the plan
    assert _heavy(modules, PLAN_NEEDS_NONE_OF) == []


@pytest.mark.parametrize("command", [["servers", "up"], ["doctor"]])
def test_image_options_show_the_images_that_are_used_by_default(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    # The help wraps long lines, inside an image name too: compare with the whitespace taken out.
    text = "".join(result.output.split())
    ollama_help = text.split("--image-ollama", 1)[1].split("--image-vllm", 1)[0]
    vllm_help = text.split("--image-vllm", 1)[1].split("--", 1)[0]
    assert DEFAULT_IMAGES["ollama"] in ollama_help and DEFAULT_IMAGES["vllm"] in vllm_help
