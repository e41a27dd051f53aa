"""Test fixtures: a real Postgres, migrated once, seeded once; each test rolls back.

The server is `TEST_DATABASE_URL` or `DATABASE_URL` when given, else a throwaway embedded
server. Tests never touch an existing database: they create their own and drop them after.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from app import migrate
from app.config import SEEDS_DIR, Settings
from app.db import make_engine
from app.embedded import embedded_server
from app.main import create_app
from app.roles import as_role, ensure_reader_role
from app.seed.pipeline import seed


def with_database(url: str, name: str) -> str:
    """Return `url` pointing at database `name`."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """libpq URL of a maintenance database on the test server."""
    given = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    with (
        tempfile.TemporaryDirectory(prefix="tradegraph-test-") as tmp,
        embedded_server(Path(tmp), "postgres") as url,
    ):
        yield url


class Databases:
    """Creates throwaway databases on the test server, from templates, and drops them all."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.prefix = f"tg_test_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.server_url, autocommit=True)

    def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        with self._admin() as conn:
            conn.execute(query)
        self.created.append(name)
        return with_database(self.server_url, name)

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in reversed(self.created):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def databases(server_url: str) -> Iterator[Databases]:
    dbs = Databases(server_url)
    try:
        yield dbs
    finally:
        dbs.drop_all()


@pytest.fixture(scope="session")
def empty_template(databases: Databases) -> str:
    """Name of a migrated, empty database used only as a template."""
    url = databases.create()
    migrate.upgrade(url)
    return make_url(url).database or ""


@pytest.fixture(scope="session")
def seeded_template(databases: Databases, empty_template: str) -> str:
    """Name of a migrated database holding the project's corpus, used only as a template."""
    url = databases.create(template=empty_template)
    engine = make_engine(url, pool_size=1)
    try:
        seed(engine, [SEEDS_DIR])
    finally:
        engine.dispose()
    # copies of this template keep its grants: the API's tests read through the SELECT-only role
    assert ensure_reader_role(url), "the test server's user must be able to create the read-only role"
    return make_url(url).database or ""


@pytest.fixture(scope="session")
def seeded_url(databases: Databases, seeded_template: str) -> str:
    """URL of the shared, seeded database that read-only tests use."""
    return databases.create(template=seeded_template)


@pytest.fixture(scope="session")
def engine(seeded_url: str) -> Iterator[Engine]:
    eng = make_engine(seeded_url, pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection to the seeded database whose transaction is rolled back after the test."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()


@pytest.fixture(scope="session")
def fresh_database(databases: Databases, empty_template: str, seeded_template: str) -> Callable[..., str]:
    """Factory: a new database of the test's own (empty or seeded) that it may commit to."""

    def make(*, seeded: bool = False) -> str:
        return databases.create(template=seeded_template if seeded else empty_template)

    return make


@contextlib.contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    eng = make_engine(url, pool_size=1)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture(scope="session")
def api(seeded_url: str) -> Iterator[TestClient]:
    """The real ASGI app (lifespan and all) on the seeded database, through an HTTP client.

    `extensions.sqlStatements` in each GraphQL response counts the statements it ran."""
    app = create_app(
        Settings(database_url=seeded_url, api_database_url=as_role(seeded_url), expose_statement_count=True)
    )
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="session")
def resolver_api(seeded_url: str) -> Iterator[TestClient]:
    """Like `api`, with compiled queries off: every operation runs through the resolvers.

    The resolver path answers what the compiler declines; its statement counts show that
    DataLoaders batch every relationship."""
    settings = Settings(
        database_url=seeded_url,
        api_database_url=as_role(seeded_url),
        expose_statement_count=True,
        compile_queries=False,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def gql(api: TestClient, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """POST a GraphQL request; return the response body after checking it has no errors."""
    response = api.post("/graphql", json={"query": query, "variables": variables or {}, **kwargs})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return body
