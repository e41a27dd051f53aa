"""Corpus versions (one per committed seed that changed the corpus) and the articles each added."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import psycopg
from sqlalchemy import select

from app.db import Reader
from app.models import metadata
from app.queries.articles import ArticleFilter, filtered
from app.queries.rows import ArticleRow, articles

corpus_versions = metadata.tables["corpus_versions"]


@dataclasses.dataclass(frozen=True, slots=True)
class VersionRow:
    version: int
    committed_at: dt.datetime
    reset: bool
    changes: dict[str, dict[str, int]]  # per table: added, updated, removed
    articles_after: int
    articles_upto: int


_COLUMNS = ("version", "committed_at", "reset", "changes", "articles_after", "articles_upto")
_VERSIONS_AFTER = (
    "SELECT version, committed_at, reset, changes, articles_after, articles_upto"
    " FROM corpus_versions WHERE version > %s ORDER BY version LIMIT %s"
)


async def latest_version_on(conn: psycopg.AsyncConnection[Any]) -> int:
    """Return the newest corpus version (0 before the first), read on a psycopg connection."""
    row = await (await conn.execute("SELECT coalesce(max(version), 0) FROM corpus_versions")).fetchone()
    return int(row[0]) if row else 0


async def versions_after_on(conn: psycopg.AsyncConnection[Any], after: int, *, limit: int = 100) -> list[VersionRow]:
    """Return up to `limit` versions newer than `after`, oldest first, read on a psycopg connection."""
    cursor = await conn.execute(_VERSIONS_AFTER, (after, limit))
    return [VersionRow(*row) for row in await cursor.fetchall()]


async def versions_between(db: Reader, *, after: int, upto: int, limit: int = 100) -> list[VersionRow]:
    """Return up to `limit` versions in (after, upto], oldest first."""
    q = (
        select(*(corpus_versions.c[name] for name in _COLUMNS))
        .where(corpus_versions.c.version > after, corpus_versions.c.version <= upto)
        .order_by(corpus_versions.c.version)
        .limit(limit)
    )
    return [VersionRow(*row) for row in await db.all(q)]


async def added_articles(
    db: Reader, *, version: VersionRow, where: ArticleFilter, after_id: int | None = None, limit: int = 500
) -> list[ArticleRow]:
    """Return up to `limit` articles `version` added that match `where`, by id, after `after_id`."""
    low = max(version.articles_after, after_id or 0)
    q = (
        filtered(where)
        .where(articles.c.id > low, articles.c.id <= version.articles_upto)
        .order_by(articles.c.id)
        .limit(limit)
    )
    return [ArticleRow(*row) for row in await db.all(q)]
