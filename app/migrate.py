"""Alembic, driven from Python: upgrade, downgrade, check, and whether a database is at head.

Alembic is imported on first use, not with this module: serving needs it only for /readyz,
and importing it (with its DDL implementations for every dialect) would slow every start-up.
"""

from __future__ import annotations

import ast
import logging
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import MIGRATIONS_DIR, PROJECT_ROOT

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config for this project, pointed at `url` when given."""
    from alembic.config import Config

    cfg = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" for an empty schema)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise when the models and the migrations disagree (`alembic check`)."""
    from alembic import command

    command.check(alembic_config(url))


# The newest revision, read from the migration scripts once per state of their files: /readyz
# asks on every call, and reading the scripts means importing each one. The stamp (names, sizes
# and mtimes of the scripts: one directory listing) changes when one is added, removed or edited,
# and then the scripts are read again.
_head_lock = threading.Lock()
_head_cache: tuple[frozenset[tuple[str, int, int]], str | None] | None = None


def _versions_stamp() -> frozenset[tuple[str, int, int]]:
    with os.scandir(MIGRATIONS_DIR / "versions") as entries:
        return frozenset((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in entries if e.name.endswith(".py"))


def head_revision() -> str | None:
    """Return the newest migration's revision id."""
    global _head_cache
    stamp = _versions_stamp()
    cached = _head_cache
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _head_lock:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        _head_cache = (stamp, head)
    return head


def warm_up() -> None:
    """Import what `is_at_head` needs and read the head revision, so the first /readyz is quick.

    The API's start-up runs this in a background thread, after the server is set up: it must not
    delay /healthz, and a failure here only means /readyz does the work itself (and reports it)."""
    try:
        import alembic.runtime.migration  # noqa: F401

        head_revision()
    except Exception:  # /readyz will meet the same problem and answer 503 with it
        logging.getLogger(__name__).debug("warming up the migration check failed", exc_info=True)


def is_at_head(connection: Connection) -> bool:
    """Return whether the connected database has every migration applied."""
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(connection).get_current_revision()
    return current is not None and current == head_revision()


class NotMigrated(Exception):
    """The database's schema is not this version's: `str()` says how it differs."""


def schema_lag(connection: Connection) -> str | None:
    """Return how the connected database's schema differs from this version's migrations (None: it is at head).

    Without Alembic when the scripts say their revisions plainly (a seed asks on every run, and
    importing Alembic costs more than the rest of a one-article seed's checks)."""
    from sqlalchemy import text

    head = _scripts_head() or head_revision()
    table = connection.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar_one()
    current = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() if table else []
    if current == [head]:
        return None
    if not current:
        return "no migration has been applied to it"
    return f"its schema is at migration {', '.join(current)}, this version of tradegraph needs {head}"


_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.*)$", re.MULTILINE)


def _scripts_head(versions: Path = MIGRATIONS_DIR / "versions") -> str | None:
    """Return the one revision no script revises, read from the scripts' `revision` and `down_revision`
    lines (None when a script says them otherwise: then Alembic decides)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for entry in os.scandir(versions):
        if not entry.name.endswith(".py"):
            continue
        with open(entry.path, encoding="utf-8") as f:
            said: dict[str, list[str]] = {"revision": [], "down_revision": []}
            for name, value in _REVISION_LINE.findall(f.read()):
                said[name].append(value.strip())
        if len(said["revision"]) != 1 or len(said["down_revision"]) != 1:
            return None
        try:
            revision, down = ast.literal_eval(said["revision"][0]), ast.literal_eval(said["down_revision"][0])
        except (ValueError, SyntaxError):
            return None
        downs = [down] if isinstance(down, str) else list(down) if isinstance(down, tuple | list) else []
        if not isinstance(revision, str) or not (down is None or downs) or not all(isinstance(d, str) for d in downs):
            return None
        revisions.add(revision)
        revised.update(downs)
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None
