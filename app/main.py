"""Builds the ASGI app: `create_app`, and `app.main:app` configured by the environment."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import event
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config import LOCAL_ORIGINS, OPERATIONS_DIR, PROJECT_ROOT, Settings, get_settings
from app.db import ApiDatabase, make_async_engine, resolve_api_database, server_state
from app.embedded import database_url
from app.graphql.graphiql import STATIC_DIR
from app.graphql.http import make_executor, post_route, statement_counter, statement_log
from app.graphql.http import router as graphql_router
from app.graphql.persisted import Persisted, trusted_documents
from app.graphql.ws import router as graphql_ws_router
from app.live import CorpusHub
from app.middleware import BodyLimit, Cors
from app.migrate import is_at_head, warm_up
from app.observability import Metrics, RequestObservability, known_operation_names, metrics_endpoint

log = logging.getLogger(__name__)


def _count_statement(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
    counter = statement_counter.get()
    if counter is not None:
        counter[0] += 1
    shown = statement_log.get()
    if shown is not None:  # a development request asked to see its SQL
        shown.append({"sql": statement, "params": parameters})


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Return the answer to a failure nothing else handled: JSON like every other error, no details."""
    # Starlette logs the exception itself after this answer is sent
    body = {"errors": [{"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    return JSONResponse(body, status_code=500)


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def _shown(path: str) -> str:
    # a path as long as the server takes (tens of KB) is not echoed whole
    return path if len(path) <= 200 else path[:200] + "…"


async def _http_error(request: Request, exc: Exception) -> Response:
    """Return routing's refusals (no such path, no such method) as JSON like every other error."""
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code)
    if code is None:
        plain = {"errors": [{"message": str(exc.detail)}]}
        return JSONResponse(plain, status_code=exc.status_code, headers=exc.headers)
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and request.url.path == "/graphql":
        headers["Allow"] = "GET, HEAD, POST"  # routing names only the route it tried last
    if exc.status_code == 405:
        message = f"{request.method} is not served at {_shown(request.url.path)}" + (
            f"; use {headers['Allow']}" if "Allow" in headers else ""
        )
    else:
        message = f"nothing is served at {_shown(request.url.path)}"
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    if request.method == "HEAD":
        return Response(status_code=exc.status_code, headers=headers, media_type="application/json")
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def create_app(settings: Settings | None = None, database: ApiDatabase | None = None) -> FastAPI:
    """Return the API, configured by `settings` (default: the environment).

    `database`: where it reads, as `resolve_api_database` decided in the process that starts the
    server; by default the app decides it itself when it starts."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            resolved = database
            if resolved is None:
                url = stack.enter_context(database_url(settings))
                resolved = await asyncio.to_thread(resolve_api_database, settings, url)
            engine = make_async_engine(
                resolved.url,
                pool_size=settings.pool_size,
                statement_timeout_ms=settings.statement_timeout_ms,
                pooler=resolved.pooler,
                prepared_statements=settings.pooler_prepared_statements,
            )
            stack.push_async_callback(engine.dispose)
            app.state.pooler = "transaction" if resolved.pooler else "none"
            event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
            app.state.async_engine = engine
            # the process's one LISTEN connection, to the primary, for subscriptions
            app.state.live = live = CorpusHub(engine, resolved.listen_url)
            live.start()
            stack.push_async_callback(live.stop)
            app.state.executor.start_planning()  # its processes import the schema while the server starts
            # Everything allocated so far lives as long as the process: keep it out of the
            # collector's full passes, which otherwise stall requests for tens of milliseconds.
            gc.collect()
            gc.freeze()
            # Alembic is imported on first use (start-up does not need it): load it, and read the
            # head revision, while the server starts listening, not in the first /readyz
            threading.Thread(target=warm_up, name="tradegraph-readyz-warm-up", daemon=True).start()
            yield

    # redirect_slashes off: `/graphql/` is a path like any other nothing serves (a coded 404), not a
    # redirect to a URL built from the client's Host header
    app = FastAPI(
        title="tradegraph",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.executor = make_executor(settings)
    app.state.persisted = Persisted(
        trusted=trusted_documents(OPERATIONS_DIR),
        only_trusted=settings.persisted_operations_only,
        max_entries=settings.apq_max_entries,
        max_bytes=settings.apq_max_bytes,
    )
    # outside production a dev server on this machine (Vite on localhost:5173, ...) may call the API
    local = None if settings.production else LOCAL_ORIGINS
    if settings.cors_origins or local:
        app.add_middleware(
            Cors,
            allow_origins=settings.cors_origins,
            allow_origin_regex=local,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["ETag"],
            max_age=600,
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(Exception, _internal_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # the example operations keep their own label whatever names clients invent (bench/ is absent
    # from the image: its names then share the first-come labels)
    app.state.metrics = Metrics(
        max_operations=50,
        known_operations=known_operation_names(OPERATIONS_DIR, PROJECT_ROOT / "bench" / "operations"),
    )
    app.add_middleware(RequestObservability, metrics=app.state.metrics)  # outermost: sees every answer
    app.router.routes.insert(0, post_route)
    app.include_router(graphql_router)
    app.include_router(graphql_ws_router)
    app.state.ws_connections = 0
    if settings.metrics_enabled:
        app.add_api_route("/metrics", metrics_endpoint, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.api_route("/healthz", methods=["GET", "HEAD"])
    async def healthz() -> dict[str, str]:
        """Return 200 while the process serves."""
        return {"status": "ok"}

    @app.api_route("/readyz", methods=["GET", "HEAD"])
    async def readyz(request: Request) -> JSONResponse:
        """Return 200 when the database answers, its migrations are at head and a standby is not too far behind."""
        try:
            async with request.app.state.async_engine.connect() as conn:
                pool = await server_state(conn)
                at_head = await conn.run_sync(is_at_head)
        except Exception as exc:  # any failure to reach the database means "not ready"
            log.warning("readiness check failed: %s", exc.__class__.__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        pool["pooler"] = request.app.state.pooler
        pools = {"api": pool}
        if not at_head:
            return JSONResponse(
                {"status": "unavailable", "database": "migrations pending", "pools": pools}, status_code=503
            )
        lag = pool.get("replay_lag_s")
        if lag is not None and lag > request.app.state.settings.max_replica_lag_s:
            return JSONResponse(
                {"status": "unavailable", "database": "replica lagging", "pools": pools}, status_code=503
            )
        return JSONResponse({"status": "ok", "pools": pools})

    return app


class WorkerApp:
    """The API of one uvicorn worker process, built there from what the starting process decided.

    uvicorn hands its workers (spawned processes) a pickled copy of its configuration, this
    object included: each worker serves with the settings and the database resolved once by
    the process that started it, and reads nothing from the environment itself."""

    def __init__(self, settings: Settings, database: ApiDatabase) -> None:
        self.settings = settings
        self.database = database
        self.app: FastAPI | None = None  # built on first use, in the worker

    def __getstate__(self) -> dict[str, Any]:
        return {"settings": self.settings, "database": self.database, "app": None}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            self.app = create_app(self.settings, self.database)
        await self.app(scope, receive, send)


def __getattr__(name: str) -> Any:
    # `app.main:app` (uvicorn app.main:app): the API configured by the environment, built on
    # first use, not whenever this module is imported
    if name == "app":
        built = globals()["app"] = create_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
