"""``dualread serve``: the HTTP API and the review page.

FastAPI and uvicorn are imported inside the command, so the rest of the CLI starts without them.
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path

import typer

from dualread.cli.common import settings_from_options
from dualread.config import ConfigError
from dualread.exit_codes import EXIT_INPUT_ERROR

READY_PREFIX = "dualread serve: listening on "


def serve_command(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; off loopback a token is required."
    ),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port (0: any free port)."),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        envvar="DUALREAD_DATA_DIR",
        help="Where jobs, uploads and results live (SQLite + files, user-only).",
    ),
    token_file: Path | None = typer.Option(
        None, "--token-file", help="File holding the access token (mode 600)."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        help="Access token; DUALREAD_TOKEN or --token-file keep it out of the process list.",
    ),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="Jobs read at once."),
    max_upload_mb: int = typer.Option(50, "--max-upload-mb", min=1, help="Largest upload, in MB."),
    ollama_url: str | None = typer.Option(None, "--ollama-url", help="Ollama server URL."),
    vllm_url: str | None = typer.Option(
        None, "--vllm-url", help="OpenAI-compatible (vLLM) server URL, ending in /v1."
    ),
    config: Path | None = typer.Option(None, "--config", help="TOML config file."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every request."),
) -> None:
    """Serve the HTTP API (/v1, OpenAPI at /docs) and the review page (/).

    Jobs, uploads and results persist under the data folder; a restarted server queues again what
    was running. Binds 127.0.0.1 by default; any other address needs a token.
    """
    from dualread.service.security import SecurityError, resolve_token

    def fail(message: str) -> typer.Exit:
        typer.echo(f"error: {message}", err=True)
        return typer.Exit(EXIT_INPUT_ERROR)

    try:
        settings = settings_from_options(config, ollama_url=ollama_url, vllm_url=vllm_url)
        required = resolve_token(host, token, token_file)
    except (ConfigError, SecurityError) as error:
        raise fail(str(error)) from None

    # Imported here: the web stack is only needed by this command.
    import uvicorn

    from dualread.service.app import create_app
    from dualread.service.config import ServiceConfig, default_data_dir

    service = ServiceConfig(
        data_dir=(data_dir or default_data_dir()).expanduser(),
        settings=settings,
        token=required,
        workers=workers,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
    )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError as error:
        raise fail(f"cannot bind {host}:{port} ({error.strerror})") from None
    bound_port = listener.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    typer.echo(f"{READY_PREFIX}http://{shown}:{bound_port}", err=True)
    sys.stderr.flush()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(service),
            log_level="info" if verbose else "warning",
            access_log=verbose,
            server_header=False,
        )
    )
    server.run(sockets=[listener])
