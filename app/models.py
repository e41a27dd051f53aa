"""Table models: the normalised schema of the knowledge base.

Vocabularies are `text` with CHECK constraints rather than Postgres enums, so adding a
kind is a one-line migration. Relationships are `lazy="raise"`: any access that would
issue a query behind the caller's back fails loudly instead of becoming an N+1.

What every table shares (constraint names, the metadata, column helpers) is app.models_base; the
bookkeeping tables are app.models_bookkeeping, imported here: this module's `metadata` is the
whole schema (migrations compare with it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field, Relationship, SQLModel

from app import vocab
from app.models_base import aliases, fk, metadata, name_document_index, pk, vocabularies
from app.models_bookkeeping import (
    CorpusVersion,
    SeedManifest,
    article_counts,
    article_places,
    event_counts,
    trade_figure_area_counts,
    trade_figure_counts,
    trade_series_covers,
    trade_series_dirty,
    trade_series_kept,
    trade_series_totals,
)

__all__ = [
    "CorpusVersion",
    "SeedManifest",
    "article_counts",
    "article_places",
    "event_counts",
    "metadata",
    "trade_figure_area_counts",
    "trade_figure_counts",
    "trade_series_covers",
    "trade_series_dirty",
    "trade_series_kept",
    "trade_series_totals",
]


class Place(SQLModel, table=True):
    __tablename__ = "places"
    __table_args__ = (
        *vocabularies(kind=vocab.PlaceKind),
        CheckConstraint("country_code ~ '^[A-Z]{2}$'", name="country_code_iso"),
        CheckConstraint("code ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'", name="code_iso"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="coordinates_range"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        name_document_index("places"),
    )

    id: int | None = pk()
    slug: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False, index=True))
    code: str | None = Field(default=None, sa_column=Column(String(6), unique=True))
    country_code: str | None = Field(default=None, sa_column=Column(String(2), index=True))
    parent_id: int | None = fk("places.id")
    geonames_id: int | None = Field(default=None, sa_column=Column(Integer, unique=True))
    latitude: float | None = Field(default=None, sa_column=Column(Double))
    longitude: float | None = Field(default=None, sa_column=Column(Double))
    aliases: list[str] = aliases()
    note: str | None = Field(default=None, sa_column=Column(Text))

    parent: Place | None = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "remote_side": "Place.id"},
    )


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"
    __table_args__ = (
        *vocabularies(kind=vocab.OrganisationKind),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        name_document_index("organisations"),
    )

    id: int | None = pk()
    slug: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(sa_column=Column(String(40), nullable=False, index=True))
    country_id: int | None = fk("places.id")
    parent_id: int | None = fk("organisations.id")
    aliases: list[str] = aliases()
    note: str | None = Field(default=None, sa_column=Column(Text))

    country: Place | None = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Person(SQLModel, table=True):
    __tablename__ = "people"
    __table_args__ = (name_document_index("people"),)

    id: int | None = pk()
    slug: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    title: str | None = Field(default=None, sa_column=Column(Text))
    organisation_id: int | None = fk("organisations.id")
    country_id: int | None = fk("places.id")
    aliases: list[str] = aliases()

    organisation: Organisation | None = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Article(SQLModel, table=True):
    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint("body_sha256 = encode(sha256(convert_to(body, 'UTF8')), 'hex')", name="body_sha256_matches"),
        CheckConstraint("word_count >= 0", name="word_count_nonnegative"),
        *vocabularies(published_precision=vocab.DatePrecision, published_basis=vocab.DateBasis),
        CheckConstraint(
            "(published_on IS NULL) = (published_precision IS NULL)"
            " AND (published_on IS NULL) = (published_basis IS NULL)",
            name="published_complete",
        ),
        CheckConstraint("published_basis <> 'inferred' OR published_inference IS NOT NULL", name="published_inference"),
        CheckConstraint("duplicate_of_id <> id", name="not_own_duplicate"),
        CheckConstraint(
            "(duplicate_of_id IS NULL) = (duplicate_score IS NULL)"
            " AND (duplicate_of_id IS NULL) = (duplicate_method IS NULL)",
            name="duplicate_complete",
        ),
        CheckConstraint("duplicate_score BETWEEN 0 AND 1", name="duplicate_score_range"),
        CheckConstraint("language ~ '^[a-z]{2}$'", name="language_iso"),
        Index("ix_articles_search", "search", postgresql_using="gin"),
        # the keyset sort keys of app/queries/articles.ORDERINGS (undated articles last)
        # (with the date itself: Postgres does not read an expression back from an index, and search's
        # bound of the newest articles then reads the index alone)
        Index(
            "ix_articles_published_desc_key",
            text("COALESCE(published_on, '0001-01-01'::date)"),
            "id",
            postgresql_include=["published_on"],
        ),
        Index("ix_articles_published_asc_key", text("COALESCE(published_on, '9999-12-31'::date)"), "id"),
    )

    id: int | None = pk()
    slug: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    source_file: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    title: str | None = Field(default=None, sa_column=Column(Text))
    publisher_id: int | None = fk("organisations.id")
    publisher_basis: str | None = Field(default=None, sa_column=Column(Text))
    authors: list[str] = aliases()
    published_on: dt.date | None = Field(default=None, sa_column=Column(Date, index=True))
    published_precision: str | None = Field(default=None, sa_column=Column(String(10)))
    published_basis: str | None = Field(default=None, sa_column=Column(String(10)))
    published_inference: str | None = Field(default=None, sa_column=Column(Text))
    language: str = Field(default="en", sa_column=Column(String(2), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    body_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    word_count: int = Field(sa_column=Column(Integer, nullable=False))
    duplicate_of_id: int | None = fk("articles.id")
    duplicate_score: Decimal | None = Field(default=None, sa_column=Column(Numeric(5, 4)))
    duplicate_method: str | None = Field(default=None, sa_column=Column(Text))
    search: Any = Field(
        default=None,
        sa_column=Column(
            TSVECTOR,
            Computed(
                "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')"
                " || setweight(to_tsvector('english'::regconfig, body), 'B')",
                persisted=True,
            ),
        ),
    )

    publisher: Organisation | None = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class TradeFigure(SQLModel, table=True):
    __tablename__ = "trade_figures"
    __table_args__ = (
        *vocabularies(
            flow=vocab.TradeFlow,
            status=vocab.FigureStatus,
            review=vocab.ReviewStatus,
            period_type=vocab.PeriodType,
            period_basis=vocab.DateBasis,
            approximation=vocab.Approximation,
        ),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint("period_basis <> 'inferred' OR period_inference IS NOT NULL", name="period_inference"),
        CheckConstraint("(amount IS NULL) = (currency IS NULL)", name="amount_has_currency"),
        CheckConstraint("(quantity IS NULL) = (unit IS NULL)", name="quantity_has_unit"),
        CheckConstraint("amount IS NULL OR quantity IS NULL", name="amount_or_quantity"),
        CheckConstraint("num_nonnulls(amount, quantity, change_pct, change_multiple) > 0", name="something_measured"),
        CheckConstraint("amount > 0 AND quantity > 0 AND change_multiple > 0", name="positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso4217"),
        CheckConstraint("partner_id <> reporter_id", name="partner_not_reporter"),
        CheckConstraint("part_of_id <> id", name="not_part_of_itself"),
        # in id order within a period: a page of a point's left-out figures stops at the page's end
        Index("ix_trade_figures_period_id", "period_start", "period_end", "id"),
        # the keyset sort key of figures.ORDERINGS' PERIOD_END_DESC/ASC
        Index("ix_trade_figures_period_end_id", "period_end", "id"),
        # the same for import and export flows, holding what else a filter tests: a filtered
        # page of them (figures.figure_page) finds its ids in the index alone. Not of total
        # flows: a merged page's total flows with a place as partner read the partner index.
        Index(
            "ix_trade_figures_flows_period_end_id",
            "period_end",
            "id",
            postgresql_include=["reporter_id", "partner_id", "flow", "period_start", "review", "status"],
            postgresql_where=text("flow <> 'total'"),
        ),
        # a reporter's figures by flow and period end, holding what else a filter asks of them
        # (a count can read the index alone); it serves the lookups by reporter_id too
        Index(
            "ix_trade_figures_reporter_id_flow_period_end",
            "reporter_id",
            "flow",
            "period_end",
            postgresql_include=["partner_id", "period_start", "review", "status"],
        ),
        # a reporter's figures in the keyset order of PERIOD_END_DESC/ASC: one place's page of a
        # merged page (figures.figure_page)
        Index("ix_trade_figures_reporter_id_period_end_id", "reporter_id", "period_end", "id"),
        # the same for the total flows a place is the partner of (the other side of a merged page):
        # without it, a place no figure names as partner had the sort-key index read whole, per place
        Index("ix_trade_figures_partner_id_period_end_id", "partner_id", "period_end", "id"),
    )

    id: int | None = pk()
    slug: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    reporter_id: int = fk("places.id", nullable=False, index=False)
    partner_id: int | None = fk("places.id", index=False)
    flow: str = Field(sa_column=Column(String(10), nullable=False))
    commodity: str | None = Field(default=None, sa_column=Column(Text))
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric))
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    quantity: Decimal | None = Field(default=None, sa_column=Column(Numeric))
    unit: str | None = Field(default=None, sa_column=Column(Text))
    period_start: dt.date = Field(sa_column=Column(Date, nullable=False))
    period_end: dt.date = Field(sa_column=Column(Date, nullable=False))
    period_type: str = Field(sa_column=Column(String(20), nullable=False))
    period_label: str = Field(sa_column=Column(Text, nullable=False))
    period_basis: str = Field(sa_column=Column(String(10), nullable=False))
    period_inference: str | None = Field(default=None, sa_column=Column(Text))
    change_pct: Decimal | None = Field(default=None, sa_column=Column(Numeric))
    change_multiple: Decimal | None = Field(default=None, sa_column=Column(Numeric))
    change_basis: str | None = Field(default=None, sa_column=Column(Text))
    approximation: str = Field(sa_column=Column(String(20), nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False, index=True))
    # pending: drafted, not yet checked by a person; lists and series show accepted facts by default
    review: str = Field(sa_column=Column(String(10), nullable=False, server_default="accepted"))
    part_of_id: int | None = fk("trade_figures.id")
    source_id: int | None = fk("organisations.id")
    note: str | None = Field(default=None, sa_column=Column(Text))


class CurrencyConversion(SQLModel, table=True):
    """A figure's amount in another currency: stated by the article, or computed from a rate."""

    __tablename__ = "currency_conversions"
    __table_args__ = (
        *vocabularies(kind=vocab.ConversionKind),
        CheckConstraint("rate > 0 AND amount > 0", name="positive"),
        CheckConstraint("from_currency ~ '^[A-Z]{3}$' AND to_currency ~ '^[A-Z]{3}$'", name="currencies_iso4217"),
        CheckConstraint("from_currency <> to_currency", name="different_currencies"),
        CheckConstraint("(kind = 'stated') = (evidence_id IS NOT NULL)", name="stated_has_evidence"),
        UniqueConstraint("trade_figure_id", "kind", "to_currency"),
    )

    id: int | None = pk()
    trade_figure_id: int = fk("trade_figures.id", nullable=False, ondelete="CASCADE")
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    from_currency: str = Field(sa_column=Column(String(3), nullable=False))
    to_currency: str = Field(sa_column=Column(String(3), nullable=False))
    amount: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    rate: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    rate_date: dt.date = Field(sa_column=Column(Date, nullable=False))
    source: str = Field(sa_column=Column(Text, nullable=False))
    method: str = Field(sa_column=Column(Text, nullable=False))
    evidence_id: int | None = fk("evidence.id", ondelete="CASCADE")


