"""The HTTP API and the page (FastAPI): ``rag serve`` runs :func:`create_app` under uvicorn.

- ``POST /ask``: JSON in (:class:`AskRequest`), the same JSON out as ``rag ask --json``.
- ``POST /ask/stream``: server-sent events: ``token`` (the first draft, piece by piece, as the
  generator writes it), then ``answer`` (the final cited answer with its verdicts, as ``/ask``
  returns it) or ``error``.
- ``GET /indexes``, ``GET /health`` (200 only once the models are loaded, else 503),
  ``GET /`` (the page), FastAPI's ``/openapi.json`` and ``/docs``.

Errors: a bad request is 422 with a one-line ``detail`` that says what is wrong (the field and
the problem, never the input echoed back); a full queue or models still loading is 503 with
``Retry-After``; a missing or wrong token (``--token``) is 401; a ``Host`` the server does not
answer for is 421; a body over ``--max-body-kb`` is 413 (:mod:`rag.serve.guard`). A client that
goes away is dropped, whether its question waits or is being answered.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from rag import __version__
from rag.errors import RagError
from rag.pipeline import MAX_QUESTION_CHARS, Pipeline, check_question
from rag.serve.guard import Guard, allowed_hosts, page_csp
from rag.serve.state import Cancelled, NotReady, QueueFull, Server

#: Seconds a client is told to wait before asking again when the queue is full.
RETRY_AFTER_S = 5
#: How often a waiting request checks whether its client is still there.
_POLL_S = 0.1
#: The longest error detail sent back (a message may quote a setting's name or value).
_MAX_DETAIL = 300
#: Where the API docs page (/docs) loads Swagger UI from.
_SWAGGER = "https://cdn.jsdelivr.net"


class AskRequest(BaseModel):
    """A question, and optionally: how many passages, which index (a name among ``GET /indexes``),
    and pipeline settings (fields of ``PipelineConfig``, as ``rag ask``'s options set them)."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, examples=["Who discovered radium?"])
    k: int | None = Field(default=None, ge=1, description="passages to retrieve (the server caps it)")
    index: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description='PipelineConfig settings, e.g. {"prompt": "quote", "generation": {"max_tokens": 200}}',
    )


