"""Which client plays a role: chosen per role in config, so any role runs on either server kind."""

from __future__ import annotations

from dualread.backends.base import Backend
from dualread.backends.ollama import OllamaBackend
from dualread.backends.openai_compat import OpenAIBackend
from dualread.config import RoleSettings, Settings


def make_backend(role: RoleSettings, settings: Settings) -> Backend:
    """A new client for ``role``. Build one per role and share it between threads."""
    backend_class: type[OllamaBackend] | type[OpenAIBackend] = (
        OllamaBackend if role.backend == "ollama" else OpenAIBackend
    )
    return backend_class(
        role.url,
        timeout_s=settings.timeout_s,
        connect_timeout_s=settings.connect_timeout_s,
        retries=settings.retries,
    )
