"""The FastAPI application: the ``/v1`` API (OpenAPI at ``/docs``) and the review page at ``/``."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from dualread import __version__
from dualread.api import choose_engine
from dualread.cache import AnswerCache
from dualread.choices import Engine, OcrEngine, OnDispute, OutputFormat, Route
from dualread.config import ROLES
from dualread.documents import DocumentError, open_document
from dualread.outputs import RENDERERS, json_value, write_atomic
from dualread.outputs.accounts import account_name
from dualread.parsing import is_carried_forward
from dualread.readers import Readers
from dualread.service.config import ServiceConfig
from dualread.service.highlights import highlights
from dualread.service.options import JobOptions
from dualread.service.review import (
    CorrectionError,
    RevisionRequest,
    dispute_choices,
    live_totals,
    revise_account,
)
from dualread.service.security import COOKIE_NAME, bearer, token_matches
from dualread.service.store import (
    Job,
    JobStore,
    NewUpload,
    RevisionConflict,
    utc_now,
)
from dualread.service.uploads import (
    UploadRejected,
    check_readable,
    check_upload,
    display_name,
)
from dualread.service.worker import WorkerPool
from dualread.statement import HEADER_FIELDS, load_schema

HERE = Path(__file__).parent
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "ofx": "application/x-ofx"}
FINISHED = ("done", "failed")
MAX_WAIT_S = 60.0
REVIEW_DPI = 110
DOCS_ASSETS = "/static-docs"
MAX_FILES_PER_REQUEST = 20
FORM_OVERHEAD_BYTES = 64 * 1024  # the options and multipart boundaries beside the files
log = logging.getLogger("dualread.service")


class _Waiters:
    """Requests waiting for a job to finish (``?wait=``), woken from the worker threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.events: dict[str, list[asyncio.Event]] = {}

    def register(self, job_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self.events.setdefault(job_id, []).append(event)
        return event

    def discard(self, job_id: str, event: asyncio.Event) -> None:
        waiting = self.events.get(job_id, [])
        if event in waiting:
            waiting.remove(event)
        if not waiting:
            self.events.pop(job_id, None)

    def finished(self, job_id: str) -> None:  # called from a worker thread
        def wake() -> None:
            for event in self.events.pop(job_id, []):
                event.set()

        self.loop.call_soon_threadsafe(wake)


def _job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "filename": job.filename,
        "status": job.status,
        "options": JobOptions.model_validate(job.options).public(),
        "error": job.error,
        "exit_code": job.exit_code,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "revision": job.revision,
        "summary": job.summary,
        "url": f"/v1/extractions/{job.id}",
    }


def confidence_class(value: float | None) -> str:
    """The colour band of a confidence on the review page."""
    if value is None:
        return "conf-none"
    return "conf-high" if value >= 0.95 else "conf-mid" if value >= 0.5 else "conf-low"


