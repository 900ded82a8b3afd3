"""A local Ray cluster of simulated nodes for the cluster tests and benchmark.

Every node is its own Ray node (a raylet process of ``ray.cluster_utils.Cluster``) with its own
pair of stand-in servers; the node's environment (``DUALREAD_OLLAMA_URL``/``DUALREAD_VLLM_URL``)
points its actor at them, as a real node's configuration would point at its local servers.
Ray runs small: one CPU and 80 MB of object store per node.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualread.testing.standins.launch import RunningStandin, start_standin

MODELS_OLLAMA = ["openbmb/minicpm-v4.5:8b", "qwen3:8b"]
MODEL_OCR = ["nanonets/Nanonets-OCR-s"]
OBJECT_STORE_BYTES = 80 * 1024 * 1024
AGENT_PORTS = (
    "metrics_agent_port",
    "metrics_export_port",
    "dashboard_agent_listen_port",
    "runtime_env_agent_port",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SimulatedNode:
    ollama: RunningStandin
    openai: RunningStandin
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class LocalCluster:
    address: str
    cluster: Any  # ray.cluster_utils.Cluster
    nodes: list[SimulatedNode]

    def worker(self, node_name: str) -> Any:
        """The worker node (never the head) whose id the driver's node name (``ADDR/ID``)
        carries; raises StopIteration for the head."""
        short = node_name.rsplit("/", 1)[1]
        return next(n for n in self.cluster.worker_nodes if n.node_id.startswith(short))

    def remove(self, node: Any) -> None:
        """Kill a worker node's processes at once, as a lost host."""
        self.cluster.remove_node(node, allow_graceful=False)


@contextmanager
def local_cluster(
    count: int, oracle: Path, errors: str = "", env: Mapping[str, str] | None = None
) -> Iterator[LocalCluster]:
    """A head and ``count - 1`` workers, each with its own stand-ins answering from ``oracle``
    with the fault profile ``errors`` (``slow=S``: a fixed latency)."""
    from ray.cluster_utils import Cluster

    with ExitStack() as stack:
        nodes = []
        for _ in range(count):
            ollama = stack.enter_context(
                start_standin("ollama", models=MODELS_OLLAMA, oracle=oracle, errors=errors)
            )
            openai = stack.enter_context(
                start_standin("openai", models=MODEL_OCR, oracle=oracle, errors=errors)
            )
            node_env = {
                "DUALREAD_OLLAMA_URL": ollama.api_url,
                "DUALREAD_VLLM_URL": openai.api_url,
                "DUALREAD_USE_CACHE": "false",
                **(env or {}),
            }
            nodes.append(SimulatedNode(ollama, openai, node_env))

        def node_args(node: SimulatedNode) -> dict[str, Any]:
            # Fixed agent ports: the raylet then need not wait for the agents to report theirs,
            # which a busy two-core machine can make them miss.
            return {
                "num_cpus": 1,
                "object_store_memory": OBJECT_STORE_BYTES,
                "env_vars": node.env,
                **{name: _free_port() for name in AGENT_PORTS},
            }

        cluster = Cluster(
            initialize_head=True,
            head_node_args={**node_args(nodes[0]), "include_dashboard": False},
        )
        try:
            for node in nodes[1:]:
                cluster.add_node(**node_args(node))
            cluster.wait_for_nodes()
            yield LocalCluster(cluster.address, cluster, nodes)
        finally:
            import ray

            if ray.is_initialized():
                ray.shutdown()
            cluster.shutdown()  # type: ignore[no-untyped-call]
            os.environ.pop("RAY_ADDRESS", None)
