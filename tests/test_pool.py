"""The API's connection pool under more requests than connections."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from app.db import Reader, make_async_engine
from app.errors import ServiceUnavailable


def test_a_request_waiting_too_long_for_a_connection_gets_a_coded_error(seeded_url: str) -> None:
    async def scenario() -> None:
        engine = make_async_engine(seeded_url, pool_size=1, statement_timeout_ms=5000, pool_timeout=0.2)
        holder, waiter = Reader(engine), Reader(engine)
        try:
            assert await holder.scalar(text("SELECT 1")) == 1  # holds the only connection
            with pytest.raises(ServiceUnavailable, match="busy") as refused:
                await waiter.one_sql("SELECT 1", {})
            assert refused.value.extensions == {"code": "SERVICE_UNAVAILABLE"}
            await holder.close()
            assert (await waiter.one_sql("SELECT 2", {}))[0] == 2  # served once one is free
        finally:
            await holder.close()
            await waiter.close()
            await engine.dispose()

    asyncio.run(scenario())


def test_a_request_mixing_plain_sql_and_sqlalchemy_statements_holds_one_connection(seeded_url: str) -> None:
    # plain SQL holds the pool's connection itself, SQLAlchemy statements a Connection around
    # one: a request switching from one to the other gives the first back before it takes the
    # second, so a pool of one serves it (holding both would wait for itself, then time out)
    async def scenario() -> None:
        engine = make_async_engine(seeded_url, pool_size=1, statement_timeout_ms=5000, pool_timeout=0.2)
        db = Reader(engine)
        try:
            [first] = await db.one_sql("SELECT pg_backend_pid()", {})
            assert await db.scalar(text("SELECT pg_backend_pid()")) == first
            assert (await db.one_sql("SELECT pg_backend_pid()", {}))[0] == first  # on the request's Connection
            await db.close()
            assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            again = Reader(engine)
            assert (await again.one_sql("SELECT 2", {}))[0] == 2
            assert engine.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
            await again.close()
            assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        finally:
            await db.close()
            await engine.dispose()

    asyncio.run(scenario())


def test_a_connection_closed_under_a_request_is_not_handed_to_the_next(seeded_url: str) -> None:
    # a statement cancelled mid-way may leave psycopg's connection closed: the request must not
    # put it back, or the next request to get it finds it dead, and that renews every pooled
    # connection (as after a server restart), the healthy ones included
    async def scenario() -> None:
        engine = make_async_engine(seeded_url, pool_size=2, statement_timeout_ms=5000, pool_timeout=2)
        first, second = Reader(engine), Reader(engine)
        try:
            [healthy] = await first.one_sql("SELECT pg_backend_pid()", {})
            await second.one_sql("SELECT pg_backend_pid()", {})
            closed = second._pooled
            assert closed is not None and closed.driver_connection is not None
            await closed.driver_connection.close()
            await first.close()
            await second.close()  # last in: handed out first (LIFO)
            third, fourth = Reader(engine), Reader(engine)
            try:
                pids = {(await db.one_sql("SELECT pg_backend_pid()", {}))[0] for db in (third, fourth)}
            finally:
                await third.close()
                await fourth.close()
            assert healthy in pids  # the healthy connection was kept
            assert len(pids) == 2
        finally:
            await engine.dispose()

    asyncio.run(scenario())
