"""Engine and sessions. The only place that commits or rolls back."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection, Engine, Executable, Row, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util.concurrency import greenlet_spawn

from app.config import Settings
from app.dburl import describe, is_multi_host, primary_url, sqlalchemy_url
from app.errors import BadUserInput, DatabaseUnavailable, QueryTimeout, ServiceUnavailable
from app.roles import as_role, ensure_reader_role, reader_url, refuse_superuser

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


def session_options(*, statement_timeout_ms: int) -> str:
    """Return the libpq `options` of the API's sessions: read-only, time-limited (0: no limit), serial, no JIT."""
    # the server refuses writes from the API's connections, whatever the code does, and cancels
    # any statement that runs too long (the connection then serves the next one); no JIT: it
    # compiles any statement the planner costs high (a search or a page over millions of rows)
    # for ~0.75 s, where the statement itself takes tens of milliseconds; no parallel workers:
    # starting them cost more than they saved (PlacePage at size L: 46-49 ms with them, 23-32
    # without), and under load each request's workers take the cores the other requests need
    return (
        f"-c default_transaction_read_only=on -c statement_timeout={int(statement_timeout_ms)} -c jit=off"
        " -c max_parallel_workers_per_gather=0"
    )


def session_transaction(*, statement_timeout_ms: int) -> str:
    """Return the SQL that opens a transaction with the API's session settings, for a transaction pooler."""
    # a transaction pooler (PgBouncer) refuses start-up `options` and hands each transaction a
    # server connection of its own: the same settings, scoped to the transaction (SET LOCAL),
    # sent as one simple-protocol message: one round trip
    return (
        f"BEGIN READ ONLY; SET LOCAL statement_timeout = {int(statement_timeout_ms)}; SET LOCAL jit = off;"
        " SET LOCAL max_parallel_workers_per_gather = 0"
    )


_IDLE = psycopg.pq.TransactionStatus.IDLE

# the API's engines whose connections go back to the pool with nothing to send (make_async_engine)
_RETURNED_AS_IS: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_async_engine(
    url: str,
    *,
    pool_size: int,
    statement_timeout_ms: int,
    pool_timeout: float = 10,
    application_name: str = "tradegraph-api",
    pooler: bool = False,
    prepared_statements: bool = True,
) -> AsyncEngine:
    """Return an async engine for the API's reads: autocommit, read-only on the server, time-limited.

    `pooler`: behind a transaction pooler, each checkout opens a read-only transaction carrying
    the settings (rolled back on return) and, unless `prepared_statements`, nothing is prepared."""
    connect_args: dict[str, Any] = {"application_name": application_name, "connect_timeout": 5}
    if not pooler:
        connect_args["options"] = session_options(statement_timeout_ms=statement_timeout_ms)
    elif not prepared_statements:
        # psycopg prepares a statement run 5 times on its connection; through a transaction
        # pooler the next transaction may get another server connection, where it does not exist
        connect_args["prepare_threshold"] = None
    engine = create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        # no overflow: a connection opened per request beyond the pool would cost the server a fork
        # and be closed again at once; requests wait for one of the pool's instead
        max_overflow=0,
        pool_timeout=pool_timeout,
        # no pre-ping (a round trip per request): Reader runs a statement once more, on a new
        # connection, when the server dropped the pooled one (once per request)
        # several hosts: connections are renewed every minute, so that reads go back to a
        # standby that has come back (libpq picks the server at connect time only)
        pool_recycle=60 if is_multi_host(url) else 1800,
        # the connection used last is handed out first: at low concurrency a request gets a
        # backend whose caches are warm, not the next of ten in turn (after a burst had opened
        # them all, one client's requests took 1.5x as long, cycling through cold backends)
        pool_use_lifo=True,
        isolation_level="AUTOCOMMIT",  # each SELECT stands alone: no BEGIN/COMMIT round trips
        # no transaction is ever open on return (autocommit), so there is nothing to roll back:
        # a connection goes back to the pool without an await (Reader); behind a transaction
        # pooler the reset ends the transaction each checkout opened
        pool_reset_on_return="rollback" if pooler else None,
        connect_args=connect_args,
    )
    if pooler:
        begin = session_transaction(statement_timeout_ms=statement_timeout_ms)
        event.listen(engine.sync_engine, "checkout", functools.partial(_begin_on_checkout, begin))
        event.listen(engine.sync_engine, "reset", _end_on_return)
    else:
        _RETURNED_AS_IS.add(engine.sync_engine)
    return engine


