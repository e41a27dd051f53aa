"""Syncing rows of one table with what is stored: match by key, COPY the new, update the changed.

Each table costs a few statements whatever its size: the stored rows in scope are read in one
SELECT, new rows get their ids from the table's sequence in one statement and arrive in one
`COPY` (psycopg formats the rows), deletions are one DELETE; only changed rows are UPDATEd one by
one (they are few, or the corpus was edited wholesale).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Table, any_, delete, literal, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from app.seed.rows import Row

Key = tuple[Any, ...]


@dataclasses.dataclass
class TableCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


def any_of(column: Any, values: Iterable[Any]) -> Any:
    """Return `column = ANY(array)`: one parameter however many values."""
    return column == any_(literal(list(values), ARRAY(column.type)))


def _allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """Return `n` new ids from the table's identity sequence (one round trip)."""
    if n == 0:
        return []
    # one row holding them all: tens of thousands of one-value rows cost more to receive than to make
    ids = conn.execute(
        text(
            "SELECT array_agg(id ORDER BY id) FROM "
            "(SELECT nextval(pg_get_serial_sequence(:table, 'id')) AS id FROM generate_series(1, :n)) AS new"
        ),
        {"table": table.name, "n": n},
    ).scalar_one()
    return list(ids)


COPY_BATCH = 5000  # rows per progress report within one COPY
# a connection's states in which its transaction can still be rolled back
_IN_TRANSACTION = (psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR)
# New evidence rows from which they are checked all at once after their COPY rather than by the
# trigger row by row (which takes the table's exclusive lock for the rest of the seed)
BULK_EVIDENCE = 2000


def copy_rows(conn: Connection, table: Table, rows: Sequence[Row], progress: Callable[[int], None] | None) -> None:
    """Insert `rows` (all with the same keys) with one COPY, inside the caller's transaction."""
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cur, cur.copy(statement) as copy:
            for n, row in enumerate(rows, 1):
                copy.write_row([row[c] for c in columns])
                if progress is not None and n % COPY_BATCH == 0:
                    progress(COPY_BATCH)
    except BaseException as exc:
        if raw.info.transaction_status not in _IN_TRANSACTION:
            # Interrupted (SIGTERM, Ctrl-C) where the COPY could not be ended, as when the server had
            # just entered COPY mode: the connection takes no other command there, not even a
            # ROLLBACK. It is closed instead, which rolls the transaction back in the server, and the
            # pool does not take it back.
            conn.invalidate(exc if isinstance(exc, Exception) else None)
        if isinstance(exc, psycopg.Error):
            # as SQLAlchemy reports a refusal of any other statement of the seed
            raise DBAPIError(statement.as_string(raw), None, exc) from exc
        raise
    if progress is not None:
        progress(len(rows) % COPY_BATCH)


def _stored(conn: Connection, table: Table, columns: Sequence[str], key: Sequence[str], scope: Any) -> dict[Key, Any]:
    """Return the stored rows in `scope`, by key."""
    pk = [c.name for c in table.primary_key.columns]
    names = list(dict.fromkeys([*pk, *columns]))
    result = conn.execute(select(*[table.c[c] for c in names]).where(scope)).mappings()
    return {tuple(r[k] for k in key): r for r in result}


def _sync(
    conn: Connection,
    table: Table,
    rows: Sequence[Row],
    key: Sequence[str],
    counts: TableCounts,
    *,
    scope: Any = None,
    stored: dict[Key, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    around_insert: Callable[[list[Row]], contextlib.AbstractContextManager[None]] | None = None,
) -> dict[Key, int]:
    """Make `table` hold `rows` (matched on `key`); return the id of every row by key.

    Without `scope`, only the keys in `rows` are looked at and nothing is deleted. With a
    `scope` clause, stored rows inside it that are not in `rows` are deleted. `stored` gives the
    rows in scope when the caller has read them already. Rows that lack an id get a new one;
    `around_insert(new rows)` wraps their COPY."""
    pk_cols = list(table.primary_key.columns)
    has_id = "id" in table.c
    if stored is None:
        if scope is None:
            if not rows:
                return {}
            scope = (
                any_of(table.c[key[0]], [r[key[0]] for r in rows])
                if len(key) == 1
                else tuple_(*[table.c[k] for k in key]).in_([tuple(r[k] for k in key) for r in rows])
            )
            delete_missing = False
        else:
            delete_missing = True
        columns = list(rows[0]) if rows else list(key)
        stored = _stored(conn, table, columns, key, scope)
    else:
        delete_missing = scope is not None
    stored = dict(stored)

    def identity(row: Any) -> Any:
        return tuple_(*pk_cols) == tuple(row[c.name] for c in pk_cols)

    ids: dict[Key, int] = {}
    new_rows: list[Row] = []
    changed: list[tuple[Any, Row]] = []
    for row in rows:
        k = tuple(row[c] for c in key)
        old = stored.pop(k, None)
        if old is None:
            new_rows.append(row)
            continue
        if any(old[c] != row[c] for c in row):
            changed.append((old, row))
        else:
            counts.unchanged += 1
        if has_id:
            ids[k] = old["id"]
    if progress is not None:
        progress(len(rows) - len(new_rows))
    if new_rows:
        if has_id:
            missing = [r for r in new_rows if r.get("id") is None]
            for row, new_id in zip(missing, _allocate_ids(conn, table, len(missing)), strict=True):
                row["id"] = new_id
            ids |= {tuple(r[c] for c in key): r["id"] for r in new_rows}
        with around_insert(new_rows) if around_insert else contextlib.nullcontext():
            copy_rows(conn, table, new_rows, progress)
        counts.inserted += len(new_rows)
    # after the inserts: a changed row may now point at a new one
    for old, row in changed:
        conn.execute(update(table).where(identity(old)).values(**row))
    counts.updated += len(changed)
    if delete_missing and stored:
        if has_id:
            conn.execute(delete(table).where(any_of(table.c.id, [old["id"] for old in stored.values()])))
        else:
            names = [c.name for c in pk_cols]
            conn.execute(
                delete(table).where(tuple_(*pk_cols).in_([tuple(old[n] for n in names) for old in stored.values()]))
            )
        counts.deleted += len(stored)
    return ids


def _slugged(
    conn: Connection, table: Table, slugs: Iterable[str], columns: Sequence[str]
) -> tuple[dict[str, int], dict[Key, Any]]:
    """Return the id of every slug (stored ones, new ones allocated) and the stored rows by slug."""
    wanted = list(slugs)
    stored = _stored(conn, table, columns, ("slug",), any_of(table.c.slug, wanted)) if wanted else {}
    ids = {k[0]: r["id"] for k, r in stored.items()}
    new = [s for s in wanted if s not in ids]
    ids |= dict(zip(new, _allocate_ids(conn, table, len(new)), strict=True))
    return ids, stored
