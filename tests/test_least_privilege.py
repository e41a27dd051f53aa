"""Least privilege: the API cannot write, whatever SQL reached its database session.

Two layers, each tested on its own: the API's connections are read-only transactions (Postgres
refuses any write in them), and the role they log in as (`tradegraph_reader`) may only SELECT, so
a session that turned read-only off still cannot change anything. With only DATABASE_URL (a
superuser's) the API derives the reader role's URL and reads as it; it never reads as a
superuser unless told so explicitly (ALLOW_SUPERUSER_API), and then the read-only transactions
still refuse writes.
And no SQL in app/ is built by string formatting.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import errors as pg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import Reader
from app.main import create_app
from app.roles import READER_ROLE, UnsafeRole, as_role, reader_url

ROOT = Path(__file__).resolve().parent.parent

WRITES = [
    pytest.param("INSERT INTO places (slug, name, kind) VALUES ('pwned', 'Pwned', 'town')", id="insert"),
    pytest.param("UPDATE articles SET title = 'pwned'", id="update"),
    pytest.param("DELETE FROM evidence", id="delete"),
    pytest.param("TRUNCATE trade_figures CASCADE", id="truncate"),
    pytest.param("CREATE TABLE pwned (x int)", id="create table"),
    pytest.param("CREATE SCHEMA pwned", id="create schema"),
    pytest.param("ALTER TABLE articles ADD COLUMN pwned int", id="alter table"),
    pytest.param("DROP TABLE events CASCADE", id="drop table"),
    pytest.param("CREATE INDEX pwned ON articles (title)", id="create index"),
    pytest.param("SELECT nextval('articles_id_seq')", id="nextval"),
    pytest.param("SELECT setval('articles_id_seq', 1)", id="setval"),
    pytest.param("CREATE ROLE pwned SUPERUSER", id="create role"),
    pytest.param(f"ALTER ROLE {READER_ROLE} SUPERUSER", id="alter own role"),
    pytest.param("CREATE FUNCTION pwned() RETURNS int LANGUAGE sql AS 'SELECT 1'", id="create function"),
]


def run_in_session(client: TestClient, app: FastAPI, *statements: str) -> list[Any]:
    """Run `statements` in order on one of the app's own pooled connections; return each result or error.

    The connection is discarded afterwards, so nothing it changed goes back to the pool."""
    engine: AsyncEngine = app.state.async_engine

    async def go() -> list[Any]:
        outcomes: list[Any] = []
        conn = await engine.connect()
        try:
            for statement in statements:
                try:
                    result = await conn.exec_driver_sql(statement)
                    outcomes.append(result.all() if result.returns_rows else None)
                except DBAPIError as exc:
                    outcomes.append(exc.orig)
        finally:
            await conn.invalidate()
            await conn.close()
        return outcomes

    assert client.portal is not None
    result: list[Any] = client.portal.call(go)
    return result


@pytest.fixture(scope="module")
def reader_app(seeded_url: str) -> Iterator[tuple[TestClient, FastAPI]]:
    """The API as deployed: reading through the SELECT-only role."""
    app = create_app(Settings(database_url=seeded_url, api_database_url=as_role(seeded_url)))
    with TestClient(app) as client:
        yield client, app


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        counts = {}
        for table in tables:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            assert row is not None
            counts[table] = row[0]
        return counts


# --- the API's own session ----------------------------------------------------------------------------


def test_the_api_reads_as_the_reader_role_in_read_only_time_limited_sessions(
    reader_app: tuple[TestClient, FastAPI],
) -> None:
    client, app = reader_app
    who, read_only, timeout, jit, workers = run_in_session(
        client,
        app,
        "SELECT current_user",
        "SHOW default_transaction_read_only",
        "SHOW statement_timeout",
        "SHOW jit",
        "SHOW max_parallel_workers_per_gather",
    )
    assert who == [(READER_ROLE,)]
    assert read_only == [("on",)]
    assert timeout == [("5s",)]
    assert jit == [("off",)]
    assert workers == [("0",)]


@pytest.mark.parametrize("statement", WRITES)
def test_a_write_in_the_api_session_is_refused(
    reader_app: tuple[TestClient, FastAPI], seeded_url: str, statement: str
) -> None:
    client, app = reader_app
    before = row_counts(seeded_url)
    [outcome] = run_in_session(client, app, statement)
    assert isinstance(outcome, pg.ReadOnlySqlTransaction | pg.InsufficientPrivilege), outcome
    assert row_counts(seeded_url) == before


@pytest.mark.parametrize("statement", WRITES)
def test_the_reader_role_cannot_write_even_with_read_only_turned_off(
    reader_app: tuple[TestClient, FastAPI], seeded_url: str, statement: str
) -> None:
    # an injected statement could turn the session read-write: the role itself must still refuse
    client, app = reader_app
    before = row_counts(seeded_url)
    _, turned_off, outcome = run_in_session(
        client, app, "SET default_transaction_read_only = off", "SHOW default_transaction_read_only", statement
    )
    assert turned_off == [("off",)]
    assert isinstance(outcome, pg.InsufficientPrivilege), outcome
    assert row_counts(seeded_url) == before


def test_the_reader_role_cannot_become_another_role(reader_app: tuple[TestClient, FastAPI]) -> None:
    client, app = reader_app
    for statement in ("SET ROLE postgres", "SET SESSION AUTHORIZATION postgres", "SET ROLE pg_write_all_data"):
        [outcome] = run_in_session(client, app, statement)
        assert isinstance(outcome, pg.InsufficientPrivilege | pg.InvalidParameterValue | pg.UndefinedObject), (
            statement,
            outcome,
        )


def test_a_write_through_the_api_reader_is_refused(reader_app: tuple[TestClient, FastAPI]) -> None:
    client, app = reader_app

    async def go() -> BaseException | None:
        db = Reader(app.state.async_engine)
        try:
            await db.all(text("INSERT INTO places (slug, name, kind) VALUES ('pwned', 'Pwned', 'town') RETURNING id"))
        except DBAPIError as exc:
            return exc.orig
        finally:
            await db.close()
        return None

    assert client.portal is not None
    refused = client.portal.call(go)
    assert isinstance(refused, pg.ReadOnlySqlTransaction), refused
    assert "cannot execute INSERT in a read-only transaction" in str(refused)


def test_a_superuser_allowed_explicitly_still_reads_in_read_only_sessions(fresh_database: Any) -> None:
    url: str = fresh_database(seeded=True)
    before = row_counts(url)
    # the API reads as the superuser only when told so explicitly
    app = create_app(Settings(database_url=url, api_database_url=url, allow_superuser_api=True))
    with TestClient(app) as client:
        who, insert, update, create = run_in_session(
            client,
            app,
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            "INSERT INTO places (slug, name, kind) VALUES ('pwned', 'Pwned', 'town')",
            "UPDATE articles SET title = 'pwned'",
            "CREATE TABLE pwned (x int)",
        )
    assert who == [(True,)], "this test needs the test server's superuser"
    for outcome in (insert, update, create):
        assert isinstance(outcome, pg.ReadOnlySqlTransaction), outcome
    assert "cannot execute INSERT in a read-only transaction" in str(insert)
    assert row_counts(url) == before


# --- the role's grants ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin(seeded_url: str) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        yield conn


def test_the_reader_role_has_no_attributes(admin: psycopg.Connection[tuple[Any, ...]]) -> None:
    row = admin.execute(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit, rolcanlogin"
        " FROM pg_roles WHERE rolname = %s",
        (READER_ROLE,),
    ).fetchone()
    assert row == (False, False, False, False, False, False, True)
    memberships = admin.execute(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
        " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
        (READER_ROLE,),
    ).fetchall()
    assert memberships == []


def test_the_reader_role_may_only_select(admin: psycopg.Connection[tuple[Any, ...]]) -> None:
    tables = [
        r[0]
        for r in admin.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        )
    ]
    assert "articles" in tables
    for table in tables:
        rights = {
            privilege: admin.execute(
                "SELECT has_table_privilege(%s, %s, %s)", (READER_ROLE, table, privilege)
            ).fetchone()
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
        }
        assert rights == {
            "SELECT": (True,),
            "INSERT": (False,),
            "UPDATE": (False,),
            "DELETE": (False,),
            "TRUNCATE": (False,),
            "REFERENCES": (False,),
            "TRIGGER": (False,),
        }, table
    granted = admin.execute(
        "SELECT DISTINCT privilege_type FROM information_schema.role_table_grants WHERE grantee = %s",
        (READER_ROLE,),
    ).fetchall()
    assert granted == [("SELECT",)]
    columns = admin.execute(
        "SELECT DISTINCT privilege_type FROM information_schema.column_privileges"
        " WHERE grantee = %s AND privilege_type <> 'SELECT'",
        (READER_ROLE,),
    ).fetchall()
    assert columns == []


def test_the_reader_role_cannot_use_sequences(admin: psycopg.Connection[tuple[Any, ...]]) -> None:
    sequences = [r[0] for r in admin.execute("SELECT oid::regclass::text FROM pg_class WHERE relkind = 'S'")]
    assert sequences
    for sequence in sequences:
        for privilege in ("USAGE", "UPDATE"):
            row = admin.execute("SELECT has_sequence_privilege(%s, %s, %s)", (READER_ROLE, sequence, privilege))
            assert row.fetchone() == (False,), (sequence, privilege)


def test_the_reader_role_cannot_create_anything(admin: psycopg.Connection[tuple[Any, ...]]) -> None:
    row = admin.execute(
        "SELECT has_schema_privilege(%s, 'public', 'CREATE'), has_database_privilege(%s, current_database(), 'CREATE')",
        (READER_ROLE, READER_ROLE),
    ).fetchone()
    assert row == (False, False)


def test_the_reader_role_owns_nothing(admin: psycopg.Connection[tuple[Any, ...]]) -> None:
    owned = admin.execute(
        "SELECT 'relation ' || relname FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)"
        " UNION ALL SELECT 'schema ' || nspname FROM pg_namespace"
        " WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = %s)"
        " UNION ALL SELECT 'function ' || proname FROM pg_proc"
        " WHERE proowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
        (READER_ROLE, READER_ROLE, READER_ROLE),
    ).fetchall()
    assert owned == []


def test_no_security_definer_functions_in_public(admin: psycopg.Connection[tuple[Any, ...]]) -> None:
    # a SECURITY DEFINER function would run with its owner's rights whoever calls it
    definers = admin.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'public' AND p.prosecdef"
    ).fetchall()
    assert definers == []


# --- no SQL built from strings ----------------------------------------------------------------------------

# Calls whose first argument is SQL text.
SQL_SINKS = {"text", "exec_driver_sql", "execute", "executemany", "SQL", "literal_column", "from_statement"}
# Reviewed: string-built SQL whose parts never come from input.
REVIEWED = {
    ("app/seed/load.py", 'f"TRUNCATE {names} RESTART IDENTITY"'),  # table names from the models
    ("app/queries/common.py", "f\"interval '{length}'\""),  # constants of last_day()
    ("app/queries/series.py", "f\"interval '{granularity.length}'\""),  # from the Granularity enum
    ("app/models.py", 'f"({EVENT_ENDS} - starts_on)"'),  # index DDL from the module's constants
}


def _built(node: ast.expr) -> bool:
    """Whether an expression builds a string at run time (f-string, %, +, or str.format)."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return any(
            (isinstance(side, ast.Constant) and isinstance(side.value, str)) or isinstance(side, ast.JoinedStr)
            for side in (node.left, node.right)
        )
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    )


