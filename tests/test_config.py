from __future__ import annotations

from pathlib import Path

import pytest

from dualread.config import ConfigError, Settings, load_settings

pytestmark = pytest.mark.unit


def test_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('ollama_url = "http://127.0.0.1:1"\ndpi = 150\nmax_passes = 6\n')
    env = {"DUALREAD_DPI": "300"}
    settings = load_settings(config, env)
    assert settings.ollama_url == "http://127.0.0.1:1"
    assert settings.dpi == 300  # env beats file
    assert settings.max_passes == 6
    assert settings.replace(dpi=72, max_passes=None).dpi == 72  # flag beats env; None = not given


def test_ollama_host_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9999")
    assert Settings().ollama_url == "http://127.0.0.1:9999"


def test_role_routing_any_role_on_either_backend() -> None:
    settings = Settings(backend_visual="openai", vllm_url="http://127.0.0.1:8000/v1")
    role = settings.role("visual")
    assert (role.backend, role.url) == ("openai", "http://127.0.0.1:8000/v1")
    assert settings.role("json").backend == "ollama"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense = 1\n", "unknown setting"),
        ("dpi = 'high'\n", "bad value"),
        ("on_dispute = 'maybe'\n", "expected one of"),
        ("dpi = \n", "Invalid value"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(config, {})
    assert str(config) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="DUALREAD_USE_CACHE"):
        load_settings(None, {"DUALREAD_USE_CACHE": "perhaps"})
