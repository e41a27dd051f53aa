"""Whether a seed has anything to do: every file as the last seed left it, none added or removed.

The manifest's content hashes answer it with psycopg and the standard library alone, so a
`tradegraph seed` with nothing to do ends before the YAML reader, the models and SQLAlchemy are
even loaded. Whenever the answer is not a plain "nothing changed" (a file new, changed or gone,
the manifest unreadable, a schema not this version's, another seed running), the full seed runs
and decides, and reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import psycopg

from app.migrate import current_script_revisions, version_lag
from app.seed.files import SeedFile, file_stat, fingerprint, manifest_key, seed_directory, text_display_paths

SEED_LOCK_KEY = 0x7472616465  # "trade": the advisory lock every seed holds while it runs


def unchanged_files(url: str, paths: Sequence[Path], found: Sequence[SeedFile]) -> int | None:
    """Return how many seed files `paths` hold (`found`: as scan found them) if none changed, came or
    went since the last seed, else None."""
    base = seed_directory(paths)
    files = {manifest_key(f.path, base, real=f.at): f for f in found}
    dirs = {Path(manifest_key(p, base)) for p in paths if p.is_dir()}
    try:
        with psycopg.connect(url, application_name="tradegraph-seed", connect_timeout=10) as conn:
            # a seed running (or about to commit) may be changing the manifest: then the full
            # seed waits for it, and says so
            (free,) = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (SEED_LOCK_KEY,)).fetchone() or (False,)
            if not free:
                return None
            # a database of another version's schema is refused by the full seed, which says why
            revisions = current_script_revisions()
            current = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
            if revisions is None or version_lag(current, revisions, tables=True) is not None:
                return None
            stored = {row[0]: row[1:] for row in conn.execute("SELECT path, sha256, file_stat FROM seed_manifest")}
            if files.keys() - stored.keys():
                return None  # a new file: found before any file is looked at
            for key in stored.keys() - files.keys():
                # gone from a seeded directory (files seeded one by one leave the others alone), or
                # kept under an absolute path by an older manifest, which the full seed rewrites
                if Path(key).is_absolute() or Path(key).parent in dirs:
                    return None
            restated: list[tuple[str, str]] = []  # (status, path): the same content, written again
            for key, f in files.items():
                sha256, status = stored[key]
                if status is not None and status == file_stat(f.path, registry=f.registry):
                    continue  # not written since it was hashed
                fp = fingerprint(Path(f.path), registry=f.registry)
                if fp is None or fp.sha256 != sha256:
                    return None
                if fp.stat is not None:
                    restated.append((fp.stat, key))
            # the same content seeded from another place: the articles' source files are brought up
            # to date by the full seed (which reads nothing more for it)
            shown = conn.execute(
                "SELECT m.path, a.source_file FROM seed_manifest m JOIN articles a ON a.slug = m.article_slug"
                " WHERE m.kind = 'article'"
            )
            sources = {str(key): str(source) for key, source in shown if key in files}
            now = text_display_paths(
                (k, files[k].path, files[k].real, files[k].plain, source) for k, source in sources.items()
            )
            if now != sources:
                return None
            if restated:  # so that the next seed need not hash them
                with conn.cursor() as cur:
                    cur.executemany("UPDATE seed_manifest SET file_stat = %s WHERE path = %s", restated)
    except psycopg.Error:
        return None  # not migrated, unreachable, refused: the full seed says what is wrong
    return len(files)