# The last day an event lasts, as app/queries/common.last_day writes it (the planner matches an
# expression index only with the very same expression), spelled as Postgres prints it back, so
# that `alembic check` finds the index unchanged.
EVENT_ENDS = "\n".join(
    [
        "COALESCE(ends_on,",
        "CASE",
        "    WHEN date_precision::text = 'week'::text THEN starts_on + 6",
        *(
            f"    WHEN date_precision::text = '{unit}'::text THEN (date_trunc('{unit}'::text,"
            f" starts_on::timestamp without time zone) + '{length}'::interval - '1 day'::interval)::date"
            for unit, length in (("month", "1 mon"), ("quarter", "3 mons"), ("year", "1 year"))
        ),
        "    ELSE starts_on",
        "END)",
    ]
)


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        *vocabularies(
            kind=vocab.EventKind,
            review=vocab.ReviewStatus,
            date_precision=vocab.DatePrecision,
            date_basis=vocab.DateBasis,
            participant_approximation=vocab.Approximation,
        ),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint("date_basis <> 'inferred' OR date_inference IS NOT NULL", name="date_inference"),
        CheckConstraint("(participant_count IS NULL) = (participant_unit IS NULL)", name="count_has_unit"),
        CheckConstraint("participant_count >= 0", name="count_nonnegative"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        Index("ix_events_dates", "starts_on", "ends_on"),
        # the keyset sort keys of app/queries/events.ORDERINGS (undated events last); the ascending
        # one also holds the ends, so the overlap filter reads only the index until a row matches
        # (the columns of the ends included: a count reads the index alone)
        # review last: the default "accepted only" is checked in the index too, not on heap rows
        Index(
            "ix_events_starts_asc_key",
            text("COALESCE(starts_on, '9999-12-31'::date)"),
            "id",
            text(EVENT_ENDS),
            "review",
            postgresql_include=["starts_on", "ends_on", "date_precision"],
        ),
        Index("ix_events_starts_desc_key", text("COALESCE(starts_on, '0001-01-01'::date)"), "id", "review"),
        # the longest span of any event (its max bounds the overlap filter's scan)
        Index("ix_events_span", text(f"({EVENT_ENDS} - starts_on)")),
    )

    id: int | None = pk()
    slug: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(sa_column=Column(String(30), nullable=False, index=True))
    starts_on: dt.date | None = Field(default=None, sa_column=Column(Date))
    ends_on: dt.date | None = Field(default=None, sa_column=Column(Date))
    date_precision: str | None = Field(default=None, sa_column=Column(String(10)))
    date_basis: str | None = Field(default=None, sa_column=Column(String(10)))
    date_inference: str | None = Field(default=None, sa_column=Column(Text))
    participant_count: int | None = Field(default=None, sa_column=Column(Integer))
    participant_unit: str | None = Field(default=None, sa_column=Column(Text))
    participant_approximation: str = Field(sa_column=Column(String(20), nullable=False))
    review: str = Field(sa_column=Column(String(10), nullable=False, server_default="accepted"))
    parent_id: int | None = fk("events.id")
    description: str | None = Field(default=None, sa_column=Column(Text))


