"""Small helpers shared by tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Connection, text

from app.seed.load import ALL_TABLES

ROOT = Path(__file__).resolve().parent.parent
TRADEGRAPH = Path(sys.executable).parent / "tradegraph"


def snapshot(conn: Connection) -> dict[str, list[tuple[object, ...]]]:
    """Return every row of every table as (id-ish key, xmin, md5 of the row), sorted."""
    out: dict[str, list[tuple[object, ...]]] = {}
    for table in ALL_TABLES:
        rows = conn.execute(text(f"SELECT xmin::text, md5(t::text) FROM {table.name} t ORDER BY 2")).all()
        out[table.name] = [tuple(r) for r in rows]
    return out


def run_cli(*args: str, database_url: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real `tradegraph` command against `database_url`; return its result."""
    environ = {**os.environ, "DATABASE_URL": database_url, **env}
    return subprocess.run(
        [str(TRADEGRAPH), *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout
    )
