"""Server specs derived from settings: which server plays which role, images, ports, caches."""

from __future__ import annotations

import math

import pytest

from dualread.config import DEFAULT_IMAGES, ConfigError, Settings
from dualread.runtime.servers import KNOWN_MODELS, kv_cache_gib, server_set
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit


def test_default_roles_need_one_ollama_and_one_vllm_server() -> None:
    servers = server_set(Settings(ollama_url="http://127.0.0.1:11434"))
    assert [s.name for s in servers.servers] == ["ollama", "vllm"]
    ollama, vllm = servers.servers
    assert servers.server_for("visual") is ollama and servers.server_for("json") is ollama
    assert servers.server_for("ocr") is vllm
    assert ollama.model_names == ("openbmb/minicpm-v4.5:8b", "qwen3:8b")
    assert vllm.model_names == ("nanonets/Nanonets-OCR-s",)
    assert (ollama.base_url, ollama.health_path) == ("http://127.0.0.1:11434", "/api/tags")
    assert (vllm.base_url, vllm.health_path) == ("http://127.0.0.1:8000", "/health")
    assert (ollama.image, vllm.image) == (DEFAULT_IMAGES["ollama"], DEFAULT_IMAGES["vllm"])
    assert ollama.image == "dualread:minicpmv45.qwen3.ollama.gpu.vram13gb"
    assert vllm.image == "dualread:nanonetsocrs.vllm.gpu.vram13gb"
    # The vLLM image runs as a user whose ~/.cache holds huggingface/ (see images/).
    assert (ollama.cache_path, vllm.cache_path) == ("/root/.ollama", "/home/vllm/.cache")


def test_vram_needs_are_weights_plus_kv_cache_plus_overhead() -> None:
    ollama, vllm = server_set(Settings(ollama_url="http://127.0.0.1:11434")).servers
    assert [m.weights_gib for m in ollama.models] == [9.0, 6.0]
    # Ollama reserves num_ctx x OLLAMA_NUM_PARALLEL tokens per model: Qwen3-8B's 36 layers x 8
    # KV heads x 128, K and V, at q8_0 (34 bytes per 32 elements), 16384 tokens x 2 slots.
    qwen3_kv = 2 * 36 * 8 * 128 * 34 / 32 * 16384 * 2 / 1024**3
    assert [m.kv_gib for m in ollama.models] == [qwen3_kv, qwen3_kv] and 2.3 < qwen3_kv < 2.4
    assert [m.num_ctx for m in ollama.models] == [16384, 16384]
    assert ollama.vram_gib == 1.0 + 9.0 + 6.0 + 2 * qwen3_kv
    # vLLM: bf16, Qwen2.5-VL-3B's 36 x 2 x 128, --max-model-len for 4 requests.
    assert vllm.vram_gib == 1.0 + 9.0 + 2 * 36 * 2 * 128 * 2 * 16384 * 4 / 1024**3
    assert all(m.source for m in ollama.models + vllm.models)


def test_the_kv_cache_grows_with_context_slots_and_type() -> None:
    f16 = kv_cache_gib(2 * 36 * 8 * 128, 40960, 4, "f16")
    assert round(f16, 1) == 22.5  # the json role's old 40k context x 4 slots
    assert kv_cache_gib(2 * 36 * 8 * 128, 40960, 4, "q8_0") == f16 * 17 / 32
    assert kv_cache_gib(2 * 36 * 8 * 128, 20480, 4, "f16") == f16 / 2


def test_image_names_state_the_computed_vram() -> None:
    """The tags' vramNgb: the GPU memory one phase needs, rounded up: the largest model with
    its KV cache plus the server's overhead (the README's VRAM table shows the same sums)."""
    for spec in server_set(Settings()).servers:
        largest = max(m.vram_gib for m in spec.models) + spec.overhead_gib
        assert spec.image.endswith(f".vram{math.ceil(largest)}gb"), (spec.image, largest)


def test_vllm_command_enables_sleep_mode_and_takes_the_memory_share() -> None:
    vllm = server_set(Settings()).server("vllm")
    argv = [vllm.render(part, gpu_memory_utilization=0.18) for part in vllm.process_argv]
    assert argv[:3] == ["vllm", "serve", "nanonets/Nanonets-OCR-s"]
    assert "--enable-sleep-mode" in argv
    assert argv[argv.index("--gpu-memory-utilization") + 1] == "0.18"
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert vllm.process_env["VLLM_SERVER_DEV_MODE"] == "1"


def test_one_vllm_server_cannot_serve_two_models() -> None:
    settings = Settings(
        ollama_url="http://127.0.0.1:11434",
        vllm_url="http://localhost:8001/v1",
        backend_visual="openai",
        model_visual="openbmb/MiniCPM-V-4_5",
    )
    with pytest.raises(ConfigError, match="a vLLM server serves one model"):
        server_set(settings)


def test_unknown_model_gets_an_assumed_vram_figure() -> None:
    servers = server_set(Settings(model_json="llama3.1:8b"))
    json_model = servers.server("ollama").models[1]
    assert (json_model.name, json_model.vram_gib) == ("llama3.1:8b", 10.0)  # KV included
    assert "assumed" in json_model.source


def test_bad_url_is_a_config_error() -> None:
    # Settings check their URLs when they are made, naming the key (see dualread.config).
    with pytest.raises(ConfigError, match="'ollama:11434' for ollama_url"):
        server_set(Settings(ollama_url="ollama:11434"))


def test_default_images_are_the_tags_that_images_builds() -> None:
    """build-images.sh and npmci tag images/Dockerfile_<tag> as dualread:<tag>."""
    for image in DEFAULT_IMAGES.values():
        repository, tag = image.split(":")
        assert repository == "dualread"
        assert (REPO_ROOT / "images" / f"Dockerfile_{tag}").is_file(), image


def test_minicpm_v_without_a_namespace_is_ollamas_minicpm_v_2_6() -> None:
    assert "2.6" in KNOWN_MODELS["minicpm-v"].source
    assert "4.5" in KNOWN_MODELS["openbmb/minicpm-v4.5:8b"].source
