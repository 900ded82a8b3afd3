"""Model servers: what they are, where they run, and how a batch takes turns on the GPUs.

- :mod:`~dualread.runtime.servers`: server specs derived from settings (image, port, cache, VRAM);
- :mod:`~dualread.runtime.gpu`: GPU detection (NVML, else nvidia-smi);
- :mod:`~dualread.runtime.plan`: :func:`make_plan`, one server per GPU, co-resident, or phases;
- :mod:`~dualread.runtime.host_plan`: the plan for this host (``dualread servers plan``);
- :mod:`~dualread.runtime.scheduler`: :class:`ServerManager`, which runs a plan: activation,
  switches (vLLM sleep, Ollama unload, stop/start), per-server limits and the one restart;
- launchers: :mod:`~dualread.runtime.docker` (Engine API), :mod:`~dualread.runtime.process`,
  :mod:`~dualread.runtime.external`; model-level control in :mod:`~dualread.runtime.admin`;
- :mod:`~dualread.runtime.factory`: :func:`open_manager` from settings;
  :mod:`~dualread.runtime.doctor`: the ``dualread doctor`` report.

The package itself imports none of them: import the module you need, so that a light path (the
plan, GPU detection) does not load the model clients the scheduler needs.
"""
