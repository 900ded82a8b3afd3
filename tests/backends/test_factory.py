"""Any role on either server kind, with the configured timeouts and retries."""

from __future__ import annotations

import pytest

from dualread.backends.factory import make_backend
from dualread.backends.ollama import OllamaBackend
from dualread.backends.openai_compat import OpenAIBackend
from dualread.config import Settings

pytestmark = pytest.mark.unit


def test_each_role_gets_the_backend_its_config_names() -> None:
    settings = Settings(
        ollama_url="http://127.0.0.1:1/",
        vllm_url="http://127.0.0.1:2/v1",
        backend_visual="openai",
        backend_ocr="ollama",
        timeout_s=12.0,
        connect_timeout_s=3.0,
        retries=5,
    )
    visual = make_backend(settings.role("visual"), settings)
    ocr = make_backend(settings.role("ocr"), settings)
    json_role = make_backend(settings.role("json"), settings)
    assert isinstance(visual, OpenAIBackend) and visual.base_url == "http://127.0.0.1:2/v1"
    assert isinstance(ocr, OllamaBackend) and ocr.base_url == "http://127.0.0.1:1"
    assert isinstance(json_role, OllamaBackend)
    assert (ocr.timeout_s, ocr.connect_timeout_s, ocr.retries) == (12.0, 3.0, 5)
    assert (visual.timeout_s, visual.connect_timeout_s, visual.retries) == (12.0, 3.0, 5)
