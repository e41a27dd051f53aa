"""Writing a validated corpus: one transaction, under an advisory lock, changing only what differs.

Rows are matched by natural key (a slug, or a child's parent + content), compared with what
is stored, and only new or changed rows are written, so a second run of the same corpus
changes no row and keeps every id. Child rows of the entities in the corpus (evidence,
event places and participants, conversions) are synced: ones no longer annotated go, and so do
the articles, figures and events a `Removal` names (with everything that hangs on them).

Each table costs a few statements whatever its size: the stored rows in scope are read in one
SELECT, new rows get their ids from the table's sequence in one statement and arrive in one
`COPY` (psycopg formats the rows, as `app.seed.bulk` does), deletions are one DELETE per table;
only changed rows are UPDATEd one by one (they are few, or the corpus was edited wholesale).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Table, any_, delete, func, literal, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from app import models
from app.seed import convert
from app.seed import format as fmt
from app.seed.corpus import Corpus, EvidenceItem
from app.seed.dedupe import Duplicate

log = logging.getLogger(__name__)

# Any constant shared by every seeding process; two seeds never interleave their writes.
SEED_LOCK_KEY = 0x7472616465  # "trade"

Key = tuple[Any, ...]
Row = dict[str, Any]
Ids = Mapping[str, Mapping[str, int]]  # kind ("place", "trade_figure", ...) -> slug -> id

places = models.metadata.tables["places"]
organisations = models.metadata.tables["organisations"]
people = models.metadata.tables["people"]
articles = models.metadata.tables["articles"]
trade_figures = models.metadata.tables["trade_figures"]
conversions = models.metadata.tables["currency_conversions"]
events = models.metadata.tables["events"]
event_places = models.metadata.tables["event_places"]
event_participants = models.metadata.tables["event_participants"]
evidence = models.metadata.tables["evidence"]
manifest = models.metadata.tables["seed_manifest"]

# What write_corpus reports to its `progress` callback, in order.
WRITE_STEPS = ("places", "organisations", "people", "articles", "trade figures", "events", "evidence", "conversions")
# progress(step, rows done, rows in the step): called as a step starts and as its rows are written
Progress = Callable[[str, int, int], None]

# Children first: the order in which --reset empties tables.
ALL_TABLES: tuple[Table, ...] = (
    conversions,
    evidence,
    event_participants,
    event_places,
    events,
    trade_figures,
    articles,
    people,
    organisations,
    places,
)


@dataclasses.dataclass
class TableCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclasses.dataclass
class Summary:
    tables: dict[str, TableCounts] = dataclasses.field(default_factory=dict)
    reset_rows: int = 0

    skipped_files: int = 0  # annotation and registry files left unread: unchanged since the last seed
    read_files: int = 0

    def counts(self, table: Table) -> TableCounts:
        return self.tables.setdefault(table.name, TableCounts())

    @property
    def changed(self) -> int:
        return self.reset_rows + sum(c.changed for c in self.tables.values())

    def changes(self) -> dict[str, dict[str, int]]:
        """Return per table the rows added, updated and removed (what a corpus version records)."""
        return {
            name: {"added": c.inserted, "updated": c.updated, "removed": c.deleted} for name, c in self.tables.items()
        }


def acquire_seed_lock(conn: Connection, *, on_wait: Callable[[], None] | None = None) -> None:
    """Take the seed's transaction-scoped advisory lock, waiting for a running seed to finish."""
    got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY}).scalar_one()
    if not got:
        if on_wait is not None:
            on_wait()
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})


def reset(conn: Connection) -> int:
    """Empty every table of the knowledge base; return how many rows were removed."""
    removed: int = sum(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in ALL_TABLES)
    # the manifest goes too: everything is read again
    names = ", ".join(t.name for t in (*ALL_TABLES, manifest))
    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))  # names come from the models, not input
    return removed


def _any(column: Any, values: Iterable[Any]) -> Any:
    """Return `column = ANY(array)`: one parameter however many values."""
    return column == any_(literal(list(values), ARRAY(column.type)))


def _allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """Return `n` new ids from the table's identity sequence (one round trip)."""
    if n == 0:
        return []
    return list(
        conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": n},
        ).scalars()
    )


COPY_BATCH = 5000  # rows per progress report within one COPY
# New evidence rows from which they are checked all at once after their COPY rather than by the
# trigger row by row (which takes the table's exclusive lock for the rest of the seed)
BULK_EVIDENCE = 2000


