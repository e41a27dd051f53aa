"""Row types returned by the query functions: plain frozen dataclasses, cheap to build."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, FromClause, Table

from app.models import metadata

places = metadata.tables["places"]
organisations = metadata.tables["organisations"]
people = metadata.tables["people"]
articles = metadata.tables["articles"]
article_counts = metadata.tables["article_counts"]
article_places = metadata.tables["article_places"]
event_counts = metadata.tables["event_counts"]
trade_figures = metadata.tables["trade_figures"]
trade_figure_counts = metadata.tables["trade_figure_counts"]
trade_figure_area_counts = metadata.tables["trade_figure_area_counts"]
conversions = metadata.tables["currency_conversions"]
events = metadata.tables["events"]
event_places = metadata.tables["event_places"]
event_participants = metadata.tables["event_participants"]
evidence = metadata.tables["evidence"]


@dataclasses.dataclass(frozen=True, slots=True)
class PlaceRow:
    id: int
    slug: str
    name: str
    kind: str
    code: str | None
    country_code: str | None
    parent_id: int | None
    geonames_id: int | None
    latitude: float | None
    longitude: float | None
    aliases: list[str]
    note: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class OrganisationRow:
    id: int
    slug: str
    name: str
    kind: str
    country_id: int | None
    parent_id: int | None
    aliases: list[str]
    note: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    slug: str
    name: str
    title: str | None
    organisation_id: int | None
    country_id: int | None
    aliases: list[str]


@dataclasses.dataclass(frozen=True, slots=True)
class ArticleRow:
    id: int
    slug: str
    source_file: str
    title: str | None
    publisher_id: int | None
    publisher_basis: str | None
    authors: list[str]
    published_on: dt.date | None
    published_precision: str | None
    published_basis: str | None
    published_inference: str | None
    language: str
    body: str
    body_sha256: str
    word_count: int
    duplicate_of_id: int | None
    duplicate_score: Decimal | None
    duplicate_method: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class FigureRow:
    id: int
    slug: str
    reporter_id: int
    partner_id: int | None
    flow: str
    commodity: str | None
    amount: Decimal | None
    currency: str | None
    quantity: Decimal | None
    unit: str | None
    period_start: dt.date
    period_end: dt.date
    period_type: str
    period_label: str
    period_basis: str
    period_inference: str | None
    change_pct: Decimal | None
    change_multiple: Decimal | None
    change_basis: str | None
    approximation: str
    status: str
    part_of_id: int | None
    source_id: int | None
    note: str | None
    review: str


@dataclasses.dataclass(frozen=True, slots=True)
class Conversion:
    """An amount in another currency: the rate, its date, where it comes from (the seed computes these)."""

    kind: str  # a ConversionKind's value
    from_currency: str
    to_currency: str
    amount: Decimal
    rate: Decimal
    rate_date: dt.date
    source: str
    method: str


@dataclasses.dataclass(frozen=True, slots=True)
class ConversionRow(Conversion):
    id: int
    trade_figure_id: int
    evidence_id: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    slug: str
    name: str
    kind: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    date_precision: str | None
    date_basis: str | None
    date_inference: str | None
    participant_count: int | None
    participant_unit: str | None
    participant_approximation: str
    parent_id: int | None
    description: str | None
    review: str


@dataclasses.dataclass(frozen=True, slots=True)
class ParticipantRow:
    id: int
    event_id: int
    organisation_id: int | None
    person_id: int | None
    role: str


@dataclasses.dataclass(frozen=True, slots=True)
class EvidenceRow:
    id: int
    article_id: int
    quote: str
    start_offset: int
    end_offset: int
    trade_figure_id: int | None
    event_id: int | None
    organisation_id: int | None
    place_id: int | None
    person_id: int | None


RowT = TypeVar("RowT")

TABLE_OF: dict[type[Any], Table] = {
    PlaceRow: places,
    OrganisationRow: organisations,
    PersonRow: people,
    ArticleRow: articles,
    FigureRow: trade_figures,
    ConversionRow: conversions,
    EventRow: events,
    ParticipantRow: event_participants,
    EvidenceRow: evidence,
}


def columns(row_type: type[Any], table: FromClause | None = None) -> list[ColumnElement[Any]]:
    """Return the columns that make a `row_type`, in field order (optionally from an alias)."""
    source = table if table is not None else TABLE_OF[row_type]
    return [source.c[f.name] for f in dataclasses.fields(row_type)]
