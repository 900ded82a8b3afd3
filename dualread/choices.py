"""Every closed set of choices dualread offers, each defined once.

The CLI options, the settings, the library API and the runtime all take their allowed values from
here (``typing.get_args`` gives the tuple), so a new value is added in one place. The JSON schema
enumerates the record's values too; a test keeps it and these in step. This module imports only
:mod:`typing`, so the CLI can use it without slowing ``--help``.
"""

from __future__ import annotations

from typing import Literal

Engine = Literal["auto", "vlm", "embedded"]
"""``--engine``: the two VLM routes with consensus, the embedded CPU engine, or whichever can
run (``auto``)."""

Route = Literal["visual", "ocr"]
"""``--route``: one VLM route alone. Route A (``visual``) reads page images into JSON; route B
(``ocr``) transcribes pages to Markdown and turns that into JSON."""

Status = Literal["agreed", "resolved", "unresolved", "single", "unverified"]
"""How sure a result is; consensus decides it (see :func:`dualread.consensus.decide`). One reader's
result is ``single`` when its arithmetic holds and ``unverified`` when nothing printed could check
it."""

OnDispute = Literal["null", "best"]
"""What a value the readings left disputed becomes: null where the schema allows, or the best
guess."""

OutputFormat = Literal["json", "csv", "ofx"]

OcrEngine = Literal["rapidocr", "tesseract"]
"""The embedded engine's OCR for scanned pages."""

ManagedRuntime = Literal["docker", "process"]
"""How dualread runs model servers itself: as containers or as host processes."""

RuntimeKind = Literal["external", ManagedRuntime]
"""Who runs the model servers: the user (``external``) or dualread."""

Mode = Literal["auto", "parallel", "sequential"]
"""How managed servers share the GPUs: one server per GPU, phases on one GPU, or chosen."""

NetworkMode = Literal["bridge", "host"]
"""Container networking: ``bridge`` publishes ports on 127.0.0.1 only; ``host`` shares the
host's."""

GpuBinding = Literal["device-requests", "nvidia-env"]
"""How a container gets its GPUs: DeviceRequests for the NVIDIA container toolkit (Docker
19.03+), or NVIDIA_VISIBLE_DEVICES for hosts whose default runtime is the nvidia runtime."""

EngineUsed = Literal["vlm", "embedded", Route]
"""What the record says read a document: the VLM consensus, the embedded engine, or one route
alone."""
