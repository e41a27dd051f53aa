"""Engine and sessions. The only place that commits or rolls back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Unpack

from sqlalchemy import Connection, Engine, Executable, Row, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session

from app.config import sqlalchemy_url


def make_engine(url: str, *, pool_size: int = 5, application_name: str = "tradegraph") -> Engine:
    """Return an engine for a libpq URL, using psycopg 3."""
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"application_name": application_name, "connect_timeout": 5},
    )


@contextlib.contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """Yield a session whose work is committed on success and rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a Core connection inside one transaction: committed on success, else rolled back."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
            trans.commit()
        except BaseException:
            trans.rollback()
            raise


@contextlib.contextmanager
def read_only(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a read-only transaction that is always rolled back."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield connection
        finally:
            trans.rollback()


def make_async_engine(url: str, *, pool_size: int = 10, application_name: str = "tradegraph-api") -> AsyncEngine:
    """Return an async engine for the API's reads: autocommit, and read-only on the server."""
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",  # each SELECT stands alone: no BEGIN/COMMIT round trips
        connect_args={
            "application_name": application_name,
            "connect_timeout": 5,
            # the server refuses writes from the API's connections, whatever the code does
            "options": "-c default_transaction_read_only=on",
        },
    )


class Reader:
    """Runs read statements for the API, each on a pooled connection of its own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def all(self, stmt: Executable) -> Sequence[Row[Unpack[tuple[Any, ...]]]]:
        """Return every row `stmt` selects."""
        async with self.engine.connect() as conn:
            return (await conn.execute(stmt)).all()

    async def scalar(self, stmt: Executable) -> Any:
        """Return the first column of the single row `stmt` selects."""
        async with self.engine.connect() as conn:
            return (await conn.execute(stmt)).scalar_one()
