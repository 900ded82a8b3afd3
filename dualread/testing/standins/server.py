"""HTTP plumbing shared by the stand-ins: JSON in and out, routing, rejections, statistics.

Every request is checked against the documented shape before it is answered; one that does not
match gets HTTP 400 with the reason, and is counted, so a test can assert that none were sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

READY_PREFIX = "dualread stand-in listening on "
KEPT_REQUESTS = 200


class Rejected(Exception):
    """A request the real server would refuse, or one outside the documented shape."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        """The body as JSON (None when empty); malformed JSON is rejected."""
        if not self.raw:
            return None
        try:
            return json.loads(self.raw)
        except ValueError as error:
            raise Rejected(400, f"body is not valid JSON ({error})") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise Rejected(400, "body must be a JSON object")
        return body


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict or list: JSON; str: text; bytes: as is; None: empty
    content_type: str | None = None


Route = Callable[[Request], Reply]


def redact_images(value: Any) -> Any:
    """A copy of a request body with every image (base64 or data URL) replaced by its sha256, so
    recorded requests stay small and comparable."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "images" and isinstance(item, list):
                out[key] = [_image_digest(i) for i in item]
            elif key == "url" and isinstance(item, str) and item.startswith("data:"):
                out[key] = _image_digest(item.partition(",")[2])
            else:
                out[key] = redact_images(item)
        return out
    if isinstance(value, list):
        return [redact_images(item) for item in value]
    return value


def _image_digest(encoded: Any) -> str:
    try:
        return "sha256:" + hashlib.sha256(base64.b64decode(str(encoded))).hexdigest()
    except ValueError:
        return "undecodable"


class Stats:
    """Thread-safe counters behind ``GET /_standin/stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counts: dict[str, dict[str, int]] = {}
            self._rejections: list[dict[str, Any]] = []
            self._requests: list[dict[str, Any]] = []
            self._in_flight = 0
            self._max_in_flight = 0

    def count(self, group: str, key: str, amount: int = 1) -> None:
        with self._lock:
            bucket = self._counts.setdefault(group, {})
            bucket[key] = bucket.get(key, 0) + amount

    def reject(self, method: str, path: str, reason: str) -> None:
        with self._lock:
            self._rejections.append({"method": method, "path": path, "reason": reason})

    def record(self, path: str, body: Any) -> None:
        with self._lock:
            self._requests.append({"path": path, "body": redact_images(body)})
            del self._requests[:-KEPT_REQUESTS]

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Track how many model calls run at once (tests assert the client's concurrency)."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                **{group: dict(bucket) for group, bucket in self._counts.items()},
                "rejected": len(self._rejections),
                "rejections": list(self._rejections),
                "max_in_flight": self._max_in_flight,
            }

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)


@dataclass
class App:
    """Routes plus the built-in ``/_standin/*`` endpoints. ``error_body`` formats a rejection the
    way the imitated server formats its errors."""

    routes: dict[tuple[str, str], Route]
    error_body: Callable[[int, str], Any]
    extra_stats: Callable[[], dict[str, Any]] = dict
    on_reset: Callable[[], None] = lambda: None
    stats: Stats = field(default_factory=Stats)

    def handle(self, request: Request) -> Reply:
        self.stats.count("requests", f"{request.method} {request.path}")
        builtin = self._builtin(request)
        if builtin is not None:
            return builtin
        route = self.routes.get((request.method, request.path))
        try:
            if route is None:
                known = any(path == request.path for _, path in self.routes)
                raise Rejected(405 if known else 404, f"no route {request.method} {request.path}")
            return route(request)
        except Rejected as rejected:
            self.stats.reject(request.method, request.path, rejected.reason)
            return Reply(rejected.status, self.error_body(rejected.status, rejected.reason))
        except Exception as error:  # a stand-in bug: answer, and count it so the test fails
            reason = f"stand-in internal error: {error!r}"
            self.stats.reject(request.method, request.path, reason)
            return Reply(500, self.error_body(500, reason))

    def _builtin(self, request: Request) -> Reply | None:
        if request.path == "/_standin/stats" and request.method == "GET":
            return Reply(body={**self.stats.snapshot(), **self.extra_stats()})
        if request.path == "/_standin/requests" and request.method == "GET":
            return Reply(body=self.stats.requests())
        if request.path == "/_standin/reset" and request.method == "POST":
            self.stats.reset()
            self.on_reset()
            return Reply(body={"reset": True})
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real servers; the clients pool connections
    server: StandinHTTPServer

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = Request(self.command, url.path, dict(parse_qsl(url.query)), raw)
        reply = self.server.app.handle(request)
        body, content_type = _encode(reply)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a timeout test)

    do_GET = do_POST = do_HEAD = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


def _encode(reply: Reply) -> tuple[bytes, str]:
    if reply.body is None:
        return b"", reply.content_type or "text/plain; charset=utf-8"
    if isinstance(reply.body, bytes):
        return reply.body, reply.content_type or "application/octet-stream"
    if isinstance(reply.body, str):
        return reply.body.encode(), reply.content_type or "text/plain; charset=utf-8"
    return json.dumps(reply.body).encode(), reply.content_type or "application/json"


class StandinHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging answer (timeout tests) must not block shutdown

    def __init__(self, address: tuple[str, int], app: App, *, verbose: bool = False) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.verbose = verbose


def serve(
    app: App, host: str, port: int, *, verbose: bool = False, out: TextIO = sys.stdout
) -> None:
    """Serve forever; first print one line with the URL (port 0 picks a free port)."""
    httpd = StandinHTTPServer((host, port), app, verbose=verbose)
    bound_host, bound_port = httpd.server_address[:2]
    print(f"{READY_PREFIX}http://{bound_host!s}:{bound_port}", file=out, flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
