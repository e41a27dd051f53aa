"""GraphQL types. Built from query rows; relationships resolve through per-request loaders."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

import strawberry

from app.errors import BadUserInput
from app.graphql.context import Info
from app.graphql.enums import ConversionKind
from app.queries import articles as article_queries
from app.queries.pagination import Page, PageArgs
from app.queries.rows import (
    ArticleRow,
    ConversionRow,
    EventRow,
    EvidenceRow,
    FigureRow,
    OrganisationRow,
    ParticipantRow,
    PersonRow,
    PlaceRow,
)
from app.seed import format as vocab

# Enums are registered in app.graphql.enums, imported first so every use sees one definition.


def reviews_wanted(review: list[vocab.ReviewStatus] | None) -> set[str]:
    """Return the review statuses a nested list shows: those asked for, else accepted only."""
    return {r.value for r in review} if review else {"accepted"}


_REVIEW_ARG = strawberry.argument(description="default: [ACCEPTED], as the top-level lists")


def _opt_enum(enum: type, value: str | None):  # type: ignore[no-untyped-def]
    return None if value is None else enum(value)


# --- global ids ---------------------------------------------------------------------------------


def encode_id(type_name: str, pk: int) -> strawberry.ID:
    """Return the opaque global id of a row."""
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("="))


def decode_id(global_id: str) -> tuple[str, int]:
    """Return (type name, primary key) of a global id; raise BadUserInput if it is not one."""
    if len(global_id) > 100:  # a type name and a 64-bit key, in base64: 40 characters at most
        raise BadUserInput(f"{global_id[:40]!r}… is not a valid node id")
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, pk = raw.partition(":")
        if not type_name or not pk.isdigit() or int(pk) >= 2**63:
            raise ValueError
        return type_name, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(f"{global_id[:40]!r} is not a valid node id") from None


@strawberry.interface(description="An object with a global id, refetchable with `node(id:)`")
class Node:
    id: strawberry.ID


# --- connections --------------------------------------------------------------------------------

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="All matching items; computed only when asked for")
    async def total_count(self) -> int:
        return await self._count()

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


RowT = TypeVar("RowT")


def connection(page: Page[RowT], make: Callable[[RowT], NodeT]) -> Connection[NodeT]:
    """Return a connection of `page`'s rows, built into GraphQL types by `make`."""
    edges = [Edge(cursor=cursor, node=make(row)) for cursor, row in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=page.count,
    )


# --- value types ----------------------------------------------------------------------------------


@strawberry.type(description="An exact amount of money in an ISO 4217 currency")
class Money:
    amount: Decimal
    currency: str


@strawberry.type(description="An amount converted from another currency, with the rate and where it comes from")
class ConvertedMoney:
    amount: Decimal
    currency: str
    rate: Decimal = strawberry.field(description="units of `currency` per unit of `fromCurrency`")
    rate_date: dt.date
    source: str
    kind: ConversionKind
    from_currency: str
    method: str = strawberry.field(description="how the rate was obtained (e.g. a period mean of daily rates)")

    @classmethod
    def from_row(cls, row: ConversionRow) -> ConvertedMoney:
        return cls(
            amount=row.amount,
            currency=row.to_currency,
            rate=row.rate,
            rate_date=row.rate_date,
            source=row.source,
            kind=ConversionKind(row.kind),
            from_currency=row.from_currency,
            method=row.method,
        )


@strawberry.type(description="A physical quantity: 1500000 tonne, 55 container")
class Quantity:
    value: Decimal
    unit: str


@strawberry.type(description="The exact words of an article that state a fact: `article.body[start:end] == quote`")
class Evidence:
    quote: str
    start: int = strawberry.field(description="character offset (Unicode code points) where the quote starts")
    end: int = strawberry.field(description="character offset just past the quote")
    _article_id: strawberry.Private[int]

    @strawberry.field
    async def article(self, info: Info) -> Article:
        row = await info.context.loaders.article.load(self._article_id)
        assert row is not None  # evidence rows reference articles by foreign key
        return Article.from_row(row)

    @classmethod
    def from_row(cls, row: EvidenceRow) -> Evidence:
        return cls(quote=row.quote, start=row.start_offset, end=row.end_offset, _article_id=row.article_id)


