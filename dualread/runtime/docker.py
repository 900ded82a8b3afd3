"""Model servers in containers, through the Docker Engine API on its unix socket (httpx, no SDK).

The API version is negotiated once with the unversioned ``GET /version``: the daemon's newest,
capped at :data:`NEWEST_API` (the newest whose changes were checked against the fields sent and
read here), never below the daemon's ``MinAPIVersion`` (Docker 29 refuses anything under 1.44)
nor below :data:`OLDEST_API` (``HostConfig.DeviceRequests``, the GPU request, came in 1.40).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from dualread.choices import GpuBinding, NetworkMode
from dualread.runtime.errors import LauncherError
from dualread.runtime.launcher import LaunchState, Placement, require_local
from dualread.runtime.servers import ServerSpec

NEWEST_API = "1.47"
OLDEST_API = "1.40"
DEFAULT_SOCKET = "/var/run/docker.sock"
MANAGED_LABEL = "dualread.managed"


class DockerError(LauncherError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def negotiate_api_version(daemon_newest: str, daemon_oldest: str | None) -> str:
    """The version both sides speak; raises when the daemon is too old for GPU requests."""
    chosen = min(daemon_newest, NEWEST_API, key=_version_tuple)
    if daemon_oldest and _version_tuple(daemon_oldest) > _version_tuple(chosen):
        chosen = daemon_oldest
    if _version_tuple(chosen) < _version_tuple(OLDEST_API):
        raise DockerError(
            f"Docker engine API {daemon_newest} is too old; dualread needs {OLDEST_API} "
            "(Docker 19.03) or newer"
        )
    return chosen


def socket_path_from_env(environ: Mapping[str, str] | None = None) -> str:
    host = (os.environ if environ is None else environ).get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return host.removeprefix("unix://")
    return DEFAULT_SOCKET


class DockerEngine:
    """The few Engine API calls dualread needs. Errors are :class:`DockerError`, one line each."""

    def __init__(self, socket_path: str | None = None, *, timeout_s: float = 30.0) -> None:
        self.socket_path = socket_path or socket_path_from_env()
        self._http = httpx.Client(
            transport=httpx.HTTPTransport(uds=self.socket_path),
            base_url="http://docker",
            timeout=timeout_s,
        )
        self._api: str | None = None

    def close(self) -> None:
        self._http.close()

    def version(self) -> dict[str, Any]:
        """The daemon's unversioned ``/version`` answer."""
        try:
            answer = self._http.get("/version")
        except httpx.HTTPError as error:
            raise DockerError(
                f"Docker engine not reachable at {self.socket_path}: {error}"
            ) from None
        if answer.status_code != 200:
            raise DockerError(f"Docker engine at {self.socket_path}: /version {answer.status_code}")
        data: dict[str, Any] = answer.json()
        return data

    @property
    def api_version(self) -> str:
        if self._api is None:
            info = self.version()
            self._api = negotiate_api_version(info["ApiVersion"], info.get("MinAPIVersion"))
        return self._api

    def _call(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200, 201, 204),
        timeout_s: float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        url = f"/v{self.api_version}{path}"
        extra: dict[str, Any] = {} if timeout_s is None else {"timeout": timeout_s}
        try:
            answer = self._http.request(method, url, **kwargs, **extra)
        except httpx.HTTPError as error:
            raise DockerError(
                f"Docker engine at {self.socket_path}: {method} {path}: {error}"
            ) from None
        if answer.status_code not in ok:
            try:
                message = answer.json().get("message", answer.text)
            except ValueError:
                message = answer.text
            first = str(message).strip().splitlines()[0] if str(message).strip() else ""
            raise DockerError(
                f"docker {method} {path}: {answer.status_code} {first}", answer.status_code
            )
        return answer

    def create_container(self, name: str, config: Mapping[str, Any]) -> str:
        answer = self._call("POST", "/containers/create", params={"name": name}, json=dict(config))
        return str(answer.json()["Id"])

    def start(self, container: str) -> None:
        self._call("POST", f"/containers/{container}/start", ok=(204, 304))

    def stop(self, container: str, timeout_s: int) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; already stopped is fine."""
        self._call(
            "POST",
            f"/containers/{container}/stop",
            params={"t": timeout_s},
            ok=(204, 304),
            timeout_s=timeout_s + 30.0,
        )

    def kill(self, container: str, signal: str = "KILL") -> None:
        self._call("POST", f"/containers/{container}/kill", params={"signal": signal})

    def remove(self, container: str, *, force: bool = True) -> None:
        self._call("DELETE", f"/containers/{container}", params={"force": force}, ok=(204, 404))

    def _json_or_none(self, path: str) -> dict[str, Any] | None:
        """A GET answer's JSON, or None for 404 (no such container or image)."""
        answer = self._call("GET", path, ok=(200, 404))
        if answer.status_code == 404:
            return None
        data: dict[str, Any] = answer.json()
        return data

    def inspect(self, container: str) -> dict[str, Any] | None:
        return self._json_or_none(f"/containers/{container}/json")

    def list_containers(
        self, labels: Mapping[str, str], *, include_stopped: bool = True
    ) -> list[dict[str, Any]]:
        filters = {"label": [f"{key}={value}" for key, value in labels.items()]}
        answer = self._call(
            "GET",
            "/containers/json",
            params={"all": include_stopped, "filters": json.dumps(filters)},
        )
        data: list[dict[str, Any]] = answer.json()
        return data

    def inspect_image(self, image: str) -> dict[str, Any] | None:
        return self._json_or_none(f"/images/{image}/json")

    def image_exists(self, image: str) -> bool:
        return self.inspect_image(image) is not None