def _copy(conn: Connection, table: Table, rows: Sequence[Row], progress: Callable[[int], None] | None) -> None:
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
    except psycopg.Error as exc:
        # as SQLAlchemy reports a refusal of any other statement of the seed
        raise DBAPIError(statement.as_string(raw), None, exc) from exc
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
                _any(table.c[key[0]], [r[key[0]] for r in rows])
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
            _copy(conn, table, new_rows, progress)
        counts.inserted += len(new_rows)
    # after the inserts: a changed row may now point at a new one
    for old, row in changed:
        conn.execute(update(table).where(identity(old)).values(**row))
    counts.updated += len(changed)
    if delete_missing and stored:
        if has_id:
            conn.execute(delete(table).where(_any(table.c.id, [old["id"] for old in stored.values()])))
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
    stored = _stored(conn, table, columns, ("slug",), _any(table.c.slug, wanted)) if wanted else {}
    ids = {k[0]: r["id"] for k, r in stored.items()}
    new = [s for s in wanted if s not in ids]
    ids |= dict(zip(new, _allocate_ids(conn, table, len(new)), strict=True))
    return ids, stored


def _opt(ids: Mapping[str, int], slug: str | None) -> int | None:
    return None if slug is None else ids[slug]


@dataclasses.dataclass
class Removal:
    """What an incremental seed removes besides syncing the corpus: slugs defined before, no more."""

    articles: set[str] = dataclasses.field(default_factory=set)
    figures: set[str] = dataclasses.field(default_factory=set)
    events: set[str] = dataclasses.field(default_factory=set)


# --- one row per entity, by column name: the seed's writer and the bulk loader build rows alike


def columns_of(table: Table) -> tuple[str, ...]:
    """Return the columns a writer fills, in table order (computed ones, like `search`, are the database's)."""
    return tuple(c.name for c in table.columns if c.computed is None)


def place_row(p: fmt.Place, ids: Ids) -> Row:
    return {
        "slug": p.slug,
        "name": p.name,
        "kind": p.kind.value,
        "code": p.code,
        "country_code": p.country_code,
        "parent_id": _opt(ids["place"], p.parent),
        "geonames_id": p.geonames_id,
        "latitude": p.latitude,
        "longitude": p.longitude,
        "aliases": list(p.aliases),
        "note": p.note,
    }


def organisation_row(o: fmt.Organisation, ids: Ids) -> Row:
    return {
        "slug": o.slug,
        "name": o.name,
        "kind": o.kind.value,
        "country_id": _opt(ids["place"], o.country),
        "parent_id": _opt(ids["organisation"], o.parent),
        "aliases": list(o.aliases),
        "note": o.note,
    }


def person_row(p: fmt.Person, ids: Ids) -> Row:
    return {
        "slug": p.slug,
        "name": p.name,
        "title": p.title,
        "organisation_id": _opt(ids["organisation"], p.organisation),
        "country_id": _opt(ids["place"], p.country),
        "aliases": list(p.aliases),
    }


def article_row(meta: fmt.ArticleMeta, source_file: str, body: str, dup: Duplicate | None, ids: Ids) -> Row:
    pub = meta.published
    return {
        "slug": meta.slug,
        "source_file": source_file,
        "title": meta.title,
        "publisher_id": _opt(ids["organisation"], meta.publisher),
        "publisher_basis": meta.publisher_basis,
        "authors": list(meta.authors),
        "published_on": pub.date if pub else None,
        "published_precision": pub.precision.value if pub else None,
        "published_basis": pub.basis.value if pub else None,
        "published_inference": pub.inference if pub else None,
        "language": meta.language,
        "body": body,
        "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
        "word_count": len(body.split()),
        **duplicate_columns(dup, ids),
    }


def duplicate_columns(dup: Duplicate | None, ids: Ids) -> Row:
    return {
        "duplicate_of_id": ids["article"][dup.original] if dup else None,
        "duplicate_score": dup.score if dup else None,
        "duplicate_method": dup.method if dup else None,
    }


def figure_row(f: fmt.TradeFigure, ids: Ids) -> Row:
    return {
        "slug": f.slug,
        "reporter_id": ids["place"][f.reporter],
        "partner_id": _opt(ids["place"], f.partner),
        "flow": f.flow.value,
        "commodity": f.commodity,
        "amount": f.amount.amount if f.amount else None,
        "currency": f.amount.currency if f.amount else None,
        "quantity": f.quantity.value if f.quantity else None,
        "unit": f.quantity.unit if f.quantity else None,
        "period_start": f.period.start,
        "period_end": f.period.end,
        "period_type": f.period.type.value,
        "period_label": f.period.label,
        "period_basis": f.period.basis.value,
        "period_inference": f.period.inference,
        "change_pct": f.change_pct,
        "change_multiple": f.change_multiple,
        "change_basis": f.change_basis,
        "approximation": f.approximation.value,
        "status": f.status.value,
        "review": f.review.value,
        "part_of_id": _opt(ids["trade_figure"], f.part_of),
        "source_id": _opt(ids["organisation"], f.source),
        "note": f.note,
    }


