"""COPY in a pipeline: rows formatted for COPY in memory, sent by a writer thread, evidence checked after.

`Spool` formats one table's rows of one chunk (psycopg's own COPY formatter, into memory);
`Writer` sends each finished chunk on the load's connection, one `COPY ... FROM STDIN` per table,
while the caller prepares the next; `check_evidence` checks, for many new evidence rows at once,
what the evidence trigger checks row by row (used by both seed writers when the trigger is off);
`secondary_indexes_and_foreign_keys` says how to drop and re-create what a large load defers.
"""

from __future__ import annotations

import dataclasses
import io
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.copy import Copy, FileWriter

from app.seed.rows import Row

EVIDENCE_TRIGGER = "evidence_quote_matches_body"


class Spool:
    """Rows of one table for one chunk, formatted for COPY by psycopg into memory."""

    def __init__(self, cursor: psycopg.Cursor[Any], columns: Sequence[str]) -> None:
        self.columns = columns
        self.count = 0
        self.buffer = io.BytesIO()
        self._copy = Copy(cursor, writer=FileWriter(self.buffer))
        self._copy.__enter__()
        self.write_row = self._copy.write_row

    def write(self, row: Row) -> None:
        self.write_row([row[c] for c in self.columns])
        self.count += 1

    def finish(self) -> bytes:
        self._copy.__exit__(None, None, None)
        return self.buffer.getvalue()


@dataclasses.dataclass
class Chunk:
    """What one chunk sends: COPY data per table, and the id ranges it covers."""

    data: dict[str, tuple[bytes, int]]  # table -> (COPY text, rows)
    articles: tuple[int, int]  # (last id before, last id) of its articles
    evidence: tuple[int, int]  # same for its evidence


class EvidenceMismatch(Exception):
    """New evidence rows whose quote is not the article's text at their offsets."""


QUEUED_CHUNKS = 2  # chunks prepared ahead of the one being written: bounds the memory used
STOP = None

# `substr(body, start + 1, end - start) IS DISTINCT FROM quote` for every evidence row of a chunk,
# computed so that it stays cheap: `substr` on a multi-byte text walks the whole body every time
# (and decompresses it first), so each article's body is split once into 64-character blocks
# (the concatenation of which is the body) and each quote is compared with the few blocks that hold
# it. Evidence whose article is not among the chunk's finds no blocks, and fails.
_VERIFY_CHUNK = """
SELECT count(*), min(e.id)
  FROM evidence e
  LEFT JOIN (SELECT id, ARRAY(SELECT m[1] FROM regexp_matches(body, '.{1,64}', 'g') m) AS blocks
               FROM articles WHERE id > %(a0)s AND id <= %(a1)s OFFSET 0) a
         ON a.id = e.article_id
 WHERE e.id > %(e0)s AND e.id <= %(e1)s
   AND substr(array_to_string(a.blocks[e.start_offset / 64 + 1 : (e.end_offset - 1) / 64 + 1], ''),
              e.start_offset %% 64 + 1, e.end_offset - e.start_offset) IS DISTINCT FROM e.quote
"""


def check_evidence(cur: psycopg.Cursor[Any], articles: tuple[int, int], evidence: tuple[int, int]) -> None:
    """Raise EvidenceMismatch unless every evidence row with an id in (e0, e1] is its article's text.

    Their articles must have ids in (a0, a1]. This is what the evidence trigger checks, for many
    rows at once (the trigger being disabled while they were COPYed)."""
    (a0, a1), (e0, e1) = articles, evidence
    row = cur.execute(_VERIFY_CHUNK, {"a0": a0, "a1": a1, "e0": e0, "e1": e1}).fetchone()
    if row is not None and row[0]:
        raise EvidenceMismatch(
            f"{row[0]} evidence row(s) do not match their article's text (first id {row[1]}); nothing was written"
        )


class Writer(threading.Thread):
    """Sends the chunks the loader prepares, one COPY per table, on the load's connection."""

    def __init__(self, conn: psycopg.Connection[Any], columns: Mapping[str, Sequence[str]], verify: bool) -> None:
        super().__init__(name="bulk-load-writer", daemon=True)
        self.conn = conn
        self.verify = verify
        self.chunks: queue.Queue[Chunk | None] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self.error: BaseException | None = None
        self.busy = {"COPY": 0.0, "verify evidence": 0.0}
        self._statements = {
            table: sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
            )
            for table, names in columns.items()
        }

    def run(self) -> None:
        try:
            with self.conn.cursor() as cur:
                while (chunk := self.chunks.get()) is not STOP:
                    self._write(cur, chunk)
        except BaseException as exc:  # handed to the loading thread, which raises it
            self.error = exc
            while self.chunks.get() is not STOP:  # let the loading thread finish putting
                pass

    def _write(self, cur: psycopg.Cursor[Any], chunk: Chunk) -> None:
        started = time.perf_counter()
        for table in self._statements:  # parents before children
            if table in chunk.data:
                with cur.copy(self._statements[table]) as copy:
                    copy.write(chunk.data[table][0])
        verified = time.perf_counter()
        self.busy["COPY"] += verified - started
        if self.verify and chunk.evidence[1] > chunk.evidence[0]:
            check_evidence(cur, chunk.articles, chunk.evidence)
            self.busy["verify evidence"] += time.perf_counter() - verified

    def send(self, chunk: Chunk | None) -> None:
        """Queue a chunk (None: no more), waiting while the queue is full; raise the writer's error."""
        while True:
            if self.error is not None and chunk is not STOP:
                raise self.error
            try:
                self.chunks.put(chunk, timeout=0.5)
                return
            except queue.Full:
                if not self.is_alive():
                    raise RuntimeError("the bulk-load writer thread stopped") from self.error

    def finish(self) -> None:
        """Wait for every queued chunk to be written; raise the writer's error if it failed."""
        self.send(STOP)
        self.join()
        if self.error is not None:
            raise self.error


@dataclasses.dataclass(frozen=True)
class Deferred:
    drop: list[sql.Composed | sql.SQL]
    create: list[sql.Composed | sql.SQL]


def secondary_indexes_and_foreign_keys(conn: psycopg.Connection[Any], tables: Sequence[str]) -> Deferred:
    """Return how to drop and re-create the plain indexes and the foreign keys of our tables."""
    rows = conn.execute(
        """
        SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.relname
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
         WHERE c.relname = ANY(%(tables)s) AND c.relnamespace = 'public'::regnamespace
           AND NOT i.indisunique AND NOT i.indisprimary
        UNION ALL
        SELECT 'fk', con.conname, pg_get_constraintdef(con.oid), c.relname
          FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
         WHERE c.relname = ANY(%(tables)s) AND c.relnamespace = 'public'::regnamespace AND con.contype = 'f'
         ORDER BY 1, 2
        """,
        {"tables": list(tables)},
    ).fetchall()
    drop: list[sql.Composed | sql.SQL] = []
    create: list[sql.Composed | sql.SQL] = []
    for kind, name, definition, table in rows:
        if kind == "index":
            drop.append(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            create.append(sql.SQL(definition))  # pg_get_indexdef's own, complete statement
        else:
            drop.append(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name))
            )
            create.append(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
                )
            )
    return Deferred(drop, create)
