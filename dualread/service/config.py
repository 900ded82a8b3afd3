"""What a service is started with: the data folder, the access token and the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from dualread.config import Settings

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_WORKERS = 2  # the embedded engine is CPU-bound; model calls wait on servers, not cores
DEFAULT_BATCH_SIZE = 8  # queued jobs with the same options share one batch (one model swap each)


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("dualread", appauthor=False)) / "service"


@dataclass(frozen=True)
class ServiceConfig:
    data_dir: Path = field(default_factory=default_data_dir)
    settings: Settings = field(default_factory=Settings)
    token: str | None = None  # required off loopback; when set, every request must carry it
    workers: int = DEFAULT_WORKERS
    batch_size: int = DEFAULT_BATCH_SIZE
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
