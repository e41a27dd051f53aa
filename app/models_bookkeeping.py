"""The bookkeeping tables: what the seed and the database keep about the corpus, beside its facts.

No fact lives here: the seed's manifest of what it read, the series' totals derived from the
figures, and the versions of the corpus its commits made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from app.models_base import aliases, metadata


class SeedManifest(SQLModel, table=True):
    """What the last successful seed read from each file, so that the next one skips what is unchanged.

    Written by the seed in its own transaction; nothing else reads it. `defines` and `refers` are
    "kind:slug" strings (kind as in the seed format: place, organisation, person, article,
    trade_figure, event); `entries` gives a registry's entries with the sha256 of each, so that a
    changed entry re-validates the articles that refer to it; `similar` holds every article whose
    text is a near-duplicate candidate of this one (slug -> overlap score), so that adding or
    removing an article re-decides near-duplicates without re-reading every text.
    """

    __tablename__ = "seed_manifest"
    __table_args__ = (CheckConstraint("kind IN ('registry', 'article')", name="kind"),)

    path: str = Field(sa_column=Column(Text, primary_key=True))
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    text_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    # the files' status when they were hashed (app.seed.files.file_stat): unchanged, not hashed again
    file_stat: str | None = Field(default=None, sa_column=Column(Text))
    article_slug: str | None = Field(default=None, sa_column=Column(String(120)))
    defines: list[str] = aliases()
    refers: list[str] = aliases()
    entries: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )
    shingles: int | None = Field(default=None, sa_column=Column(Integer))
    # the article's shingle hashes (app.seed.dedupe.shingle_hashes), never read back whole: the
    # database compares a new text's with them (intarray) to find its near-duplicate candidates
    shingle_hashes: list[int] | None = Field(default=None, sa_column=Column(ARRAY(Integer)))
    similar: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )


# The series' totals, derived from the figures: one row per pair of places a filter may name (a
# place id, or 0 for any), with or without the places inside them, currency, granularity, status,
# review state, period and flow. Written only by the database function trade_series_refresh() (migration
# 3e7a9c51d2b8), which the seed calls before its commit and a deferred trigger at the commit of
# any other writer; trade_series_dirty holds the periods changed since.
trade_series_totals = Table(
    "trade_series_totals",
    metadata,
    Column("reporter_key", BigInteger, nullable=False),
    Column("partner_key", BigInteger, nullable=False),
    Column("subregions", Boolean, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("granularity", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("review", String(10), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("flow", String(10), nullable=False),
    Column("period_end", Date, nullable=False),
    Column("figures", Integer, nullable=False),  # figures the filter matches (kept or left out)
    Column("kept", Integer, nullable=False),  # of those, the figures summed
    Column("unconverted", Integer, nullable=False),  # kept figures without a value in `currency`
    Column("value", Numeric),  # sum of the kept figures' values; null when none has one
    PrimaryKeyConstraint(
        "reporter_key",
        "partner_key",
        "subregions",
        "currency",
        "granularity",
        "status",
        "review",
        "period_start",
        "flow",
        "period_end",
    ),
    Index("ix_trade_series_totals_period_start_period_end", "period_start", "period_end"),
)
# The figures each point sums, per filter: the points' contributions, read a page at a time. The
# figures a point leaves out are the others it matches; each one's cover is among its rows in
# trade_series_covers. Both written by trade_series_refresh() with the totals (migration 9c4e2a7d5b13).
trade_series_kept = Table(
    "trade_series_kept",
    metadata,
    Column("reporter_key", BigInteger, nullable=False),
    Column("partner_key", BigInteger, nullable=False),
    Column("subregions", Boolean, nullable=False),
    Column("granularity", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("review", String(10), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("figure_id", BigInteger, nullable=False),
    Column("period_end", Date, nullable=False),
    PrimaryKeyConstraint(
        "reporter_key", "partner_key", "subregions", "granularity", "status", "review", "period_start", "figure_id"
    ),
    Index("ix_trade_series_kept_period_start_period_end", "period_start", "period_end"),
)
# (x, y): y covers x whenever a filter matches both (whatever the filter: which filters match y
# is the filter's own condition); `part_of`: x is part of y, which then covers it first.
trade_series_covers = Table(
    "trade_series_covers",
    metadata,
    Column("x_id", BigInteger, nullable=False),
    Column("y_id", BigInteger, nullable=False),
    Column("part_of", Boolean, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    PrimaryKeyConstraint("x_id", "y_id"),
    Index("ix_trade_series_covers_period_start_period_end", "period_start", "period_end"),
)
# How many articles each publisher has in each language, so the count of every article (or of a
# publisher's, a language's) sums a few rows instead of visiting every article. Kept by statement
# triggers on articles in the writer's own transaction (migration a3c9e5f7b2d4); an article without
# a publisher counts under publisher_id 0.
article_counts = Table(
    "article_counts",
    metadata,
    Column("publisher_id", BigInteger, nullable=False),
    Column("language", String(2), nullable=False),
    Column("articles", BigInteger, nullable=False),
    PrimaryKeyConstraint("publisher_id", "language"),
)
# How many dated events start on each day, per kind and review state, so a date range's count sums
# a row per day and kind instead of visiting every event in it (app.queries.events.count_query adds
# the events that start before the range and last into it, and the undated ones, from the events'
# own index). Kept by statement triggers on events in the writer's own transaction (migration
# b7d3f9a1c5e8).
event_counts = Table(
    "event_counts",
    metadata,
    Column("starts_on", Date, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("review", String(10), nullable=False),
    Column("events", BigInteger, nullable=False),
    PrimaryKeyConstraint("starts_on", "kind", "review"),
    # a range's count reads this alone (an index-only scan)
    Index("ix_event_counts_starts_on", "starts_on", postgresql_include=["kind", "review", "events"]),
)
# Which places each article mentions (its evidence's places, with how many pieces name each), with
# the article's publication date, so a place's articles come in a page's order from an index
# (undated last, as ix_articles_published_desc_key / _asc_key). Kept by statement triggers on
# evidence and articles in the writer's own transaction (migration e1a7c3b9d5f2).
article_places = Table(
    "article_places",
    metadata,
    Column("place_id", BigInteger, nullable=False),
    Column("article_id", BigInteger, nullable=False),
    Column("published_on", Date),
    Column("mentions", BigInteger, nullable=False),
    PrimaryKeyConstraint("place_id", "article_id"),
    Index("ix_article_places_article_id", "article_id"),
    Index(
        "ix_article_places_place_id_published_desc_key",
        "place_id",
        text("COALESCE(published_on, '0001-01-01'::date)"),
        "article_id",
    ),
    Index(
        "ix_article_places_place_id_published_asc_key",
        "place_id",
        text("COALESCE(published_on, '9999-12-31'::date)"),
        "article_id",
    ),
)
# The columns of a figure the counts hold besides its places (app.queries.figures tests them).
FIGURE_VALUES = ("flow", "period_end", "period_start", "status", "review", "currency", "measure")


def _figure_values() -> list[Column[Any]]:
    # those columns, then how many figures have the value (each table needs Columns of its own)
    return [
        Column("flow", String(10), nullable=False),
        Column("period_end", Date, nullable=False),
        Column("period_start", Date, nullable=False),
        Column("status", String(10), nullable=False),
        Column("review", String(10), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("measure", String(10), nullable=False),  # money | quantity | change
        Column("figures", BigInteger, nullable=False),
    ]


# How many figures share each value of the columns a figure filter tests (but the money range, the
# commodity and the article), so a filter's count sums a few rows instead of visiting every
# figure. Kept by statement triggers on trade_figures in the writer's own transaction (migration
# d4a8c2e6f1b3); a figure without a partner counts under partner_id 0, without a currency under ''.
trade_figure_counts = Table(
    "trade_figure_counts",
    metadata,
    Column("reporter_id", BigInteger, nullable=False),
    Column("partner_id", BigInteger, nullable=False),
    *_figure_values(),
    PrimaryKeyConstraint("reporter_id", "partner_id", *FIGURE_VALUES),
    # a filter's count reads one of these alone (an index-only scan), by the side it names first
    *(
        Index(
            f"ix_trade_figure_counts_{first}_flow_period_end",
            first,
            "flow",
            "period_end",
            postgresql_include=[other, "period_start", "status", "review", "currency", "measure", "figures"],
        )
        for first, other in (("reporter_id", "partner_id"), ("partner_id", "reporter_id"))
    ),
)
# The same counts by area: a figure counts under every place that holds its reporter (the place
# itself and each one above it) paired with every place that holds its partner, and under -1 ("any
# place", a figure without a partner included) on either side. A filter of a reporter and/or
# partner with the places inside them then sums the rows of one pair of areas, where
# trade_figure_counts holds a row per pair of places of the two subtrees. Kept by statement
# triggers on trade_figures, and rebuilt when a place moves to another parent (migration
# c8e2a4f6b1d7).
trade_figure_area_counts = Table(
    "trade_figure_area_counts",
    metadata,
    Column("reporter_area_id", BigInteger, nullable=False),
    Column("partner_area_id", BigInteger, nullable=False),
    *_figure_values(),
    # a filter's count reads this alone (an index-only scan): one pair of areas, its flows and periods
    PrimaryKeyConstraint("reporter_area_id", "partner_area_id", *FIGURE_VALUES, postgresql_include=["figures"]),
)
trade_series_dirty = Table(
    "trade_series_dirty",
    metadata,
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    PrimaryKeyConstraint("period_start", "period_end"),
)


class CorpusVersion(SQLModel, table=True):
    """One committed seed that changed the corpus: written, with a NOTIFY, in the seed's transaction.

    The articles it added are those with `articles_after < id <= articles_upto` (ids only grow,
    and only seeds write; after a reset they start again at 1 and `articles_after` is 0).
    """

    __tablename__ = "corpus_versions"
    __table_args__ = (CheckConstraint("articles_upto >= articles_after", name="article_range"),)

    version: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))
    committed_at: dt.datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("clock_timestamp()"))
    )
    reset: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    # {"articles": {"added": n, "updated": n, "removed": n}, ...}, per table the seed changed
    changes: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    articles_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    articles_upto: int = Field(sa_column=Column(BigInteger, nullable=False))
