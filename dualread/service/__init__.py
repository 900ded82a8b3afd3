"""``dualread serve``: the HTTP API and the review page, on top of the library.

- :mod:`.config`: what the server is started with (data folder, token, limits).
- :mod:`.store`: jobs, uploads and revisions in SQLite (WAL) plus files under the data folder.
- :mod:`.uploads`: size and type checks of an upload before it is queued.
- :mod:`.worker`: the bounded pool that runs queued jobs through :func:`dualread.api.extract_many`.
- :mod:`.review`: a person's correction applied as a new revision, the arithmetic rechecked.
- :mod:`.highlights`: where a disputed value sits on its page (text-layer boxes, else the page).
- :mod:`.security`: the loopback rule and the bearer token.
- :mod:`.app`: the FastAPI application (``/v1`` API, ``/`` review page).

Nothing here is imported by the library or by other commands: FastAPI and uvicorn load only when
``dualread serve`` runs.
"""
