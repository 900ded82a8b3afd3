"""Transport-level error profiles: what goes wrong between the client and a model server.

A profile is a comma-separated list of ``[role.]name[=value]`` items, for example
``http500=2,json.invalid_json=1,slow=0.2``. ``role`` limits an item to one kind of request
(``visual``: images and a schema; ``ocr``: images, free text; ``json``: text and a schema;
``text``: neither). Counted faults hit the first N attempts of each distinct request (see
:func:`Answerer.identity <dualread.testing.standins.answers>`), in this order, then the request
succeeds: so a retry or a repair re-ask meets the next one, whatever the concurrency.

==============  =========================================================================
http500=N       answer HTTP 500
invalid_json=N  answer malformed JSON (trailing comma), finish reason "stop"
truncate=N      answer the first half only, finish reason "length"
loop=N          (OCR) append one table row repeated until max_tokens, finish "length"
slow=S          delay every model answer S seconds (a timeout when S exceeds the client's)
think           start every answer with a closed <think> block
fence           wrap every JSON answer in a ```json code fence
==============  =========================================================================
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

COUNTED = ("http500", "invalid_json", "truncate", "loop")
FLAGS = ("think", "fence")
DELAYS = ("slow",)
ROLES = ("visual", "ocr", "json", "text")


class ProfileError(ValueError):
    pass


@dataclass(frozen=True)
class Fault:
    name: str
    value: float
    role: str | None  # None: every role


@dataclass(frozen=True)
class FaultProfile:
    faults: tuple[Fault, ...] = ()

    @classmethod
    def parse(cls, spec: str | None) -> FaultProfile:
        faults = []
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            key, _, value_text = item.partition("=")
            role, dot, name = key.rpartition(".")
            if dot and role not in ROLES:
                raise ProfileError(f"fault {item!r}: role must be one of {', '.join(ROLES)}")
            if name not in COUNTED + FLAGS + DELAYS:
                raise ProfileError(f"unknown fault {name!r}")
            try:
                value = float(value_text) if value_text else 1.0
            except ValueError:
                raise ProfileError(f"fault {item!r}: value must be a number") from None
            faults.append(Fault(name, value, role or None))
        return cls(tuple(faults))

    def _applying(self, name: str, role: str) -> list[Fault]:
        return [f for f in self.faults if f.name == name and f.role in (None, role)]

    def counted_fault(self, role: str, attempt: int) -> str | None:
        """The counted fault that attempt number ``attempt`` (0-based) of a request meets."""
        boundary = 0
        for name in COUNTED:
            boundary += int(sum(f.value for f in self._applying(name, role)))
            if attempt < boundary:
                return name
        return None

    def flag(self, name: str, role: str) -> bool:
        return bool(self._applying(name, role))

    def delay(self, role: str) -> float:
        return sum(f.value for f in self._applying("slow", role))


class AttemptCounter:
    """How many times each distinct request has been asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def next(self, identity: str) -> int:
        with self._lock:
            attempt = self._counts.get(identity, 0)
            self._counts[identity] = attempt + 1
            return attempt
