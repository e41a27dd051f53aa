"""The API's read-only database role, separate from the role that migrates and seeds."""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from app.dburl import with_user

log = logging.getLogger(__name__)

READER_ROLE = "tradegraph_reader"


def ensure_reader_role(url: str, *, role: str = READER_ROLE, password: str | None = None) -> bool:
    """Create (or update) a login role that may only read this database; return False if not allowed.

    Run by the migrating role after migrations: tables it creates later are readable too,
    through default privileges."""
    with psycopg.connect(url, autocommit=True) as conn:
        allowed = conn.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()
        if not allowed or not allowed[0]:
            log.warning("the migrating role may not create roles: the API will use it, read-only by transaction")
            return False
        name = sql.Identifier(role)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT").format(name))
        if password is not None:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(password)))
        database = conn.execute("SELECT current_database()").fetchone()
        assert database is not None
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database[0]), name))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(name))
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(name))
        # and nothing else: the role owns nothing and may create nothing
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(name))
    return True


def as_role(url: str, role: str = READER_ROLE, password: str | None = None) -> str:
    """Return `url` connecting as `role` (with `password`, if any) instead of its own user."""
    return with_user(url, role, password)
