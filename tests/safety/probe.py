"""Run a snippet in a child Python with hard limits, and read back what it printed and its peak.

A hostile file that blows up memory or file descriptors must fail the test, not the machine: the
child runs under ``RLIMIT_AS`` (address space) and ``RLIMIT_NOFILE``, so a regression shows up as
a MemoryError or "too many open files" in the child's output within seconds.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GIB = 1 << 30

# The peak is VmHWM, the high-water mark of the child's own address space. Not ru_maxrss: Linux
# carries that across fork and exec, so a child of a large pytest process would report the
# parent's resident size (about 1 GB late in the suite) instead of its own.
_REPORT = """
import json as _json, pathlib as _pathlib
_status = _pathlib.Path("/proc/self/status").read_text().splitlines()
_peak = next(int(line.split()[1]) for line in _status if line.startswith("VmHWM:")) / 1024
print("PROBE " + _json.dumps({"peak_mb": _peak}))
"""


@dataclass
class ProbeRun:
    returncode: int
    output: str
    peak_mb: float | None

    @property
    def last_line(self) -> str:
        lines = [line for line in self.output.splitlines() if not line.startswith("PROBE ")]
        return lines[-1] if lines else ""


def run_limited(
    code: str, *, memory_bytes: int = 2 * GIB, open_files: int | None = None, timeout: float = 120
) -> ProbeRun:
    """Run ``code`` (dedented) in a fresh interpreter from the repository root."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + _REPORT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        preexec_fn=limit,
    )
    output = completed.stdout + completed.stderr
    peak = None
    for line in completed.stdout.splitlines():
        if line.startswith("PROBE "):
            peak = float(json.loads(line[len("PROBE ") :])["peak_mb"])
    return ProbeRun(completed.returncode, output, peak)