async def _place(info: Info, pk: int | None) -> Place | None:
    row = None if pk is None else await info.context.loaders.place.load(pk)
    return None if row is None else Place.from_row(row)


async def _organisation(info: Info, pk: int | None) -> Organisation | None:
    row = None if pk is None else await info.context.loaders.organisation.load(pk)
    return None if row is None else Organisation.from_row(row)


# --- entities ---------------------------------------------------------------------------------------


@strawberry.type
class Place(Node):
    slug: str
    name: str
    kind: vocab.PlaceKind
    aliases: list[str]
    code: str | None = strawberry.field(description="ISO 3166-1 alpha-2 (countries) or ISO 3166-2 (subdivisions)")
    country_code: str | None = strawberry.field(description="ISO 3166-1 alpha-2 of the country it lies in")
    geonames_id: int | None
    latitude: float | None
    longitude: float | None
    note: str | None
    _pk: strawberry.Private[int]
    _parent_id: strawberry.Private[int | None]

    @strawberry.field(description="The place directly containing this one: Shenyang → Liaoning → China")
    async def parent(self, info: Info) -> Place | None:
        return await _place(info, self._parent_id)

    @strawberry.field
    async def children(self, info: Info) -> list[Place]:
        return [Place.from_row(r) for r in await info.context.loaders.place_children.load(self._pk)]

    @classmethod
    def from_row(cls, row: PlaceRow) -> Place:
        return cls(
            id=encode_id("Place", row.id),
            slug=row.slug,
            name=row.name,
            kind=vocab.PlaceKind(row.kind),
            aliases=row.aliases,
            code=row.code,
            country_code=row.country_code,
            geonames_id=row.geonames_id,
            latitude=row.latitude,
            longitude=row.longitude,
            note=row.note,
            _pk=row.id,
            _parent_id=row.parent_id,
        )


@strawberry.type
class Organisation(Node):
    slug: str
    name: str
    kind: vocab.OrganisationKind
    aliases: list[str]
    note: str | None
    _pk: strawberry.Private[int]
    _country_id: strawberry.Private[int | None]
    _parent_id: strawberry.Private[int | None]

    @strawberry.field
    async def country(self, info: Info) -> Place | None:
        return await _place(info, self._country_id)

    @strawberry.field(description="The organisation this one belongs to (a department's ministry)")
    async def parent(self, info: Info) -> Organisation | None:
        return await _organisation(info, self._parent_id)

    @strawberry.field(description="Articles that this organisation published or that mention it, newest first")
    async def articles(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Article]:
        page = await article_queries.list_articles(
            info.context.db,
            where=article_queries.ArticleFilter(involving_organisation_id=self._pk),
            order=article_queries.ArticleOrder.PUBLISHED_ON_DESC,
            page=PageArgs(first=first, after=after),
        )
        return connection(page, Article.from_row)

    @classmethod
    def from_row(cls, row: OrganisationRow) -> Organisation:
        return cls(
            id=encode_id("Organisation", row.id),
            slug=row.slug,
            name=row.name,
            kind=vocab.OrganisationKind(row.kind),
            aliases=row.aliases,
            note=row.note,
            _pk=row.id,
            _country_id=row.country_id,
            _parent_id=row.parent_id,
        )


@strawberry.type
class Person(Node):
    slug: str
    name: str
    title: str | None = strawberry.field(description="as the text gives it")
    aliases: list[str]
    _organisation_id: strawberry.Private[int | None]
    _country_id: strawberry.Private[int | None]

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation | None:
        return await _organisation(info, self._organisation_id)

    @strawberry.field
    async def country(self, info: Info) -> Place | None:
        return await _place(info, self._country_id)

    @classmethod
    def from_row(cls, row: PersonRow) -> Person:
        return cls(
            id=encode_id("Person", row.id),
            slug=row.slug,
            name=row.name,
            title=row.title,
            aliases=row.aliases,
            _organisation_id=row.organisation_id,
            _country_id=row.country_id,
        )


