"""Writing a validated corpus: one transaction, under an advisory lock, changing only what differs.

Rows are matched by natural key (a slug, or a child's parent + content), compared with what
is stored, and only new or changed rows are written, so a second run of the same corpus
changes no row and keeps every id. Child rows of the entities in the corpus (evidence,
event places and participants, conversions) are synced: ones no longer annotated go, and so do
the articles, figures and events a `Removal` names (with everything that hangs on them).

Rows are built by `app.seed.rows` (as the COPY loader builds them) and synced table by table by
`app.seed.sync`: a few statements per table whatever its size.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, Table, bindparam, delete, func, select, text, update

from app import models
from app.seed import convert
from app.seed.corpus import Corpus, EvidenceItem
from app.seed.dedupe import Duplicate
from app.seed.rows import (
    BUILDERS,
    SUBJECT_COLUMNS,
    ArticleInput,
    Row,
    article_row,
    conversion_row,
    duplicate_columns,
    event_place_row,
    event_row,
    evidence_row,
    figure_row,
    organisation_row,
    participant_row,
    person_row,
    place_row,
    stated_conversion,
)
from app.seed.spool import EVIDENCE_TRIGGER, check_evidence
from app.seed.sync import BULK_EVIDENCE, TableCounts, _slugged, _sync, any_of
from app.seed.unchanged import SEED_LOCK_KEY

log = logging.getLogger(__name__)

Key = tuple[Any, ...]

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
WRITE_STEPS = (
    "places",
    "organisations",
    "people",
    "articles",
    "trade figures",
    "events",
    "evidence",
    "conversions",
    "series totals",
)
# progress(step, rows done, rows in the step): called as a step starts and as its rows are written
Progress = Callable[[str, int, int], None]

# The tables the database derives from the figures and articles: the series' rollup, written by
# trade_series_refresh(), and the figure and article counts, by triggers (the seed's statistics
# cover them too).
ROLLUP: tuple[Table, ...] = (
    models.trade_series_totals,
    models.trade_series_kept,
    models.trade_series_covers,
    models.trade_figure_counts,
    models.trade_figure_area_counts,
    models.article_counts,
    models.article_places,
    models.event_counts,
)

# The near-duplicate links of every article, and the stored articles outside the corpus whose link
# may have changed
Links = Callable[[], tuple[Sequence[Duplicate], Collection[str]]]
LINK_COLUMNS = ("duplicate_of_id", "duplicate_score", "duplicate_method")

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


@dataclasses.dataclass
class Removal:
    """What an incremental seed removes besides syncing the corpus: slugs defined before, no more."""

    articles: set[str] = dataclasses.field(default_factory=set)
    figures: set[str] = dataclasses.field(default_factory=set)
    events: set[str] = dataclasses.field(default_factory=set)


class _Writer:
    def __init__(
        self,
        conn: Connection,
        corpus: Corpus,
        summary: Summary,
        *,
        progress: Progress | None,
        links: Links | None,
        links_pending: bool,
        removal: Removal | None,
    ) -> None:
        self.conn = conn
        self.corpus = corpus
        self.summary = summary
        self.progress = progress
        # near-duplicate links of the whole corpus when they were decided again (articles outside
        # `corpus` may gain or lose one); None: only the corpus's own, in corpus.duplicates
        self.links = links
        # the links are still being decided: the articles keep their stored ones until they are
        self.links_pending = links_pending
        self.links_written: dict[str, Row] = {}  # slug -> the link columns the articles' rows were written with
        self.counted: set[str] = set()  # articles counted as inserted or updated by then
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
            found = self.conn.execute(select(table.c.slug, table.c.id).where(any_of(table.c.slug, missing)))
            self.ids[kind] |= dict(found.all())

    def _entities(
        self, step: str, table: Table, kind: str, items: Mapping[str, Any], row_of: Callable[[Any], Row]
    ) -> None:
        advance = self._step(step, len(items))
        ids, stored = _slugged(self.conn, table, items, BUILDERS[table.name].columns)
        self.ids[kind] |= ids
        rows = [{"id": ids[slug], **row_of(item)} for slug, item in items.items()]
        _sync(self.conn, table, rows, ("slug",), self.summary.counts(table), stored=stored, progress=advance)

    @functools.cached_property
    def _referred(self) -> dict[str, set[str]]:
        """Return the slugs the files read refer to, by kind (a registry unchanged is not read)."""
        out: dict[str, set[str]] = {}
        for f in self.corpus.facts.values():
            for ref in f.refers:
                kind, _, slug = ref.partition(":")
                out.setdefault(kind, set()).add(slug)
        return out

    def places(self) -> None:
        self._entities("places", places, "place", self.corpus.places, lambda p: place_row(p, self.ids))
        self._lookup("place", places, self._referred.get("place", set()))

    def organisations(self) -> None:
        items = self.corpus.organisations
        self._entities("organisations", organisations, "organisation", items, lambda o: organisation_row(o, self.ids))
        self._lookup("organisation", organisations, self._referred.get("organisation", set()))

    def people(self) -> None:
        self._entities("people", people, "person", self.corpus.people, lambda p: person_row(p, self.ids))
        self._lookup("person", people, self._referred.get("person", set()))

    def _decided(self) -> tuple[dict[str, Duplicate], Collection[str]]:
        """Return the near-duplicate links by duplicate, and the stored articles outside the corpus to relink."""
        chosen, relink = self.links() if self.links is not None else (self.corpus.duplicates, ())
        dup = {d.duplicate: d for d in chosen}
        self._lookup("article", articles, [d.original for d in dup.values() if d.original not in self.corpus.articles])
        return dup, relink

    def articles(self) -> None:
        if self.links_pending:
            self._articles_keeping_links()
            return
        dup, relink = self._decided()
        # originals in the corpus get their ids from _entities before any row is built
        self._entities(
            "articles",
            articles,
            "article",
            self.corpus.articles,
            lambda a: article_row(ArticleInput(a.meta, a.source_file, a.body, dup.get(a.meta.slug)), self.ids),
        )
        if relink:
            self._relink(dup, relink)

    def _articles_keeping_links(self) -> None:
        """Write the articles, each with its stored near-duplicate link (a new one with none) for now."""
        items = self.corpus.articles
        advance = self._step("articles", len(items))
        ids, stored = _slugged(self.conn, articles, items, BUILDERS[articles.name].columns)
        self.ids["article"] |= ids
        rows = []
        for slug, a in items.items():
            row = {"id": ids[slug], **article_row(ArticleInput(a.meta, a.source_file, a.body, None), self.ids)}
            old = stored.get((slug,))
            if old is not None:
                row |= {c: old[c] for c in LINK_COLUMNS}
            if old is None or any(old[c] != row[c] for c in row):
                self.counted.add(slug)  # inserted, or updated (as _sync counts it)
            self.links_written[slug] = {c: row[c] for c in LINK_COLUMNS}
            rows.append(row)
        _sync(self.conn, articles, rows, ("slug",), self.summary.counts(articles), stored=stored, progress=advance)

    def decided_links(self) -> None:
        """Write the near-duplicate links decided while the rows were written, where they differ."""
        if not self.links_pending:
            return
        dup, relink = self._decided()
        counts = self.summary.counts(articles)
        changes = []
        for slug, written in self.links_written.items():
            want = duplicate_columns(dup.get(slug), self.ids)
            if want != written:
                changes.append({"link_id": self.ids["article"][slug], **{f"link_{c}": v for c, v in want.items()}})
                if slug not in self.counted:  # counted unchanged so far
                    counts.unchanged -= 1
                    counts.updated += 1
        if changes:
            values: dict[str, Any] = {c: bindparam(f"link_{c}") for c in LINK_COLUMNS}
            self.conn.execute(update(articles).where(articles.c.id == bindparam("link_id")).values(values), changes)
        if relink:
            self._relink(dup, relink)

    def _relink(self, dup: Mapping[str, Duplicate], relink: Collection[str]) -> None:
        """Update the near-duplicate link of the `relink` articles (stored, outside the corpus) where it changed."""
        self._lookup("article", articles, [dup[slug].original for slug in relink if slug in dup])
        stored = self.conn.execute(
            select(articles.c.id, articles.c.slug, *[articles.c[c] for c in LINK_COLUMNS]).where(
                any_of(articles.c.slug, relink)
            )
        ).mappings()
        counts = self.summary.counts(articles)
        for old in stored:
            want = duplicate_columns(dup.get(old["slug"]), self.ids)
            if any(old[c] != want[c] for c in LINK_COLUMNS):
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
            event_place_row(None, self.ids, event_id=ids[e.slug], place_id=self.ids["place"][p])
            for e in evs.values()
            for p in dict.fromkeys(e.places)
        ]
        _sync(
            self.conn,
            event_places,
            place_rows,
            ("event_id", "place_id"),
            self.summary.counts(event_places),
            scope=any_of(event_places.c.event_id, scope_ids),
        )
        part_rows = [participant_row(p, self.ids, event_id=ids[e.slug]) for e in evs.values() for p in e.participants]
        _sync(
            self.conn,
            event_participants,
            part_rows,
            ("event_id", "organisation_id", "person_id", "role"),
            self.summary.counts(event_participants),
            scope=any_of(event_participants.c.event_id, scope_ids),
        )

    def evidence(self) -> dict[EvidenceItem, int]:
        items = self.corpus.written_evidence()
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
            scope=any_of(evidence.c.article_id, [self.ids["article"][slug] for slug in self.corpus.articles]),
            progress=self._step("evidence", len(rows)),
            around_insert=self._checked_in_bulk,
        )
        return {item: ids[tuple(row[k] for k in key)] for item, row in zip(items, rows, strict=True)}

    @contextlib.contextmanager
    def _checked_in_bulk(self, new_rows: list[Row]) -> Iterator[None]:
        """Around the COPY of new evidence: when there are many rows, check them all at once after it.

        The trigger checks each row on its own, decompressing and walking its article's text
        every time; for many rows it is switched off (inside this transaction: no other session
        ever sees it off) and `app.seed.spool.check_evidence` checks the same for all of them."""
        if len(new_rows) < BULK_EVIDENCE:
            yield
            return
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
            rows += [conversion_row(conv, self.ids, trade_figure_id=fig_id, evidence_id=ev_id) for conv, ev_id in found]
        _sync(
            self.conn,
            conversions,
            rows,
            ("trade_figure_id", "kind", "to_currency"),
            self.summary.counts(conversions),
            scope=any_of(conversions.c.trade_figure_id, [self.ids["trade_figure"][s] for s in self.corpus.figures]),
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
            return list(conn.execute(select(table.c.id).where(any_of(table.c.slug, slugs))).scalars())

        art, fig, ev = ids_of(articles, r.articles), ids_of(trade_figures, r.figures), ids_of(events, r.events)
        # children first, each counted (the foreign keys would cascade, silently)
        steps: list[tuple[Table, Any]] = [
            (conversions, any_of(conversions.c.trade_figure_id, fig)),
            (
                evidence,
                any_of(evidence.c.article_id, art)
                | any_of(evidence.c.trade_figure_id, fig)
                | any_of(evidence.c.event_id, ev),
            ),
            (event_places, any_of(event_places.c.event_id, ev)),
            (event_participants, any_of(event_participants.c.event_id, ev)),
            (events, any_of(events.c.id, ev)),
            (trade_figures, any_of(trade_figures.c.id, fig)),
            (articles, any_of(articles.c.id, art)),
        ]
        for table, where in steps:
            self.summary.counts(table).deleted += conn.execute(delete(table).where(where)).rowcount


def write_corpus(
    conn: Connection,
    corpus: Corpus,
    *,
    summary: Summary | None = None,
    progress: Progress | None = None,
    links: Links | None = None,
    links_pending: bool = False,
    removal: Removal | None = None,
) -> Summary:
    """Write `corpus` through `conn` (inside the caller's transaction); return what changed.

    `links()`: the near-duplicate links of every article (else those of `corpus`), and the stored
    articles outside `corpus` whose link is updated too where it changed; `links_pending`: they are
    still being decided, so `links()` is called once every other row is written (the articles keep
    their stored links until then); `removal`: what to delete that no file defines any more."""
    summary = summary if summary is not None else Summary()
    writer = _Writer(
        conn, corpus, summary, progress=progress, links=links, links_pending=links_pending, removal=removal
    )
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
    writer.decided_links()  # before the removals: a link may point at an article that goes
    writer.remove()
    merge_gin_pending(conn, [name for name, c in summary.tables.items() if c.inserted or c.updated])
    changed = {name: c.changed for name, c in summary.tables.items()}
    analyze_changed(conn, changed)  # before the totals: their refresh reads the figures
    if progress is not None:
        progress("series totals", 0, 0)
    # the series' totals of the periods changed (else a deferred trigger would, at the commit)
    conn.execute(text("SELECT trade_series_refresh()"))
    analyze_changed(conn, _written_in_this_transaction(conn, ROLLUP))
    if progress is not None:
        progress("series totals", 0, 0)
    return summary


def merge_gin_pending(conn: Connection, tables: Sequence[str]) -> int:
    """Merge the pending entries of the GIN indexes of `tables` into the indexes; return the pages merged.

    Rows written to a GIN index (full-text search, names) wait in a list that every search reads
    from start to end until a VACUUM merges them: after a first load of 1,000 articles a search
    read 7,656 buffers in 12.8 ms, and 148 in 2.7 ms once merged (bench.plans, size S). Merged here,
    in the seed's transaction, the index is whole when the rows become visible."""
    if not tables:
        return 0
    merged = conn.execute(
        text(
            "SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid::regclass)), 0) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            " WHERE a.amname = 'gin' AND i.indrelid = ANY(SELECT to_regclass(quote_ident(t))"
            " FROM unnest(CAST(:tables AS text[])) AS t)"
        ),
        {"tables": list(tables)},
    ).scalar_one()
    if merged:
        log.info("merged %d pending pages into the GIN indexes of %s", merged, ", ".join(tables))
    return int(merged)


# Autovacuum's default rule for analysing a table: this many rows changed, plus this share of it.
ANALYZE_BASE = 50
ANALYZE_SHARE = 0.1


def _written_in_this_transaction(conn: Connection, tables: Iterable[Table]) -> dict[str, int]:
    """Return the rows this transaction inserted, updated or deleted in each of `tables`."""
    return {
        name: int(n)
        for name, n in conn.execute(
            text(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
                "WHERE schemaname = current_schema() AND relname = ANY(:names)"
            ),
            {"names": [t.name for t in tables]},
        )
    }


def analyze_changed(conn: Connection, changed: Mapping[str, int]) -> list[str]:
    """ANALYZE each table of `changed` (name -> rows written) that changed as much as autovacuum's
    rule asks, or has never been analysed; return the tables analysed.

    Without statistics, or with those of a table a tenth its size, Postgres plans the API's
    statements for the wrong data: after a first load at 20,000 articles a chart took 120 s and an
    article 91 ms instead of 0.5 s and 0.7 ms, until something analysed the tables (autovacuum may
    be late, or off). Run in the seed's transaction, the statistics describe the rows it commits
    (Postgres counts its own uncommitted rows as live); the row counts in pg_class are written in
    place, so a seed that then fails leaves those two estimates, never a row, changed."""
    names = [name for name, n in changed.items() if n > 0]
    if not names:
        return []
    stats = conn.execute(
        text(
            "SELECT n, c.reltuples FROM unnest(CAST(:names AS text[])) AS n"
            " JOIN pg_class c ON c.oid = to_regclass(quote_ident(n))"
        ),
        {"names": names},
    ).all()
    due = [n for n, rows in stats if rows < 0 or changed[n] > ANALYZE_BASE + ANALYZE_SHARE * rows]
    raw = conn.connection.driver_connection
    assert raw is not None
    for name in sorted(due):
        raw.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))  # in the seed's transaction
    if due:
        log.info("analysed %s: their statistics describe what this seed wrote", ", ".join(sorted(due)))
    return sorted(due)
