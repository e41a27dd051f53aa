"""GraphQL input types (filters and orderings), converted to the query layer's plain filters."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

import strawberry

from app.errors import BadUserInput
from app.graphql.checks import country_code, currency_code, language_code, place_code, words
from app.graphql.enums import FigureMeasure
from app.queries.articles import ArticleFilter as ArticleQueryFilter
from app.queries.events import EventFilter as EventQueryFilter
from app.queries.figures import FigureFilter
from app.queries.organisations import OrganisationFilter as OrganisationQueryFilter
from app.queries.places import PlaceFilter as PlaceQueryFilter
from app.seed import format as vocab

MAX_EXPONENT = 30  # no trade figure comes near 10^30 of any currency
QueryFilterT = TypeVar("QueryFilterT")


def _values(items: list[str] | None) -> list[str] | None:
    # each value once: `[TOTAL, TOTAL, ...]` a thousand times means `[TOTAL]`, and is as cheap
    return list(dict.fromkeys(item.value if hasattr(item, "value") else item for item in items)) if items else None


def _query_filter(given: object, query_filter: type[QueryFilterT], **converted: Any) -> QueryFilterT:
    """Return the query layer's filter: each of its fields the input's field of the same name, but
    those `converted` (renamed, or a list of enum values: `kind` → `kinds`)."""
    names = {f.name for f in dataclasses.fields(query_filter)} - converted.keys()  # type: ignore[arg-type]
    return query_filter(**{name: getattr(given, name) for name in names if hasattr(given, name)}, **converted)


@strawberry.input
class ArticleFilter:
    publisher: str | None = strawberry.field(default=None, description="organisation slug")
    organisation: str | None = strawberry.field(default=None, description="slug of an organisation it mentions")
    place: str | None = strawberry.field(
        default=None,
        description="slug or ISO code of a place it mentions, or of one inside it (Liaoning: Shenyang too)",
    )
    published_from: dt.date | None = None
    published_to: dt.date | None = None
    text: str | None = strawberry.field(default=None, description='full-text: words, "phrases", -exclusions, or')
    language: str | None = None

    def references(self) -> dict[str, list[str | None]]:
        return {"places_": [self.place], "organisations": [self.publisher, self.organisation]}

    def to_query(self) -> ArticleQueryFilter:
        return _query_filter(
            self,
            ArticleQueryFilter,
            text=words(self.text),
            language=language_code(self.language) if self.language is not None else None,
        )


@strawberry.input
class TradeFigureFilter:
    reporter: str | None = strawberry.field(default=None, description="slug or ISO code")
    partner: str | None = strawberry.field(
        default=None, description="slug or ISO code; for TOTAL flows either side may match either place"
    )
    include_subregions: bool = strawberry.field(default=False, description="reporter/partner match places inside")
    flow: list[vocab.TradeFlow] | None = None
    period_from: dt.date | None = strawberry.field(default=None, description="period overlaps from this day")
    period_to: dt.date | None = strawberry.field(default=None, description="period overlaps up to this day")
    status: list[vocab.FigureStatus] | None = None
    review: list[vocab.ReviewStatus] | None = strawberry.field(default=None, description="default: [ACCEPTED]")
    currency: str | None = strawberry.field(default=None, description="currency the amount is stated in")
    usd_min: Decimal | None = None
    usd_max: Decimal | None = None
    article: str | None = strawberry.field(default=None, description="slug of an article that states it")
    measure: FigureMeasure | None = None
    commodity: str | None = strawberry.field(default=None, description="case-insensitive substring")

    def references(self) -> dict[str, list[str | None]]:
        return {"places_": [self.reporter, self.partner], "articles": [self.article]}

    def to_query(self) -> FigureFilter:
        for name, value in (("usdMin", self.usd_min), ("usdMax", self.usd_max)):
            if value is not None and (not value.is_finite() or abs(value.adjusted()) > MAX_EXPONENT):
                raise BadUserInput(
                    f"`{name}` must be a finite amount of a magnitude between 1e-{MAX_EXPONENT} and 1e{MAX_EXPONENT}"
                )
            if value is not None and value < 0:
                raise BadUserInput(f"`{name}` must not be negative: no amount is")
        return _query_filter(
            self,
            FigureFilter,
            flows=_values(self.flow),  # type: ignore[arg-type]
            statuses=_values(self.status),  # type: ignore[arg-type]
            reviews=_values(self.review) or ("accepted",),  # type: ignore[arg-type]
            measure=self.measure.value if self.measure is not None else None,
            # checked as every currency argument is: a code that is none is refused, not matched by nothing
            currency=currency_code(self.currency) if self.currency is not None else None,
            commodity=words(self.commodity),
        )


@strawberry.input
class EventFilter:
    kind: list[vocab.EventKind] | None = None
    place: str | None = strawberry.field(default=None, description="slug or ISO code; places inside it match too")
    from_: dt.date | None = strawberry.field(default=None, name="from", description="events overlapping from this day")
    to: dt.date | None = strawberry.field(default=None, description="events overlapping up to this day")
    organisation: str | None = strawberry.field(default=None, description="slug of a participating organisation")
    parent: str | None = strawberry.field(default=None, description="slug of the enclosing event")
    review: list[vocab.ReviewStatus] | None = strawberry.field(default=None, description="default: [ACCEPTED]")

    def references(self) -> dict[str, list[str | None]]:
        return {"places_": [self.place], "organisations": [self.organisation], "events": [self.parent]}

    def to_query(self) -> EventQueryFilter:
        return _query_filter(
            self,
            EventQueryFilter,
            kinds=_values(self.kind),  # type: ignore[arg-type]
            starts_from=self.from_,
            ends_to=self.to,
            reviews=_values(self.review) or ("accepted",),  # type: ignore[arg-type]
        )


@strawberry.input
class PlaceFilter:
    kind: list[vocab.PlaceKind] | None = None
    country_code: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2")
    code: str | None = strawberry.field(default=None, description="exact ISO 3166 code")
    within: str | None = strawberry.field(default=None, description="slug or code: places inside that place")
    name: str | None = strawberry.field(default=None, description="substring of the name or an alias")

    def references(self) -> dict[str, list[str | None]]:
        return {"places_": [self.within]}

    def to_query(self) -> PlaceQueryFilter:
        return _query_filter(
            self,
            PlaceQueryFilter,
            kinds=_values(self.kind),  # type: ignore[arg-type]
            # a code that is none is refused, not matched by nothing (as currencies are)
            country_code=country_code(self.country_code) if self.country_code is not None else None,
            code=place_code(self.code) if self.code is not None else None,
            name=words(self.name),
        )


@strawberry.input
class OrganisationFilter:
    kind: list[vocab.OrganisationKind] | None = None
    country: str | None = strawberry.field(default=None, description="slug or ISO code of its country")
    name: str | None = strawberry.field(default=None, description="substring of the name or an alias")

    def references(self) -> dict[str, list[str | None]]:
        return {"places_": [self.country]}

    def to_query(self) -> OrganisationQueryFilter:
        return _query_filter(
            self,
            OrganisationQueryFilter,
            kinds=_values(self.kind),  # type: ignore[arg-type]
            name=words(self.name),
        )
