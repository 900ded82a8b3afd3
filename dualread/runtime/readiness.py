"""Whether the VLM routes can run here: the one verdict behind ``--engine auto`` and ``doctor``.

The routes need every configured server to answer *and* to hold its models: a server that is up
but lacks a model fails on the first page. :func:`auto_engine` is the only place that decides;
``dualread extract --engine auto``, the service's health page and ``dualread doctor`` all ask it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from dualread.config import ServerKind, Settings
from dualread.runtime.admin import admin_for
from dualread.runtime.errors import ServersUnavailable
from dualread.runtime.servers import ServerSpec, server_set


@dataclass(frozen=True)
class ServerReadiness:
    """One model server as the routes need it: answering, and with every model present."""

    server: str
    url: str
    reachable: bool
    models_missing: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.reachable and not self.models_missing


def probe(spec: ServerSpec) -> ServerReadiness:
    """Ask one server for its health and its models; never raises."""
    admin = admin_for(spec)
    try:
        if not admin.healthy():
            return ServerReadiness(spec.name, spec.base_url, reachable=False)
        try:
            missing = tuple(admin.missing_models())
        except ServersUnavailable:
            return ServerReadiness(spec.name, spec.base_url, reachable=False)
        return ServerReadiness(spec.name, spec.base_url, reachable=True, models_missing=missing)
    finally:
        admin.close()


def probe_servers(
    settings: Settings, images: Mapping[ServerKind, str] | None = None
) -> list[ServerReadiness]:
    """Every server behind the configured roles, probed."""
    return [probe(spec) for spec in server_set(settings, images).servers]


def auto_engine(servers: Sequence[ServerReadiness]) -> tuple[Literal["vlm", "embedded"], str]:
    """The VLM consensus when every server answers with its models, else the embedded engine;
    with a one-line reason for the user."""
    silent = [s for s in servers if not s.reachable]
    lacking = [s for s in servers if s.reachable and s.models_missing]
    if not silent and not lacking:
        return "vlm", "every model server answered with its models"
    problems = [f"no model server answered at {', '.join(s.url for s in silent)}"] if silent else []
    problems += [f"{s.server} at {s.url} lacks {', '.join(s.models_missing)}" for s in lacking]
    return "embedded", "; ".join(problems)
