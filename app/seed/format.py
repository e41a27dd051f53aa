"""The seed corpus format: pydantic models for the YAML files in `seeds/`.

`seeds/README.md` documents the format for people; these models are what the loader
enforces. Every model forbids unknown keys so that a typo is an error, not a silent gap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)

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


# --- numbers: what the columns, the seed's arithmetic and the API keep exactly ----------------
#
# The database's numbers are `numeric` columns, of any size and scale, and `integer` ones. What
# bounds a value is what is done with it: money is converted with Python's decimal arithmetic (28
# significant digits) and every conversion is kept to the cent; a change is served as a GraphQL
# Float (a double); an integer column, like a GraphQL Int, holds 32 bits.

MAX_INT = 2**31 - 1  # `integer` columns (offsets, counts, GeoNames ids) and GraphQL Int
Int32 = Annotated[StrictInt, Field(le=MAX_INT)]


def _plain_text(value: object) -> object:
    """Refuse a number given as text unless it is written in decimal digits ("5_000", " 5", "0x10")."""
    if isinstance(value, str) and not written_plainly(value):
        raise ValueError(f"{value!r} is not a plain decimal number: write numbers in decimal digits")
    return value


@dataclasses.dataclass(frozen=True)
class _Within:
    """A decimal field's range and the decimal places it keeps, said in its refusals."""

    what: str  # "money", "a quantity", ...
    low: Decimal
    high: Decimal
    places: int
    low_included: bool = False
    high_included: bool = False
    shown_high: str = ""  # the upper bound as the message writes it (else as a number)

    def __call__(self, value: Decimal) -> Decimal:
        # the places that count: "5.000" and "1.0e-2" keep no more than 5 and 0.01 do (counted on the
        # digits, not by normalize(), which rounds to the context's 28 digits)
        _, digits, exponent = value.as_tuple()
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        places = max(0, places - trailing)
        if places > self.places:
            raise ValueError(f"{value} has {places} decimal places; {self.what} is kept to {self.places}")
        below = value < self.low or (value == self.low and not self.low_included)
        above = value > self.high or (value == self.high and not self.high_included)
        if below or above:
            low = f"{'at least' if self.low_included else 'more than'} {self.low}"
            high = f"{'at most' if self.high_included else 'less than'} {self.shown_high or f'{self.high:,}'}"
            raise ValueError(f"{value} is out of range: {self.what} is {low} and {high}")
        return value


_PLAIN = BeforeValidator(_plain_text)
MONEY_BELOW = Decimal(10) ** 18
# Each a finite decimal (pydantic refuses infinities and NaN), written plainly, within its range:
# an amount, and the amount a stated conversion gives, to the cent, as every conversion is kept
MoneyAmount = Annotated[
    Decimal, _PLAIN, AfterValidator(_Within("money", Decimal(0), MONEY_BELOW, 2, shown_high="10^18"))
]
QuantityValue = Annotated[
    Decimal, _PLAIN, AfterValidator(_Within("a quantity", Decimal(0), MONEY_BELOW, 6, shown_high="10^18"))
]
# a change from "fell 100%" to "grew 10,000 times" (a million percent), served as a GraphQL Float
ChangePct = Annotated[
    Decimal, _PLAIN, AfterValidator(_Within("a change in percent", Decimal(-100), Decimal(10) ** 6, 6, True, True))
]
ChangeMultiple = Annotated[
    Decimal, _PLAIN, AfterValidator(_Within("a change multiple", Decimal(0), Decimal(10) ** 4, 6, high_included=True))
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


# --- evidence -----------------------------------------------------------------------


class Quote(Strict):
    """An exact passage of the article. `start` pins it when the words occur more than once."""

    quote: NonEmpty
    start: Int32 | None = Field(default=None, ge=0)


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
    geonames_id: Int32 | None = Field(default=None, gt=0)
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
    amount: MoneyAmount
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Quantity(Strict):
    value: QuantityValue
    unit: Annotated[str, Field(pattern=r"^[a-z][a-z-]*$")]  # tonne, container


class StatedConversion(Strict):
    """A conversion the article itself states, e.g. '42.64 billion yuan ($5.83 billion)'."""

    amount: MoneyAmount
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    quote: NonEmpty  # the words that state it
    start: Int32 | None = Field(default=None, ge=0)  # needed when those words occur more than once


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
    change_pct: ChangePct | None = None
    change_multiple: ChangeMultiple | None = None
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
    participant_count: Int32 | None = Field(default=None, ge=0)
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
