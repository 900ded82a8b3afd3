"""Servers the user already runs (the default when the user passes URLs): health checks only.

dualread never starts, stops or restarts these; on one GPU it can still sleep vLLM and unload
Ollama models between phases, which needs no control over the process. With ``servers =
"external"`` (the default) it does not even do that, and never wakes a vLLM the user put to
sleep: :func:`check_awake` fails the phase fast instead.
"""

from __future__ import annotations

import time

import httpx

from dualread.config import Role, Settings, redact_url
from dualread.runtime.admin import ask_is_sleeping
from dualread.runtime.errors import ServerAsleep, ServersUnavailable
from dualread.runtime.launcher import LaunchState, Placement
from dualread.runtime.servers import ServerSpec


class ExternalLauncher:
    kind = "external"
    can_stop = False
    provisions_models = False

    def __init__(self, *, wait_s: float = 5.0, timeout_s: float = 5.0) -> None:
        self.wait_s = wait_s
        self._http = httpx.Client(timeout=timeout_s)

    def _answers(self, server: ServerSpec) -> bool:
        try:
            return self._http.get(server.base_url + server.health_path).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, server: ServerSpec, placement: Placement) -> None:
        """Nothing to start: wait briefly for the server to answer, else say how to fix it."""
        deadline = time.monotonic() + self.wait_s
        while not self._answers(server):
            if time.monotonic() >= deadline:
                raise ServersUnavailable(
                    f"{server.name}: no {server.kind} server answers at {server.base_url}"
                    f"{server.health_path}; start it, or let dualread start one with "
                    "--servers docker"
                )
            time.sleep(0.2)

    def stop(self, server: ServerSpec) -> None:
        return None

    def is_running(self, server: ServerSpec) -> bool:
        return self._answers(server)

    def state(self, server: ServerSpec) -> LaunchState:
        running = self._answers(server)
        return LaunchState(
            server.name,
            running,
            f"external at {server.base_url}: {'answering' if running else 'not answering'}",
        )

    def remove(self, server: ServerSpec) -> None:
        return None

    def close(self) -> None:
        self._http.close()


def check_awake(settings: Settings, role: Role) -> None:
    """Raise :class:`ServerAsleep` when the OpenAI-compatible server playing ``role`` is a vLLM
    whose ``GET /is_sleeping`` says it sleeps, :class:`ServersUnavailable` when it does not
    answer the question. A server without that route (an Ollama, vLLM outside dev mode, another
    OpenAI-compatible server) cannot have been put to sleep."""
    chosen = settings.role(role)
    if chosen.backend != "openai":
        return
    root = chosen.url.rstrip("/").removesuffix("/v1")  # vLLM's own routes sit beside /v1
    shown = redact_url(root)
    try:
        with httpx.Client(timeout=settings.connect_timeout_s) as http:
            asleep = ask_is_sleeping(http, root)
    except (httpx.HTTPError, ValueError) as error:
        raise ServersUnavailable(
            f"the {role} server at {shown}: asking whether it sleeps: {redact_url(str(error))}"
        ) from None
    if asleep:
        raise ServerAsleep(
            f"the {role} server at {shown} is asleep (GET /is_sleeping): a request would wait "
            "until it is woken, and dualread does not wake a server it does not run; wake it "
            f"(POST {shown}/wake_up) or let dualread run the servers (--servers docker)"
        )