def _begin_on_checkout(begin: str, dbapi_connection: Any, record: Any, proxy: Any) -> None:
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(begin)
        finally:
            cursor.close()
    except psycopg.OperationalError as exc:
        # the pooled connection is dead: the pool replaces it and checks out again
        raise DisconnectionError(str(exc)) from exc


def _end_on_return(dbapi_connection: Any, record: Any, state: Any) -> None:
    # ends the read-only transaction the checkout opened (psycopg sends nothing when none is open)
    dbapi_connection.rollback()


def options_refused(url: str, *, statement_timeout_ms: int) -> bool:
    """Return whether the server at `url` does not take the session settings at connect time.

    So it is with a pooler in front (PgBouncer refuses the start-up `options`, or ignores them
    when told to): the settings must then come with each transaction."""
    try:
        with psycopg.connect(
            url,
            connect_timeout=5,
            autocommit=True,
            prepare_threshold=None,
            options=session_options(statement_timeout_ms=statement_timeout_ms),
        ) as conn:
            row = conn.execute("SELECT current_setting('default_transaction_read_only')").fetchone()
    except psycopg.OperationalError as exc:
        if "unsupported startup parameter" in str(exc):
            return True
        raise
    return row is None or row[0] != "on"


SERVER_STATE = """
SELECT coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket'),
       current_database(),
       pg_is_in_recovery(),
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            -- everything received is replayed: caught up, however long ago the last write was
            -- (after a restart the receiver reports the segment it resumed from: behind replay)
            WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 END
"""


async def server_state(conn: AsyncConnection) -> dict[str, Any]:
    """Return which server `conn` is on: address, database, primary or standby, and a standby's replay lag (s)."""
    row: tuple[Any, ...] = tuple((await conn.exec_driver_sql(SERVER_STATE)).one())
    server, database, standby, lag = row
    state: dict[str, Any] = {"server": server, "database": database, "role": "standby" if standby else "primary"}
    if standby:
        state["replay_lag_s"] = None if lag is None else round(float(lag), 3)
    return state


class DatabaseUnreachable(Exception):
    """The database did not answer within the start-up attempts."""


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


@dataclasses.dataclass(frozen=True)
class ApiDatabase:
    """Where the API reads, resolved once by the process that starts it (and handed to its workers)."""

    url: str  # the SELECT-only role's (or API_DATABASE_URL)
    listen_url: str  # the primary's, for the process's one LISTEN connection
    pooler: bool  # behind a transaction pooler: the session settings go with each transaction


def resolve_api_database(settings: Settings, url: str) -> ApiDatabase:
    """Return where the API reads, given `url`, the database that migrates and seeds (DATABASE_URL's or the
    embedded server's). Every URL of the API is decided here, once.

    Raise UnsafeRole (its message says what to set) when only a superuser is left, and
    DatabaseUnreachable when the database does not answer within the start-up attempts."""
    attempts = settings.db_connect_attempts
    if settings.api_database_url:
        api_url = settings.api_database_url
    elif not settings.database_url:
        # the embedded server is ours: make sure the read-only role exists, and use it
        ensure_reader_role(url)
        api_url = as_role(url)
    else:
        wait_for_database(url, attempts=attempts)
        api_url = reader_url(url, password=settings.reader_password, allow_superuser=settings.allow_superuser_api)
    wait_for_database(api_url, attempts=attempts)
    if settings.api_database_url:
        refuse_superuser(api_url, allow=settings.allow_superuser_api, source="API_DATABASE_URL")
    if settings.database_pooler != "auto":
        pooler = settings.database_pooler == "transaction"
    else:
        pooler = options_refused(api_url, statement_timeout_ms=settings.statement_timeout_ms)
        if pooler:
            log.info("the database does not take session settings at connect time: a pooler; settings per transaction")
    return ApiDatabase(url=api_url, listen_url=_listen_url(settings, api_url, pooler=pooler), pooler=pooler)


