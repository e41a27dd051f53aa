"""Bulk loading with COPY: the same rows the seed writes, for corpora too large to sync row by row.

`bulk_load` takes registries and a stream of validated article annotations (the seed format's
own pydantic models) and writes them in ONE transaction under the seed's advisory lock. Rows are
built by the row builders of `app.seed.rows`, as `app.seed.load` builds them (word counts, hashes,
stated and ECB-computed conversions, evidence for stated conversions), so the two paths store the
same data; it is an insert-only path for new data, not a sync: a slug that is already stored
fails the whole load.

How it stays fast and still lets Postgres enforce everything:
* ids are assigned here (above the tables' current maxima), so rows need no round trip;
* the load is a pipeline of two threads on one connection: this thread turns articles into COPY
  text (psycopg's own formatter) in chunks of `chunk_articles` articles, while a writer thread
  sends each finished chunk with one `COPY ... FROM STDIN` per table. Postgres parses, checks
  and stores a chunk (and computes the articles' search vectors) while Python prepares the
  next one; at most `app.seed.spool.QUEUED_CHUNKS` chunks wait in memory;
* `defer_constraints=True` drops the secondary (non-unique) indexes and the foreign keys before
  the COPYs and re-creates them after (with `maintenance_work_mem` raised for the load, and
  parallel workers where Postgres uses them): re-adding a foreign key validates every row, so
  nothing is left unchecked (primary keys, unique and CHECK constraints stay on throughout);
* `verify_evidence_in_sql=True` disables the evidence trigger during the COPY and instead checks
  `quote = substr(body, start + 1, end - start)` for every new evidence row, one statement per
  chunk right after its COPY (each article's body is decompressed once, not once per evidence
  row), raising (and so rolling everything back) if any row fails; the trigger is re-enabled in
  the same transaction, so no other session ever sees it off;
* sequences are moved past the new ids, and the tables are ANALYZEd (and, once committed, VACUUMed
  when the connection has no other transaction open).

Everything runs in one transaction (`synchronous_commit` is off for it only: a crash right after
the commit may lose the load, never leave part of it), so a failed load leaves the database as
it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import psycopg
from psycopg import sql

from app.seed import convert, rows
from app.seed import format as fmt
from app.seed.dedupe import Duplicate
from app.seed.load import ALL_TABLES, ROLLUP
from app.seed.spool import (
    EVIDENCE_TRIGGER,
    STOP,
    Chunk,
    Deferred,
    Spool,
    Writer,
    secondary_indexes_and_foreign_keys,
)
from app.seed.spool import EvidenceMismatch as EvidenceMismatch  # raised by bulk_load: caught from here
from app.seed.unchanged import SEED_LOCK_KEY
from app.seed.versions import record_version

# Column order of each table as written here (the row builders', from the models); parents before
# children (the COPY order).
COLUMNS: dict[str, tuple[str, ...]] = {t.name: rows.BUILDERS[t.name].columns for t in reversed(ALL_TABLES)}
TABLES = tuple(COLUMNS)
# what a load analyses and vacuums: the tables it writes and the series' rollup its refresh writes
MAINTAINED = (*TABLES, *(t.name for t in ROLLUP))
SUBJECT_KINDS = ("trade_figure", "event", "organisation", "place", "person")


@dataclasses.dataclass(frozen=True)
class ArticleSource:
    """One article: its validated annotation, its text, and where the text lives."""

    annotation: fmt.ArticleFile
    body: str
    source_file: str
    duplicate: Duplicate | None = None  # set when this article is a near-duplicate of another


@dataclasses.dataclass
class BulkReport:
    rows: dict[str, int] = dataclasses.field(default_factory=dict)
    # wall-clock seconds per phase, in order; "stream" is preparing rows in Python while the
    # database COPYs and verifies the chunks already prepared (the two overlap)
    phases: dict[str, float] = dataclasses.field(default_factory=dict)
    # seconds each side was busy during "stream": "prepare rows" (Python), "COPY" and
    # "verify evidence" (the database)
    busy: dict[str, float] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        """Rows per second overall, from reading the first article to the commit."""
        return self.total_rows / self.seconds if self.seconds else 0.0

    @property
    def database_seconds(self) -> float:
        """Seconds the database was busy: COPY, checks, indexes, ANALYZE (not preparing rows)."""
        streamed = self.phases.get("stream", 0.0)
        return self.seconds - streamed + self.busy.get("COPY", 0.0) + self.busy.get("verify evidence", 0.0)

    @property
    def database_rows_per_second(self) -> float:
        return self.total_rows / self.database_seconds if self.database_seconds > 0 else 0.0

    def describe(self) -> str:
        """Return a human summary: rows per table, phases, and overall rows/s."""
        lines = [f"{name:<22}{count:>12,}" for name, count in self.rows.items()]
        lines.append(
            f"{'total':<22}{self.total_rows:>12,} rows in {self.seconds:.1f}s = {self.rows_per_second:,.0f} rows/s"
        )
        lines.append(
            f"{'in the database':<22}{self.total_rows:>12,} rows in {self.database_seconds:.1f}s"
            f" = {self.database_rows_per_second:,.0f} rows/s (COPY, checks, indexes, ANALYZE)"
        )
        lines.append("phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.phases.items()))
        if self.busy:
            lines.append("during stream, busy: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.busy.items()))
        return "\n".join(lines)


class _Forward(Mapping[str, int]):
    """Ids by slug where a slug not seen yet reads as None: a link that may point forward (set later)."""

    def __init__(self, ids: dict[str, int]) -> None:
        self._ids = ids

    def __getitem__(self, slug: str) -> int:
        return self._ids.get(slug)  # type: ignore[return-value]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class _Ids:
    def __init__(self, start: int) -> None:
        self.last = start

    def next(self) -> int:
        self.last += 1
        return self.last


class _Loader:
    def __init__(self, conn: psycopg.Connection[Any], progress: Callable[[str], None] | None) -> None:
        self.conn = conn
        self.progress = progress
        self._cursor = conn.cursor()  # only lends its adapters to the COPY formatters
        self.spools = {t: Spool(self._cursor, COLUMNS[t]) for t in TABLES}
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.ids: dict[str, dict[str, int]] = {k: {} for k in SUBJECT_KINDS}
        self.ids["article"] = {}
        self.start_ids: dict[str, int] = {}
        self.counters: dict[str, _Ids] = {}
        for table in TABLES:
            if "id" in COLUMNS[table]:
                query = sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table))
                row = conn.execute(query).fetchone()
                self.start_ids[table] = int(row[0]) if row else 0
                self.counters[table] = _Ids(self.start_ids[table])
        self.deferred: list[tuple[str, str, int, str, str]] = []  # (table, column, row id, kind, slug)
        self.duplicates: list[Duplicate] = []
        self.pub_dates: dict[str, fmt.PublishedDate | None] = {}
        self.rate_cache: dict[tuple[str, dt.date, dt.date], list[convert.Conversion]] = {}
        self._chunk_start = {t: self.counters[t].last for t in ("articles", "evidence")}

    def take_chunk(self) -> Chunk:
        """Return the rows prepared since the last chunk, and start a new one."""
        data = {t: (spool.finish(), spool.count) for t, spool in self.spools.items() if spool.count}
        for table, (_, count) in data.items():
            self.rows[table] += count
        self.spools = {t: Spool(self._cursor, COLUMNS[t]) for t in TABLES}
        ranges = {t: (self._chunk_start[t], self.counters[t].last) for t in self._chunk_start}
        self._chunk_start = {t: self.counters[t].last for t in self._chunk_start}
        return Chunk(data, ranges["articles"], ranges["evidence"])

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    # -- registries: every slug is known up front, so parents may come in any order

    def registries(
        self, places: Sequence[fmt.Place], organisations: Sequence[fmt.Organisation], people: Sequence[fmt.Person]
    ) -> None:
        for kind, table, items in (
            ("place", "places", places),
            ("organisation", "organisations", organisations),
            ("person", "people", people),
        ):
            for item in items:
                self.ids[kind][item.slug] = self.counters[table].next()
        pid, oid, hid = self.ids["place"], self.ids["organisation"], self.ids["person"]
        for p in places:
            self.spools["places"].write({"id": pid[p.slug], **rows.place_row(p, self.ids)})
        for o in organisations:
            self.spools["organisations"].write({"id": oid[o.slug], **rows.organisation_row(o, self.ids)})
        for h in people:
            self.spools["people"].write({"id": hid[h.slug], **rows.person_row(h, self.ids)})

    # -- articles, streamed

    def _ref(self, table: str, column: str, row_id: int, kind: str, slug: str | None) -> int | None:
        """Return the id of `slug`, or None and remember to set it once everything is written."""
        if slug is None:
            return None
        found = self.ids[kind].get(slug)
        if found is None:
            self.deferred.append((table, column, row_id, kind, slug))
        return found

    def article(self, src: ArticleSource) -> None:
        doc, body = src.annotation, src.body
        meta = doc.article
        article_id = self.counters["articles"].next()
        self.ids["article"][meta.slug] = article_id
        pub = meta.published
        self.pub_dates[meta.slug] = pub
        # the near-duplicate link is set once every article is in (it may point forward)
        self.spools["articles"].write(
            {"id": article_id, **rows.article_row(rows.ArticleInput(meta, src.source_file, body, None), self.ids)}
        )
        if src.duplicate is not None:
            self.duplicates.append(src.duplicate)
        seen: dict[tuple[int, int, str, int], int] = {}  # evidence of this article -> its id

        def evidence(quote: fmt.Quote, kind: str, subject_id: int) -> int:
            start = quote.start if quote.start is not None else body.find(quote.quote)
            end = start + len(quote.quote)
            key = (start, end, kind, subject_id)
            if key in seen:
                return seen[key]
            ev_id = seen[key] = self.counters["evidence"].next()
            self.spools["evidence"].write(
                {"id": ev_id, **rows.evidence_row(article_id, quote.quote, start, end, kind, subject_id)}
            )
            return ev_id

        for mention in doc.mentions:
            for kind in ("organisation", "place", "person"):
                slug = getattr(mention, kind)
                if slug is not None:
                    for q in mention.evidence:
                        evidence(q, kind, self.ids[kind][slug])
        for entry in doc.trade_figures:
            if isinstance(entry, fmt.FigureRef):
                for q in entry.evidence:
                    evidence(q, "trade_figure", self.ids["trade_figure"][entry.ref])
                continue
            fig_id = self._figure(entry)
            for q in entry.evidence:
                evidence(q, "trade_figure", fig_id)
            self._conversions(entry, fig_id, meta.slug, evidence)
        for event_entry in doc.events:
            if isinstance(event_entry, fmt.EventRef):
                for q in event_entry.evidence:
                    evidence(q, "event", self.ids["event"][event_entry.ref])
                continue
            event_id = self._event(event_entry)
            for q in event_entry.evidence:
                evidence(q, "event", event_id)

    def _figure(self, f: fmt.TradeFigure) -> int:
        fig_id = self.counters["trade_figures"].next()
        self.ids["trade_figure"][f.slug] = fig_id
        ids = {**self.ids, "trade_figure": _Forward(self.ids["trade_figure"])}
        self.spools["trade_figures"].write({"id": fig_id, **rows.figure_row(f, ids)})
        self._ref("trade_figures", "part_of_id", fig_id, "trade_figure", f.part_of)
        return fig_id

    def _unit_rates(self, source: str, start: dt.date, end: dt.date) -> list[convert.Conversion]:
        """Return the computed conversions of 1 `source` over [start, end], one per target with data.

        The rate depends on the currencies and the period only: computed once per period."""
        key = (source, start, end)
        units = self.rate_cache.get(key)
        if units is None:
            units = self.rate_cache[key] = [
                unit
                for target in convert.TARGET_CURRENCIES
                if (unit := convert.computed(Decimal(1), source, target, start, end)) is not None
            ]
        return units

    def _conversions(self, f: fmt.TradeFigure, fig_id: int, article: str, evidence: Callable[..., int]) -> None:
        if f.amount is None:
            return
        write = self.spools["currency_conversions"].write
        ids = self.counters["currency_conversions"]
        amount = f.amount.amount
        stated = f.stated_conversion
        if stated is not None:
            ev_id = evidence(fmt.Quote(quote=stated.quote, start=stated.start), "trade_figure", fig_id)
            conv = rows.stated_conversion(f, stated, self.pub_dates[article])
            write({"id": ids.next(), **rows.conversion_row(conv, self.ids, trade_figure_id=fig_id, evidence_id=ev_id)})
        for unit in self._unit_rates(f.amount.currency, f.period.start, f.period.end):
            # scaled exactly as convert.computed scales
            scaled = dataclasses.replace(
                unit, amount=(amount * unit.rate).quantize(convert.AMOUNT_PLACES, ROUND_HALF_EVEN)
            )
            write({"id": ids.next(), **rows.conversion_row(scaled, self.ids, trade_figure_id=fig_id, evidence_id=None)})

    def _event(self, e: fmt.Event) -> int:
        event_id = self.counters["events"].next()
        self.ids["event"][e.slug] = event_id
        ids = {**self.ids, "event": _Forward(self.ids["event"])}
        self.spools["events"].write({"id": event_id, **rows.event_row(e, ids)})
        self._ref("events", "parent_id", event_id, "event", e.parent)
        for place in dict.fromkeys(e.places):
            self.spools["event_places"].write(
                rows.event_place_row(None, self.ids, event_id=event_id, place_id=self.ids["place"][place])
            )
        for p in e.participants:
            self.spools["event_participants"].write(
                {
                    "id": self.counters["event_participants"].next(),
                    **rows.participant_row(p, self.ids, event_id=event_id),
                }
            )
        return event_id

    # -- writing

    def resolve_deferred(self) -> None:
        with self.conn.cursor() as cur:
            for table, column, row_id, kind, slug in self.deferred:
                query = sql.SQL("UPDATE {} SET {} = %s WHERE id = %s").format(
                    sql.Identifier(table), sql.Identifier(column)
                )
                cur.execute(query, (self.ids[kind][slug], row_id))
            articles = self.ids["article"]
            cur.executemany(
                "UPDATE articles SET duplicate_of_id = %s, duplicate_score = %s, duplicate_method = %s WHERE id = %s",
                [(articles[d.original], d.score, d.method, articles[d.duplicate]) for d in self.duplicates],
            )

    def close(self) -> None:
        self._cursor.close()


@contextlib.contextmanager
def _phase(report: BulkReport, name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        report.phases[name] = report.phases.get(name, 0.0) + time.perf_counter() - started


_SWITCH_INTERVAL = 0.0005  # seconds: see _stream


def bulk_load(
    conn: psycopg.Connection[Any],
    *,
    places: Sequence[fmt.Place],
    organisations: Sequence[fmt.Organisation],
    people: Sequence[fmt.Person],
    articles: Iterable[ArticleSource],
    defer_constraints: bool = True,
    verify_evidence_in_sql: bool = True,
    analyze: bool = True,
    chunk_articles: int = 500,
    progress: Callable[[str], None] | None = None,
) -> BulkReport:
    """Insert the registries and the articles in one transaction; return rows and timings.

    Articles are consumed once, in order: a `ref` must point at a figure or event of the same or
    an earlier article; `part_of` and `parent` may also point forward (set after the COPY)."""
    report = BulkReport()
    started = time.perf_counter()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEED_LOCK_KEY,))
        # for this transaction only: a crash right after the commit may lose the whole load
        # (never part of it); index builds and foreign-key checks get memory to sort in
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute("SET LOCAL work_mem = '64MB'")
        loader = _Loader(conn, progress)
        try:
            deferred = Deferred([], [])
            if defer_constraints:
                with _phase(report, "drop indexes and FKs"):
                    deferred = secondary_indexes_and_foreign_keys(conn, TABLES)
                    for statement in deferred.drop:
                        conn.execute(statement)
            if verify_evidence_in_sql:
                conn.execute(
                    sql.SQL("ALTER TABLE evidence DISABLE TRIGGER {}").format(sql.Identifier(EVIDENCE_TRIGGER))
                )
            with _phase(report, "stream"):
                _stream(loader, report, places, organisations, people, articles, verify_evidence_in_sql, chunk_articles)
            with _phase(report, "links"):
                loader.resolve_deferred()
            if verify_evidence_in_sql:
                conn.execute(sql.SQL("ALTER TABLE evidence ENABLE TRIGGER {}").format(sql.Identifier(EVIDENCE_TRIGGER)))
            if deferred.create:
                loader.say("re-creating indexes and foreign keys (validating every row)")
                with _phase(report, "indexes and FKs"):
                    for statement in deferred.create:
                        conn.execute(statement)
            with _phase(report, "series totals"):
                # the series' totals of the periods loaded (else a deferred trigger would, at the commit)
                conn.execute("SELECT trade_series_refresh()")
            with _phase(report, "sequences"):
                for table in loader.counters:
                    if report.rows.get(table):
                        conn.execute(
                            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, loader.counters[table].last)
                        )
            if analyze:
                with _phase(report, "ANALYZE"):
                    for table in MAINTAINED:
                        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            # last, in the same transaction: the new version is announced only if the load commits
            added = {table: {"added": n, "updated": 0, "removed": 0} for table, n in report.rows.items()}
            record_version(conn, added, reset=False)
        finally:
            loader.close()
    if analyze and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        # outside any transaction (VACUUM cannot run in one): the visibility maps let counts and
        # keyset pages read the indexes alone, without visiting every new row's page
        with _phase(report, "VACUUM"):
            autocommit = conn.autocommit
            conn.autocommit = True
            try:
                for table in MAINTAINED:
                    conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))
            finally:
                conn.autocommit = autocommit
    report.seconds = time.perf_counter() - started
    return report


def _stream(
    loader: _Loader,
    report: BulkReport,
    places: Sequence[fmt.Place],
    organisations: Sequence[fmt.Organisation],
    people: Sequence[fmt.Person],
    articles: Iterable[ArticleSource],
    verify: bool,
    chunk_articles: int,
) -> None:
    """Prepare the rows here while a writer thread COPYs (and verifies) the chunks already prepared."""
    writer = Writer(loader.conn, COLUMNS, verify)
    # The writer needs the GIL for a moment after every 128 kB psycopg sends; with Python's
    # default 5 ms switch interval it would mostly wait for this thread to let go of it, and
    # Postgres for the writer. Shorter slices for the length of the stream (process-wide).
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, _SWITCH_INTERVAL))
    writer.start()
    preparing = 0.0
    try:
        mark = time.perf_counter()
        loader.registries(places, organisations, people)
        n = 0
        for n, src in enumerate(articles, 1):
            loader.article(src)
            if n % chunk_articles == 0:
                chunk = loader.take_chunk()
                preparing += time.perf_counter() - mark
                writer.send(chunk)
                mark = time.perf_counter()
                if n % 10_000 == 0:
                    loader.say(f"{n:,} articles prepared")
        chunk = loader.take_chunk()
        preparing += time.perf_counter() - mark
        if chunk.data:
            writer.send(chunk)
        loader.say(f"{n:,} articles prepared; waiting for the last COPY")
    except BaseException:
        writer.send(STOP)
        writer.join()
        raise
    finally:
        sys.setswitchinterval(switch_interval)
    writer.finish()
    report.rows = dict(loader.rows)
    report.busy = {"prepare rows": preparing, **writer.busy}