def string_built_sql() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SQL_SINKS and _built(node.args[0]):
                segment = ast.get_source_segment(source, node.args[0]) or ast.unparse(node.args[0])
                found.append((path.relative_to(ROOT).as_posix(), segment))
    return found


def test_no_sql_is_built_by_string_formatting() -> None:
    unexpected = [f for f in string_built_sql() if f not in REVIEWED]
    assert not unexpected, "SQL built from strings (use bound parameters or psycopg.sql):\n" + "\n".join(
        f"  {path}: {segment}" for path, segment in unexpected
    )


def test_the_scan_finds_string_built_sql(tmp_path: Path) -> None:
    samples = [
        'text(f"SELECT * FROM t WHERE a = {a}")',
        'conn.exec_driver_sql("DELETE FROM t WHERE id = %s" % x)',
        'conn.execute("SELECT " + column)',
        'sql.SQL("UPDATE t SET a = {}".format(a))',
    ]
    for sample in samples:
        call = ast.parse(sample, mode="eval").body
        assert isinstance(call, ast.Call)
        assert _built(call.args[0]), sample
    for safe in ('text("SELECT 1")', 'sql.SQL("SELECT {}").format(sql.Identifier(t))', "conn.execute(stmt)"):
        call = ast.parse(safe, mode="eval").body
        assert isinstance(call, ast.Call)
        assert not call.args or not _built(call.args[0]), safe


