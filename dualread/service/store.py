"""Jobs, uploads and revisions: SQLite in WAL mode plus one folder per job under the data folder.

Nothing is kept only in memory, so a restarted server loses nothing: a job that was running when
the server stopped is queued again (:meth:`JobStore.requeue_running`). The folder and the database
are the user's alone (0700 / 0600); SQLite gives its WAL and shared-memory files the database's
mode.

A job's result is revision 0, written by dualread; every correction a person makes adds a revision
(the earlier ones are kept), with who made it and when. A revision holds the statement of every
account the file holds, stored as the JSON output shapes them: one statement as an object, several
as an array. Databases written when a job kept one statement load unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from dualread.consensus import worst_status
from dualread.outputs import json_value, statements_of, write_atomic

JobStatus = Literal["queued", "running", "done", "failed"]
DATABASE_NAME = "jobs.sqlite3"
ENGINE_AUTHOR = "dualread"  # who wrote revision 0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    upload TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    exit_code INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at);
CREATE TABLE IF NOT EXISTS revisions (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    document TEXT NOT NULL,
    summary TEXT NOT NULL,
    author TEXT NOT NULL,
    changes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (job_id, number)
);
"""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the user only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def summarize(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the job list shows of a result, over all its accounts: counts, the least sure
    status, and the arithmetic check (false if any account's breaks, true if all hold); no
    content."""
    records = [document.get("extraction", {}) for document in documents]
    disputes = [d for record in records for d in record.get("disputes", [])]
    checks = [record.get("arithmetic", {}).get("ok") for record in records]
    return {
        "status": worst_status([record.get("status", "unresolved") for record in records]),
        "accounts": len(documents),
        "transactions": sum(len(document.get("transactions", [])) for document in documents),
        "value_disputes": sum(1 for d in disputes if d.get("severity", "value") == "value"),
        "text_disputes": sum(1 for d in disputes if d.get("severity") == "text"),
        "arithmetic_ok": False if False in checks else None if None in checks else True,
    }


@dataclass(frozen=True)
class NewUpload:
    """An upload stored by :meth:`JobStore.stage` that passed its checks, about to be queued."""

    filename: str
    path: Path
    options: dict[str, Any]


@dataclass(frozen=True)
class Job:
    id: str
    filename: str
    upload: Path
    options: dict[str, Any]
    status: JobStatus
    error: str | None
    exit_code: int | None
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    revision: int | None = None  # the latest revision's number, once done
    summary: dict[str, Any] | None = None  # the latest revision's summary

    @property
    def folder(self) -> Path:
        return self.upload.parent


@dataclass(frozen=True)
class Revision:
    job_id: str
    number: int
    documents: list[dict[str, Any]]  # one statement per account, in print order
    author: str
    changes: list[dict[str, Any]]
    created_at: str


class RevisionConflict(Exception):
    """A correction based on a revision that is no longer the latest."""

    def __init__(self, base: int, latest: int) -> None:
        super().__init__(
            f"revision {base} is not the latest (the latest is {latest}); reload and retry"
        )


class JobStore:
    """Thread-safe: one connection, one lock (SQLite serialises writers anyway)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = private_dir(data_dir)
        self.jobs_dir = private_dir(data_dir / "jobs")
        database = data_dir / DATABASE_NAME
        if not database.exists():
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        database.chmod(0o600)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # jobs ------------------------------------------------------------------------------------

    def stage(self, data: bytes, suffix: str) -> Path:
        """Store an upload in a new job folder (written once, atomically); it becomes a job with
        :meth:`add_jobs`, or goes with :meth:`discard`."""
        folder = private_dir(self.jobs_dir / uuid.uuid4().hex)
        path = folder / f"upload{suffix}"
        write_atomic(path, data)
        return path

    def discard(self, path: Path) -> None:
        shutil.rmtree(path.parent, ignore_errors=True)

    def add_jobs(self, uploads: Sequence[NewUpload]) -> list[Job]:
        """Queue a job for each staged upload, all in one transaction."""
        now = utc_now()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO jobs (id, filename, upload, options, status, created_at)"
                " VALUES (?, ?, ?, ?, 'queued', ?)",
                [
                    (
                        u.path.parent.name,
                        u.filename,
                        str(u.path.relative_to(self.data_dir)),
                        _dump(u.options, sort_keys=True),
                        now,
                    )
                    for u in uploads
                ],
            )
        jobs = [self.get(u.path.parent.name) for u in uploads]
        return [job for job in jobs if job is not None]

    def claim(self, limit: int) -> list[Job]:
        """Mark the oldest queued job, and up to ``limit - 1`` more with the same options, as
        running and return them: jobs with equal options read as one batch."""
        with self._transaction() as db:
            first = db.execute(
                "SELECT options FROM jobs WHERE status = 'queued'"
                " ORDER BY created_at, rowid LIMIT 1"
            ).fetchone()
            if first is None:
                return []
            ids = [
                row["id"]
                for row in db.execute(
                    "SELECT id FROM jobs WHERE status = 'queued' AND options = ?"
                    " ORDER BY created_at, rowid LIMIT ?",
                    (first["options"], limit),
                )
            ]
            db.executemany(
                "UPDATE jobs SET status = 'running', started_at = ?, attempts = attempts + 1"
                " WHERE id = ?",
                [(utc_now(), job_id) for job_id in ids],
            )
        return [job for job in map(self.get, ids) if job is not None]

    def requeue_running(self) -> int:
        """After a restart: whatever was running when the server stopped is queued again."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET status = 'queued', started_at = NULL WHERE status = 'running'"
            )
            return cursor.rowcount

    def finish(
        self,
        job_id: str,
        *,
        documents: Sequence[dict[str, Any]],
        error: str | None,
        exit_code: int,
    ) -> bool:
        """Record a job's outcome: its accounts' statements become revision 0; none, and the job
        failed. False if it was deleted."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET status = ?, error = ?, exit_code = ?, finished_at = ?"
                " WHERE id = ? AND status = 'running'",
                ("done" if documents else "failed", error, exit_code, utc_now(), job_id),
            )
            if cursor.rowcount == 0:
                return False
            if documents:
                self._insert_revision(db, job_id, 0, documents, ENGINE_AUTHOR, [])
        return True

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(_JOB_QUERY + " WHERE j.id = ?", (job_id,)).fetchone()
        return None if row is None else self._job(row)

    def list_jobs(self, limit: int = 200) -> list[Job]:
        with self._lock:
            rows = self._db.execute(
                _JOB_QUERY + " ORDER BY j.created_at DESC, j.rowid DESC LIMIT ?", (limit,)
            ).fetchall()
        return [self._job(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {"queued": 0, "running": 0, "done": 0, "failed": 0} | {r[0]: r[1] for r in rows}

    def delete(self, job_id: str) -> bool:
        """Remove a job's rows and files. A worker still reading it finds it gone and drops its
        result."""
        job = self.get(job_id)
        if job is None:
            return False
        with self._transaction() as db:
            db.execute("DELETE FROM revisions WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        shutil.rmtree(job.folder, ignore_errors=True)
        return True

    # revisions -------------------------------------------------------------------------------

    def revision(self, job_id: str, number: int | None = None) -> Revision | None:
        """Revision ``number``, or the latest when None."""
        query = "SELECT * FROM revisions WHERE job_id = ?"
        arguments: tuple[Any, ...] = (job_id,)
        if number is None:
            query += " ORDER BY number DESC LIMIT 1"
        else:
            query += " AND number = ?"
            arguments += (number,)
        with self._lock:
            row = self._db.execute(query, arguments).fetchone()
        return None if row is None else _revision(row)

    def revisions(self, job_id: str) -> list[Revision]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM revisions WHERE job_id = ? ORDER BY number", (job_id,)
            ).fetchall()
        return [_revision(row) for row in rows]

    def add_revision(
        self,
        job_id: str,
        base: int,
        documents: Sequence[dict[str, Any]],
        author: str,
        changes: list[dict[str, Any]],
    ) -> Revision:
        """Save ``documents`` as the revision after ``base``; :class:`RevisionConflict` when
        someone saved another revision after ``base`` meanwhile."""
        with self._transaction() as db:
            latest = db.execute(
                "SELECT MAX(number) FROM revisions WHERE job_id = ?", (job_id,)
            ).fetchone()[0]
            if latest != base:
                raise RevisionConflict(base, latest)
            self._insert_revision(db, job_id, base + 1, documents, author, changes)
        revision = self.revision(job_id, base + 1)
        assert revision is not None
        return revision

    def _insert_revision(
        self,
        db: sqlite3.Connection,
        job_id: str,
        number: int,
        documents: Sequence[dict[str, Any]],
        author: str,
        changes: list[dict[str, Any]],
    ) -> None:
        db.execute(
            "INSERT INTO revisions (job_id, number, document, summary, author, changes,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                job_id,
                number,
                _dump(json_value(documents)),
                _dump(summarize(documents)),
                author,
                _dump(changes),
                utc_now(),
            ),
        )

    def _job(self, row: sqlite3.Row) -> Job:
        return Job(
            id=row["id"],
            filename=row["filename"],
            upload=self.data_dir / row["upload"],
            options=json.loads(row["options"]),
            status=row["status"],
            error=row["error"],
            exit_code=row["exit_code"],
            attempts=row["attempts"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            revision=row["revision"],
            # A summary stored when a job kept one statement has no account count.
            summary=None
            if row["summary"] is None
            else {"accounts": 1} | json.loads(row["summary"]),
        )


_JOB_QUERY = """
SELECT j.*, r.number AS revision, r.summary AS summary FROM jobs j
LEFT JOIN revisions r ON r.job_id = j.id
    AND r.number = (SELECT MAX(number) FROM revisions WHERE job_id = j.id)
"""


def _dump(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON. Options are stored with sorted keys, so equal options compare equal in SQL;
    documents keep their key order (the order the writers print)."""
    return json.dumps(value, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))


def _revision(row: sqlite3.Row) -> Revision:
    return Revision(
        job_id=row["job_id"],
        number=row["number"],
        documents=statements_of(json.loads(row["document"])),
        author=row["author"],
        changes=json.loads(row["changes"]),
        created_at=row["created_at"],
    )
