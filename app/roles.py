"""The API's read-only database role, separate from the role that migrates and seeds."""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from app.dburl import with_user

log = logging.getLogger(__name__)

READER_ROLE = "tradegraph_reader"


# the advisory lock (of the database) under which the reader role is created and granted
ROLE_LOCK = 0x7467_726F_6C65  # "tgrole"
ROLE_ATTEMPTS = 5


def ensure_reader_role(url: str, *, role: str = READER_ROLE, password: str | None = None) -> bool:
    """Create (or update) a login role that may only read this database; return False if not allowed.

    Run by the migrating role after migrations: tables it creates later are readable too,
    through default privileges."""
    with psycopg.connect(url, autocommit=True) as conn:
        allowed = conn.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()
        if not allowed or not allowed[0]:
            log.warning("the migrating role may not create roles: %s is not created or updated", role)
            return False
        for attempt in range(ROLE_ATTEMPTS):
            try:
                _grant(conn, role, password)
                break
            except (pg_errors.UniqueViolation, pg_errors.DuplicateObject, pg_errors.InternalError_):
                # the role is the server's, the lock the database's: a process ensuring it in another
                # database at the same moment created it first, or changed it ("tuple concurrently
                # updated"); the next attempt finds it
                if attempt == ROLE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
    return True


def _grant(conn: psycopg.Connection[tuple[object, ...]], role: str, password: str | None) -> None:
    # every API process runs this as it starts, replicas at once: one at a time (two GRANTs on one
    # object fail with "tuple concurrently updated", two CREATE ROLEs with a duplicate)
    name = sql.Identifier(role)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (ROLE_LOCK,))
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT").format(name))
        if password is not None:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(password)))
        database = conn.execute("SELECT current_database()").fetchone()
        assert database is not None
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(str(database[0])), name))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(name))
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(name))
        # and nothing else: the role owns nothing and may create nothing
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(name))


def as_role(url: str, role: str = READER_ROLE, password: str | None = None) -> str:
    """Return `url` connecting as `role` (with `password`, if any) instead of its own user."""
    return with_user(url, role, password)


class UnsafeRole(Exception):
    """The API would read as a role it must not use; the message says why and what to do."""


def _login_failure(url: str) -> str | None:
    """Return why `url` cannot log in (the server's first line), or None if it can."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return None


def is_superuser(url: str) -> bool:
    """Return whether `url` logs in as a superuser."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def refuse_superuser(url: str, *, allow: bool, source: str) -> None:
    """Raise UnsafeRole if `url` logs in as a superuser, unless `allow` (then log a warning)."""
    if not is_superuser(url):
        return
    if allow:
        log.warning(
            "ALLOW_SUPERUSER_API=true: the API reads as a superuser (%s), which may turn read-only "
            "transactions off; use a SELECT-only role in production",
            source,
        )
        return
    raise UnsafeRole(
        f"{source} logs in as a superuser, which the API will not read as (a superuser may switch "
        "read-only transactions off). Set API_DATABASE_URL to a SELECT-only role, or run `tradegraph "
        f"migrate` so that the API reads as {READER_ROLE}; ALLOW_SUPERUSER_API=true overrides this"
    )


def reader_url(url: str, *, password: str | None, allow_superuser: bool, role: str = READER_ROLE) -> str:
    """Return the URL the API reads through when only DATABASE_URL (`url`) is given.

    That is the SELECT-only role (created or brought up to date here when `url`'s role may do so,
    as `migrate` does), logging in with `password` (READER_PASSWORD) where the server asks for one.
    If the API cannot log in as it, it reads as `url`'s own role in read-only transactions, unless
    that role is a superuser: then UnsafeRole, saying why the login failed, unless `allow_superuser`."""
    ensure_reader_role(url, role=role, password=password)
    candidate = as_role(url, role, password)
    failure = _login_failure(candidate)
    if failure is None:
        log.info("the API reads as %s (derived from DATABASE_URL)", role)
        return candidate
    hint = "" if password else "; if the server asks for a password, set READER_PASSWORD (for migrate and serve)"
    if is_superuser(url) and not allow_superuser:
        raise UnsafeRole(
            f"the API cannot log in as {role}: {failure}{hint}. It will not read as DATABASE_URL's "
            "role instead, a superuser: set API_DATABASE_URL to a SELECT-only role, or ALLOW_SUPERUSER_API=true"
        )
    log.warning(
        "the API cannot log in as %s (%s)%s: it reads as DATABASE_URL's role, in read-only transactions",
        role,
        failure,
        hint,
    )
    refuse_superuser(url, allow=allow_superuser, source="DATABASE_URL")
    return url