def _listen_url(settings: Settings, api_url: str, *, pooler: bool) -> str:
    """Return the URL of the LISTEN connection: LISTEN_DATABASE_URL, else the API's, on the primary."""
    from app.live import POLL_SECONDS  # late: the listener builds on this module

    # NOTIFY reaches neither a standby (target_session_attrs=read-write skips one among several
    # hosts, and refuses a lone one with libpq's reason) nor a session behind a transaction
    # pooler, which no URL parameter can detect: say so instead
    if settings.listen_database_url:
        return primary_url(settings.listen_database_url)
    if pooler:
        log.warning(
            "the API connects through a transaction pooler and LISTEN_DATABASE_URL is not set: subscriptions "
            "hear of new corpus versions only every %.0fs; point LISTEN_DATABASE_URL at the primary directly",
            POLL_SECONDS,
        )
    return primary_url(api_url)


# SQLSTATE classes a request's own values cause: data exceptions (22) and program limits (54:
# statement too complex). Not 42 (syntax, undefined column): values are parameters, so those
# mean the code and the database disagree, an internal error.
_INPUT_CLASSES = ("22", "54")


def _coded(exc: DBAPIError) -> Exception:
    """Return the client-facing error for a database failure, or `exc` itself if unexpected."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if isinstance(exc.orig, psycopg.errors.QueryCanceled):
        return QueryTimeout("the query took too long and was cancelled; ask for less (smaller pages, fewer fields)")
    if sqlstate.startswith("54"):
        # checked before OperationalError, which psycopg makes these too: the request, not an outage
        return BadUserInput("the request is too complex for the database (a value too long or too nested)")
    if sqlstate[:2] in _INPUT_CLASSES or "tsquery stack too small" in str(exc.orig):
        return BadUserInput("a value in the request is out of the range the database can store or read")
    if exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError):
        return DatabaseUnavailable("the database is not reachable right now; try again shortly")
    return exc


def _lost(exc: DBAPIError) -> bool:
    """Return whether the failure lost the connection (terminated, server restarted, network)."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return (
        exc.connection_invalidated
        or sqlstate.startswith(("08", "57P"))
        or (isinstance(exc.orig, psycopg.OperationalError) and not sqlstate)
    )


# psycopg's own placeholders (%(name)s, %% for a percent sign), as it splits them
_PLACEHOLDER = re.compile(r"%(?:\(([^)]+)\)([sbt])|(%))")


@functools.lru_cache(maxsize=256)
def positional(sql: str) -> tuple[str, tuple[str, ...]] | None:
    """Return `sql` with $1, $2... for its %(name)s parameters and their names in that order; None if
    it holds another kind of placeholder.

    psycopg splits a statement into its parameters on every execute once it is longer than 4 kB
    (its own cache holds shorter ones): 0.1-0.25 ms for a compiled statement of 25-40 parameters,
    a tenth of some answers. Converted once here, it runs on a raw cursor as it is (which encodes
    it as the connection's encoding says)."""
    names: list[str] = []
    numbers: dict[str, int] = {}

    def replace(m: re.Match[str]) -> str:
        if m.group(3) is not None:
            return "%"
        if m.group(2) != "s":
            raise ValueError("not a %(name)s placeholder")
        name = m.group(1)
        if name not in numbers:
            names.append(name)
            numbers[name] = len(names)
        return f"${numbers[name]}"

    try:
        query = _PLACEHOLDER.sub(replace, sql)
    except ValueError:
        return None
    # a lone % that is no placeholder: psycopg would refuse it, so let it
    return None if "%" in _PLACEHOLDER.sub("", sql) else (query, tuple(names))


