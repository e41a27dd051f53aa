"""Engine and sessions. The only place that commits or rolls back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, create_engine
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
