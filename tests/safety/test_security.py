"""Issue 16, section 5: passwords off the command line, a cache that never changes a folder it
did not create, configuration checked key by key, and secrets never echoed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dualread.cache import AnswerCache
from tests.safety.cli import extract, sample_copy
from tests.test_documents import make_pdf

pytestmark = pytest.mark.unit

SECRET = "hunter2-secret"


@pytest.fixture
def locked_statement(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "locked.pdf", pages=1, password=SECRET)


def _read_past_the_password(outcome_stderr: str, exit_code: int) -> None:
    assert "encrypted" not in outcome_stderr and "password is wrong" not in outcome_stderr
    assert exit_code in (0, 3), outcome_stderr  # read: agreed, or the reader found no statement


def test_password_file(tmp_path: Path, locked_statement: Path) -> None:
    secret_file = tmp_path / "password.txt"
    secret_file.write_text(SECRET + "\n")
    outcome = extract(tmp_path, str(locked_statement), "--password-file", str(secret_file))
    _read_past_the_password(outcome.stderr, outcome.exit_code)


def test_password_from_the_environment(tmp_path: Path, locked_statement: Path) -> None:
    outcome = extract(tmp_path, str(locked_statement), DUALREAD_PASSWORD=SECRET)
    _read_past_the_password(outcome.stderr, outcome.exit_code)


def test_password_dash_asks_without_echo(tmp_path: Path, locked_statement: Path) -> None:
    outcome = extract(tmp_path, str(locked_statement), "--password", "-", input=SECRET + "\n")
    _read_past_the_password(outcome.stderr, outcome.exit_code)
    assert SECRET not in outcome.stderr + outcome.stdout


def test_a_missing_password_file_is_a_usage_error(tmp_path: Path, locked_statement: Path) -> None:
    outcome = extract(tmp_path, str(locked_statement), "--password-file", str(tmp_path / "no"))
    assert outcome.exit_code == 2
    assert outcome.errors == [
        f"error: --password-file {tmp_path / 'no'}: No such file or directory"
    ]


def test_a_shared_cache_dir_gets_a_private_subfolder_and_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    cache = AnswerCache(shared)
    cache.put("ab" * 32, {"answer": 1})
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert cache.root == shared / f"dualread-{os.getuid()}"
    assert stat.S_IMODE(cache.root.stat().st_mode) == 0o700
    assert cache.get("ab" * 32) == {"answer": 1}


def test_an_own_private_cache_dir_is_used_as_it_is(tmp_path: Path) -> None:
    own = tmp_path / "cache"
    cache = AnswerCache(own)
    cache.put("cd" * 32, {"answer": 2})
    assert cache.root == own and stat.S_IMODE(own.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("DUALREAD_OLLAMA_URL", "file:///etc/passwd", "expected an http:// or https:// URL"),
        ("DUALREAD_VLLM_URL", "127.0.0.1:8000", "expected an http:// or https:// URL"),
        ("DUALREAD_DPI", "5000", "expected 50 to 600"),
        ("DUALREAD_TIMEOUT_S", "-1", "expected 0.01 to 86400"),
        ("DUALREAD_TIMEOUT_S", "nan", "expected 0.01 to 86400"),
        ("DUALREAD_CONCURRENCY", "0", "expected 1 to 256"),
        ("DUALREAD_MAX_PASSES", "1", "expected 2 to 20"),
        ("DUALREAD_RETRIES", "1000", "expected 0 to 20"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_key(
    tmp_path: Path, variable: str, value: str, problem: str
) -> None:
    outcome = extract(tmp_path, str(sample_copy(tmp_path / "s.pdf")), **{variable: value})
    assert outcome.exit_code == 2
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith(f"error: {variable}: ")
    assert problem in outcome.errors[0] and "Traceback" not in outcome.stderr


def test_a_bad_setting_in_the_config_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("max_pages = 0\n")
    outcome = extract(tmp_path, str(sample_copy(tmp_path / "s.pdf")), DUALREAD_CONFIG=str(config))
    assert outcome.exit_code == 2
    assert outcome.errors == [f"error: {config}: bad value 0 for max_pages (expected 1 to 100000)"]


def test_credentials_in_a_bad_url_are_never_echoed(tmp_path: Path) -> None:
    outcome = extract(
        tmp_path,
        str(sample_copy(tmp_path / "s.pdf")),
        DUALREAD_OLLAMA_URL=f"ftp://admin:{SECRET}@10.0.0.5:11434",
    )
    assert outcome.exit_code == 2
    assert SECRET not in outcome.stderr and "ftp://***@10.0.0.5:11434" in outcome.stderr


@pytest.mark.parametrize(
    ("url", "warning"),
    [
        (f"http://admin:{SECRET}@10.0.0.5:11434", "is not on this machine"),
        ("http://169.254.169.254:11434", "is a link-local address"),
        ("http://ollama.example.com:11434", "is not on this machine"),
    ],
)
def test_a_server_off_this_machine_is_warned_about(tmp_path: Path, url: str, warning: str) -> None:
    outcome = extract(tmp_path, str(sample_copy(tmp_path / "s.pdf")), DUALREAD_OLLAMA_URL=url)
    assert outcome.exit_code == 0, outcome.stderr
    warnings = [line for line in outcome.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warning in warnings[0]
    assert SECRET not in outcome.stderr


def test_loopback_servers_are_not_warned_about(tmp_path: Path) -> None:
    outcome = extract(
        tmp_path,
        str(sample_copy(tmp_path / "s.pdf")),
        DUALREAD_OLLAMA_URL="http://localhost:11434",
        DUALREAD_VLLM_URL="http://[::1]:8000/v1",
    )
    assert outcome.exit_code == 0 and "warning:" not in outcome.stderr
