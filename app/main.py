"""Builds the ASGI app: `app.main:app`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import event

from app.config import LOCAL_ORIGINS, OPERATIONS_DIR, PROJECT_ROOT, Settings, get_settings
from app.db import make_async_engine, options_refused, server_state, wait_for_database
from app.embedded import database_url
from app.graphql.graphiql import STATIC_DIR
from app.graphql.http import make_executor, statement_counter, statement_log
from app.graphql.http import router as graphql_router
from app.graphql.persisted import Persisted, trusted_documents
from app.graphql.ws import router as graphql_ws_router
from app.live import CorpusHub, listen_database_url
from app.middleware import BodyLimit
from app.migrate import is_at_head, warm_up
from app.observability import Metrics, RequestObservability, known_operation_names, metrics_endpoint
from app.roles import as_role, ensure_reader_role, reader_url, refuse_superuser

log = logging.getLogger(__name__)


def _count_statement(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
    counter = statement_counter.get()
    if counter is not None:
        counter[0] += 1
    shown = statement_log.get()
    if shown is not None:  # a development request asked to see its SQL
        shown.append({"sql": statement, "params": parameters})


def api_database_url(settings: Settings, url: str) -> str:
    """Return the URL the API reads through: the SELECT-only role, never a superuser unless allowed.

    Raise UnsafeRole (its message says what to set) when only a superuser is left, and
    DatabaseUnreachable when the database does not answer within the start-up attempts."""
    if settings.api_database_url:
        wait_for_database(settings.api_database_url, attempts=settings.db_connect_attempts)
        refuse_superuser(settings.api_database_url, allow=settings.allow_superuser_api, source="API_DATABASE_URL")
        return settings.api_database_url
    if not settings.database_url:
        # the embedded server is ours: make sure the read-only role exists, and use it
        ensure_reader_role(url)
        return as_role(url)
    wait_for_database(url, attempts=settings.db_connect_attempts)
    return reader_url(url, password=settings.reader_password, allow_superuser=settings.allow_superuser_api)


def behind_pooler(settings: Settings, api_url: str) -> bool:
    """Return whether the API's connections go through a transaction pooler (DATABASE_POOLER, or detected)."""
    if settings.database_pooler != "auto":
        return settings.database_pooler == "transaction"
    refused = options_refused(api_url, statement_timeout_ms=settings.statement_timeout_ms)
    if refused:
        log.info("the database does not take session settings at connect time: a pooler; settings go per transaction")
    return refused


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Return the answer to a failure nothing else handled: JSON like every other error, no details."""
    # Starlette logs the exception itself after this answer is sent
    body = {"errors": [{"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    return JSONResponse(body, status_code=500)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the API, configured by `settings` (default: the environment)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with database_url(settings) as url:
            api_url = await asyncio.to_thread(api_database_url, settings, url)
            await asyncio.to_thread(wait_for_database, api_url, attempts=settings.db_connect_attempts)
            pooler = await asyncio.to_thread(behind_pooler, settings, api_url)
            engine = make_async_engine(
                api_url,
                pool_size=settings.pool_size,
                statement_timeout_ms=settings.statement_timeout_ms,
                pooler=pooler,
                prepared_statements=settings.pooler_prepared_statements,
            )
            app.state.pooler = "transaction" if pooler else "none"
            event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
            app.state.async_engine = engine
            # the process's one LISTEN connection, to the primary, for subscriptions
            app.state.live = live = CorpusHub(engine, listen_database_url(settings, api_url, pooled=pooler))
            live.start()
            # Everything allocated so far lives as long as the process: keep it out of the
            # collector's full passes, which otherwise stall requests for tens of milliseconds.
            gc.collect()
            gc.freeze()
            # Alembic is imported on first use (start-up does not need it): load it, and read the
            # head revision, while the server starts listening, not in the first /readyz
            threading.Thread(target=warm_up, name="tradegraph-readyz-warm-up", daemon=True).start()
            try:
                yield
            finally:
                await live.stop()
                await engine.dispose()

    app = FastAPI(title="tradegraph", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
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
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_origin_regex=local,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["ETag"],
            max_age=600,
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(Exception, _internal_error)
    # the example operations keep their own label whatever names clients invent (bench/ is absent
    # from the image: its names then share the first-come labels)
    app.state.metrics = Metrics(
        max_operations=50,
        known_operations=known_operation_names(OPERATIONS_DIR, PROJECT_ROOT / "bench" / "operations"),
    )
    app.add_middleware(RequestObservability, metrics=app.state.metrics)  # outermost: sees every answer
    app.include_router(graphql_router)
    app.include_router(graphql_ws_router)
    app.state.ws_connections = 0
    if settings.metrics_enabled:
        app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Return 200 while the process serves."""
        return {"status": "ok"}

    @app.get("/readyz")
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


app = create_app()