async def fetch_all(
    driver: psycopg.AsyncConnection[Any], sql: str, params: dict[str, Any], *, prepare: bool = True
) -> list[Any]:
    """Return the rows `sql` (text with %(name)s parameters) selects on `driver`, run with $n
    parameters (positional) when it can; unless `prepare`, never prepared."""
    when = None if prepare else False  # psycopg's: None prepares after a few runs, False never
    converted = positional(sql)
    if converted is None:
        async with driver.cursor() as cursor:
            await cursor.execute(sql, params, prepare=when)
            return await cursor.fetchall()
    query, names = converted
    missing = [n for n in names if n not in params]
    if missing:  # as psycopg says it
        raise psycopg.ProgrammingError(f"query parameter missing: {', '.join(missing)}")
    async with psycopg.AsyncRawCursor(driver) as raw:
        await raw.execute(query, [params[n] for n in names], prepare=when)
        return await raw.fetchall()


class Reader:
    """Runs one request's read statements, one at a time, on one pooled connection.

    One connection per request means no pool round trip per statement; running statements in
    order keeps DataLoader batching deterministic, so an operation always runs the same
    number of statements whatever the page size.

    A request whose statements are all plain SQL (`one_sql`: the compiled path, nearly every
    request) holds the pool's connection itself, not SQLAlchemy's Connection around it: one
    greenlet hop to check it out and none to return it, where the Connection cost three (a
    tenth of a 0.4 ms answer's CPU). SQLAlchemy statements hold a Connection, which the
    request's later plain SQL then shares.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._pooled: PoolProxiedConnection | None = None  # held by plain SQL while `_conn` is None
        self._lock = asyncio.Lock()
        self._reconnected = False
        self._closed = False

    async def _run(self, run: Callable[[], Awaitable[T]]) -> T:
        """Return what `run` returns, run under the request's lock, once more on a new connection if it lost its own."""
        async with self._lock:
            while True:
                if self._closed:
                    # a task the request left running (a sibling of a failed one in a gather), or
                    # a statement that failed after the answer: it must not check out a
                    # connection nobody will return
                    raise DatabaseUnavailable("the request has already been answered")
                try:
                    return await run()
                except PoolTimeout:
                    raise ServiceUnavailable(
                        "the API is busy: no database connection was free in time; try again"
                    ) from None
                except DBAPIError as exc:
                    if not _lost(exc):
                        raise _coded(exc) from exc
                    # The connection died (the server restarted or stopped since it was last
                    # used, a standby among several hosts went away, or its backend was
                    # terminated during this request): never used again by this request. Once
                    # per request, the statement runs again on a new connection (to whichever
                    # server libpq picks now); each stands alone (autocommit, read-only), so
                    # running it again is safe. Later statements get a new connection too.
                    await self._discard()
                    if self._reconnected:
                        raise _coded(exc) from exc
                    self._reconnected = True
                except PendingRollbackError:
                    # a connection left mid-transaction by an earlier failure: never reuse it
                    await self._discard()
                    if self._reconnected:
                        raise DatabaseUnavailable("the database connection was lost; try again") from None
                    self._reconnected = True

    async def _connection(self) -> AsyncConnection:
        """Return the request's SQLAlchemy connection, checked out on first use."""
        if self._conn is None:
            # the pool's connection held by plain SQL goes back first: a request never holds two
            await self._release_pooled()
            self._conn = await self.engine.connect()
        return self._conn

    async def _release_pooled(self) -> None:
        pooled, self._pooled = self._pooled, None
        if pooled is None:
            return
        driver = pooled.driver_connection
        if driver is None or driver.closed or driver.broken:
            # closed under it (a cancelled statement, a lost server): never handed out again
            with contextlib.suppress(Exception):
                await greenlet_spawn(pooled.invalidate)
        elif self.engine.sync_engine in _RETURNED_AS_IS and driver.info.transaction_status == _IDLE:
            pooled.close()  # back in the pool's queue: nothing to send, nothing to await
        else:
            await greenlet_spawn(pooled.close)  # the pool's reset (a transaction pooler's ROLLBACK)

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        pooled, self._pooled = self._pooled, None
        if conn is not None:
            with contextlib.suppress(Exception):  # it is dead: closing it may fail too
                await conn.invalidate()
                await conn.close()
        if pooled is not None:
            with contextlib.suppress(Exception):
                await greenlet_spawn(pooled.invalidate)

    async def all(self, stmt: Executable) -> Sequence[Row[*tuple[Any, ...]]]:
        """Return every row `stmt` selects; raise QueryTimeout or DatabaseUnavailable on failure."""

        async def run() -> Sequence[Row[*tuple[Any, ...]]]:
            return (await (await self._connection()).execute(stmt)).all()

        return await self._run(run)

    async def one_sql(self, sql: str, params: dict[str, Any], *, prepare: bool = True) -> tuple[Any, ...]:
        """Return the single row that `sql` (text with %(name)s parameters) selects.

        Unless `prepare`, the statement is never prepared: Postgres plans it with its values each time."""

        async def run() -> tuple[Any, ...]:
            # straight to psycopg on the pooled connection: SQLAlchemy's execution context, result
            # object and greenlet hops cost about a tenth of a 1 ms answer. Its listeners still
            # hear of the statement, and its failures come wrapped as SQLAlchemy would wrap them.
            if self._conn is not None:
                sync = self._conn.sync_connection
                if sync is not None:
                    sync.dispatch.before_cursor_execute(sync, None, sql, params, None, False)
                pooled = await self._conn.get_raw_connection()
            else:
                self.engine.sync_engine.dispatch.before_cursor_execute(None, None, sql, params, None, False)
                if self._pooled is None:
                    try:
                        self._pooled = await greenlet_spawn(self.engine.sync_engine.pool.connect)
                    except psycopg.Error as exc:
                        # as engine.connect() wraps it: the server is unreachable (outage, restart)
                        raise DBAPIError(None, None, exc, connection_invalidated=True) from exc
                pooled = self._pooled
            driver = pooled.driver_connection
            if driver is None:  # invalidated under it: a new connection, as for any lost one
                raise DBAPIError(sql, params, psycopg.OperationalError("no connection"), connection_invalidated=True)
            try:
                rows = await fetch_all(driver, sql, params, prepare=prepare)
            except psycopg.Error as exc:
                lost = bool(driver.closed or driver.broken)
                if lost:
                    # as SQLAlchemy does on a disconnect: every connection opened before now is
                    # replaced at its next checkout (a restarted server dropped them all)
                    self.engine.sync_engine.pool._invalidate(pooled, exc, _checkin=False)
                raise DBAPIError(sql, params, exc, connection_invalidated=lost) from exc
            if len(rows) != 1:
                raise RuntimeError(f"the statement selected {len(rows)} rows, not one")
            return tuple(rows[0])

        return await self._run(run)

    async def scalar(self, stmt: Executable) -> Any:
        """Return the first column of the single row `stmt` selects."""
        rows = await self.all(stmt)
        return rows[0][0]

    async def close(self) -> None:
        """Return the connection to the pool; no statement runs through this reader afterwards."""
        self._closed = True
        # after any statement of this request still running (a sibling task left by a failed
        # gather): its connection must not go back to the pool while in use
        async with self._lock:
            await self._release_pooled()
            if self._conn is not None:
                await self._conn.close()
                self._conn = None
