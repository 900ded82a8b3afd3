"""``dualread serve`` as its own process: the same result as ``dualread extract``, a restart in the
middle of a job, and the token rule off loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dualread.testing.standins.launch import RunningStandin
from tests.service.conftest import StartServe
from tests.service.support import (
    OCR_CLOSING,
    SAMPLE,
    VISUAL_CLOSING,
    disputed_servers,
    settings_env,
    wait_done,
)

pytestmark = [pytest.mark.contract, pytest.mark.slow]

TOKEN = "a-long-enough-test-token-0123456789"
VOLATILE = ("seconds",)  # timings differ from run to run


def without_timings(value: object) -> object:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def test_served_result_equals_the_clis_for_the_same_file(serve: StartServe) -> None:
    server = serve()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        files = [("files", (SAMPLE.name, SAMPLE.read_bytes()))]
        response = client.post("/v1/extractions", files=files, data={"engine": "embedded"})
        assert response.status_code == 202
        job_id = response.json()["jobs"][0]["id"]
        assert wait_done(client, job_id)["status"] == "done"
        served = json.loads(client.get(f"/v1/extractions/{job_id}?format=json").text)
    cli = subprocess.run(
        [sys.executable, "-m", "dualread", "extract", SAMPLE.name, "--engine", "embedded"],
        capture_output=True,
        text=True,
        cwd=SAMPLE.parent,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    assert without_timings(served) == without_timings(json.loads(cli.stdout))


def test_a_restart_in_the_middle_of_a_job_queues_it_again(
    serve: StartServe,
    tmp_path: Path,
    standin_server: Callable[..., RunningStandin],
    oracle_file: Callable[..., Path],
) -> None:
    # Every model answer takes 2 s, so the job is surely running when the server is killed.
    settings = disputed_servers(tmp_path, standin_server, oracle_file, faults="slow=2")
    env = settings_env(settings)
    server = serve(env=env)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        files = [("files", (SAMPLE.name, SAMPLE.read_bytes()))]
        data = {"engine": "vlm", "third_voter": "false", "on_dispute": "best"}
        job_id = client.post("/v1/extractions", files=files, data=data).json()["jobs"][0]["id"]
        deadline = time.monotonic() + 30
        while client.get(f"/v1/extractions/{job_id}").json()["status"] != "running":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
    server.kill()

    restarted = serve(env=env, data_dir=server.data_dir)
    with httpx.Client(base_url=restarted.url, timeout=30) as client:
        done = wait_done(client, job_id, timeout_s=180)
        jobs = client.get("/v1/extractions").json()["jobs"]
        revisions = client.get(f"/v1/extractions/{job_id}/revisions").json()["revisions"]
    assert done["status"] == "done", done["error"]
    assert [j["id"] for j in jobs] == [job_id]  # nothing lost, nothing doubled
    assert [r["number"] for r in revisions] == [0]
    record = done["result"]["extraction"]
    assert record["status"] == "unresolved"
    (dispute,) = [d for d in record["disputes"] if d["field"] == "closing_balance"]
    assert {c["value"] for c in dispute["candidates"]} >= {VISUAL_CLOSING, OCR_CLOSING}


def test_binding_off_loopback_needs_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DUALREAD_TOKEN"}
    refused = subprocess.run(
        [
            *(sys.executable, "-m", "dualread", "serve", "--host", "0.0.0.0", "--port", "0"),
            *("--data-dir", str(tmp_path / "data")),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: binding 0.0.0.0 needs a token: set DUALREAD_TOKEN or pass --token-file "
        "(clients send it as 'Authorization: Bearer <token>')"
    ]
    assert not (tmp_path / "data").exists()  # refused before anything was created


def test_a_token_from_the_environment_is_required_on_every_request(serve: StartServe) -> None:
    server = serve(env={"DUALREAD_TOKEN": TOKEN})
    assert httpx.get(f"{server.url}/v1/health", timeout=30).status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{server.url}/v1/schema", headers=headers, timeout=30).status_code == 200
