"""Errors the runtime raises. Every message is one line and names the server and what to do.

Where they sit among dualread's errors, and their exit codes: :mod:`dualread.exit_codes`.
"""

from __future__ import annotations


class ServersUnavailable(Exception):
    """The model servers a batch needs could not be brought up, or died twice (CLI exit code 4).

    Readings finished before the failure stay valid: the pipeline votes and hands them over.
    """


class ServerAsleep(ServersUnavailable):
    """A vLLM server the user runs is asleep. vLLM queues a request sent to a sleeping engine
    until someone wakes it, so the batch would hang until its timeout; and when to wake a
    server the user runs is the user's scheduling, not dualread's."""


class LauncherError(Exception):
    """A container or process could not be created, started or stopped."""
