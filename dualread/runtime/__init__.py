"""Model servers: what they are, where they run, and how a batch takes turns on the GPUs.

- :mod:`~dualread.runtime.servers`: server specs derived from settings (image, port, cache, VRAM);
- :mod:`~dualread.runtime.gpu`: GPU detection (NVML, else nvidia-smi);
- :mod:`~dualread.runtime.plan`: :func:`make_plan`, one server per GPU, co-resident, or phases;
- :mod:`~dualread.runtime.scheduler`: :class:`ServerManager`, which runs a plan: activation,
  switches (vLLM sleep, Ollama unload, stop/start), per-server limits and the one restart;
- launchers: :mod:`~dualread.runtime.docker` (Engine API), :mod:`~dualread.runtime.process`,
  :mod:`~dualread.runtime.external`; model-level control in :mod:`~dualread.runtime.admin`;
- :mod:`~dualread.runtime.factory`: :func:`open_manager` from settings;
  :mod:`~dualread.runtime.doctor`: the ``dualread doctor`` report.
"""

from dualread.runtime.errors import LauncherError, ServersUnavailable
from dualread.runtime.factory import make_launcher, open_manager
from dualread.runtime.gpu import Gpu, GpuReport, detect_gpus
from dualread.runtime.plan import Plan, make_plan
from dualread.runtime.scheduler import ServerManager
from dualread.runtime.servers import ServerSet, ServerSpec, server_set

__all__ = [
    "Gpu",
    "GpuReport",
    "LauncherError",
    "Plan",
    "ServerManager",
    "ServerSet",
    "ServerSpec",
    "ServersUnavailable",
    "detect_gpus",
    "make_launcher",
    "make_plan",
    "open_manager",
    "server_set",
]