def event_row(e: fmt.Event, ids: Ids) -> Row:
    d = e.date
    return {
        "slug": e.slug,
        "name": e.name,
        "kind": e.kind.value,
        "starts_on": d.start if d else None,
        "ends_on": d.end if d else None,
        "date_precision": d.precision.value if d else None,
        "date_basis": d.basis.value if d else None,
        "date_inference": d.inference if d else None,
        "participant_count": e.participant_count,
        "participant_unit": e.participant_unit,
        "participant_approximation": e.participant_approximation.value,
        "review": e.review.value,
        "parent_id": _opt(ids["event"], e.parent),
        "description": e.description,
    }


def conversion_row(figure_id: int, conv: convert.Conversion, evidence_id: int | None) -> Row:
    return {"trade_figure_id": figure_id, **dataclasses.asdict(conv), "evidence_id": evidence_id}


SUBJECT_COLUMNS = {k: f"{k}_id" for k in ("trade_figure", "event", "organisation", "place", "person")}


def evidence_row(article_id: int, quote: str, start: int, end: int, kind: str, subject_id: int) -> Row:
    row: Row = {"article_id": article_id, "quote": quote, "start_offset": start, "end_offset": end}
    for k, col in SUBJECT_COLUMNS.items():
        row[col] = subject_id if k == kind else None
    return row


def stated_conversion(
    f: fmt.TradeFigure, stated: fmt.StatedConversion, published: fmt.PublishedDate | None
) -> convert.Conversion:
    """Return the conversion an article states for figure `f`, dated by the article's publication."""
    assert f.amount is not None
    rate_date, basis = (
        (published.date, f"the article's publication date ({published.precision.value}, {published.basis.value})")
        if published
        else (f.period.end, "the end of the figure's period (the article is undated)")
    )
    return convert.stated(
        f.amount.amount, f.amount.currency, stated.amount, stated.currency, rate_date=rate_date, date_basis=basis
    )


