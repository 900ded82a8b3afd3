#!/usr/bin/env python3
"""Stand-in ``ollama`` and ``vllm`` executables for the stand-in base images (stdlib only).

Installed as /usr/bin/ollama in the stand-in ``ollama/ollama`` and as /usr/local/bin/vllm in the
stand-in ``vllm/vllm-openai``; which one it is comes from the name it is run by. Each mirrors the
real CLI's arguments, output shape and exit codes for what dualread's images use, and runs the
dualread.testing stand-in server where the real one runs its engine.

``ollama``:
- ``serve``: the stand-in Ollama server on ``$OLLAMA_HOST`` with the real model store
  (``$OLLAMA_MODELS``, default ``~/.ollama/models``), where the stand-in keeps pulled models'
  manifests as Ollama does: a pull survives a restart exactly when the store is on a volume;
- ``list``: ``GET /api/tags``, printed as the real table (NAME ID SIZE MODIFIED);
- ``pull NAME``: ``POST /api/pull``, streaming, printing each status line.

``vllm serve MODEL [flags]``: parses the real flags the image passes and rejects unknown or
malformed ones (exit 2, as the real argparse CLI does), so a typo in the image's command fails
here as on a GPU host; prints the parsed flags for tests to check; "downloads" the model into the
Hugging Face cache layout (``$HF_HOME/hub/models--ORG--NAME/``), which shows whether the cache is
writable and kept on a volume; then serves the stand-in OpenAI-compatible server.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import NoReturn

OLLAMA_DEFAULT_HOST = "127.0.0.1"
OLLAMA_DEFAULT_PORT = 11434


def run_standin_server(arguments: list[str]) -> NoReturn:
    """Serve ``python3 -m dualread.testing.standins ARGUMENTS`` in this process until SIGTERM.

    Like the real servers, exit on SIGTERM: as a container's PID 1 (vLLM's image execs it) a
    process gets no signal it has no handler for, and `docker stop` would have to kill it.
    """

    def stop(signum: int, frame: FrameType | None) -> NoReturn:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    sys.argv = ["dualread.testing.standins", *arguments]
    runpy.run_module("dualread.testing.standins", run_name="__main__", alter_sys=True)
    raise SystemExit(0)


def fail(message: str) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return 1


# -- ollama -------------------------------------------------------------------------------------
def ollama_address() -> tuple[str, int]:
    """``$OLLAMA_HOST`` as (host, port), with the real defaults for missing parts."""
    raw = os.environ.get("OLLAMA_HOST", "").strip().split("://", 1)[-1].rstrip("/")
    if not raw:
        return OLLAMA_DEFAULT_HOST, OLLAMA_DEFAULT_PORT
    host, _, port = raw.rpartition(":") if ":" in raw else (raw, "", "")
    return host or OLLAMA_DEFAULT_HOST, int(port) if port else OLLAMA_DEFAULT_PORT


def ollama_url() -> str:
    host, port = ollama_address()
    if host == "0.0.0.0":  # a wildcard to listen on; clients reach it on loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def ollama_models_dir() -> Path:
    explicit = os.environ.get("OLLAMA_MODELS")
    return Path(explicit) if explicit else Path.home() / ".ollama" / "models"


def ollama_serve() -> NoReturn:
    host, port = ollama_address()
    # --models "": serve only what the store holds, as a freshly started real server does.
    store = ["--models", "", "--models-dir", str(ollama_models_dir())]
    run_standin_server(["ollama", "--host", host, "--port", str(port), *store])


def ollama_list() -> int:
    try:
        with urllib.request.urlopen(ollama_url() + "/api/tags", timeout=30) as response:
            models = json.loads(response.read())["models"]
    except (urllib.error.URLError, OSError):
        return fail("could not connect to ollama server, run 'ollama serve' to start it")
    print(f"{'NAME':<40}{'ID':<16}{'SIZE':<10}MODIFIED")
    for model in models:
        digest = str(model.get("digest", "")).removeprefix("sha256:")[:12]
        size_gb = int(model.get("size", 0)) / 1e9
        print(f"{model['name']:<40}{digest:<16}{size_gb:.1f} GB    {model.get('modified_at', '')}")
    return 0


def ollama_pull(name: str) -> int:
    """Streams the pull as the real CLI does: one NDJSON status object per line."""
    body = json.dumps({"model": name, "stream": True}).encode()
    request = urllib.request.Request(ollama_url() + "/api/pull", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            statuses = [json.loads(line) for line in response if line.strip()]
    except urllib.error.HTTPError as error:
        return fail(f"pull model manifest: {error.read().decode(errors='replace').strip()}")
    except (urllib.error.URLError, OSError):
        return fail("could not connect to ollama server, run 'ollama serve' to start it")
    for status in statuses:
        if "error" in status:
            return fail(str(status["error"]))
        print(status.get("status", ""), flush=True)
    return 0 if statuses and statuses[-1].get("status") == "success" else fail("pull incomplete")


def ollama(argv: list[str]) -> int:
    match argv:
        case ["serve"]:
            ollama_serve()
        case ["list"] | ["ls"]:
            return ollama_list()
        case ["pull", name]:
            return ollama_pull(name)
        case [command, *_]:
            return fail(f'unknown command "{command}" for "ollama" (stand-in)')
        case _:
            return fail("usage: ollama serve | list | pull MODEL (stand-in)")


# -- vllm ---------------------------------------------------------------------------------------
def json_object(text: str) -> dict[str, object]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def vllm_serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vllm serve")
    parser.add_argument("model")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=positive, default=8000)
    parser.add_argument("--served-model-name", nargs="+")
    parser.add_argument("--max-model-len", type=positive)
    parser.add_argument("--gpu-memory-utilization", type=fraction, default=0.9)
    parser.add_argument("--enable-sleep-mode", action="store_true")
    parser.add_argument("--limit-mm-per-prompt", type=json_object)
    parser.add_argument("--mm-processor-kwargs", type=json_object)
    parser.add_argument("--max-num-seqs", type=positive)
    parser.add_argument("--dtype", choices=["auto", "half", "float16", "bfloat16", "float32"])
    return parser


def fetch_model(model: str) -> None:
    """Record the model in the HF cache layout; prints whether it came from the cache."""
    explicit = os.environ.get("HF_HOME")
    cache = Path(explicit) if explicit else Path.home() / ".cache" / "huggingface"
    repo = cache / "hub" / ("models--" + model.replace("/", "--"))
    snapshot = repo / "snapshots" / "standin"
    if (snapshot / "config.json").is_file():
        print(f"stand-in vllm: {model} found in the Hugging Face cache {repo}", flush=True)
        return
    print(f"stand-in vllm: downloading {model} into {repo}", flush=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / "config.json").write_text(json.dumps({"standin": True, "model": model}))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text("standin")


def vllm(argv: list[str]) -> int:
    if not argv or argv[0] != "serve":
        print("usage: vllm serve MODEL [options] (stand-in: only `serve` exists)", file=sys.stderr)
        return 2
    args = vllm_serve_parser().parse_args(argv[1:])
    # What the real server would run with, for tests to check the image's command line.
    print(f"stand-in vllm serve: {json.dumps(vars(args), sort_keys=True)}", flush=True)
    fetch_model(args.model)
    served = ",".join(args.served_model_name or [args.model])
    arguments = ["openai", "--host", args.host, "--port", str(args.port), "--models", served]
    # Like vLLM: the sleep endpoints exist only with the flag and VLLM_SERVER_DEV_MODE=1.
    if args.enable_sleep_mode and os.environ.get("VLLM_SERVER_DEV_MODE") == "1":
        arguments.append("--enable-sleep-mode")
    run_standin_server(arguments)


COMMANDS = {"ollama": ollama, "vllm": vllm}

if __name__ == "__main__":
    command = COMMANDS.get(Path(sys.argv[0]).name)
    if command is None:
        sys.exit(f"stand-in: run me as one of {', '.join(COMMANDS)}, not {sys.argv[0]}")
    sys.exit(command(sys.argv[1:]))
