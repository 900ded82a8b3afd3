"""``python3 -m dualread.testing.standins ollama|openai [options]``: run one stand-in server.

Prints ``dualread stand-in listening on http://HOST:PORT`` once it accepts connections (``--port
0`` picks a free port), then serves until interrupted.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .answers import Answerer
from .faults import ROLES, FaultProfile, ProfileError
from .ollama_api import OllamaStandin
from .openai_api import OpenAIStandin
from .oracle_index import OracleIndex, PageReader
from .server import App, Stats, serve

# The product's default model tags (dualread.config), so a bare stand-in serves what dualread asks.
DEFAULT_MODELS = {
    "ollama": ["openbmb/minicpm-v4.5:8b", "qwen3:8b"],
    "openai": ["nanonets/Nanonets-OCR-s"],
}
DEFAULT_PORTS = {"ollama": 11434, "openai": 8000}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m dualread.testing.standins", description=__doc__
    )
    parser.add_argument("kind", choices=("ollama", "openai"), help="which server to imitate")
    parser.add_argument(
        "--host", default=None, help="bind address (default 127.0.0.1, or OLLAMA_HOST)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port (default 11434 / 8000; 0: any)"
    )
    parser.add_argument(
        "--models", default=None, help='comma-separated models served or present ("": none)'
    )
    parser.add_argument("--oracle", type=Path, default=None, help="oracle index JSON file")
    parser.add_argument(
        "--reader",
        action="store_true",
        help="reader mode: read a page the oracle does not hold with the embedded engine "
        "(needs dualread's dependencies)",
    )
    parser.add_argument(
        "--reader-ocr",
        choices=("rapidocr", "tesseract"),
        default=None,
        help="reader mode: read with this OCR engine alone (default: the engine's own choice, "
        "with its second opinion)",
    )
    parser.add_argument("--errors", default="", help="transport fault profile (see faults.py)")
    parser.add_argument(
        "--statement-errors",
        default=None,
        help="statement-level errors (testing.errors): a profile name or a JSON object",
    )
    parser.add_argument(
        "--statement-error-roles",
        default="visual,json",
        help=f"roles whose answers get statement errors (of {', '.join(ROLES)})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the statement errors")
    parser.add_argument(
        "--models-dir", type=Path, default=None, help="Ollama: model store (OLLAMA_MODELS)"
    )
    parser.add_argument(
        "--enable-sleep-mode", action="store_true", help="openai: vLLM sleep endpoints"
    )
    parser.add_argument(
        "--unload-delay",
        type=float,
        default=0.3,
        help="ollama: seconds a model stays listed in /api/ps after keep_alive 0",
    )
    # vLLM's own `vllm serve` flags, so the product's flag set (dualread.runtime.servers) runs
    # unchanged against the stand-in.
    parser.add_argument("--max-model-len", type=int, default=None, help="openai: context limit")
    parser.add_argument(
        "--limit-mm-per-prompt",
        type=json.loads,
        default=None,
        help='openai: JSON, e.g. {"image": 1, "video": 0}',
    )
    parser.add_argument("--mm-processor-kwargs", type=json.loads, default=None, help="openai")
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.9, help="openai")
    parser.add_argument("--max-num-seqs", type=int, default=None, help="openai")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def _ollama_host_default() -> tuple[str, int] | None:
    """``OLLAMA_HOST`` as ``ollama serve`` reads it: host, host:port, or :port."""
    value = os.environ.get("OLLAMA_HOST", "").strip()
    if not value:
        return None
    value = value.split("://", 1)[-1].rstrip("/")
    host, _, port = value.rpartition(":") if ":" in value else (value, "", "")
    return host or "127.0.0.1", int(port) if port else DEFAULT_PORTS["ollama"]


def statement_profile(text: str | None) -> str | dict[str, Any] | None:
    """A profile name (``drop_row``) as is; a JSON object (``{"row_error_rate": 0.05}``) parsed."""
    if text is None or not text.strip().startswith("{"):
        return text
    profile = json.loads(text)
    if not isinstance(profile, dict):
        raise ValueError("--statement-errors must be a profile name or a JSON object")
    return profile


def build_app(args: argparse.Namespace) -> App:
    stats = Stats()
    reader = None
    if args.reader:
        # The engine needs dualread's dependencies, which a bare stand-in image lacks: imported
        # only here, so oracle mode runs on the standard library alone.
        oracle_builder = importlib.import_module("..oracle", __package__)
        reader = PageReader(
            functools.partial(oracle_builder.read_page_entry, ocr=args.reader_ocr), stats
        )
    answerer = Answerer(
        stats,
        oracle=OracleIndex.load(args.oracle) if args.oracle else None,
        reader=reader,
        faults=FaultProfile.parse(args.errors),
        statement_errors=statement_profile(args.statement_errors),
        statement_error_roles=tuple(r for r in args.statement_error_roles.split(",") if r),
        seed=args.seed,
    )
    # --models "" means none: the stand-in `ollama serve` of the image tests starts empty, like a
    # real server with an empty model store, and the entrypoint must pull.
    models = (
        DEFAULT_MODELS[args.kind]
        if args.models is None
        else [m for m in args.models.split(",") if m]
    )
    if args.kind == "ollama":
        models_dir = args.models_dir or (
            Path(os.environ["OLLAMA_MODELS"]) if os.environ.get("OLLAMA_MODELS") else None
        )
        return OllamaStandin(
            answerer, models=models, models_dir=models_dir, unload_delay_s=args.unload_delay
        ).app
    return OpenAIStandin(
        answerer,
        models=models,
        enable_sleep_mode=args.enable_sleep_mode,
        max_model_len=args.max_model_len,
        limit_mm_per_prompt=args.limit_mm_per_prompt,
    ).app


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        app = build_app(args)
    except (ProfileError, OSError, ValueError, TypeError, ImportError) as error:
        print(f"stand-in: {error}", file=sys.stderr)
        return 2
    host, port = "127.0.0.1", DEFAULT_PORTS[args.kind]
    if args.kind == "ollama":
        host, port = _ollama_host_default() or (host, port)
    serve(app, args.host or host, port if args.port is None else args.port, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