def _error(status: int, detail: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    if len(detail) > _MAX_DETAIL:
        detail = detail[: _MAX_DETAIL - 1] + "…"
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    """What is wrong with a request, one line: each field's path and the problem (pydantic's
    message), never the input (FastAPI's own handler echoes it all back)."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        parts.append(f"{where[:60]}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def create_app(server: Server, *, load: bool = True) -> FastAPI:
    """The app around a :class:`Server`; with ``load`` its models load in a thread at start-up
    (the app answers ``/health`` with 503 until they are in)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if load and not server.ready:
            threading.Thread(target=server.load, name="rag-load", daemon=True).start()
        yield
        server.close()

    app = FastAPI(
        title="rag",
        version=__version__,
        description="Answers from your documents with checked inline citations.",
        lifespan=lifespan,
        docs_url=None,  # served below, with a Content-Security-Policy
        redoc_url=None,
    )
    app.state.server = server
    config = server.config
    app.add_middleware(
        Guard,
        hosts=allowed_hosts(config.host, config.allowed_hosts),
        token=config.token,
        max_body_bytes=config.max_body_kb * 1024,
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_detail(exc))

    async def prepare(body: AskRequest) -> tuple[Pipeline, str] | JSONResponse:
        """The request's pipeline and question, and a slot for it; or the error response. (An
        index asked for the first time is loaded in a thread, so other requests keep streaming.)"""
        try:
            question = check_question(body.question)
            pipe = await asyncio.to_thread(server.pipeline, body.index, body.k, body.options)
            server.admit()
        except NotReady as exc:
            return _error(503, exc.reason, RETRY_AFTER_S)
        except QueueFull:
            return _error(503, "busy: the question queue is full, ask again shortly", RETRY_AFTER_S)
        except RagError as exc:
            return _error(422, str(exc).strip().splitlines()[0])
        return pipe, question

    @app.get("/health")
    async def health() -> JSONResponse:
        """200 with what is loaded once ready; 503 while the models load (or if they failed)."""
        state = server.health()
        if state["status"] != "ready":
            return JSONResponse(state, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
        return JSONResponse(state)

    @app.get("/indexes")
    async def indexes() -> dict[str, Any]:
        """The indexes under the index home a request may name, and which one is loaded."""
        return {"indexes": server.indexes()}

    @app.post("/ask", response_model=None)
    async def ask(body: AskRequest, request: Request) -> dict[str, Any] | JSONResponse:
        """Answer one question: the same JSON as ``rag ask --json``."""
        prepared = await prepare(body)
        if isinstance(prepared, JSONResponse):
            return prepared
        pipe, question = prepared
        cancel = threading.Event()
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(server.executor, server.answer, pipe, question, cancel, None)
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=_POLL_S)
                if not work.done() and await request.is_disconnected():
                    cancel.set()  # frees the slot: the worker stops waiting or generating
            answer = work.result()
        except Cancelled:
            return _error(499, "the client went away")
        except RagError as exc:
            return _error(422, str(exc).strip().splitlines()[0])
        finally:
            cancel.set()
        return server.with_links(pipe, answer.to_dict())

    @app.post("/ask/stream", response_model=None)
    async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse | JSONResponse:
        """Server-sent events: ``token`` pieces of the first draft as they are generated, then
        ``answer`` (the final cited answer, as ``/ask`` returns it) or ``error``."""
        prepared = await prepare(body)
        if isinstance(prepared, JSONResponse):
            return prepared
        pipe, question = prepared
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str | None] = asyncio.Queue()
        cancel = threading.Event()

        def on_token(piece: str) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, piece)

        # submitted now, not when streaming starts, so the slot is freed whatever the client does
        work = loop.run_in_executor(server.executor, server.answer, pipe, question, cancel, on_token)
        work.add_done_callback(lambda _: pieces.put_nowait(None))
        work.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen, even if never sent

        async def next_piece() -> str | None:
            """The next piece (None: the answer is done); raises :class:`Cancelled` as soon as the
            client goes away, also while the question waits for the generator (nothing is sent
            then, so nothing else would notice)."""
            getter = asyncio.ensure_future(pieces.get())
            try:
                while not getter.done():
                    await asyncio.wait({getter}, timeout=_POLL_S)
                    if not getter.done() and await request.is_disconnected():
                        raise Cancelled()
                return getter.result()
            finally:
                getter.cancel()

        async def events() -> AsyncIterator[str]:
            try:
                while (piece := await next_piece()) is not None:
                    yield _sse("token", {"text": piece})
                try:
                    answer = work.result()
                except RagError as exc:
                    yield _sse("error", {"detail": str(exc).strip().splitlines()[0]})
                    return
                yield _sse("answer", server.with_links(pipe, answer.to_dict()))
            except Cancelled:
                return
            finally:
                cancel.set()  # the client went away (or all is sent): stop generating

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/source/{index}/{number}", response_model=None)
    async def source(index: str, number: int) -> FileResponse | JSONResponse:
        """The original of a source file of a loaded index, by its number in the index's manifest
        (never a path from the request), read-only; an HTML file is sandboxed (its scripts do not
        run, and it gets no access to this server)."""
        try:
            path = server.source_file(index, number)
        except NotReady as exc:
            return _error(503, exc.reason, RETRY_AFTER_S)
        except RagError as exc:
            return _error(404, str(exc))
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}
        return FileResponse(path, media_type=kind, headers=headers, content_disposition_type="inline")

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        """The page: ask, watch the answer stream in, click a citation to see its passage. Its
        inline script runs by its hash (the Content-Security-Policy allows no other)."""
        html = resources.files("rag.serve").joinpath("page.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"Content-Security-Policy": page_csp(html)})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """FastAPI's Swagger UI for the API (its script and styles come from a CDN)."""
        page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="rag - API")
        html = bytes(page.body).decode("utf-8")
        csp = page_csp(html, scripts=_SWAGGER, styles=f"{_SWAGGER} 'unsafe-inline'", images="'self' data: https:")
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    return app