def test_ruff_checks_for_sql_injection() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    selected = config["select"]
    assert "S" in selected or "S608" in selected
    assert not {"S", "S6", "S60", "S608"} & set(config.get("ignore", []))
    for pattern, codes in config.get("per-file-ignores", {}).items():
        if re.match(r"^(app|\*)", pattern):
            assert not {"S", "S6", "S60", "S608"} & set(codes), pattern
    silenced = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if re.search(r"noqa:[^\n]*\bS608\b", path.read_text(encoding="utf-8"))
    ]
    assert silenced == []
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--select", "S608", "app"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- never a superuser ------------------------------------------------------------------------------


def test_with_only_database_url_the_api_reads_as_the_reader_role(fresh_database: Any) -> None:
    url: str = fresh_database(seeded=True)
    app = create_app(Settings(database_url=url))  # a superuser's URL, and nothing else
    with TestClient(app) as client:
        who, superuser = run_in_session(
            client, app, "SELECT current_user", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        assert client.post("/graphql", json={"query": "{ articles { totalCount } }"}).json()["data"]
    assert who == [(READER_ROLE,)]
    assert superuser == [(False,)]


def test_a_superuser_api_database_url_is_refused_at_start_up(seeded_url: str) -> None:
    app = create_app(Settings(database_url=seeded_url, api_database_url=seeded_url))
    with pytest.raises(UnsafeRole, match=r"superuser.*ALLOW_SUPERUSER_API=true"), TestClient(app):
        pass


@pytest.fixture
def roles(seeded_url: str) -> Iterator[tuple[str, str]]:
    """A role that may not log in, and a plain login role (neither superuser), dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    blocked, plain = f"tg_test_blocked_{suffix}", f"tg_test_plain_{suffix}"
    with psycopg.connect(seeded_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(blocked)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(plain)))
        try:
            yield blocked, plain
        finally:
            for role in (blocked, plain):
                admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_reader_that_cannot_log_in_does_not_fall_back_to_a_superuser(
    seeded_url: str, roles: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    blocked, _ = roles
    with pytest.raises(UnsafeRole) as refused:
        reader_url(seeded_url, password=None, allow_superuser=False, role=blocked)
    message = str(refused.value)
    assert f"cannot log in as {blocked}" in message
    assert "not permitted to log in" in message  # the server's own reason
    assert "READER_PASSWORD" in message and "API_DATABASE_URL" in message
    # told explicitly, it reads as the superuser, and says so
    assert reader_url(seeded_url, password=None, allow_superuser=True, role=blocked) == seeded_url
    assert "ALLOW_SUPERUSER_API=true" in caplog.text


def test_a_plain_role_whose_reader_cannot_log_in_reads_as_itself(seeded_url: str, roles: tuple[str, str]) -> None:
    blocked, plain = roles
    url = as_role(seeded_url, plain)
    # a plain role may not create roles: the reader is not created, and it reads as itself
    assert reader_url(url, password=None, allow_superuser=False, role=blocked) == url


def test_as_role_keeps_every_host(seeded_url: str) -> None:
    multi = "postgresql://admin:secret@db1.invalid:5432,db2.invalid:5433/kb?sslmode=require"
    assert (
        as_role(multi, "reader", "p@ss")
        == "postgresql://reader:p%40ss@db1.invalid:5432,db2.invalid:5433/kb?sslmode=require"
    )
    assert as_role("postgresql:///kb?host=/run/pg", "reader") == "postgresql://reader@/kb?host=/run/pg"


def test_replicas_starting_together_each_ensure_the_reader_role(fresh_database: Any) -> None:
    # every API process ensures the role as it starts; replicas start at once (the scale profile):
    # GRANTs on one database from several sessions at a time failed with "tuple concurrently updated"
    from concurrent.futures import ThreadPoolExecutor

    from app.roles import ensure_reader_role

    url = fresh_database()
    role = f"tg_reader_{uuid.uuid4().hex[:8]}"
    try:
        for _ in range(3):
            with ThreadPoolExecutor(8) as pool:
                done = list(pool.map(lambda _: ensure_reader_role(url, role=role), range(8)))
            assert done == [True] * 8
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            name = sql.Identifier(role)
            conn.execute(sql.SQL("DROP OWNED BY {}").format(name))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))


def test_the_reader_role_is_ensured_in_several_databases_at_once(fresh_database: Any) -> None:
    # a role is the server's, not a database's: processes of several databases ensuring it at once
    # (test runs, tenants on one server) met a duplicate CREATE ROLE, or a concurrently updated role
    from concurrent.futures import ThreadPoolExecutor

    from app.roles import ensure_reader_role

    urls = [fresh_database() for _ in range(4)]
    for _ in range(3):
        role = f"tg_reader_{uuid.uuid4().hex[:8]}"
        try:
            with ThreadPoolExecutor(len(urls)) as pool:
                ensured = list(pool.map(functools.partial(ensure_reader_role, role=role), urls))
            assert ensured == [True] * len(urls)
            for url in urls:  # and each database is readable by it
                with psycopg.connect(url) as conn:
                    row = conn.execute("SELECT has_database_privilege(%s, current_database(), 'CONNECT')", (role,))
                    assert row.fetchone() == (True,)
        finally:
            for url in urls:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            with psycopg.connect(urls[0], autocommit=True) as conn:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
