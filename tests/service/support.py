"""Helpers shared by the service and browser tests: a served process, and stand-in model servers
that leave the sample statement with a closing-balance dispute a person has to settle."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from dualread.cli.serve import READY_PREFIX
from dualread.config import Settings
from dualread.testing.standins.launch import RunningStandin

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "fixtures" / "sample" / "statement.pdf"
MODELS_OLLAMA = ["openbmb/minicpm-v4.5:8b", "qwen3:8b"]
MODEL_OCR = ["nanonets/Nanonets-OCR-s"]
# Route A reads the closing balance one way, route B another, and neither balances: a value
# dispute only a person (or a re-read that never comes) can settle.
VISUAL_CLOSING, OCR_CLOSING = "6877.85", "6887.58"
TRUE_CLOSING = "6877.58"
START_TIMEOUT_S = 60.0


def truth_of(pdf: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(pdf.with_suffix(".truth.json").read_text())
    return data


def statement_part(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("extraction", "schema_version")}


def disputed_servers(
    tmp_path: Path,
    standin_server: Callable[..., RunningStandin],
    oracle_file: Callable[..., Path],
    *,
    faults: str = "",
) -> Settings:
    """Stand-ins answering the sample's truth, except for the closing balance (see above)."""
    oracles = {}
    for route, closing in (("visual", VISUAL_CLOSING), ("ocr", OCR_CLOSING)):
        folder = tmp_path / f"oracle-{route}"
        folder.mkdir()
        shutil.copy(SAMPLE, folder / SAMPLE.name)
        truth = truth_of(SAMPLE) | {"closing_balance": closing}
        (folder / SAMPLE.with_suffix(".truth.json").name).write_text(json.dumps(truth))
        oracles[route] = oracle_file([folder / SAMPLE.name], dpi=(200, 300, 250))
    ollama = standin_server("ollama", models=MODELS_OLLAMA, oracle=oracles["visual"], errors=faults)
    vllm = standin_server(
        "openai", models=MODELS_OLLAMA[1:] + MODEL_OCR, oracle=oracles["ocr"], errors=faults
    )
    return Settings(
        ollama_url=ollama.api_url,
        vllm_url=vllm.api_url,
        backend_json="openai",
        use_cache=False,
        retries=1,
        timeout_s=60.0,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives ``dualread serve`` these model servers."""
    return {
        "DUALREAD_OLLAMA_URL": settings.ollama_url,
        "DUALREAD_VLLM_URL": settings.vllm_url,
        "DUALREAD_BACKEND_JSON": settings.backend_json,
        "DUALREAD_USE_CACHE": "false",
        "DUALREAD_RETRIES": str(settings.retries),
        "DUALREAD_TIMEOUT_S": str(settings.timeout_s),
    }


@dataclass
class ServeProcess:
    """``dualread serve`` running as its own process on 127.0.0.1 and a free port."""

    data_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    process: subprocess.Popen[str] | None = None

    def command(self) -> list[str]:
        return [
            *(sys.executable, "-m", "dualread", "serve", "--port", "0"),
            *("--data-dir", str(self.data_dir), *self.args),
        ]

    def start(self) -> ServeProcess:
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(
            self.command(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
        )
        assert self.process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                if not selector.select(timeout=deadline - time.monotonic()):
                    break
                line = self.process.stderr.readline()
                if not line:
                    raise RuntimeError(f"dualread serve exited with {self.process.wait()}")
                if line.startswith(READY_PREFIX):
                    self.url = line[len(READY_PREFIX) :].strip()
                    self._wait_healthy()
                    return self
            raise RuntimeError("dualread serve did not start in time")
        finally:
            selector.close()

    def _wait_healthy(self) -> None:
        headers = (
            {"Authorization": f"Bearer {self.env['DUALREAD_TOKEN']}"}
            if "DUALREAD_TOKEN" in self.env
            else {}
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/schema", headers=headers, timeout=5).status_code < 500:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("dualread serve did not answer")

    def kill(self) -> None:
        """Stop it the hard way, as a crash or a power cut would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self._close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


def wait_done(
    client: httpx.Client | TestClient, job_id: str, timeout_s: float = 120.0
) -> dict[str, Any]:
    """Poll (with the API's long wait) until the job is done or failed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get(f"/v1/extractions/{job_id}", params={"wait": 10})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body["status"] in ("done", "failed"):
            return body
    raise AssertionError(f"job {job_id} did not finish in {timeout_s:g} s")