def _one_line(error: ValidationError | RequestValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def create_app(config: ServiceConfig) -> FastAPI:
    store = JobStore(config.data_dir)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals |= {
        "conf_class": confidence_class,
        "carried_forward": is_carried_forward,
        "header_fields": HEADER_FIELDS,
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        waiters = _Waiters(asyncio.get_running_loop())
        pool = WorkerPool(store, config, on_finished=waiters.finished)
        app.state.waiters, app.state.pool = waiters, pool
        pool.start()
        try:
            yield
        finally:
            pool.stop()
            store.close()

    app = FastAPIOffline(  # /docs and /redoc from packaged files, not a CDN: they work offline
        static_url=DOCS_ASSETS,
        title="dualread",
        version=__version__,
        description="Bank statements to validated JSON, CSV and OFX: upload, poll, review.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    if config.token:
        app.add_middleware(_TokenGate, token=config.token)

    @app.middleware("http")
    async def _request_size(request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Refuse an oversized upload by its declared length, before its body is read and
        spooled to disk; each file is checked against the limit again once read."""
        declared = request.headers.get("content-length", "")
        limit = config.max_upload_bytes * MAX_FILES_PER_REQUEST + FORM_OVERHEAD_BYTES
        if request.method == "POST" and declared.isdigit() and int(declared) > limit:
            return JSONResponse(
                {"detail": f"the request is larger than the limit of {limit} bytes"},
                status_code=413,
            )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(error)}, status_code=422)

    def job_or_404(job_id: str) -> Job:
        job = store.get(job_id)
        if job is None:
            raise HTTPException(404, f"no extraction {job_id}")
        return job

    # API -------------------------------------------------------------------------------------

    @app.post("/v1/extractions", status_code=202, tags=["extractions"])
    async def submit(
        files: Annotated[list[UploadFile], File(description="PDF, PNG, JPEG, TIFF or WebP")],
        engine: Annotated[Engine, Form()] = "auto",
        route: Annotated[Route | None, Form()] = None,
        pages: Annotated[str | None, Form()] = None,
        password: Annotated[str | None, Form()] = None,
        dpi: Annotated[int | None, Form(ge=50, le=600)] = None,
        max_passes: Annotated[int | None, Form(ge=2)] = None,
        on_dispute: Annotated[OnDispute | None, Form()] = None,
        third_voter: Annotated[bool | None, Form()] = None,
        ocr: Annotated[OcrEngine, Form()] = "rapidocr",
    ) -> dict[str, Any]:
        """Queue one job per file and return their ids at once. Every file is checked first
        (size, type, readable with these options); if one fails nothing is queued."""
        options = JobOptions(
            engine=engine,
            route=route,
            pages=pages or None,
            password=password or None,
            dpi=dpi,
            max_passes=max_passes,
            on_dispute=on_dispute,
            third_voter=third_voter,
            ocr=ocr,
        )
        if len(files) > MAX_FILES_PER_REQUEST:
            raise HTTPException(422, f"at most {MAX_FILES_PER_REQUEST} files per request")
        checked = []
        for upload in files:  # size and type first, before anything is stored
            name = display_name(upload.filename)
            data = await upload.read(config.max_upload_bytes + 1)
            try:
                checked.append(
                    (name, data, check_upload(name, data, max_bytes=config.max_upload_bytes))
                )
            except UploadRejected as rejected:
                raise HTTPException(rejected.status, rejected.message) from None
        try:
            jobs = await run_in_threadpool(queue_uploads, checked, options)
        except UploadRejected as rejected:
            raise HTTPException(rejected.status, rejected.message) from None
        app.state.pool.notify()
        return {"jobs": [_job_view(job) for job in jobs]}

    def queue_uploads(checked: list[tuple[str, bytes, str]], options: JobOptions) -> list[Job]:
        """Store each upload, check the library can open it with these options, and queue them
        all, or none: a rejected upload takes the others' stored files with it."""
        staged: list[NewUpload] = []
        try:
            for name, data, suffix in checked:
                path = store.stage(data, suffix)
                staged.append(NewUpload(name, path, options.model_dump()))
                check_readable(name, path, options, max_pages=config.settings.max_pages)
        except UploadRejected:
            for upload in staged:
                store.discard(upload.path)
            raise
        return store.add_jobs(staged)

    @app.get("/v1/extractions", tags=["extractions"])
    def list_extractions(limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
        """The newest jobs first, with their status and the counts of their latest revision."""
        return {"jobs": [_job_view(job) for job in store.list_jobs(limit)]}

    @app.get("/v1/extractions/{job_id}", tags=["extractions"], response_model=None)
    async def get_extraction(
        job_id: str,
        request: Request,
        format: Annotated[OutputFormat | None, Query(description="json, csv or ofx")] = None,
        revision: Annotated[int | None, Query(ge=0, description="default: the latest")] = None,
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S, description="seconds to wait")] = 0,
    ) -> dict[str, Any] | Response:
        """The job's status, and when done its result in the statement schema (the latest
        revision unless ``revision`` is given): the statement, or for a file of several accounts
        the array of their statements, as ``dualread extract`` writes it; with ``format`` the
        output file itself."""
        waiters: _Waiters = request.app.state.waiters
        event = waiters.register(job_id) if wait else None
        try:
            # SQLite reads by primary key take well under a millisecond: no thread hop needed.
            job = job_or_404(job_id)
            if event is not None and job.status not in FINISHED:
                with suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), wait)
                job = job_or_404(job_id)
        finally:
            if event is not None:
                waiters.discard(job_id, event)
        found = store.revision(job_id, revision)
        if revision is not None and found is None:
            raise HTTPException(404, f"extraction {job_id} has no revision {revision}")
        if format is not None:
            if found is None:
                raise HTTPException(409, f"extraction {job_id} is {job.status}: no result yet")
            text = RENDERERS[format](found.documents)
            stem = Path(job.filename).stem
            return Response(
                text,
                media_type=MEDIA_TYPES[format],
                headers={"Content-Disposition": f'attachment; filename="{stem}.{format}"'},
            )
        # Encoded directly: FastAPI's generic encoder walks every value of the result in Python,
        # which costs more than the rest of this request.
        return JSONResponse(
            _job_view(job)
            | {
                "revision": None if found is None else found.number,
                "result": None if found is None else json_value(found.documents),
            }
        )

    @app.delete("/v1/extractions/{job_id}", status_code=204, tags=["extractions"])
    def delete_extraction(job_id: str) -> Response:
        """Remove the job's upload, rendered pages, result and revisions."""
        if not store.delete(job_id):
            raise HTTPException(404, f"no extraction {job_id}")
        return Response(status_code=204)

    @app.get(
        "/v1/extractions/{job_id}/pages/{number}.png",
        tags=["extractions"],
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    def page_image(
        job_id: str, number: int, dpi: Annotated[int, Query(ge=50, le=300)] = REVIEW_DPI
    ) -> Response:
        """Page ``number`` of the uploaded file (its own numbering) as PNG."""
        job = job_or_404(job_id)
        cached = job.folder / "pages" / f"{number}-{dpi}.png"
        if not cached.exists():
            password = JobOptions.model_validate(job.options).password
            try:
                with open_document(job.upload, password=password) as document:
                    image = document.render(number, dpi)
            except DocumentError as error:
                raise HTTPException(404, f"{job.filename}: {error.problem}") from None
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=False, compress_level=3)
            (job.folder / "pages").mkdir(mode=0o700, exist_ok=True)
            write_atomic(cached, buffer.getvalue())
        return Response(cached.read_bytes(), media_type="image/png")

    @app.get("/v1/extractions/{job_id}/highlights", tags=["review"])
    def page_highlights(job_id: str) -> dict[str, Any]:
        """Where each open dispute of the latest revision sits: the account (1 for the first),
        page, and a box when the text layer shows it (fractions of the page), else null (the
        whole page)."""
        job = job_or_404(job_id)
        found = store.revision(job_id)
        if found is None:
            return {"highlights": []}
        return {"highlights": _highlights(job, found.documents)}

    @app.get("/v1/extractions/{job_id}/revisions", tags=["review"])
    def list_revisions(job_id: str) -> dict[str, Any]:
        """Every revision: 0 is dualread's result; each later one a person's corrections."""
        job_or_404(job_id)
        return {
            "revisions": [
                {
                    "number": r.number,
                    "author": r.author,
                    "created_at": r.created_at,
                    "changes": r.changes,
                }
                for r in store.revisions(job_id)
            ]
        }

    @app.post("/v1/extractions/{job_id}/revisions", status_code=201, tags=["review"])
    def add_revision(job_id: str, request: RevisionRequest) -> dict[str, Any]:
        """Save corrections to one account's statement as a new revision (the earlier ones are
        kept) and recheck its arithmetic. ``base`` must be the latest revision, else 409;
        ``account`` names the account when the file holds several, else 422."""
        job_or_404(job_id)
        base = store.revision(job_id, request.base)
        if base is None:
            raise HTTPException(404, f"extraction {job_id} has no revision {request.base}")
        latest = store.revision(job_id)
        if latest is not None and latest.number != base.number:
            raise HTTPException(409, str(RevisionConflict(request.base, latest.number)))
        try:
            documents, changes = revise_account(base.documents, request, utc_now())
            saved = store.add_revision(job_id, request.base, documents, request.author, changes)
        except CorrectionError as error:
            raise HTTPException(422, str(error)) from None
        except RevisionConflict as error:
            raise HTTPException(409, str(error)) from None
        return {"revision": saved.number, "result": json_value(saved.documents)}

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, Any]:
        """The model servers, the engine ``auto`` would pick now, and the queue."""
        readers = Readers(config.settings, AnswerCache(config.settings.cache_dir, enabled=False))
        engine, reason = choose_engine("auto", None, config.settings)
        silent = set(readers.unreachable_roles(ROLES))
        servers = {
            role: {
                "url": config.settings.role(role).url,
                "model": config.settings.role(role).model,
                "reachable": role not in silent,
            }
            for role in ROLES
        }
        return {
            "status": "ok",
            "version": __version__,
            "engine": engine,
            "engine_reason": reason,
            "servers": servers,
            "workers": config.workers,
            "jobs": store.counts(),
        }

    @app.get("/v1/schema", tags=["service"])
    def schema() -> dict[str, Any]:
        """The statement JSON schema every result satisfies."""
        return load_schema()

    # review page -----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        return templates.TemplateResponse(
            request, "index.html", {"jobs": store.list_jobs(), "token_required": bool(config.token)}
        )

    @app.get("/partials/jobs", response_class=HTMLResponse, include_in_schema=False)
    def jobs_table(request: Request) -> Response:
        return templates.TemplateResponse(request, "_jobs.html", {"jobs": store.list_jobs()})

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def review(request: Request, job_id: str, account: Annotated[int, Query(ge=1)] = 1) -> Response:
        """One account's statement (a tab per account when the file holds several)."""
        job = job_or_404(job_id)
        found = store.revision(job_id)
        context: dict[str, Any] = {"job": job, "revision": found, "dpi": REVIEW_DPI}
        if found is not None:
            if account > len(found.documents):
                raise HTTPException(404, f"extraction {job_id} has no account {account}")
            document = found.documents[account - 1]
            context |= {
                "doc": document,
                "account": account,
                "accounts": [
                    {"index": number, "name": account_name(statement) or f"#{number}"}
                    for number, statement in enumerate(found.documents, 1)
                ],
                "totals": live_totals(document),
                "highlights": [
                    h for h in _highlights(job, found.documents) if h["account"] == account
                ],
                "disputes": dispute_choices(document),
                "pages": _page_numbers(job),
                "revisions": store.revisions(job_id),
            }
        return templates.TemplateResponse(request, "review.html", context)

    if config.token:

        @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
        def login_form(request: Request) -> Response:
            return templates.TemplateResponse(request, "login.html", {"wrong": False})

        @app.post("/login", include_in_schema=False)
        def login(request: Request, token: Annotated[str, Form()]) -> Response:
            assert config.token is not None
            if not token_matches(config.token, token):
                return templates.TemplateResponse(
                    request, "login.html", {"wrong": True}, status_code=401
                )
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(
                COOKIE_NAME, token, httponly=True, samesite="strict", secure=False, path="/"
            )
            return response

    def _highlights(job: Job, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every account's highlights, each saying its account (1 for the first)."""
        password = JobOptions.model_validate(job.options).password
        try:
            with open_document(job.upload, password=password) as source:
                return [
                    h.to_dict() | {"account": number}
                    for number, document in enumerate(documents, 1)
                    for h in highlights(source, document)
                ]
        except DocumentError:
            return []

    def _page_numbers(job: Job) -> list[int]:
        options = JobOptions.model_validate(job.options)
        try:
            with open_document(job.upload, password=options.password, pages=options.pages) as d:
                return d.page_numbers
        except DocumentError:
            return []

    return app


class _TokenGate(BaseHTTPMiddleware):
    """Every request but the static files and the login form carries the token."""

    OPEN_PATHS = ("/static/", f"{DOCS_ASSETS}/", "/login")

    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        given = bearer(request.headers.get("authorization")) or request.cookies.get(COOKIE_NAME)
        if path.startswith(self.OPEN_PATHS) or token_matches(self.token, given):
            return await call_next(request)
        if path.startswith("/v1/") or path in ("/docs", "/openapi.json", "/redoc"):
            return JSONResponse(
                {"detail": "missing or wrong token (send 'Authorization: Bearer <token>')"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return RedirectResponse("/login", status_code=303)
