"""'The limit': a bare FastAPI/uvicorn endpoint serving the benchmark operations with hand-written SQL.

    DATABASE_URL=postgresql://... uvicorn bench.limit_app:app --workers 2

POST /op/{name} with the operation's GraphQL variables as the JSON body; the answer is the
text Postgres built (`bench/limit_sql.py`): one statement, no GraphQL, no Python objects per
field. Not part of the API: it shows how fast this machine can serve the same data at all.
The `X-SQL-Statements` header says how many statements a request ran (always 1).

With `LIMIT_STATEMENTS=<file>` it is the same-SQL limit: it answers with the very statement
tradegraph compiles for each operation and its variables (written to the file by `bench.run`,
`same_sql_statements`), so the ratio to it is the cost of tradegraph's GraphQL and HTTP layers.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from app.db import fetch_all
from bench.limit_sql import OPERATIONS

# (operation, variables as same_sql_key writes them) -> (statement, parameters, whether it may be
# prepared: as tradegraph runs it), or None
SAME_SQL: dict[tuple[str, str], tuple[str, dict[str, Any], bool]] | None = (
    # written by bench.run itself, into a directory of its own
    pickle.loads(Path(os.environ["LIMIT_STATEMENTS"]).read_bytes())  # noqa: S301
    if os.environ.get("LIMIT_STATEMENTS")
    else None
)


def same_sql_key(variables: dict[str, Any]) -> str:
    """Return the key of one operation's variables among the same-SQL statements."""
    return json.dumps(variables, sort_keys=True, default=str)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = AsyncConnectionPool(
        os.environ["DATABASE_URL"],
        min_size=2,
        max_size=int(os.environ.get("POOL_SIZE", "10")),
        # tradegraph's session settings (app.db.session_options, written out: the limit imports
        # nothing of the app, so its memory is its own): a 5 s statement timeout, so a slow
        # operation cannot hold the pool, no JIT and no parallel workers
        kwargs={
            "autocommit": True,
            "prepare_threshold": 0,
            "options": "-c statement_timeout=5000 -c jit=off -c max_parallel_workers_per_gather=0",
        },
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
    if SAME_SQL is not None:
        return await same_sql(name, request)
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


async def same_sql(name: str, request: Request) -> Response:
    """Answer with tradegraph's compiled statement for these variables: {"data": <its JSON>}."""
    assert SAME_SQL is not None
    found = SAME_SQL.get((name, same_sql_key(orjson.loads(await request.body() or b"{}"))))
    if found is None:
        return Response(b'{"errors":[{"message":"no statement for these variables"}]}', status_code=404)
    statement, params, prepare = found
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn:
        rows = await fetch_all(conn, statement, params, prepare=prepare)  # as tradegraph's Reader.one_sql runs it
    row = rows[0] if rows else None
    body = b'{"data":' + (row[0].encode() if row else b"null") + b"}"
    return Response(body, media_type="application/json", headers={"X-SQL-Statements": "1"})
