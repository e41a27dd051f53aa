"""Engine and sessions. The only place that commits or rolls back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection, Engine, Executable, Row, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlmodel import Session

from app.config import sqlalchemy_url
from app.errors import BadUserInput, DatabaseUnavailable, QueryTimeout

log = logging.getLogger(__name__)
T = TypeVar("T")


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


def session_options(*, statement_timeout_ms: int) -> str:
    """Return the libpq `options` of the API's sessions: read-only, time-limited (0: no limit), no JIT."""
    # the server refuses writes from the API's connections, whatever the code does, and cancels
    # any statement that runs too long (the connection then serves the next one); no JIT: it
    # compiles any statement the planner costs high (a search or a page over millions of rows)
    # for ~0.75 s, where the statement itself takes tens of milliseconds
    return f"-c default_transaction_read_only=on -c statement_timeout={int(statement_timeout_ms)} -c jit=off"


def make_async_engine(
    url: str,
    *,
    pool_size: int = 10,
    statement_timeout_ms: int = 5000,
    pool_timeout: float = 10,
    application_name: str = "tradegraph-api",
) -> AsyncEngine:
    """Return an async engine for the API's reads: autocommit, read-only on the server, time-limited."""
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        # no overflow: a connection opened per request beyond the pool would cost the server a fork
        # and be closed again at once; requests wait for one of the pool's instead
        max_overflow=0,
        pool_timeout=pool_timeout,
        # no pre-ping (a round trip per request): Reader retries a request's first statement
        # once on a new connection when the server dropped the pooled one
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",  # each SELECT stands alone: no BEGIN/COMMIT round trips
        connect_args={
            "application_name": application_name,
            "connect_timeout": 5,
            "options": session_options(statement_timeout_ms=statement_timeout_ms),
        },
    )


class DatabaseUnreachable(Exception):
    """The database did not answer within the start-up attempts."""


def describe(url: str) -> str:
    """Return where a libpq URL points, without credentials: host:port/db or the socket."""
    parsed = make_url(url)
    host = parsed.host or str(parsed.query.get("host", "local socket"))
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database}"


def wait_for_database(url: str, *, attempts: int, first_delay: float = 0.5, max_delay: float = 4.0) -> None:
    """Return once `url` accepts a connection; log each failed try; raise DatabaseUnreachable at the end."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            if attempt == attempts:
                raise DatabaseUnreachable(
                    f"cannot reach the database at {describe(url)} after {attempts} attempts: {reason}"
                ) from None
            log.warning(
                "database at %s not reachable (attempt %d/%d): %s; retrying in %.1fs",
                describe(url),
                attempt,
                attempts,
                reason,
                delay,
            )
            time.sleep(delay)
            delay = min(delay * 2, max_delay)


def _coded(exc: DBAPIError) -> Exception:
    """Return the client-facing error for a database failure, or `exc` itself if unexpected."""
    if isinstance(exc.orig, psycopg.errors.QueryCanceled):
        return QueryTimeout("the query took too long and was cancelled; ask for less (smaller pages, fewer fields)")
    if exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError):
        return DatabaseUnavailable("the database is not reachable right now; try again shortly")
    if isinstance(exc.orig, psycopg.DataError):
        # a value the request carried that Postgres cannot hold (out of range, unstorable)
        return BadUserInput("a value in the request is out of the range the database can store")
    return exc


class Reader:
    """Runs one request's read statements, one at a time, on one pooled connection.

    One connection per request means no pool round trip per statement; running statements in
    order keeps DataLoader batching deterministic, so an operation always runs the same
    number of statements whatever the page size.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def _run(self, run: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self._lock:
            first = self._conn is None
            try:
                if self._conn is None:
                    self._conn = await self.engine.connect()
                return await run(self._conn)
            except PoolTimeout:
                raise DatabaseUnavailable(
                    "the API is busy: no database connection was free in time; try again"
                ) from None
            except DBAPIError as exc:
                if not (first and exc.connection_invalidated):
                    raise _coded(exc) from exc
            # The pooled connection was dead (the server restarted since it was last used);
            # SQLAlchemy has discarded it and every older one: once more, on a new connection.
            await self.close()
            try:
                self._conn = await self.engine.connect()
                return await run(self._conn)
            except DBAPIError as exc:
                raise _coded(exc) from exc

    async def all(self, stmt: Executable) -> Sequence[Row[*tuple[Any, ...]]]:
        """Return every row `stmt` selects; raise QueryTimeout or DatabaseUnavailable on failure."""

        async def run(conn: AsyncConnection) -> Sequence[Row[*tuple[Any, ...]]]:
            return (await conn.execute(stmt)).all()

        return await self._run(run)

    async def one_sql(self, sql: str, params: dict[str, Any]) -> Row[*tuple[Any, ...]]:
        """Return the single row that `sql` (text with %(name)s parameters) selects."""

        async def run(conn: AsyncConnection) -> Row[*tuple[Any, ...]]:
            return (await conn.exec_driver_sql(sql, params)).one()

        return await self._run(run)

    async def scalar(self, stmt: Executable) -> Any:
        """Return the first column of the single row `stmt` selects."""
        rows = await self.all(stmt)
        return rows[0][0]

    async def close(self) -> None:
        """Return the connection to the pool."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
