"""The Ray actor on one node: it owns that node's model servers and reads with the real pipeline.

Settings come from the node itself (its ``DUALREAD_*`` environment and config file: where its
servers listen, how they run) with the driver's command-line flags on top. When dualread runs
the servers (``servers = "process"`` or ``"docker"``) the actor keeps one
:class:`~dualread.runtime.scheduler.ServerManager` for its whole life, planned for that node's
GPUs: phases on a one-GPU node, replicas on a multi-GPU node.

This module does not import Ray: the driver wraps :class:`NodeReader` in ``ray.remote``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dualread.api import ExtractOptions, extract_many
from dualread.config import Settings, load_settings
from dualread.runtime.factory import open_manager
from dualread.runtime.scheduler import ServerManager


@dataclass(frozen=True)
class WorkItem:
    path: str  # on a file system every node reads
    sha256: str


@dataclass(frozen=True)
class ItemResult:
    sha256: str
    source: str
    exit_code: int
    documents: list[dict[str, Any]]  # one statement per account of the file; none if it failed
    error: str | None
    status: str | None
    pages: int
    seconds: float  # the task's wall time shared out over its documents


class NodeReader:
    """One per node. ``read`` takes a few documents at a time; Ray runs its calls one by one, so
    the tasks queued on it are the driver's backpressure."""

    def __init__(self, flags: dict[str, Any], options: ExtractOptions) -> None:
        self.settings: Settings = load_settings().replace(**flags)
        self.options = options
        self._manager: ServerManager | None = None

    def describe(self) -> dict[str, Any]:
        """Where this node's servers are and, when it runs them, its plan."""
        manager = self._control()
        return {
            "servers": self.settings.servers,
            "urls": sorted({self.settings.role(r).url for r in ("visual", "ocr", "json")}),
            "plan": manager.plan.to_dict() if manager is not None else None,
        }

    def read(self, items: list[WorkItem]) -> list[ItemResult]:
        started = time.perf_counter()
        by_path = {str(Path(item.path)): item for item in items}
        results = list(
            extract_many(
                [Path(item.path) for item in items],
                settings=self.settings,
                options=self.options,
                control=self._control(),
            )
        )
        share = (time.perf_counter() - started) / max(len(results), 1)
        return [
            ItemResult(
                by_path[str(result.source)].sha256,
                str(result.source),
                result.exit_code,
                result.documents,
                result.error,
                result.status,
                result.page_count,
                share,
            )
            for result in results
        ]

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
            self._manager = None

    def _control(self) -> ServerManager | None:
        """The node's server manager when dualread runs its servers; None for external ones."""
        if self.settings.servers == "external":
            return None
        if self._manager is None:
            self._manager = open_manager(
                self.settings, runtime=self.settings.servers, mode=self.settings.mode
            )
        return self._manager