@strawberry.type
class Article(Node):
    slug: str
    title: str | None = strawberry.field(description="verbatim from the text; null when the text has no headline")
    authors: list[str]
    published_on: dt.date | None = strawberry.field(description="first day of the publication period")
    published_precision: vocab.DatePrecision | None
    published_basis: vocab.DateBasis | None
    published_inference: str | None = strawberry.field(description="how an inferred date was deduced")
    publisher_basis: str | None = strawberry.field(description="how the publisher is known, when not a masthead")
    language: str
    body: str = strawberry.field(description="the text, verbatim")
    body_sha256: str
    word_count: int
    source_file: str
    duplicate_score: Decimal | None
    duplicate_method: str | None
    _pk: strawberry.Private[int]
    _publisher_id: strawberry.Private[int | None]
    _duplicate_of_id: strawberry.Private[int | None]

    @strawberry.field
    async def publisher(self, info: Info) -> Organisation | None:
        return await _organisation(info, self._publisher_id)

    @strawberry.field(description="The article this one rewrites, when it is a near-duplicate")
    async def duplicate_of(self, info: Info) -> Article | None:
        row = None if self._duplicate_of_id is None else await info.context.loaders.article.load(self._duplicate_of_id)
        return None if row is None else Article.from_row(row)

    @strawberry.field(description="Articles that are near-duplicates of this one")
    async def duplicates(self, info: Info) -> list[Article]:
        return [Article.from_row(r) for r in await info.context.loaders.article_duplicates.load(self._pk)]

    @strawberry.field(description="Organisations the article names, in order of first mention")
    async def organisations(self, info: Info) -> list[Organisation]:
        return [Organisation.from_row(r) for r in await info.context.loaders.article_organisations.load(self._pk)]

    @strawberry.field(description="Places the article names, in order of first mention")
    async def places(self, info: Info) -> list[Place]:
        return [Place.from_row(r) for r in await info.context.loaders.article_places.load(self._pk)]

    @strawberry.field(description="People the article names, in order of first mention")
    async def people(self, info: Info) -> list[Person]:
        return [Person.from_row(r) for r in await info.context.loaders.article_people.load(self._pk)]

    @strawberry.field(description="Trade figures the article states, in order of first statement")
    async def trade_figures(
        self,
        info: Info,
        review: Annotated[list[vocab.ReviewStatus] | None, _REVIEW_ARG] = None,
    ) -> list[TradeFigure]:
        wanted = reviews_wanted(review)
        rows = await info.context.loaders.article_figures.load(self._pk)
        return [TradeFigure.from_row(r) for r in rows if r.review in wanted]

    @strawberry.field(description="Events the article reports, in order of first mention")
    async def events(
        self,
        info: Info,
        review: Annotated[list[vocab.ReviewStatus] | None, _REVIEW_ARG] = None,
    ) -> list[Event]:
        wanted = reviews_wanted(review)
        rows = await info.context.loaders.article_events.load(self._pk)
        return [Event.from_row(r) for r in rows if r.review in wanted]

    @classmethod
    def from_row(cls, row: ArticleRow) -> Article:
        return cls(
            id=encode_id("Article", row.id),
            slug=row.slug,
            title=row.title,
            authors=row.authors,
            published_on=row.published_on,
            published_precision=_opt_enum(vocab.DatePrecision, row.published_precision),
            published_basis=_opt_enum(vocab.DateBasis, row.published_basis),
            published_inference=row.published_inference,
            publisher_basis=row.publisher_basis,
            language=row.language,
            body=row.body,
            body_sha256=row.body_sha256,
            word_count=row.word_count,
            source_file=row.source_file,
            duplicate_score=row.duplicate_score,
            duplicate_method=row.duplicate_method,
            _pk=row.id,
            _publisher_id=row.publisher_id,
            _duplicate_of_id=row.duplicate_of_id,
        )


