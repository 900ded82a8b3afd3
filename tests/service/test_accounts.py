"""A file of two accounts through the service, in process: the job keeps both statements, serves
each format as ``dualread extract`` writes it, shows each account on its own tab, and takes
corrections for the account they name. A database written when a job kept one statement loads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dualread.api import extract
from dualread.cli import app as cli
from dualread.config import Settings
from dualread.outputs import render_csv, render_json
from dualread.service.store import DATABASE_NAME, JobStore
from tests.service.conftest import MakeClient
from tests.service.support import REPO_ROOT, SAMPLE, statement_part, wait_done

pytestmark = pytest.mark.unit

TWO_ACCOUNTS = REPO_ROOT / "fixtures" / "corpus" / "d24-two-currencies-en-GB.pdf"


def _two_account_job(client: TestClient) -> tuple[str, list[dict[str, Any]]]:
    files = [("files", (TWO_ACCOUNTS.name, TWO_ACCOUNTS.read_bytes()))]
    response = client.post("/v1/extractions", files=files, data={"engine": "embedded"})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobs"][0]["id"]
    done = wait_done(client, job_id)
    assert done["status"] == "done" and done["exit_code"] == 0 and done["error"] is None
    return job_id, done["result"]


def _cli_output(tmp_path: Path, output_format: str) -> str:
    target = tmp_path / f"cli.{output_format}"
    arguments = [str(TWO_ACCOUNTS), "--engine", "embedded", "--no-cache", "-f", output_format]
    result = CliRunner().invoke(cli, ["extract", *arguments, "-o", str(target)])
    assert result.exit_code == 0, result.output
    return target.read_bytes().decode()


def test_a_job_keeps_every_account_and_serves_the_clis_outputs(
    client: TestClient, tmp_path: Path
) -> None:
    job_id, result = _two_account_job(client)
    truth: list[dict[str, Any]] = json.loads(TWO_ACCOUNTS.with_suffix(".truth.json").read_text())
    library = extract(TWO_ACCOUNTS, settings=Settings(use_cache=False), engine="embedded")
    assert isinstance(result, list)  # as dualread extract writes a file of several accounts
    assert [statement_part(d) for d in result] == [statement_part(d) for d in library.documents]
    assert [d["currency"] for d in result] == [d["currency"] for d in truth] == ["GBP", "USD"]
    assert [len(d["transactions"]) for d in result] == [len(d["transactions"]) for d in truth]
    assert {d["extraction"]["source"] for d in result} == {TWO_ACCOUNTS.name}
    listed = client.get("/v1/extractions").json()["jobs"][0]["summary"]
    assert listed["accounts"] == 2 and listed["transactions"] == 14

    url = f"/v1/extractions/{job_id}"
    for output_format in ("csv", "ofx"):
        served = client.get(url, params={"format": output_format}).content.decode()
        assert served == _cli_output(tmp_path, output_format)
    assert client.get(url, params={"format": "json"}).text == render_json(result)


def test_each_account_has_its_tab_and_a_correction_names_its_account(
    client: TestClient,
) -> None:
    job_id, result = _two_account_job(client)
    first, second = (d["iban"] for d in result)
    page = client.get(f"/jobs/{job_id}").text
    assert f'href="/jobs/{job_id}?account=2"' in page and first in page and second in page
    second_tab = client.get(f"/jobs/{job_id}", params={"account": 2}).text
    assert 'data-account="2"' in second_tab and '<td id="f-currency">USD</td>' in second_tab
    assert "Transactions <small>2 ·" in second_tab and "Transactions <small>12 ·" in page
    assert client.get(f"/jobs/{job_id}", params={"account": 3}).status_code == 404

    url = f"/v1/extractions/{job_id}/revisions"
    closing = {"field": "closing_balance", "value": "1.00"}
    unnamed = client.post(url, json={"base": 0, "author": "ana", "corrections": [closing]})
    assert unnamed.status_code == 422 and "2 accounts" in unnamed.json()["detail"]
    missing = {"base": 0, "author": "ana", "account": 3, "corrections": [closing]}
    assert client.post(url, json=missing).status_code == 422
    saved = client.post(url, json=missing | {"account": 2})
    assert saved.status_code == 201, saved.text
    kept, corrected = saved.json()["result"]
    assert kept == result[0]
    assert corrected["closing_balance"] == "1.00" and result[1]["closing_balance"] != "1.00"
    assert corrected["extraction"]["arithmetic"]["ok"] is False
    (change,) = client.get(url).json()["revisions"][1]["changes"]
    assert change["account"] == 2 and change["previous"] == result[1]["closing_balance"]
    listed = client.get("/v1/extractions").json()["jobs"][0]["summary"]
    assert listed["arithmetic_ok"] is False and listed["status"] == "unresolved"
    csv = client.get(f"/v1/extractions/{job_id}", params={"format": "csv"}).text
    assert csv == render_csv([kept, corrected])
    assert f"{second} closing_balance" in client.get(f"/jobs/{job_id}").text  # in the history


def test_a_job_stored_with_one_statement_still_loads(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """Rows as the store wrote them when a job kept one statement: a JSON object, and a summary
    without an account count."""
    data_dir = tmp_path / "old"
    store = JobStore(data_dir)
    upload = store.stage(SAMPLE.read_bytes(), ".pdf")
    store.close()
    document = extract(SAMPLE, settings=Settings(use_cache=False), engine="embedded").document
    assert document is not None
    summary = {"status": "single", "transactions": 16, "value_disputes": 0, "text_disputes": 0}
    with sqlite3.connect(data_dir / DATABASE_NAME) as db:
        db.execute(
            "INSERT INTO jobs (id, filename, upload, options, status, exit_code, created_at)"
            " VALUES (?, 'statement.pdf', ?, '{}', 'done', 0, '2026-01-01T00:00:00Z')",
            (upload.parent.name, str(upload.relative_to(data_dir))),
        )
        db.execute(
            "INSERT INTO revisions VALUES (?, 0, ?, ?, 'dualread', '[]', '2026-01-01T00:00:00Z')",
            (upload.parent.name, json.dumps(document), json.dumps(summary)),
        )
    client = make_client(data_dir=data_dir)
    job_id = upload.parent.name
    loaded = client.get(f"/v1/extractions/{job_id}").json()
    assert loaded["result"] == document and loaded["summary"]["accounts"] == 1
    assert client.get(f"/v1/extractions/{job_id}", params={"format": "csv"}).text == render_csv(
        [document]
    )
    page = client.get(f"/jobs/{job_id}").text
    assert 'data-account="1"' in page and "account-tabs" not in page
    correction = {"field": "closing_balance", "value": "1.00"}
    saved = client.post(
        f"/v1/extractions/{job_id}/revisions",
        json={"base": 0, "author": "ana", "corrections": [correction]},
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["result"]["closing_balance"] == "1.00"
