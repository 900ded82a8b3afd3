"""Start a stand-in in its own process and talk to its ``/_standin`` endpoints (stdlib only)."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .server import READY_PREFIX

START_TIMEOUT_S = 30.0


class StandinStartError(RuntimeError):
    pass


@dataclass
class RunningStandin:
    """A stand-in server process. ``url`` is the server root; ``api_url`` is what a client of
    that kind is configured with (``/v1`` appended for the OpenAI kind)."""

    kind: str
    url: str
    process: subprocess.Popen[str] = field(repr=False)

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1" if self.kind == "openai" else self.url

    def _call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            self.url + path, method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_standin/stats")
        return result

    def requests(self) -> list[dict[str, Any]]:
        """The last requests it accepted, images replaced by their sha256."""
        result: list[dict[str, Any]] = self._call("GET", "/_standin/requests")
        return result

    def reset(self) -> None:
        self._call("POST", "/_standin/reset")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> RunningStandin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_standin(
    kind: str,
    *,
    models: list[str] | None = None,
    oracle: Path | None = None,
    reader: bool = False,
    reader_ocr: str | None = None,
    errors: str = "",
    statement_errors: str | None = None,
    statement_error_roles: str | None = None,
    seed: int = 0,
    enable_sleep_mode: bool = False,
    models_dir: Path | None = None,
    extra_args: Sequence[str] = (),
    python: str = sys.executable,
) -> RunningStandin:
    """Start ``python -m dualread.testing.standins KIND`` on 127.0.0.1 and a free port; return
    once it accepts connections."""
    command = [
        python,
        "-m",
        "dualread.testing.standins",
        kind,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    command += ["--errors", errors, "--seed", str(seed)]
    if models is not None:  # [] serves no model at all
        command += ["--models", ",".join(models)]
    if oracle is not None:
        command += ["--oracle", str(oracle)]
    if reader:
        command.append("--reader")
    if reader_ocr:
        command += ["--reader-ocr", reader_ocr]
    if statement_errors:
        command += ["--statement-errors", statement_errors]
    if statement_error_roles:
        command += ["--statement-error-roles", statement_error_roles]
    if enable_sleep_mode:
        command.append("--enable-sleep-mode")
    if models_dir is not None:
        command += ["--models-dir", str(models_dir)]
    command += extra_args  # e.g. vLLM's own flags (--max-model-len ...), or --unload-delay
    package_root = str(Path(__file__).resolve().parents[3])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stdout.readline()
            if not line:
                raise StandinStartError(f"stand-in {kind} exited with code {process.wait()}")
            if line.startswith(READY_PREFIX):
                return RunningStandin(kind, line[len(READY_PREFIX) :].strip(), process)
        raise StandinStartError(f"stand-in {kind} did not start within {START_TIMEOUT_S:g} s")
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        selector.close()