class EventPlace(SQLModel, table=True):
    __tablename__ = "event_places"
    __table_args__ = (
        # the events of a place, read from the index alone
        Index("ix_event_places_place_id_event_id", "place_id", "event_id"),
        # a place's events in the order of a page of events (ix_events_starts_asc_key / _desc_key)
        Index(
            "ix_event_places_place_id_starts_asc_key",
            "place_id",
            text("COALESCE(starts_on, '9999-12-31'::date)"),
            "event_id",
        ),
        Index(
            "ix_event_places_place_id_starts_desc_key",
            "place_id",
            text("COALESCE(starts_on, '0001-01-01'::date)"),
            "event_id",
        ),
    )

    event_id: int = Field(sa_column=Column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True))
    place_id: int = Field(sa_column=Column(BigInteger, ForeignKey("places.id"), primary_key=True))
    # the event's start, kept equal to events.starts_on by triggers (migration d9f3b5a7c2e4):
    # never written by the seed
    starts_on: dt.date | None = Field(default=None, sa_column=Column(Date))


class EventParticipant(SQLModel, table=True):
    __tablename__ = "event_participants"
    __table_args__ = (
        *vocabularies(role=vocab.ParticipantRole),
        CheckConstraint("num_nonnulls(organisation_id, person_id) = 1", name="one_participant"),
        UniqueConstraint("event_id", "organisation_id", "person_id", "role", postgresql_nulls_not_distinct=True),
    )

    id: int | None = pk()
    event_id: int = fk("events.id", nullable=False, ondelete="CASCADE")
    organisation_id: int | None = fk("organisations.id")
    person_id: int | None = fk("people.id")
    role: str = Field(sa_column=Column(String(20), nullable=False))


