"""Alembic, driven from Python: upgrade, downgrade, check, and whether a database is at head.

Alembic is imported on first use, not with this module: serving needs it only for /readyz,
and importing it (with its DDL implementations for every dialect) would slow every start-up.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import os
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
    stamp: set[tuple[str, int, int]] = set()
    with os.scandir(MIGRATIONS_DIR / "versions") as entries:
        for e in entries:
            if not _alembic_script(e.name):
                continue  # an editor's lock file (often a dangling symlink), a package's __init__
            try:
                info = e.stat()
            except OSError:
                continue
            stamp.add((e.name, info.st_size, info.st_mtime_ns))
    return frozenset(stamp)


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
    """The database's schema is not this version's: `str()` says how it differs and what to do."""


@dataclasses.dataclass(frozen=True)
class Revisions:
    known: frozenset[str]  # every revision a script of this version defines
    head: str


def schema_lag(connection: Connection) -> str | None:
    """Return how the connected database's schema differs from this version's migrations, and what to do
    (None: it is at head)."""
    from sqlalchemy import text

    present = connection.execute(
        text("SELECT to_regclass('alembic_version') IS NOT NULL, to_regclass('articles') IS NOT NULL")
    ).one()
    current = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars()) if present[0] else []
    return version_lag(current, revisions(), tables=bool(present[1]))


def version_lag(current: list[str], revs: Revisions, *, tables: bool) -> str | None:
    """Return how a database recording the migrations `current` differs from `revs`, and what to do (None: at head)."""
    if current == [revs.head]:
        return None
    if not current:
        if tables:
            return (
                "it has tables but records no migration (alembic_version is missing or empty): it was not made"
                " by `tradegraph migrate`; seed a database that was"
            )
        return "no migration has been applied to it: run `tradegraph migrate` first"
    if len(current) > 1:
        return (
            f"it records several migrations at once ({', '.join(current)}) where this version needs"
            f" {revs.head} alone: its alembic_version was changed by hand"
        )
    if current[0] not in revs.known:
        return (
            f"its schema is at migration {current[0]}, which this version of tradegraph does not know (a newer"
            " version migrated it): seed it with that version"
        )
    return (
        f"its schema is at migration {current[0]}, this version of tradegraph needs {revs.head}:"
        " run `tradegraph migrate` first"
    )


_revisions_cache: tuple[frozenset[tuple[str, int, int]], Revisions | None] | None = None


def revisions() -> Revisions:
    """Return this version's revisions: from the scripts' own assignments, else as Alembic reads them."""
    found = current_script_revisions()
    if found is not None:
        return found
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no single head")
    return Revisions(frozenset(s.revision for s in scripts.walk_revisions()), head)


def current_script_revisions() -> Revisions | None:
    """Return `script_revisions()` of this version's scripts, read again only when their files change
    (a seed asks twice: on its no-op path, then before it writes)."""
    global _revisions_cache
    stamp = _versions_stamp()
    cached = _revisions_cache
    if cached is None or cached[0] != stamp:
        cached = _revisions_cache = (stamp, script_revisions())
    return cached[1]


def _alembic_script(name: str) -> bool:
    # the names Alembic loads as revisions: editors' lock files and packages' __init__ are not
    return name.endswith(".py") and not name.startswith((".#", "__init__"))


def script_revisions(versions: Path | None = None) -> Revisions | None:
    """Return the revisions the scripts in `versions` (none given: this version's) define and the one no
    script revises, read from each script's module-level `revision` and `down_revision` assignments of
    literals (None when a script says them any other way, or is not read as Python: then Alembic decides).

    A seed asks on every run, and importing Alembic costs more than the rest of a one-article
    seed's checks."""
    revisions: set[str] = set()
    revised: set[str] = set()
    try:
        entries = list(os.scandir(versions or MIGRATIONS_DIR / "versions"))
        for entry in entries:
            if entry.is_dir() and entry.name != "__pycache__":
                return None  # Alembic may be told to look in subdirectories: it decides
            if not _alembic_script(entry.name):
                continue
            with open(entry.path, "rb") as f:
                tree = ast.parse(f.read())  # bytes: the script's own coding declaration holds
            said = _assigned(tree)
            if said is None:
                return None
            revision, down = said
            downs = [down] if isinstance(down, str) else list(down) if isinstance(down, tuple | list) else []
            if (
                not isinstance(revision, str)
                or not (down is None or downs)
                or not all(isinstance(d, str) for d in downs)
            ):
                return None
            revisions.add(revision)
            revised.update(downs)
    except (OSError, SyntaxError, ValueError):
        return None
    heads = revisions - revised
    return Revisions(frozenset(revisions), heads.pop()) if len(heads) == 1 else None


def _assigned(tree: ast.Module) -> tuple[object, object] | None:
    """Return the literal values of a module's `revision` and `down_revision`, each assigned once and at
    module level (None otherwise)."""
    names = ("revision", "down_revision")
    # every binding of either name, wherever it is (a second one could change what Alembic reads)
    anywhere = [
        name
        for node in ast.walk(tree)
        for name in (
            [node.id]
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)
            else [node.name]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            else [node.asname or node.name.partition(".")[0]]
            if isinstance(node, ast.alias)
            else []
        )
        if name in names
    ]
    if sorted(anywhere) != sorted(names):
        return None
    values: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            values[node.target.id] = node.value
    if not all(name in values for name in names):
        return None
    return ast.literal_eval(values["revision"]), ast.literal_eval(values["down_revision"])