@strawberry.type(description="One fact: a value of trade between two places over a period, as an article states it")
class TradeFigure(Node):
    slug: str
    flow: vocab.TradeFlow
    commodity: str | None = strawberry.field(description="null: all goods")
    amount: Money | None
    quantity: Quantity | None
    period_start: dt.date = strawberry.field(description="first day of the period (inclusive)")
    period_end: dt.date = strawberry.field(description="last day of the period (inclusive)")
    period_type: vocab.PeriodType
    period_label: str | None = strawberry.field(description="the period as the article writes it")
    period_basis: vocab.DateBasis
    period_inference: str | None
    change_pct: float | None = strawberry.field(description="change against the previous period, in percent")
    change_multiple: float | None = strawberry.field(description='as written: "grew 6.2 times"')
    change_basis: str | None
    approximation: str | None = strawberry.field(description="exact, about, nearly, more-than, less-than, up-to")
    status: vocab.FigureStatus
    review: vocab.ReviewStatus = strawberry.field(description="PENDING until a person has checked it")
    note: str | None
    _pk: strawberry.Private[int]
    _reporter_id: strawberry.Private[int]
    _partner_id: strawberry.Private[int | None]
    _part_of_id: strawberry.Private[int | None]
    _source_id: strawberry.Private[int | None]

    @strawberry.field(description="The place whose trade this is")
    async def reporter(self, info: Info) -> Place:
        place = await _place(info, self._reporter_id)
        assert place is not None  # a foreign key, never null
        return place

    @strawberry.field
    async def partner(self, info: Info) -> Place | None:
        return await _place(info, self._partner_id)

    @strawberry.field(description="The figure this one is part of (imports within total trade)")
    async def part_of(self, info: Info) -> TradeFigure | None:
        row = None if self._part_of_id is None else await info.context.loaders.figure.load(self._part_of_id)
        return None if row is None else TradeFigure.from_row(row)

    @strawberry.field(description="The organisation that compiled or announced the figure")
    async def source(self, info: Info) -> Organisation | None:
        return await _organisation(info, self._source_id)

    @strawberry.field(description="Every conversion of the amount: stated by the article, or computed")
    async def conversions(self, info: Info) -> list[ConvertedMoney]:
        return [ConvertedMoney.from_row(r) for r in await info.context.loaders.figure_conversions.load(self._pk)]

    @strawberry.field(description="The amount in USD: itself when stated in USD, else computed from ECB rates")
    async def amount_usd(self, info: Info) -> ConvertedMoney | None:
        return await self.convert(info, "USD")

    @strawberry.field(description="The amount in `currency`, computed from reference rates; null without a rate")
    async def converted_amount(self, info: Info, currency: str) -> ConvertedMoney | None:
        return await self.convert(info, currency)

    async def convert(self, info: Info, currency: str) -> ConvertedMoney | None:
        """Return the amount in `currency`: itself, or its computed conversion; None without one."""
        if self.amount is None:
            return None
        if self.amount.currency == currency.upper():
            return ConvertedMoney(
                amount=self.amount.amount,
                currency=self.amount.currency,
                rate=Decimal(1),
                rate_date=self.period_end,
                source="stated in the article",
                kind=ConversionKind.STATED,
                from_currency=self.amount.currency,
                method="no conversion: the article states the amount in this currency",
            )
        for row in await info.context.loaders.figure_conversions.load(self._pk):
            if row.kind == "computed" and row.to_currency == currency.upper():
                return ConvertedMoney.from_row(row)
        return None

    @strawberry.field(description="The conversion the article itself states, if it states one")
    async def stated_conversion(self, info: Info) -> ConvertedMoney | None:
        for row in await info.context.loaders.figure_conversions.load(self._pk):
            if row.kind == "stated":
                return ConvertedMoney.from_row(row)
        return None

    @strawberry.field(description="The exact words that state the figure, in every article that does")
    async def evidence(self, info: Info) -> list[Evidence]:
        return [Evidence.from_row(r) for r in await info.context.loaders.figure_evidence.load(self._pk)]

    @classmethod
    def from_row(cls, row: FigureRow) -> TradeFigure:
        return cls(
            id=encode_id("TradeFigure", row.id),
            slug=row.slug,
            flow=vocab.TradeFlow(row.flow),
            commodity=row.commodity,
            amount=Money(amount=row.amount, currency=row.currency or "") if row.amount is not None else None,
            quantity=Quantity(value=row.quantity, unit=row.unit or "") if row.quantity is not None else None,
            period_start=row.period_start,
            period_end=row.period_end,
            period_type=vocab.PeriodType(row.period_type),
            period_label=row.period_label,
            period_basis=vocab.DateBasis(row.period_basis),
            period_inference=row.period_inference,
            change_pct=float(row.change_pct) if row.change_pct is not None else None,
            change_multiple=float(row.change_multiple) if row.change_multiple is not None else None,
            change_basis=row.change_basis,
            approximation=row.approximation,
            status=vocab.FigureStatus(row.status),
            review=vocab.ReviewStatus(row.review),
            note=row.note,
            _pk=row.id,
            _reporter_id=row.reporter_id,
            _partner_id=row.partner_id,
            _part_of_id=row.part_of_id,
            _source_id=row.source_id,
        )


