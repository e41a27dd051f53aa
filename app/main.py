"""Builds the ASGI app: `app.main:app`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.config import Settings, get_settings
from app.db import make_engine
from app.embedded import database_url
from app.migrate import is_at_head

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the API, configured by `settings` (default: the environment)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with database_url(settings) as url:
            engine = make_engine(url, pool_size=settings.pool_size, application_name="tradegraph-api")
            app.state.engine = engine
            try:
                yield
            finally:
                engine.dispose()

    app = FastAPI(title="tradegraph", lifespan=lifespan, docs_url=None, redoc_url=None)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Return 200 while the process serves."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz(request: Request) -> JSONResponse:
        """Return 200 when the database answers and its migrations are at head, else 503."""
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                at_head = is_at_head(conn)
        except Exception as exc:  # any failure to reach the database means "not ready"
            log.warning("readiness check failed: %s", exc.__class__.__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        if not at_head:
            return JSONResponse({"status": "unavailable", "database": "migrations pending"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app


app = create_app()
