"""The driver of a cluster batch: lists the work, streams it to one actor per node, writes.

1. Every input is hashed; an input whose hash the output folder's manifest lists (and whose
   output is still there) is skipped, so a re-run redoes only what a crash left unfinished.
2. One :class:`~dualread.cluster.node.NodeReader` actor per GPU node (every live node when none
   has a GPU), pinned there. Each gets at most ``in_flight`` tasks of ``batch`` documents at a
   time: that is the backpressure; the rest waits on the driver as paths, not bytes.
3. Results come back to the driver, which renders each document and writes it atomically into
   the output folder, then records it in the manifest.
4. A node lost mid-batch (its actor dies) has its unfinished tasks sent to the other nodes. Ray
   would only retry an actor's task on the same actor, restarted, which cannot come back on a
   node that is gone, so the driver resubmits itself. The per-node answer caches stay valid.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualread.api import ExtractOptions
from dualread.cluster.manifest import Entry, Manifest, file_sha256
from dualread.cluster.node import ItemResult, NodeReader, WorkItem
from dualread.exit_codes import EXIT_INPUT_ERROR, EXIT_SERVERS_UNAVAILABLE
from dualread.outputs import RENDERERS, SUFFIXES, write_atomic
from dualread.outputs.targets import plan_outputs

log = logging.getLogger("dualread.cluster")

BATCH = 4  # documents per task: a one-GPU node reads them phase by phase
IN_FLIGHT = 2  # tasks queued per node at once
LOCAL_OBJECT_STORE_BYTES = 128 * 1024 * 1024  # results are small JSON; keep Ray's store small


class ClusterError(RuntimeError):
    """The cluster cannot be reached or has no node to read on; one line for the user."""


@dataclass
class NodeProgress:
    """What one node did, for the progress lines and the final summary."""

    name: str
    documents: int = 0
    pages: int = 0
    failures: int = 0
    retries: int = 0  # documents of this node's lost tasks sent to other nodes
    lost: bool = False
    first_s: float | None = None
    last_s: float | None = None

    @property
    def pages_per_s(self) -> float:
        if self.first_s is None or self.last_s is None or self.last_s <= self.first_s:
            return 0.0
        return self.pages / (self.last_s - self.first_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.name,
            "documents": self.documents,
            "pages": self.pages,
            "pages_per_s": round(self.pages_per_s, 3),
            "retries": self.retries,
            "failures": self.failures,
            "lost": self.lost,
        }


@dataclass
class Outcome:
    """One input's end: written (``output`` set), skipped as already done, or failed."""

    source: str
    exit_code: int
    output: str | None = None
    status: str | None = None
    error: str | None = None
    node: str | None = None
    skipped: bool = False


@dataclass
class ClusterSummary:
    nodes: dict[str, NodeProgress]
    outcomes: list[Outcome]
    wall_s: float
    driver_s: float  # the driver's own work: hashing, dispatch, rendering, writing, manifest
    plans: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return max((o.exit_code for o in self.outcomes), default=0)

    def to_dict(self) -> dict[str, Any]:
        done = [o for o in self.outcomes if not o.skipped]
        return {
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "documents": len(done),
            "skipped": sum(o.skipped for o in self.outcomes),
            "failed": sum(o.error is not None for o in self.outcomes),
            "wall_s": round(self.wall_s, 3),
            "driver_s_per_document": round(self.driver_s / max(len(done), 1), 6),
        }