class Evidence(SQLModel, table=True):
    """One passage of one article that states a fact or names an entity (a GDELT 'mention').

    `quote = substr(body, start + 1, end - start)` is enforced by a trigger (see the
    migration), so no writer can store a quote that is not the article's own words.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint("start_offset >= 0 AND end_offset > start_offset", name="span_ordered"),
        CheckConstraint("char_length(quote) = end_offset - start_offset", name="quote_length"),
        CheckConstraint(
            "num_nonnulls(trade_figure_id, event_id, organisation_id, place_id, person_id) = 1",
            name="one_subject",
        ),
        UniqueConstraint(
            "article_id",
            "start_offset",
            "end_offset",
            "trade_figure_id",
            "event_id",
            "organisation_id",
            "place_id",
            "person_id",
            postgresql_nulls_not_distinct=True,
        ),
        # the articles that mention an organisation or a place, read from the index alone
        Index("ix_evidence_organisation_id_article_id", "organisation_id", "article_id"),
        Index("ix_evidence_place_id_article_id", "place_id", "article_id"),
    )

    id: int | None = pk()
    article_id: int = fk("articles.id", nullable=False, ondelete="CASCADE")
    quote: str = Field(sa_column=Column(Text, nullable=False))
    start_offset: int = Field(sa_column=Column(Integer, nullable=False))
    end_offset: int = Field(sa_column=Column(Integer, nullable=False))
    trade_figure_id: int | None = fk("trade_figures.id", ondelete="CASCADE")
    event_id: int | None = fk("events.id", ondelete="CASCADE")
    organisation_id: int | None = fk("organisations.id", ondelete="CASCADE", index=False)
    place_id: int | None = fk("places.id", ondelete="CASCADE", index=False)
    person_id: int | None = fk("people.id", ondelete="CASCADE")