class _Writer:
    def __init__(
        self,
        conn: Connection,
        corpus: Corpus,
        summary: Summary,
        *,
        progress: Progress | None,
        duplicates: Sequence[Duplicate] | None,
        relink: Collection[str],
        removal: Removal | None,
    ) -> None:
        self.conn = conn
        self.corpus = corpus
        self.summary = summary
        self.progress = progress
        # near-duplicate links of the whole corpus when they were decided again (articles outside
        # `corpus` may gain or lose one); None: only the corpus's own, in corpus.duplicates
        self.all_duplicates = duplicates
        self.relink = relink
        self.removal = removal or Removal()
        self.ids: dict[str, dict[str, int]] = {
            k: {} for k in ("place", "organisation", "person", "article", "trade_figure", "event")
        }

    def _step(self, name: str, total: int) -> Callable[[int], None] | None:
        if self.progress is None:
            return None
        report = self.progress
        report(name, 0, total)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            report(name, done, total)

        return advance

    def _lookup(self, kind: str, table: Table, slugs: Iterable[str | None]) -> None:
        """Fetch the ids of stored rows the corpus refers to without defining them (unchanged files)."""
        missing = {s for s in slugs if s is not None and s not in self.ids[kind]}
        if missing:
            found = self.conn.execute(select(table.c.slug, table.c.id).where(_any(table.c.slug, missing)))
            self.ids[kind] |= dict(found.all())

    def _entities(
        self, step: str, table: Table, kind: str, items: Mapping[str, Any], row_of: Callable[[Any], Row]
    ) -> None:
        advance = self._step(step, len(items))
        ids, stored = _slugged(self.conn, table, items, columns_of(table))
        self.ids[kind] |= ids
        rows = [{"id": ids[slug], **row_of(item)} for slug, item in items.items()]
        _sync(self.conn, table, rows, ("slug",), self.summary.counts(table), stored=stored, progress=advance)

    def places(self) -> None:
        self._entities("places", places, "place", self.corpus.places, lambda p: place_row(p, self.ids))

    def organisations(self) -> None:
        items = self.corpus.organisations
        self._entities("organisations", organisations, "organisation", items, lambda o: organisation_row(o, self.ids))

    def people(self) -> None:
        self._entities("people", people, "person", self.corpus.people, lambda p: person_row(p, self.ids))

    def _duplicates(self) -> dict[str, Duplicate]:
        dups = self.corpus.duplicates if self.all_duplicates is None else self.all_duplicates
        return {d.duplicate: d for d in dups}

    def articles(self) -> None:
        dup = self._duplicates()
        self._lookup("article", articles, [d.original for d in dup.values() if d.original not in self.corpus.articles])
        # originals in the corpus get their ids from _entities before any row is built
        self._entities(
            "articles",
            articles,
            "article",
            self.corpus.articles,
            lambda a: article_row(a.meta, a.source_file, a.body, dup.get(a.meta.slug), self.ids),
        )
        if self.all_duplicates is not None and self.relink:
            self._relink(dup)

    def _relink(self, dup: Mapping[str, Duplicate]) -> None:
        """Update the near-duplicate link of the `relink` articles (stored, outside the corpus) where it changed."""
        self._lookup("article", articles, [d.original for d in dup.values()])
        cols = ("duplicate_of_id", "duplicate_score", "duplicate_method")
        stored = self.conn.execute(
            select(articles.c.id, articles.c.slug, *[articles.c[c] for c in cols]).where(
                _any(articles.c.slug, self.relink)
            )
        ).mappings()
        counts = self.summary.counts(articles)
        for old in stored:
            want = duplicate_columns(dup.get(old["slug"]), self.ids)
            if any(old[c] != want[c] for c in cols):
                self.conn.execute(update(articles).where(articles.c.id == old["id"]).values(**want))
                counts.updated += 1

    def trade_figures(self) -> None:
        figures = self.corpus.figures
        self._lookup("trade_figure", trade_figures, [f.part_of for f in figures.values() if f.part_of not in figures])
        self._entities("trade figures", trade_figures, "trade_figure", figures, lambda f: figure_row(f, self.ids))

    def events(self) -> None:
        evs = self.corpus.events
        self._lookup("event", events, [e.parent for e in evs.values() if e.parent not in evs])
        self._entities("events", events, "event", evs, lambda e: event_row(e, self.ids))
        ids = self.ids["event"]
        scope_ids = [ids[slug] for slug in evs]
        place_rows = [
            {"event_id": ids[e.slug], "place_id": self.ids["place"][p]}
            for e in evs.values()
            for p in dict.fromkeys(e.places)
        ]
        _sync(
            self.conn,
            event_places,
            place_rows,
            ("event_id", "place_id"),
            self.summary.counts(event_places),
            scope=_any(event_places.c.event_id, scope_ids),
        )
        part_rows = [
            {
                "event_id": ids[e.slug],
                "organisation_id": _opt(self.ids["organisation"], p.organisation),
                "person_id": _opt(self.ids["person"], p.person),
                "role": p.role.value,
            }
            for e in evs.values()
            for p in e.participants
        ]
        _sync(
            self.conn,
            event_participants,
            part_rows,
            ("event_id", "organisation_id", "person_id", "role"),
            self.summary.counts(event_participants),
            scope=_any(event_participants.c.event_id, scope_ids),
        )

    def evidence(self) -> dict[EvidenceItem, int]:
        items = list(self.corpus.evidence)
        known = set(items)
        for slug, (_, span) in self.corpus.stated_conversions.items():
            extra = EvidenceItem(span, "trade_figure", slug)
            if extra not in known:
                items.append(extra)
                known.add(extra)
        self._lookup("trade_figure", trade_figures, [i.subject for i in items if i.subject_kind == "trade_figure"])
        self._lookup("event", events, [i.subject for i in items if i.subject_kind == "event"])
        rows = [
            evidence_row(
                self.ids["article"][item.span.article],
                item.span.quote,
                item.span.start,
                item.span.end,
                item.subject_kind,
                self.ids[item.subject_kind][item.subject],
            )
            for item in items
        ]
        key = ("article_id", "start_offset", "end_offset", *SUBJECT_COLUMNS.values())
        ids = _sync(
            self.conn,
            evidence,
            rows,
            key,
            self.summary.counts(evidence),
            scope=_any(evidence.c.article_id, [self.ids["article"][slug] for slug in self.corpus.articles]),
            progress=self._step("evidence", len(rows)),
            around_insert=self._checked_in_bulk,
        )
        return {item: ids[tuple(row[k] for k in key)] for item, row in zip(items, rows, strict=True)}

    @contextlib.contextmanager
    def _checked_in_bulk(self, new_rows: list[Row]) -> Iterator[None]:
        """Around the COPY of new evidence: when there are many rows, check them all at once after it.

        The trigger checks each row on its own, decompressing and walking its article's text
        every time; for many rows it is switched off (inside this transaction: no other session
        ever sees it off) and `app.seed.bulk.check_evidence` checks the same for all of them."""
        if len(new_rows) < BULK_EVIDENCE:
            yield
            return
        from app.seed.bulk import EVIDENCE_TRIGGER, check_evidence

        trigger = sql.Identifier(EVIDENCE_TRIGGER)
        raw = self.conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.execute(sql.SQL("ALTER TABLE evidence DISABLE TRIGGER {}").format(trigger))
            yield
            article_ids = [r["article_id"] for r in new_rows]
            new_ids = [r["id"] for r in new_rows]
            check_evidence(cur, (min(article_ids) - 1, max(article_ids)), (min(new_ids) - 1, max(new_ids)))
            cur.execute(sql.SQL("ALTER TABLE evidence ENABLE TRIGGER {}").format(trigger))

    def conversions(self, evidence_ids: Mapping[EvidenceItem, int]) -> None:
        rows: list[Row] = []
        articles_by_slug = self.corpus.articles
        for slug, fig in self.corpus.figures.items():
            if fig.amount is None:
                continue
            fig_id = self.ids["trade_figure"][slug]
            found: list[tuple[convert.Conversion, int | None]] = []
            if slug in self.corpus.stated_conversions:
                stated, span = self.corpus.stated_conversions[slug]
                conv = stated_conversion(fig, stated, articles_by_slug[span.article].meta.published)
                found.append((conv, evidence_ids[EvidenceItem(span, "trade_figure", slug)]))
            for target in convert.TARGET_CURRENCIES:
                computed = convert.computed(
                    fig.amount.amount, fig.amount.currency, target, fig.period.start, fig.period.end
                )
                if computed is not None:
                    found.append((computed, None))
            rows += [conversion_row(fig_id, conv, ev_id) for conv, ev_id in found]
        _sync(
            self.conn,
            conversions,
            rows,
            ("trade_figure_id", "kind", "to_currency"),
            self.summary.counts(conversions),
            scope=_any(conversions.c.trade_figure_id, [self.ids["trade_figure"][s] for s in self.corpus.figures]),
            progress=self._step("conversions", len(rows)),
        )

    def remove(self) -> None:
        """Delete the articles, figures and events no file defines any more, and what hangs on them."""
        r = self.removal
        if not (r.articles or r.figures or r.events):
            return
        conn = self.conn

        def ids_of(table: Table, slugs: set[str]) -> list[int]:
            if not slugs:
                return []
            return list(conn.execute(select(table.c.id).where(_any(table.c.slug, slugs))).scalars())

        art, fig, ev = ids_of(articles, r.articles), ids_of(trade_figures, r.figures), ids_of(events, r.events)
        # children first, each counted (the foreign keys would cascade, silently)
        steps: list[tuple[Table, Any]] = [
            (conversions, _any(conversions.c.trade_figure_id, fig)),
            (
                evidence,
                _any(evidence.c.article_id, art)
                | _any(evidence.c.trade_figure_id, fig)
                | _any(evidence.c.event_id, ev),
            ),
            (event_places, _any(event_places.c.event_id, ev)),
            (event_participants, _any(event_participants.c.event_id, ev)),
            (events, _any(events.c.id, ev)),
            (trade_figures, _any(trade_figures.c.id, fig)),
            (articles, _any(articles.c.id, art)),
        ]
        for table, where in steps:
            self.summary.counts(table).deleted += conn.execute(delete(table).where(where)).rowcount


def write_corpus(
    conn: Connection,
    corpus: Corpus,
    *,
    summary: Summary | None = None,
    progress: Progress | None = None,
    duplicates: Sequence[Duplicate] | None = None,
    relink: Collection[str] = (),
    removal: Removal | None = None,
) -> Summary:
    """Write `corpus` through `conn` (inside the caller's transaction); return what changed.

    `duplicates`: the near-duplicate links of every article (else those of `corpus`); the stored
    articles `relink` names (outside `corpus`) get theirs updated too where it changed;
    `removal`: what to delete that no file defines any more."""
    summary = summary if summary is not None else Summary()
    writer = _Writer(conn, corpus, summary, progress=progress, duplicates=duplicates, relink=relink, removal=removal)
    steps: Iterable[Callable[[], Any]] = (
        writer.places,
        writer.organisations,
        writer.people,
        writer.articles,
        writer.trade_figures,
        writer.events,
    )
    for step in steps:
        step()
    evidence_ids = writer.evidence()
    writer.conversions(evidence_ids)
    writer.remove()
    # the series' totals of the periods changed (else a deferred trigger would, at the commit)
    conn.execute(text("SELECT trade_series_refresh()"))
    return summary