@strawberry.type(description="An organisation or person taking part in an event, and in what role")
class Participant:
    role: vocab.ParticipantRole
    _organisation_id: strawberry.Private[int | None]
    _person_id: strawberry.Private[int | None]

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation | None:
        return await _organisation(info, self._organisation_id)

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        row = None if self._person_id is None else await info.context.loaders.person.load(self._person_id)
        return None if row is None else Person.from_row(row)

    @classmethod
    def from_row(cls, row: ParticipantRow) -> Participant:
        return cls(
            role=vocab.ParticipantRole(row.role),
            _organisation_id=row.organisation_id,
            _person_id=row.person_id,
        )


@strawberry.type
class Event(Node):
    slug: str
    name: str
    kind: vocab.EventKind
    starts_on: dt.date | None
    ends_on: dt.date | None
    date_precision: str | None = strawberry.field(description="day, week, month, quarter or year")
    date_basis: vocab.DateBasis | None
    date_inference: str | None
    participant_count: int | None
    participant_unit: str | None = strawberry.field(description='what is counted: "companies"')
    participant_approximation: str | None
    description: str | None
    review: vocab.ReviewStatus = strawberry.field(description="PENDING until a person has checked it")
    _pk: strawberry.Private[int]
    _parent_id: strawberry.Private[int | None]

    @strawberry.field(description="Where it takes place")
    async def places(self, info: Info) -> list[Place]:
        return [Place.from_row(r) for r in await info.context.loaders.event_places.load(self._pk)]

    @strawberry.field(description="Organisations taking part, in any role")
    async def organisations(self, info: Info) -> list[Organisation]:
        rows = await info.context.loaders.event_participants.load(self._pk)
        ids = list(dict.fromkeys(r.organisation_id for r in rows if r.organisation_id is not None))
        found = await info.context.loaders.organisation.load_many(ids)
        return [Organisation.from_row(r) for r in found if r is not None]

    @strawberry.field(description="Organisations and people taking part, with their roles")
    async def participants(self, info: Info) -> list[Participant]:
        return [Participant.from_row(r) for r in await info.context.loaders.event_participants.load(self._pk)]

    @strawberry.field(description="The event this one is part of (a delegation at an expo)")
    async def parent(self, info: Info) -> Event | None:
        row = None if self._parent_id is None else await info.context.loaders.event.load(self._parent_id)
        return None if row is None else Event.from_row(row)

    @strawberry.field
    async def children(
        self,
        info: Info,
        review: Annotated[list[vocab.ReviewStatus] | None, _REVIEW_ARG] = None,
    ) -> list[Event]:
        wanted = reviews_wanted(review)
        rows = await info.context.loaders.event_children.load(self._pk)
        return [Event.from_row(r) for r in rows if r.review in wanted]

    @strawberry.field(description="The exact words that report the event, in every article that does")
    async def evidence(self, info: Info) -> list[Evidence]:
        return [Evidence.from_row(r) for r in await info.context.loaders.event_evidence.load(self._pk)]

    @classmethod
    def from_row(cls, row: EventRow) -> Event:
        return cls(
            id=encode_id("Event", row.id),
            slug=row.slug,
            name=row.name,
            kind=vocab.EventKind(row.kind),
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            date_precision=row.date_precision,
            date_basis=_opt_enum(vocab.DateBasis, row.date_basis),
            date_inference=row.date_inference,
            participant_count=row.participant_count,
            participant_unit=row.participant_unit,
            participant_approximation=row.participant_approximation,
            review=vocab.ReviewStatus(row.review),
            description=row.description,
            _pk=row.id,
            _parent_id=row.parent_id,
        )


NODE_TYPES: dict[str, tuple[type, str]] = {
    "Place": (Place, "place"),
    "Organisation": (Organisation, "organisation"),
    "Person": (Person, "person"),
    "Article": (Article, "article"),
    "TradeFigure": (TradeFigure, "figure"),
    "Event": (Event, "event"),
}
