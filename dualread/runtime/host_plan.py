"""The plan for this host, probing no server: its GPUs (as ``--gpus`` limits them), the NVIDIA
driver, and where each server's copies would run.

``dualread servers plan`` prints this; ``doctor`` and :func:`~dualread.runtime.factory.open_manager`
build on it. It imports no model client, launcher or scheduler, so showing a plan stays quick.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dualread.choices import Mode
from dualread.config import ServerKind, Settings
from dualread.runtime.driver import DriverInfo, detect_driver, driver_problems
from dualread.runtime.gpu import GpuReport, chosen_gpus, detect_gpus
from dualread.runtime.plan import Plan, Preference, make_plan, replica_counts
from dualread.runtime.replicas import replica_specs
from dualread.runtime.servers import ServerSet, server_set


def plan_for(
    servers: ServerSet,
    settings: Settings,
    gpus: GpuReport | None = None,
    *,
    mode: Mode = "auto",
    prefer: Preference = "best",
    can_stop: bool = True,
) -> Plan:
    """The plan over the visible GPUs (``CUDA_VISIBLE_DEVICES``) limited to ``settings.gpus``
    (``--gpus``), with ``settings.replicas`` (``--replicas``); raises
    :class:`~dualread.runtime.gpu.GpuChoiceError` or :class:`~dualread.config.ConfigError`."""
    report = chosen_gpus(gpus if gpus is not None else detect_gpus(), settings.gpus)
    return make_plan(
        report.gpus,
        servers,
        mode,
        prefer=prefer,
        can_stop=can_stop,
        replicas=replica_counts(settings.replicas, servers),
    )


def gpu_section(found: GpuReport) -> dict[str, Any]:
    return {
        "source": found.source,
        "error": found.error,
        "visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "devices": [gpu.to_dict() for gpu in found.gpus],
    }


def driver_section(info: DriverInfo, servers: ServerSet) -> dict[str, Any]:
    return {
        "version": info.version,
        "cuda": info.cuda,
        "source": info.source,
        "error": info.error,
        "will_not_start": driver_problems(info, (s.kind for s in servers.servers)),
    }


def plan_report(
    settings: Settings,
    *,
    mode: Mode = "auto",
    images: Mapping[ServerKind, str] | None = None,
    gpus: GpuReport | None = None,
    driver: DriverInfo | None = None,
) -> dict[str, Any]:
    """The GPUs (as ``--gpus`` limits them), the driver, and the plan with its replicas; probes
    no server."""
    servers = server_set(settings, images)
    found = chosen_gpus(gpus if gpus is not None else detect_gpus(), settings.gpus)
    plan = plan_for(servers, settings, found, mode=mode)
    return {
        "gpus": gpu_section(found),
        "driver": driver_section(driver if driver is not None else detect_driver(), servers),
        "plan": plan.to_dict(),
        "replicas": replica_table(servers, plan),
    }


def replica_table(servers: ServerSet, plan: Plan) -> list[dict[str, Any]]:
    """Every server copy the plan runs: name, URL, roles and GPUs."""
    rows = []
    for spec in servers.servers:
        placements = plan.replicas[spec.name]
        roles = [r for r, b in servers.roles.items() if b.server == spec.name]
        for copy, placement in zip(replica_specs(spec, len(placements)), placements, strict=True):
            rows.append(
                {
                    "server": copy.name,
                    "replica_of": spec.name,
                    "url": copy.base_url,
                    "roles": roles,
                    "gpus": list(placement.gpus),
                    "gpu_memory_fraction": placement.gpu_memory_fraction,
                }
            )
    return rows
