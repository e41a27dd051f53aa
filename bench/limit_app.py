"""'The limit': a bare FastAPI/uvicorn endpoint serving the benchmark operations with hand-written SQL.

    DATABASE_URL=postgresql://... uvicorn bench.limit_app:app --workers 2

POST /op/{name} with the operation's GraphQL variables as the JSON body; the answer is the
text Postgres built (`bench/limit_sql.py`): one statement, no GraphQL, no Python objects per
field. Not part of the API: it shows how fast this machine can serve the same data at all.
The `X-SQL-Statements` header says how many statements a request ran (always 1).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from bench.limit_sql import OPERATIONS


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = AsyncConnectionPool(
        os.environ["DATABASE_URL"],
        min_size=2,
        max_size=int(os.environ.get("POOL_SIZE", "10")),
        # tradegraph's session settings (app.db.session_options, written out: the limit imports
        # nothing of the app, so its memory is its own): a 5 s statement timeout, so a slow
        # operation cannot hold the pool, and no JIT
        kwargs={"autocommit": True, "prepare_threshold": 0, "options": "-c statement_timeout=5000 -c jit=off"},
        open=False,
    )
    await pool.open(wait=True)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/op/{name}")
async def operation(name: str, request: Request) -> Response:
    statement = OPERATIONS.get(name)
    if statement is None:
        return Response(b'{"errors":[{"message":"no such operation"}]}', status_code=404)
    variables = orjson.loads(await request.body() or b"{}")
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn:
        cursor = await conn.execute(statement, {"v": Jsonb(variables)})
        row = await cursor.fetchone()
    body = row[0] if row else "null"
    return Response(body.encode(), media_type="application/json", headers={"X-SQL-Statements": "1"})
