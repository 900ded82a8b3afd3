"""What this host offers the model servers: GPUs, Docker, reachable servers, models, the plan.

Every probe is short and never raises: ``doctor`` must report a broken host, not crash on one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dualread.choices import Mode
from dualread.config import ServerKind, Settings
from dualread.runtime.admin import ServerAdmin, admin_for
from dualread.runtime.docker import DockerEngine, DockerError
from dualread.runtime.driver import DriverInfo, detect_driver
from dualread.runtime.errors import ServersUnavailable
from dualread.runtime.gpu import GpuReport
from dualread.runtime.host_plan import plan_report
from dualread.runtime.readiness import ServerReadiness, auto_engine
from dualread.runtime.servers import ServerSet, ServerSpec, server_set


def docker_report(servers: ServerSet, socket_path: str | None = None) -> dict[str, Any]:
    engine = DockerEngine(socket_path, timeout_s=5.0)
    report: dict[str, Any] = {"socket": engine.socket_path, "reachable": False}
    try:
        info = engine.version()
        report.update(
            reachable=True,
            version=info.get("Version"),
            api_version=engine.api_version,
            images={s.image: engine.image_exists(s.image) for s in servers.servers},
        )
    except DockerError as error:
        report["error"] = str(error)
    finally:
        engine.close()
    return report


def server_report(spec: ServerSpec, admin: ServerAdmin) -> dict[str, Any]:
    report: dict[str, Any] = {
        "server": spec.name,
        "kind": spec.kind,
        "url": spec.base_url,
        "reachable": admin.healthy(),
        "models_wanted": list(spec.model_names),
    }
    if not report["reachable"]:
        return report
    try:
        report["models_present"] = admin.available_models()
        report["models_missing"] = admin.missing_models()
        report["resident_models"] = sorted(admin.resident_models())
        report["can_free_gpu_without_restart"] = admin.supports_release()
    except ServersUnavailable as error:
        report["error"] = str(error)
    return report


def doctor_report(
    settings: Settings,
    *,
    mode: Mode = "auto",
    docker_socket: str | None = None,
    images: Mapping[ServerKind, str] | None = None,
    gpus: GpuReport | None = None,
    driver: DriverInfo | None = None,
) -> dict[str, Any]:
    """Everything ``dualread doctor`` shows, as JSON-ready data."""
    servers = server_set(settings, images)
    found_driver = driver if driver is not None else detect_driver()
    server_reports = []
    for spec in servers.servers:
        admin = admin_for(spec)
        try:
            server_reports.append(server_report(spec, admin))
        finally:
            admin.close()
    placement = plan_report(settings, mode=mode, images=images, gpus=gpus, driver=found_driver)
    engine, reason = auto_engine(
        [
            ServerReadiness(
                r["server"], r["url"], r["reachable"], tuple(r.get("models_missing", ()))
            )
            for r in server_reports
        ]
    )
    return {
        "gpus": placement["gpus"],
        "driver": placement["driver"],
        "docker": docker_report(servers, docker_socket),
        "servers": server_reports,
        "roles": {
            role: {"server": b.server, "model": b.model} for role, b in servers.roles.items()
        },
        "plan": placement["plan"],
        "replicas": placement["replicas"],
        "engine": engine,  # what extract --engine auto picks: the same verdict
        "engine_reason": reason,
    }
