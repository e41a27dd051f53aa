"""The seed corpus format: pydantic models for the YAML files in `seeds/`.

`seeds/README.md` documents the format for people; these models are what the loader
enforces. Every model forbids unknown keys so that a typo is an error, not a silent gap.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictInt, Tag, field_validator, model_validator

from app.vocab import (
    Approximation,
    DateBasis,
    DatePrecision,
    EventKind,
    FigureStatus,
    OrganisationKind,
    ParticipantRole,
    PeriodType,
    PlaceKind,
    ReviewStatus,
    TradeFlow,
)

# The vocabularies the format's fields take, re-exported for the modules that read the format.
__all__ = [
    "Approximation",
    "DateBasis",
    "DatePrecision",
    "EventKind",
    "FigureStatus",
    "OrganisationKind",
    "ParticipantRole",
    "PeriodType",
    "PlaceKind",
    "ReviewStatus",
    "TradeFlow",
]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=120)]
NonEmpty = Annotated[str, Field(min_length=1)]

# A number written in decimal digits: sign, digits, a fraction, an exponent. YAML 1.1 reads other
# notations as numbers too (0x10, 0b101, 017 in octal, 1_000, 190:20:30 in base 60): refused.
PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_OCTAL_LOOKING = re.compile(r"[-+]?0[0-9]+")  # YAML 1.1 reads 017 as 15


def written_plainly(text: str) -> bool:
    """Return whether `text` is a number written in plain decimal digits (017, octal in YAML 1.1, is not)."""
    return PLAIN_NUMBER.fullmatch(text) is not None and _OCTAL_LOOKING.fullmatch(text) is None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


# --- evidence -----------------------------------------------------------------------


class Quote(Strict):
    """An exact passage of the article. `start` pins it when the words occur more than once."""

    quote: NonEmpty
    start: StrictInt | None = Field(default=None, ge=0)


def _coerce_quote(value: object) -> object:
    # A bare string is shorthand for {quote: "..."}; it keeps hand-written files short.
    return {"quote": value} if isinstance(value, str) else value


QuoteList = Annotated[list[Quote], Field(min_length=1)]


class WithEvidence(Strict):
    evidence: QuoteList
    # review state and, for drafted facts, the rule that produced the fact and how sure it is
    review: ReviewStatus = ReviewStatus.ACCEPTED
    rule: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)

    @field_validator("evidence", mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if isinstance(value, list):
            return [_coerce_quote(item) for item in value]
        return value


# --- shared registries: places.yaml, organisations.yaml, people.yaml ------------------


class Place(Strict):
    slug: Slug
    name: NonEmpty
    kind: PlaceKind
    code: str | None = Field(default=None, description="ISO 3166-1 alpha-2 or ISO 3166-2")
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    parent: Slug | None = None
    geonames_id: StrictInt | None = Field(default=None, gt=0)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    aliases: list[NonEmpty] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _coordinates_paired(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be given together")
        if self.kind is PlaceKind.COUNTRY and self.code is not None and self.code != self.country_code:
            raise ValueError("a country's code must equal its country_code")
        return self


class Organisation(Strict):
    slug: Slug
    name: NonEmpty
    kind: OrganisationKind
    country: Slug | None = None
    parent: Slug | None = None
    aliases: list[NonEmpty] = Field(default_factory=list)
    note: str | None = None


class Person(Strict):
    slug: Slug
    name: NonEmpty
    title: str | None = None  # as the text gives it: "deputy foreign minister"
    organisation: Slug | None = None
    country: Slug | None = None
    aliases: list[NonEmpty] = Field(default_factory=list)


# --- per-article annotation -----------------------------------------------------------


class PublishedDate(Strict):
    date: dt.date
    precision: DatePrecision
    basis: DateBasis
    inference: str | None = None  # how it was deduced, from which words

    @model_validator(mode="after")
    def _inference_when_inferred(self) -> Self:
        if self.basis is DateBasis.INFERRED and not self.inference:
            raise ValueError("an inferred date needs `inference` saying how it was deduced")
        return self


class ArticleMeta(Strict):
    slug: Slug
    title: str | None = None  # verbatim from the text; null where the text carries none
    publisher: Slug | None = None
    publisher_basis: str | None = None  # how the publisher is known, when not a byline
    authors: list[NonEmpty] = Field(default_factory=list)
    published: PublishedDate | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] = "en"
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Mention(WithEvidence):
    """Where the article names an organisation, place or person defined in a registry."""

    organisation: Slug | None = None
    place: Slug | None = None
    person: Slug | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum(x is not None for x in (self.organisation, self.place, self.person)) != 1:
            raise ValueError("a mention names exactly one of organisation, place, person")
        return self


class Money(Strict):
    amount: Decimal
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Quantity(Strict):
    value: Decimal = Field(gt=0)
    unit: Annotated[str, Field(pattern=r"^[a-z][a-z-]*$")]  # tonne, container


class StatedConversion(Strict):
    """A conversion the article itself states, e.g. '42.64 billion yuan ($5.83 billion)'."""

    amount: Decimal = Field(gt=0)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    quote: NonEmpty  # the words that state it
    start: StrictInt | None = Field(default=None, ge=0)  # needed when those words occur more than once


class Period(Strict):
    start: dt.date
    end: dt.date
    type: PeriodType
    label: NonEmpty  # as written: "in the first nine months", "in 2023"
    basis: DateBasis = DateBasis.STATED
    inference: str | None = None

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        if self.basis is DateBasis.INFERRED and not self.inference:
            raise ValueError("an inferred period needs `inference` saying how it was deduced")
        return self


class TradeFigure(WithEvidence):
    slug: Slug
    reporter: Slug  # place whose trade it is
    partner: Slug | None = None
    flow: TradeFlow
    commodity: str | None = None
    amount: Money | None = None
    quantity: Quantity | None = None
    stated_conversion: StatedConversion | None = None
    period: Period
    change_pct: Decimal | None = None
    change_multiple: Decimal | None = Field(default=None, gt=0)
    change_basis: str | None = None  # "year-on-year" unless the text says otherwise
    approximation: Approximation = Approximation.EXACT
    status: FigureStatus = FigureStatus.ACTUAL
    part_of: Slug | None = None
    source: Slug | None = None  # organisation that compiled or announced the figure
    note: str | None = None

    @model_validator(mode="after")
    def _something_measured(self) -> Self:
        if self.amount is not None and self.quantity is not None:
            raise ValueError("a figure is either a money amount or a quantity, not both")
        if self.amount is None and self.quantity is None and self.change_pct is None and self.change_multiple is None:
            raise ValueError("a figure needs an amount, a quantity or a change")
        if self.stated_conversion is not None and self.amount is None:
            raise ValueError("stated_conversion needs an amount to convert")
        if self.amount is not None and self.amount.amount <= 0:
            raise ValueError("amount must be positive")
        return self


class Participant(Strict):
    organisation: Slug | None = None
    person: Slug | None = None
    role: ParticipantRole

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.organisation is None) == (self.person is None):
            raise ValueError("a participant is exactly one of organisation, person")
        return self


class EventDate(Strict):
    start: dt.date | None = None
    end: dt.date | None = None
    precision: DatePrecision
    basis: DateBasis = DateBasis.STATED
    inference: str | None = None

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"event ends ({self.end}) before it starts ({self.start})")
        if self.basis is DateBasis.INFERRED and not self.inference:
            raise ValueError("an inferred date needs `inference` saying how it was deduced")
        return self


class Event(WithEvidence):
    slug: Slug
    name: NonEmpty
    kind: EventKind
    date: EventDate | None = None
    places: list[Slug] = Field(default_factory=list)
    participants: list[Participant] = Field(default_factory=list)
    participant_count: StrictInt | None = Field(default=None, ge=0)
    participant_unit: str | None = None  # what is counted: "companies"
    participant_approximation: Approximation = Approximation.EXACT
    parent: Slug | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _count_has_unit(self) -> Self:
        if (self.participant_count is None) != (self.participant_unit is None):
            raise ValueError("participant_count and participant_unit go together")
        return self


class EventRef(WithEvidence):
    """Further evidence, in this article, for an event defined in another article's file."""

    ref: Slug


class FigureRef(WithEvidence):
    """Further evidence, in this article, for a figure defined in another article's file."""

    ref: Slug


def _definition_or_ref(value: object) -> str:
    # An entry with `ref` points at a definition elsewhere; validating it against one model
    # only keeps error messages about the entry the author meant to write.
    return "ref" if isinstance(value, dict) and "ref" in value else "definition"


FigureEntry = Annotated[
    Annotated[TradeFigure, Tag("definition")] | Annotated[FigureRef, Tag("ref")],
    Discriminator(_definition_or_ref),
]
EventEntry = Annotated[
    Annotated[Event, Tag("definition")] | Annotated[EventRef, Tag("ref")],
    Discriminator(_definition_or_ref),
]


class ArticleFile(Strict):
    article: ArticleMeta
    mentions: list[Mention] = Field(default_factory=list)
    trade_figures: list[FigureEntry] = Field(default_factory=list)
    events: list[EventEntry] = Field(default_factory=list)
