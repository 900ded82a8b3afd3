"""The stand-in command line, and that the stand-ins need nothing but the standard library."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dualread import config, statement
from dualread.testing.standins import oracle_index
from dualread.testing.standins.__main__ import DEFAULT_MODELS, statement_profile

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def test_default_models_are_the_products() -> None:
    assert DEFAULT_MODELS == {
        "ollama": [config.DEFAULT_MODEL_VISUAL, config.DEFAULT_MODEL_JSON],
        "openai": [config.DEFAULT_MODEL_OCR],
    }


def run_standin(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "dualread.testing.standins", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_header_fields_are_the_statements() -> None:
    assert oracle_index.HEADER_FIELDS == statement.HEADER_FIELDS


def test_a_bad_profile_exits_2_with_one_line() -> None:
    result = run_standin("ollama", "--errors", "bogus=1")
    assert result.returncode == 2
    assert result.stderr == "stand-in: unknown fault 'bogus'\n"


def test_the_standins_run_on_the_standard_library_alone() -> None:
    """With ``-S`` no site-packages exist, as in a bare python3 image; serve and answer one chat."""
    script = textwrap.dedent(
        """
        import json, sys, threading, urllib.request
        sys.path.insert(0, sys.argv[1])
        from dualread.testing.standins.__main__ import build_app, parse_args
        from dualread.testing.standins.server import StandinHTTPServer
        server = StandinHTTPServer(("127.0.0.1", 0), build_app(parse_args(["ollama"])))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        body = json.dumps({"model": "qwen3:8b", "messages": [], "stream": False}).encode()
        url = "http://127.0.0.1:%d/api/chat" % server.server_address[1]
        print(urllib.request.urlopen(urllib.request.Request(url, data=body)).read().decode())
        loaded = {m.split(".")[0] for m in sys.modules}
        print(sorted(loaded & {"pydantic", "httpx", "jsonschema", "PIL"}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(REPO)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answer, third_party = result.stdout.splitlines()
    assert json.loads(answer)["done_reason"] == "load"
    assert third_party == "[]"


def test_statement_error_profiles_are_names_or_json() -> None:
    assert statement_profile("drop_row") == "drop_row"
    assert statement_profile('{"row_error_rate": 0.1}') == {"row_error_rate": 0.1}
    assert statement_profile(None) is None


def test_an_unknown_statement_profile_fails_at_start() -> None:
    result = run_standin("ollama", "--statement-errors", "x")
    assert result.returncode == 2
    assert result.stderr.startswith("stand-in: unknown error profile 'x'")
