"""The corpus version: one row per committed seed that changed the corpus, and its NOTIFY.

`record_version` runs as the last statement of a seed's transaction. Postgres delivers a NOTIFY
only when its transaction commits, so a refused or killed seed announces nothing, and the version
row and the notification become visible together. The payload is just the version number; a
listener reads the row itself (and every row it missed) from `corpus_versions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection

CHANNEL = "tradegraph_corpus"

_RECORD = """
WITH previous AS (SELECT articles_upto FROM corpus_versions ORDER BY version DESC LIMIT 1),
bounds AS (
  SELECT CASE WHEN %(reset)s THEN 0 ELSE coalesce((SELECT articles_upto FROM previous), 0) END AS after,
         coalesce((SELECT max(id) FROM articles), 0) AS newest
),
added AS (
  -- the newest article removed (and none added): nothing new, the range is empty
  INSERT INTO corpus_versions (changes, reset, articles_after, articles_upto)
  SELECT %(changes)s::jsonb, %(reset)s, after, greatest(newest, after) FROM bounds
  RETURNING version
)
SELECT version, pg_notify(%(channel)s, version::text) FROM added
"""


def record_version(
    conn: Connection | psycopg.Connection[Any], changes: Mapping[str, Mapping[str, int]], *, reset: bool
) -> int | None:
    """Return the new corpus version written (and notified) in `conn`'s transaction; None if nothing changed.

    `changes` maps each table to its {"added", "updated", "removed"} row counts."""
    changed = {str(table): dict(c) for table, c in changes.items() if any(c.values())}
    if not changed and not reset:
        return None  # a seed that changed nothing: no new version, nothing for clients to refetch
    params = {"changes": orjson.dumps(changed).decode(), "reset": reset, "channel": CHANNEL}
    if isinstance(conn, Connection):
        row = conn.exec_driver_sql(_RECORD, params).one()
    else:
        fetched = conn.execute(_RECORD, params).fetchone()
        assert fetched is not None
        row = fetched
    return int(row[0])
