"""Writing a validated corpus: one transaction, under an advisory lock, changing only what differs.

Rows are matched by natural key (a slug, or a child's parent + content), compared with what
is stored, and only new or changed rows are written, so a second run of the same corpus
changes no row and keeps every id. Child rows of the entities in the corpus (evidence,
event places and participants, conversions) are synced: ones no longer annotated go.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, text, tuple_, update

from app import models
from app.seed import convert
from app.seed import format as fmt
from app.seed.corpus import Corpus, EvidenceItem

log = logging.getLogger(__name__)

# Any constant shared by every seeding process; two seeds never interleave their writes.
SEED_LOCK_KEY = 0x7472616465  # "trade"

Key = tuple[Any, ...]
Row = dict[str, Any]

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

# What write_corpus reports to its `progress` callback, in order.
WRITE_STEPS = ("places", "organisations", "people", "articles", "trade figures", "events", "evidence", "conversions")

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

    def counts(self, table: Table) -> TableCounts:
        return self.tables.setdefault(table.name, TableCounts())

    @property
    def changed(self) -> int:
        return self.reset_rows + sum(c.changed for c in self.tables.values())


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
    names = ", ".join(t.name for t in ALL_TABLES)
    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))  # names come from the models, not input
    return removed


def _sync(
    conn: Connection,
    table: Table,
    rows: Sequence[Row],
    key: Sequence[str],
    counts: TableCounts,
    *,
    scope: Any = None,
) -> dict[Key, int]:
    """Make `table` hold `rows` (matched on `key`); return the id of every row by key.

    Without `scope`, only the keys in `rows` are looked at and nothing is deleted. With a
    `scope` clause, stored rows inside it that are not in `rows` are deleted.
    """
    key_cols = [table.c[k] for k in key]
    pk_cols = list(table.primary_key.columns)
    columns = list(rows[0]) if rows else list(key)
    if scope is None:
        if not rows:
            return {}
        wanted = [tuple(r[k] for k in key) for r in rows]
        scope = key_cols[0].in_([w[0] for w in wanted]) if len(key) == 1 else tuple_(*key_cols).in_(wanted)
        delete_missing = False
    else:
        delete_missing = True
    selected = [*pk_cols, *[table.c[c] for c in columns if c not in table.primary_key.columns]]
    stored = {tuple(r[k] for k in key): r for r in conn.execute(select(*selected).where(scope)).mappings()}

    def identity(row: Any) -> Any:
        return tuple_(*pk_cols) == tuple(row[c.name] for c in pk_cols)

    ids: dict[Key, int] = {}
    new_rows: list[Row] = []
    for row in rows:
        k = tuple(row[c] for c in key)
        old = stored.get(k)
        if old is None:
            new_rows.append(row)
            continue
        if any(old[c] != row[c] for c in columns):
            conn.execute(update(table).where(identity(old)).values(**row))
            counts.updated += 1
        else:
            counts.unchanged += 1
        if "id" in old:
            ids[k] = old["id"]
    if new_rows:
        result = conn.execute(insert(table).returning(*pk_cols, *key_cols, sort_by_parameter_order=True), new_rows)
        if "id" in table.c:
            ids |= {tuple(rec[1:]): rec[0] for rec in result}
        counts.inserted += len(new_rows)
    if delete_missing:
        wanted_keys = {tuple(r[c] for c in key) for r in rows}
        for k, old in stored.items():
            if k not in wanted_keys:
                conn.execute(delete(table).where(identity(old)))
                counts.deleted += 1
    return ids


def _by_depth(items: Mapping[str, Any], parent_of: Callable[[Any], str | None]) -> list[list[str]]:
    """Return slugs grouped so that every item comes after the one it points to."""
    depth: dict[str, int] = {}

    def level(slug: str) -> int:
        if slug not in depth:
            parent = parent_of(items[slug])
            depth[slug] = 0 if parent is None or parent not in items else level(parent) + 1
        return depth[slug]

    levels: dict[int, list[str]] = {}
    for slug in items:
        levels.setdefault(level(slug), []).append(slug)
    return [levels[d] for d in sorted(levels)]


def _slug_ids(ids: Mapping[Key, int]) -> dict[str, int]:
    return {k[0]: v for k, v in ids.items()}


def _opt(ids: Mapping[str, int], slug: str | None) -> int | None:
    return None if slug is None else ids[slug]


class _Writer:
    def __init__(self, conn: Connection, corpus: Corpus, summary: Summary) -> None:
        self.conn = conn
        self.corpus = corpus
        self.summary = summary
        self.ids: dict[str, dict[str, int]] = {}

    def _levels(
        self,
        table: Table,
        items: Mapping[str, Any],
        parent_of: Callable[[Any], str | None],
        row_of: Callable[[Any, dict[str, int]], Row],
    ) -> dict[str, int]:
        ids: dict[str, int] = {}
        for level in _by_depth(items, parent_of):
            rows = [row_of(items[slug], ids) for slug in level]
            ids |= _slug_ids(_sync(self.conn, table, rows, ("slug",), self.summary.counts(table)))
        return ids

    def places(self) -> None:
        def row(p: fmt.Place, ids: dict[str, int]) -> Row:
            return {
                "slug": p.slug,
                "name": p.name,
                "kind": p.kind.value,
                "code": p.code,
                "country_code": p.country_code,
                "parent_id": _opt(ids, p.parent),
                "geonames_id": p.geonames_id,
                "latitude": p.latitude,
                "longitude": p.longitude,
                "aliases": list(p.aliases),
                "note": p.note,
            }

        self.ids["place"] = self._levels(places, self.corpus.places, lambda p: p.parent, row)

    def organisations(self) -> None:
        place_ids = self.ids["place"]

        def row(o: fmt.Organisation, ids: dict[str, int]) -> Row:
            return {
                "slug": o.slug,
                "name": o.name,
                "kind": o.kind.value,
                "country_id": _opt(place_ids, o.country),
                "parent_id": _opt(ids, o.parent),
                "aliases": list(o.aliases),
                "note": o.note,
            }

        self.ids["organisation"] = self._levels(organisations, self.corpus.organisations, lambda o: o.parent, row)

    def people(self) -> None:
        org_ids, place_ids = self.ids["organisation"], self.ids["place"]
        rows = [
            {
                "slug": p.slug,
                "name": p.name,
                "title": p.title,
                "organisation_id": _opt(org_ids, p.organisation),
                "country_id": _opt(place_ids, p.country),
                "aliases": list(p.aliases),
            }
            for p in self.corpus.people.values()
        ]
        self.ids["person"] = _slug_ids(_sync(self.conn, people, rows, ("slug",), self.summary.counts(people)))

    def articles(self) -> None:
        org_ids = self.ids["organisation"]
        dup = {d.duplicate: d for d in self.corpus.duplicates}

        def row(a: Any, ids: dict[str, int]) -> Row:
            meta: fmt.ArticleMeta = a.meta
            pub = meta.published
            d = dup.get(meta.slug)
            return {
                "slug": meta.slug,
                "source_file": a.source_file,
                "title": meta.title,
                "publisher_id": _opt(org_ids, meta.publisher),
                "publisher_basis": meta.publisher_basis,
                "authors": list(meta.authors),
                "published_on": pub.date if pub else None,
                "published_precision": pub.precision.value if pub else None,
                "published_basis": pub.basis.value if pub else None,
                "published_inference": pub.inference if pub else None,
                "language": meta.language,
                "body": a.body,
                "body_sha256": a.sha256,
                "word_count": a.word_count,
                "duplicate_of_id": ids[d.original] if d else None,
                "duplicate_score": d.score if d else None,
                "duplicate_method": d.method if d else None,
            }

        parent = {slug: (dup[slug].original if slug in dup else None) for slug in self.corpus.articles}
        items = {slug: (a, parent[slug]) for slug, a in self.corpus.articles.items()}
        self.ids["article"] = self._levels(articles, items, lambda item: item[1], lambda item, ids: row(item[0], ids))

    def trade_figures(self) -> None:
        place_ids, org_ids = self.ids["place"], self.ids["organisation"]

        def row(f: fmt.TradeFigure, ids: dict[str, int]) -> Row:
            return {
                "slug": f.slug,
                "reporter_id": place_ids[f.reporter],
                "partner_id": _opt(place_ids, f.partner),
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
                "part_of_id": _opt(ids, f.part_of),
                "source_id": _opt(org_ids, f.source),
                "note": f.note,
            }

        self.ids["trade_figure"] = self._levels(trade_figures, self.corpus.figures, lambda f: f.part_of, row)

    def events(self) -> None:
        def row(e: fmt.Event, ids: dict[str, int]) -> Row:
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
                "parent_id": _opt(ids, e.parent),
                "description": e.description,
            }

        self.ids["event"] = ids = self._levels(events, self.corpus.events, lambda e: e.parent, row)
        scope_ids = list(ids.values())
        place_rows = [
            {"event_id": ids[e.slug], "place_id": self.ids["place"][p]}
            for e in self.corpus.events.values()
            for p in dict.fromkeys(e.places)
        ]
        _sync(
            self.conn,
            event_places,
            place_rows,
            ("event_id", "place_id"),
            self.summary.counts(event_places),
            scope=event_places.c.event_id.in_(scope_ids),
        )
        part_rows = [
            {
                "event_id": ids[e.slug],
                "organisation_id": _opt(self.ids["organisation"], p.organisation),
                "person_id": _opt(self.ids["person"], p.person),
                "role": p.role.value,
            }
            for e in self.corpus.events.values()
            for p in e.participants
        ]
        _sync(
            self.conn,
            event_participants,
            part_rows,
            ("event_id", "organisation_id", "person_id", "role"),
            self.summary.counts(event_participants),
            scope=event_participants.c.event_id.in_(scope_ids),
        )

    def evidence(self) -> dict[EvidenceItem, int]:
        items = list(self.corpus.evidence)
        for slug, (_, span) in self.corpus.stated_conversions.items():
            extra = EvidenceItem(span, "trade_figure", slug)
            if extra not in items:
                items.append(extra)
        subject_cols = {k: f"{k}_id" for k in ("trade_figure", "event", "organisation", "place", "person")}
        rows = []
        for item in items:
            row: Row = {
                "article_id": self.ids["article"][item.span.article],
                "quote": item.span.quote,
                "start_offset": item.span.start,
                "end_offset": item.span.end,
            }
            for kind, col in subject_cols.items():
                row[col] = self.ids[kind][item.subject] if kind == item.subject_kind else None
            rows.append(row)
        key = ("article_id", "start_offset", "end_offset", *subject_cols.values())
        ids = _sync(
            self.conn,
            evidence,
            rows,
            key,
            self.summary.counts(evidence),
            scope=evidence.c.article_id.in_(list(self.ids["article"].values())),
        )
        return {item: ids[tuple(row[k] for k in key)] for item, row in zip(items, rows, strict=True)}

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
                pub = articles_by_slug[span.article].meta.published
                rate_date, basis = (
                    (
                        pub.date,
                        f"the article's publication date ({pub.precision.value}, {pub.basis.value})",
                    )
                    if pub
                    else (fig.period.end, "the end of the figure's period (the article is undated)")
                )
                conv = convert.stated(
                    fig.amount.amount,
                    fig.amount.currency,
                    stated.amount,
                    stated.currency,
                    rate_date=rate_date,
                    date_basis=basis,
                )
                found.append((conv, evidence_ids[EvidenceItem(span, "trade_figure", slug)]))
            for target in convert.TARGET_CURRENCIES:
                computed = convert.computed(
                    fig.amount.amount, fig.amount.currency, target, fig.period.start, fig.period.end
                )
                if computed is not None:
                    found.append((computed, None))
            rows += [
                {"trade_figure_id": fig_id, **dataclasses.asdict(conv), "evidence_id": ev_id} for conv, ev_id in found
            ]
        _sync(
            self.conn,
            conversions,
            rows,
            ("trade_figure_id", "kind", "to_currency"),
            self.summary.counts(conversions),
            scope=conversions.c.trade_figure_id.in_(list(self.ids["trade_figure"].values())),
        )


def write_corpus(
    conn: Connection,
    corpus: Corpus,
    *,
    summary: Summary | None = None,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Write `corpus` through `conn` (inside the caller's transaction); return what changed."""
    summary = summary if summary is not None else Summary()
    writer = _Writer(conn, corpus, summary)
    steps: Iterable[tuple[str, Callable[[], Any]]] = (
        ("places", writer.places),
        ("organisations", writer.organisations),
        ("people", writer.people),
        ("articles", writer.articles),
        ("trade figures", writer.trade_figures),
        ("events", writer.events),
    )
    for name, step in steps:
        if progress:
            progress(name)
        step()
    if progress:
        progress("evidence")
    evidence_ids = writer.evidence()
    if progress:
        progress("conversions")
    writer.conversions(evidence_ids)
    return summary