def _config_digest(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


class DockerLauncher:
    """Starts each server as container ``<prefix><server name>``, reused while its config holds.

    A stop keeps the container, so the next start is ``docker start`` (as the seeds did); a
    changed config (image, GPUs, env) replaces it. Model caches live on named volumes.
    """

    kind = "docker"
    can_stop = True
    provisions_models = True  # the images' entrypoints pull what the cache volume lacks

    def __init__(
        self,
        engine: DockerEngine,
        *,
        network_mode: NetworkMode = "bridge",
        gpu_binding: GpuBinding = "device-requests",
        name_prefix: str = "dualread-",
        stop_timeout_s: int = 10,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.network_mode = network_mode
        self.gpu_binding = gpu_binding
        self.name_prefix = name_prefix
        self.stop_timeout_s = stop_timeout_s
        self.labels = dict(labels or {})

    def container_name(self, server: ServerSpec) -> str:
        return f"{self.name_prefix}{server.name}"

    def container_config(
        self, server: ServerSpec, placement: Placement, *, cache_path: str | None = None
    ) -> dict[str, Any]:
        """The ``/containers/create`` body: ports on 127.0.0.1 only, cache volume, GPUs."""
        fraction = placement.gpu_memory_fraction

        def render(template: str) -> str:
            return server.render(template, gpu_memory_utilization=fraction)

        variables = dict(server.container_env)
        if self.network_mode == "host":
            variables.update(server.loopback_env)  # nothing is published: bind loopback directly
        env = [f"{key}={render(value)}" for key, value in sorted(variables.items())]
        mounts = []
        if server.cache_volume:
            target = cache_path or server.cache_path
            mounts.append({"Type": "volume", "Source": server.cache_volume, "Target": target})
        host_config: dict[str, Any] = {
            "NetworkMode": self.network_mode,
            "RestartPolicy": {"Name": "no"},  # a crash must be seen: the scheduler restarts once
            # docker-init as PID 1 forwards `docker stop`'s SIGTERM: a server that is PID 1
            # itself ignores it until it installs a handler, and the stop waits for SIGKILL.
            "Init": True,
            "Mounts": mounts,
        }
        if server.kind == "vllm":
            host_config["ShmSize"] = 2 * 1024**3  # vLLM workers share tensors through /dev/shm
        config: dict[str, Any] = {"Image": server.image, "Env": env}
        if server.container_cmd:
            config["Cmd"] = [render(part) for part in server.container_cmd]
        if self.network_mode == "bridge":
            port_key = f"{server.container_port}/tcp"
            config["ExposedPorts"] = {port_key: {}}
            host_config["PortBindings"] = {
                port_key: [{"HostIp": "127.0.0.1", "HostPort": str(server.port)}]
            }
        if placement.gpus:
            ids = [str(gpu) for gpu in placement.gpus]
            if self.gpu_binding == "device-requests":
                host_config["DeviceRequests"] = [
                    {"Driver": "nvidia", "DeviceIDs": ids, "Capabilities": [["gpu"]]}
                ]
            else:
                env.append(f"NVIDIA_VISIBLE_DEVICES={','.join(ids)}")
        config["HostConfig"] = host_config
        labels = {
            **self.labels,
            MANAGED_LABEL: "true",
            "dualread.server": server.name,
            "dualread.gpus": ",".join(str(gpu) for gpu in placement.gpus),
        }
        digest = _config_digest({**config, "Labels": labels})
        config["Labels"] = {**labels, "dualread.config": digest}
        return config

    def create(self, server: ServerSpec, placement: Placement) -> str:
        """Create (or keep, when its config is unchanged) the container, without starting it."""
        require_local(server, self.kind)
        image = self.engine.inspect_image(server.image)
        if image is None:
            raise LauncherError(
                f"{server.name}: image {server.image} is not on this host; build it with "
                "./build-images.sh or pull it"
            )
        labels = (image.get("Config") or {}).get("Labels") or {}
        config = self.container_config(
            server, placement, cache_path=labels.get("dualread.model-cache")
        )
        name = self.container_name(server)
        existing = self.engine.inspect(name)
        if existing is not None:
            if (
                existing["Config"]["Labels"].get("dualread.config")
                == config["Labels"]["dualread.config"]
            ):
                return str(existing["Id"])
            self.engine.remove(name, force=True)
        return self.engine.create_container(name, config)

    def start(self, server: ServerSpec, placement: Placement) -> None:
        self.create(server, placement)
        try:
            self.engine.start(self.container_name(server))  # the name reads better in errors
        except DockerError as error:
            if "could not select device driver" in str(error):
                raise DockerError(
                    f"{error} (install the NVIDIA Container Toolkit, or use --gpu-binding "
                    "nvidia-env where nvidia is the default runtime)",
                    error.status,
                ) from None
            raise

    def stop(self, server: ServerSpec) -> None:
        if self.engine.inspect(self.container_name(server)) is not None:
            self.engine.stop(self.container_name(server), self.stop_timeout_s)

    def is_running(self, server: ServerSpec) -> bool:
        found = self.engine.inspect(self.container_name(server))
        return bool(found and found["State"]["Running"])

    def state(self, server: ServerSpec) -> LaunchState:
        name = self.container_name(server)
        found = self.engine.inspect(name)
        if found is None:
            return LaunchState(server.name, False, f"container {name}: absent")
        status = found["State"]
        detail = f"container {name}: {status['Status']}"
        if not status["Running"] and status.get("ExitCode"):
            detail += f" (exit {status['ExitCode']})"
        gpus = found["Config"]["Labels"].get("dualread.gpus")
        if gpus:
            detail += f", GPU {gpus}"
        return LaunchState(server.name, bool(status["Running"]), detail)

    def remove(self, server: ServerSpec) -> None:
        self.engine.remove(self.container_name(server), force=True)

    def managed_containers(self) -> list[dict[str, Any]]:
        """Every container dualread created with this launcher's labels, running or not."""
        return self.engine.list_containers({**self.labels, MANAGED_LABEL: "true"})
