"""The HTTP API, in process (httpx through Starlette's TestClient, workers running): upload, poll,
outputs, pages, bad input, revisions, deletion, private files and the token."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dualread.api import extract
from dualread.cli import app as cli
from dualread.config import Settings
from dualread.outputs import render_csv, render_ofx
from dualread.record import ExtractionRecord
from dualread.service.store import JobStore, NewUpload
from tests.service.conftest import MakeClient
from tests.service.support import REPO_ROOT, SAMPLE, statement_part, truth_of, wait_done

pytestmark = pytest.mark.unit

ENCRYPTED = REPO_ROOT / "fixtures" / "corpus" / "e01-debit-credit-de-DE.pdf"
TOKEN = "correct-horse-battery-staple"


def submit(client: TestClient, *paths: Path, **options: str) -> list[dict[str, Any]]:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    response = client.post("/v1/extractions", files=files, data=options)
    assert response.status_code == 202, response.text
    jobs: list[dict[str, Any]] = response.json()["jobs"]
    return jobs


def rejected(client: TestClient, name: str, data: bytes, **options: str) -> tuple[int, str]:
    response = client.post("/v1/extractions", files=[("files", (name, data))], data=options)
    return response.status_code, response.json()["detail"]


def cli_error(tmp_path: Path, name: str, data: bytes, *args: str) -> str:
    """The one-line error ``dualread extract`` prints for the same file, run from its folder."""
    (tmp_path / name).write_bytes(data)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(cli, ["extract", name, "--engine", "embedded", *args])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    return lines[0].removeprefix("error: ")


def test_upload_poll_and_result_equal_to_the_library(client: TestClient) -> None:
    (queued,) = submit(client, SAMPLE, engine="embedded")
    assert queued["status"] in ("queued", "running")
    done = wait_done(client, queued["id"])
    assert done["status"] == "done" and done["exit_code"] == 0
    result = done["result"]
    library = extract(SAMPLE, settings=Settings(use_cache=False), engine="embedded").document
    assert library is not None
    assert statement_part(result) == statement_part(library) == statement_part(truth_of(SAMPLE))
    assert result["extraction"]["source"] == "statement.pdf"  # not the server's own path
    assert done["summary"] == {
        "status": "single",
        "accounts": 1,
        "transactions": 16,
        "value_disputes": 0,
        "text_disputes": 0,
        "arithmetic_ok": True,
    }


def test_csv_and_ofx_are_the_writers_output_of_the_result(client: TestClient) -> None:
    (job,) = submit(client, SAMPLE, engine="embedded")
    result = wait_done(client, job["id"])["result"]
    csv = client.get(f"/v1/extractions/{job['id']}", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text == render_csv([result])
    ofx = client.get(f"/v1/extractions/{job['id']}", params={"format": "ofx"})
    assert ofx.text == render_ofx([result])
    as_json = client.get(f"/v1/extractions/{job['id']}", params={"format": "json"})
    assert json.loads(as_json.text) == result


def test_several_files_give_one_job_each(client: TestClient, tmp_path: Path) -> None:
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(SAMPLE.read_bytes())
    jobs = submit(client, SAMPLE, copy, engine="embedded")
    assert len({j["id"] for j in jobs}) == 2
    names = [wait_done(client, j["id"])["result"]["extraction"]["source"] for j in jobs]
    assert names == ["statement.pdf", "copy.pdf"]


@pytest.mark.parametrize(
    ("name", "data", "options", "status"),
    [
        ("notes.txt", b"just some text, not a statement\n", {}, 415),
        ("fake.pdf", b"<html>not a pdf</html>", {}, 415),
        ("empty.pdf", b"", {}, 422),
        ("locked.pdf", ENCRYPTED.read_bytes(), {}, 422),
        ("locked.pdf", ENCRYPTED.read_bytes(), {"password": "wrong"}, 422),
        ("statement.pdf", SAMPLE.read_bytes(), {"pages": "7-9"}, 422),
    ],
)
def test_bad_input_is_refused_with_the_clis_message(
    client: TestClient,
    tmp_path: Path,
    name: str,
    data: bytes,
    options: dict[str, str],
    status: int,
) -> None:
    code, message = rejected(client, name, data, engine="embedded", **options)
    assert code == status
    flags = [part for key, value in options.items() for part in (f"--{key}", value)]
    assert message == cli_error(tmp_path, name, data, *flags)
    assert client.get("/v1/extractions").json()["jobs"] == []  # nothing was queued


def test_one_bad_file_queues_nothing(client: TestClient, tmp_path: Path) -> None:
    files = [
        ("files", ("statement.pdf", SAMPLE.read_bytes())),
        ("files", ("notes.txt", b"hello")),
    ]
    response = client.post("/v1/extractions", files=files)
    assert response.status_code == 415
    assert response.json()["detail"].startswith("notes.txt: ")
    assert client.get("/v1/extractions").json()["jobs"] == []
    assert not any((tmp_path / "data" / "jobs").iterdir())  # the good file's upload is gone too


def test_upload_size_is_limited(make_client: MakeClient) -> None:
    client = make_client(max_upload_bytes=1000)
    code, message = rejected(client, "statement.pdf", SAMPLE.read_bytes())
    assert code == 413
    assert message == "statement.pdf: the file is larger than the limit of 1000 bytes"


def test_an_oversized_request_is_refused_before_its_body_is_read(make_client: MakeClient) -> None:
    client = make_client(max_upload_bytes=1000)
    body = b"x" * (1000 * 20 + 64 * 1024 + 1)
    response = client.post(
        "/v1/extractions", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("the request is larger than the limit")
    many = [("files", (f"{n}.pdf", SAMPLE.read_bytes())) for n in range(21)]
    assert make_client().post("/v1/extractions", files=many).status_code == 422


def test_bad_options_are_one_line_422s(client: TestClient) -> None:
    code, message = rejected(client, "statement.pdf", SAMPLE.read_bytes(), dpi="10")
    assert code == 422 and "\n" not in message and message.startswith("dpi: ")
    code, message = rejected(client, "statement.pdf", SAMPLE.read_bytes(), engine="gpu")
    assert code == 422 and message.startswith("engine: ")


def test_page_image_and_missing_things(client: TestClient) -> None:
    (job,) = submit(client, SAMPLE, engine="embedded")
    wait_done(client, job["id"])
    page = client.get(f"/v1/extractions/{job['id']}/pages/1.png")
    assert page.status_code == 200 and page.headers["content-type"] == "image/png"
    assert page.content.startswith(b"\x89PNG")
    assert client.get(f"/v1/extractions/{job['id']}/pages/2.png").status_code == 404
    assert client.get("/v1/extractions/nope").status_code == 404
    assert client.get(f"/v1/extractions/{job['id']}", params={"revision": 5}).status_code == 404


def test_delete_removes_the_files_and_rows(client: TestClient, tmp_path: Path) -> None:
    (job,) = submit(client, SAMPLE, engine="embedded")
    wait_done(client, job["id"])
    client.get(f"/v1/extractions/{job['id']}/pages/1.png")
    folder = tmp_path / "data" / "jobs" / job["id"]
    assert folder.is_dir()
    assert client.delete(f"/v1/extractions/{job['id']}").status_code == 204
    assert not folder.exists()
    assert client.get(f"/v1/extractions/{job['id']}").status_code == 404
    assert client.delete(f"/v1/extractions/{job['id']}").status_code == 404


def test_data_files_are_the_users_alone(client: TestClient, tmp_path: Path) -> None:
    (job,) = submit(client, SAMPLE, engine="embedded")
    wait_done(client, job["id"])
    client.get(f"/v1/extractions/{job['id']}/pages/1.png")
    data = tmp_path / "data"
    for path in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert (data / "jobs.sqlite3-wal").exists()  # WAL mode


def test_health_and_schema(client: TestClient) -> None:
    health = client.get("/v1/health").json()
    assert health["status"] == "ok"
    assert set(health["servers"]) == {"visual", "ocr", "json"}
    # No model server answers in this test: auto would pick the embedded engine, and says why.
    assert health["engine"] == "embedded" and "no model server answered" in health["engine_reason"]
    schema = client.get("/v1/schema").json()
    assert schema["$defs"]["extraction"]
    assert client.get("/openapi.json").json()["paths"]["/v1/extractions"]


def test_the_docs_page_needs_no_network(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "/static-docs/swagger-ui-bundle.js" in page and "/openapi.json" in page
    assert "https://" not in page  # no CDN
    assert client.get("/static-docs/swagger-ui-bundle.js").status_code == 200


def _disputed_job(store: JobStore) -> str:
    """A finished job whose result has a closing-balance dispute, as consensus writes one."""
    truth = truth_of(SAMPLE)
    document = {
        "schema_version": "1",
        **truth,
        "closing_balance": None,
        "extraction": {
            "source": "statement.pdf",
            "engine": "vlm",
            "status": "unresolved",
            "confidence": {"fields": {"closing_balance": 0.0}, "transactions": [1.0] * 16},
            "disputes": [
                {
                    "field": "closing_balance",
                    "severity": "value",
                    "row": None,
                    "page": 1,
                    "candidates": [
                        {"route": "visual", "pass": 1, "value": "6877.85"},
                        {"route": "ocr", "pass": 1, "value": "6887.58"},
                    ],
                    "chosen": None,
                }
            ],
            "arithmetic": {"ok": None},
        },
    }
    path = store.stage(SAMPLE.read_bytes(), ".pdf")
    (job,) = store.add_jobs([NewUpload("statement.pdf", path, {})])
    assert store.claim(1)[0].id == job.id
    store.finish(job.id, documents=[document], error=None, exit_code=3)
    return job.id


def test_a_correction_is_a_new_revision_and_the_arithmetic_is_rechecked(
    tmp_path: Path, make_client: MakeClient
) -> None:
    client = make_client(workers=1)
    job_id = _disputed_job(client.app.state.store)  # type: ignore[attr-defined]
    url = f"/v1/extractions/{job_id}/revisions"

    wrong = client.post(
        url,
        json={
            "base": 0,
            "author": "ana",
            "corrections": [{"field": "closing_balance", "value": "6877.85"}],
        },
    )
    assert wrong.status_code == 201
    first = wrong.json()["result"]
    assert first["closing_balance"] == "6877.85"
    assert first["extraction"]["arithmetic"]["ok"] is False  # picked, but it does not balance
    assert first["extraction"]["status"] == "unresolved"
    assert first["extraction"]["disputes"] == []

    stale = client.post(
        url, json={"base": 0, "author": "ana", "corrections": [{"field": "iban", "value": "x"}]}
    )
    assert stale.status_code == 409

    typed = client.post(
        url,
        json={
            "base": 1,
            "author": "ben",
            "corrections": [{"field": "closing_balance", "value": "6.877,58"}],
        },
    )
    assert typed.status_code == 201
    second = typed.json()["result"]
    assert second["closing_balance"] == "6877.58"
    assert second["extraction"]["arithmetic"]["ok"] is True
    assert second["extraction"]["status"] == "resolved"
    assert [c["author"] for c in second["extraction"]["corrections"]] == ["ana", "ben"]
    record = ExtractionRecord.model_validate(second["extraction"])  # the typed record reads it
    assert record.to_json()["corrections"] == second["extraction"]["corrections"]

    original = client.get(f"/v1/extractions/{job_id}", params={"revision": 0}).json()["result"]
    assert original["closing_balance"] is None  # the original is kept
    latest = client.get(f"/v1/extractions/{job_id}").json()
    assert latest["revision"] == 2 and latest["summary"]["arithmetic_ok"] is True
    history = client.get(url).json()["revisions"]
    assert [(r["number"], r["author"]) for r in history] == [
        (0, "dualread"),
        (1, "ana"),
        (2, "ben"),
    ]
    assert history[2]["changes"][0]["previous"] == "6877.85"
    csv = client.get(f"/v1/extractions/{job_id}", params={"format": "csv"}).text
    assert csv == render_csv([second])


def test_a_correction_that_is_not_a_value_is_refused(make_client: MakeClient) -> None:
    client = make_client()
    job_id = _disputed_job(client.app.state.store)  # type: ignore[attr-defined]
    url = f"/v1/extractions/{job_id}/revisions"
    for field, row, value in (
        ("closing_balance", None, "lots"),
        ("amount", 99, "1.00"),
        ("date", 0, "not a date"),
        ("favourite_colour", None, "blue"),
    ):
        response = client.post(
            url,
            json={
                "base": 0,
                "author": "ana",
                "corrections": [{"field": field, "row": row, "value": value}],
            },
        )
        assert response.status_code == 422, (field, response.text)
        assert "\n" not in response.json()["detail"]
    assert len(client.get(url).json()["revisions"]) == 1


def test_highlights_frame_the_disputed_value_on_its_page(make_client: MakeClient) -> None:
    client = make_client()
    job_id = _disputed_job(client.app.state.store)  # type: ignore[attr-defined]
    (highlight,) = client.get(f"/v1/extractions/{job_id}/highlights").json()["highlights"]
    assert highlight["page"] == 1 and highlight["field"] == "closing_balance"
    # Neither route's value is printed; the one opening + sum implies is, on the closing-balance
    # line near the top of the page (the header box), framed across the page's width.
    x0, top, x1, bottom = highlight["box"]
    assert (x0, x1) == (0.01, 0.99) and 0.1 < top < bottom < 0.3


def test_a_token_guards_everything_but_the_static_files(make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    assert client.get("/v1/health").status_code == 401
    assert client.get("/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/v1/schema", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert client.get("/static/review.js").status_code == 200
    assert client.post("/login", data={"token": "wrong"}).status_code == 401
    signed_in = client.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert signed_in.status_code == 303
    assert "httponly" in signed_in.headers["set-cookie"].lower()
    assert client.get("/").status_code == 200  # the cookie now carries the token