def connect(address: str) -> bool:
    """Join the cluster at ``address`` (``ray://HEAD:10001``, ``HOST:PORT`` or ``auto``), or
    start a one-machine cluster for ``local``. Returns whether this call connected (and so
    should disconnect)."""
    import ray

    if ray.is_initialized():
        return False
    try:
        if address == "local":
            ray.init(
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ClusterError(f"--cluster {address}: cannot connect ({first})") from None
    return True


def reader_nodes() -> list[dict[str, Any]]:
    """The live nodes that get an actor: those with GPUs, or all when none has one."""
    import ray

    alive = [n for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]
    with_gpus = [n for n in alive if n.get("Resources", {}).get("GPU", 0) > 0]
    return with_gpus or alive


def node_name(node: Mapping[str, Any]) -> str:
    return f"{node.get('NodeManagerAddress', '?')}/{str(node['NodeID'])[:8]}"


def output_names(files: Sequence[Path], folder: Path, fmt: str) -> dict[Path, str]:
    """Each input's output, as a path inside ``folder``: named as a local batch names it
    (:func:`~dualread.outputs.targets.plan_outputs`, so inputs sharing a name keep their relative
    path). Raises :class:`~dualread.outputs.targets.OutputPlanError` for an output that would
    land on an input."""
    plan = plan_outputs(files, str(folder), SUFFIXES[fmt], folder=True)
    return {
        source: target.relative_to(folder).as_posix()
        for source, target in plan.targets.items()
        if target is not None
    }


@dataclass
class _Task:
    node: str
    items: list[WorkItem]


def run_batch(
    address: str,
    files: Sequence[Path],
    folder: Path,
    *,
    fmt: str = "json",
    flags: Mapping[str, Any] | None = None,
    options: ExtractOptions | None = None,
    batch: int = BATCH,
    in_flight: int = IN_FLIGHT,
    on_outcome: Callable[[Outcome, NodeProgress | None], None] | None = None,
) -> ClusterSummary:
    """Read ``files`` on the cluster at ``address`` into ``folder`` (one file per input).

    ``flags`` are the command-line settings every node applies over its own configuration.
    """
    started = time.perf_counter()
    waited = 0.0
    names = output_names(files, folder, fmt)  # before anything is read or created
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(folder)
    outcomes: list[Outcome] = []
    nodes: dict[str, NodeProgress] = {}

    def finish(outcome: Outcome, node: NodeProgress | None = None) -> None:
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome, node)

    hashed: list[tuple[Path, str]] = []
    for path in files:
        try:
            hashed.append((path, file_sha256(path)))
        except OSError as error:
            finish(Outcome(str(path), EXIT_INPUT_ERROR, error=f"{path}: {error.strerror}"))
    todo: deque[WorkItem] = deque()
    output_of: dict[str, str] = {}  # WorkItem path -> its output inside the folder
    for path, sha in hashed:
        done = manifest.done(sha)
        if done is not None:
            finish(Outcome(str(path), done.exit_code, done.output, done.status, skipped=True))
        else:
            todo.append(WorkItem(str(path.resolve()), sha))
            output_of[str(path.resolve())] = names[path]
    if not todo:
        return ClusterSummary(nodes, outcomes, time.perf_counter() - started, 0.0)

    import ray
    from ray.exceptions import RayActorError
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    connected = connect(address)
    actors: dict[str, Any] = {}
    try:
        remote_reader = ray.remote(NodeReader)
        for node in reader_nodes():
            name = node_name(node)
            nodes[name] = NodeProgress(name)
            actors[name] = remote_reader.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
                num_cpus=0,  # it waits on model servers; the node's CPUs stay for its OCR
                max_restarts=0,
                max_task_retries=0,
            ).remote(dict(flags or {}), options or ExtractOptions())
        if not actors:
            raise ClusterError(f"--cluster {address}: no live node to read on")
        plans = {}
        wait_started = time.perf_counter()
        for name, actor in actors.items():
            try:
                plans[name] = ray.get(actor.describe.remote(), timeout=600)
            except RayActorError:
                nodes[name].lost = True
        waited += time.perf_counter() - wait_started  # the nodes start up: not the driver's work
        pending: dict[Any, _Task] = {}
        while todo or pending:
            for name, actor in actors.items():
                if nodes[name].lost:
                    continue
                queued = sum(1 for task in pending.values() if task.node == name)
                while todo and queued < in_flight:
                    items = [todo.popleft() for _ in range(min(batch, len(todo)))]
                    pending[actor.read.remote(items)] = _Task(name, items)
                    queued += 1
            if not pending:
                break  # every node is lost; what is left fails below
            wait_started = time.perf_counter()
            ready, _ = ray.wait(list(pending), num_returns=1)
            waited += time.perf_counter() - wait_started
            task = pending.pop(ready[0])
            progress = nodes[task.node]
            try:
                results: list[ItemResult] = ray.get(ready[0])
            except RayActorError:
                if not progress.lost:
                    log.warning("node %s lost; its documents go to the other nodes", task.node)
                progress.lost = True
                progress.retries += len(task.items)
                todo.extendleft(reversed(task.items))
                continue
            now = time.perf_counter() - started
            if progress.first_s is None:
                progress.first_s = now - sum(r.seconds for r in results)
            progress.last_s = now
            for result in results:
                finish(
                    _write(
                        result, folder, output_of[result.source], fmt, manifest, task.node, progress
                    ),
                    progress,
                )
        for item in todo:
            finish(
                Outcome(
                    item.path,
                    EXIT_SERVERS_UNAVAILABLE,
                    error=f"{item.path}: every cluster node was lost before it was read",
                )
            )
    finally:
        for actor in actors.values():
            ray.kill(actor)
        if connected:
            ray.shutdown()
    wall = time.perf_counter() - started
    return ClusterSummary(nodes, outcomes, wall, wall - waited, plans)


def _write(
    result: ItemResult,
    folder: Path,
    name: str,
    fmt: str,
    manifest: Manifest,
    node: str,
    progress: NodeProgress,
) -> Outcome:
    progress.documents += 1
    progress.pages += result.pages
    if not result.documents:
        progress.failures += 1
        return Outcome(result.source, result.exit_code, error=result.error, node=node)
    write_atomic(folder / name, RENDERERS[fmt](result.documents))
    manifest.record(
        Entry(result.sha256, result.source, name, result.status, result.exit_code, node)
    )
    return Outcome(result.source, result.exit_code, name, result.status, node=node)
