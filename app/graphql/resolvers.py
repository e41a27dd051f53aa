"""The root Query: thin resolvers that call query functions and wrap their rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from app.errors import BadUserInput, CodedError, NotFound
from app.graphql.checks import (
    CONTRIBUTIONS,
    EXCLUDED,
    MAX_SEARCH_LENGTH,
    currency_code,
    exclusion_reason,
    offset_cursor,
    offset_list,
    offset_of,
    search_text,
    slug_or_code,
)
from app.graphql.context import Info
from app.graphql.inputs import (
    ArticleFilter,
    EventFilter,
    OrganisationFilter,
    PlaceFilter,
    TradeFigureFilter,
)
from app.graphql.money import Money, convert
from app.graphql.relay import Connection, Edge, Node, PageInfo, connection, decode_id
from app.graphql.types import (
    NODE_TYPES,
    Article,
    ConvertedMoney,
    Event,
    Organisation,
    Place,
    SearchHit,
    TradeFigure,
)
from app.queries import articles, events, figures, organisations, places, search, series
from app.queries.articles import ArticleOrder
from app.queries.common import missing_references
from app.queries.events import EventOrder
from app.queries.figures import FigureFilter
from app.queries.figures import FigureOrder as TradeFigureOrder
from app.queries.organisations import OrganisationOrder
from app.queries.pagination import MAX_PAGE, Page, PageArgs
from app.queries.places import PlaceOrder
from app.queries.rows import FigureRow
from app.queries.series import Granularity, PointFigures, SeriesPoint

__all__ = ["MAX_SEARCH_LENGTH", "Query"]
RowT = TypeVar("RowT")
NodeT = TypeVar("NodeT")
T = TypeVar("T")


async def _node(info: Info, global_id: str) -> Node | None:
    type_name, pk = decode_id(global_id)
    if type_name not in NODE_TYPES:
        return None
    graphql_type = NODE_TYPES[type_name]
    row = await info.context.loaders.by_id(graphql_type.table.row).load(pk)
    return None if row is None else graphql_type.from_row(row)  # type: ignore[return-value]


def report(info: Info, error: CodedError, *, index: int | None = None) -> None:
    """Record `error` for this field (or its item at `index`) beside the value it still answers."""
    path = info._raw_info.path.as_list() + ([] if index is None else [index])
    nodes = info._raw_info.field_nodes
    info.context.errors.append(GraphQLError(error.message, nodes, path=path, extensions=error.extensions))


async def _missing(
    info: Info, *, places_: list[str | None] | None = None, **slugs: list[str | None]
) -> NotFound | None:
    """Return the NOT_FOUND error of a filter naming something that does not exist, else None."""
    # A filter naming nothing is almost always a client bug: say so instead of matching nothing.
    missing = await missing_references(
        info.context.db,
        places_=[p for p in places_ or [] if p is not None],
        **{k: [v for v in vs if v is not None] for k, vs in slugs.items()},
    )
    return NotFound("no " + " and no ".join(missing), references=missing) if missing else None


async def _list(
    info: Info,
    lister: Callable[..., Awaitable[Page[RowT]]],
    filter: Any,
    everything: Any,
    order: Any,
    args: PageArgs,
    make: Callable[[RowT], NodeT],
) -> Connection[NodeT]:
    """Return one page of a root connection: check the filter's references, list, wrap.

    A filter naming nothing answers an empty connection, with NOT_FOUND at this field."""
    if filter is not None and (error := await _missing(info, **filter.references())):
        args.validated()  # bad page arguments are still refused as such
        report(info, error)
        empty: Connection[NodeT] = Connection.empty()
        return empty
    page = await lister(info.context.db, where=filter.to_query() if filter else everything, order=order, page=args)
    return connection(page, make)


def _root_list(
    lister: Callable[..., Awaitable[Page[Any]]],
    everything: Any,
    filter_type: type[Any],
    default_order: enum.Enum,
    node_type: Any,
) -> Any:
    """Return the root field listing pages of `node_type`: filtered, ordered (`default_order`), paged.

    `everything` is the query filter of no `filter` argument."""

    async def resolve(
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: Any = None,
        order_by: Any = default_order,
    ) -> Any:
        args = PageArgs(first, after, last, before)
        return await _list(info, lister, filter, everything, order_by, args, node_type.from_row)

    # the argument and result types of this field (the annotations above stand for all the fields)
    resolve.__annotations__ |= {
        "filter": filter_type | None,
        "order_by": type(default_order),
        "return": Connection[node_type],
    }
    return strawberry.field(resolver=resolve)


# --- search ------------------------------------------------------------------------------------

# A search hit is declared by its field table (app.graphql.types), its row the search query's.


@strawberry.type(description="A page of search hits")
class SearchHitConnection(Connection[SearchHit]):
    _counted: strawberry.Private[dict[str, asyncio.Future[int]]]

    async def _matches(self) -> int:
        # totalCount and totalCountCapped share one count
        if "n" not in self._counted:
            self._counted["n"] = asyncio.ensure_future(self._count())
        return await self._counted["n"]

    @classmethod
    def empty(cls, **private: Any) -> Any:
        """Return a page of no hits."""
        return super().empty(_counted={}, **private)

    @strawberry.field(
        description=f"Matching articles, counted up to {search.COUNT_CAP:,} (see `totalCountCapped`); "
        "computed only when asked for"
    )
    async def total_count(self) -> int:
        return min(await self._matches(), search.COUNT_CAP)

    @strawberry.field(description=f"true when more than {search.COUNT_CAP:,} articles match: totalCount stops there")
    async def total_count_capped(self) -> bool:
        return await self._matches() > search.COUNT_CAP


# --- trade series --------------------------------------------------------------------------------

# The series' types are written by hand, not declared by field tables: a point's total, label and
# completeness, and which figures it sums or leaves out, are computed per request by the series query
# (whose columns app.graphql.compiler reads), its lists paged by position; a table would declare
# nothing but resolvers and builders.


@strawberry.type(description="A figure's part in a series point: its own amount and its value in the point's currency")
class SeriesContribution:
    figure: TradeFigure
    amount: Money
    converted: ConvertedMoney | None = strawberry.field(description="null when stated in the point's currency")


@strawberry.type(description="A figure left out of a point because another figure of the point includes it")
class ExcludedFigure:
    figure: TradeFigure
    covered_by: TradeFigure
    reason: str


_LISTS_EVERY_FIGURE = (
    "lists every figure of the point, however many: use {} (pages of at most 100), "
    "or select only `value` to read the point's total alone"
)


@strawberry.type(description="One period of a trade series")
class TradeSeriesPoint:
    period_start: dt.date
    period_end: dt.date
    label: str = strawberry.field(description="2023, 2023-Q3 or 2023-09")
    value: Decimal | None = strawberry.field(description="sum of the contributions; null when one has no conversion")
    currency: str
    complete: bool = strawberry.field(description="false when a figure could not be converted")
    _point: strawberry.Private[SeriesPoint]
    _where: strawberry.Private[FigureFilter]
    _granularity: strawberry.Private[Granularity]
    _made_of: strawberry.Private[dict[str, asyncio.Future[PointFigures]]]

    async def _figures(self, info: Info) -> PointFigures:
        # several fields of one point ask for its figures: one statement for them all
        if "figures" not in self._made_of:
            self._made_of["figures"] = asyncio.ensure_future(
                series.point_figures(
                    info.context.db,
                    where=self._where,
                    granularity=self._granularity,
                    currency=self.currency,
                    point=self._point,
                )
            )
        return await self._made_of["figures"]

    @strawberry.field(deprecation_reason=_LISTS_EVERY_FIGURE.format("`contributionsConnection`"))
    async def figures(self, info: Info) -> list[TradeFigure]:
        return [c.figure for c in await _contributions(info, self, (await self._figures(info)).figure_ids)]

    @strawberry.field(deprecation_reason=_LISTS_EVERY_FIGURE.format("`contributionsConnection`"))
    async def contributions(self, info: Info) -> list[SeriesContribution]:
        return await _contributions(info, self, (await self._figures(info)).figure_ids)

    @strawberry.field(deprecation_reason=_LISTS_EVERY_FIGURE.format("`excludedConnection`"))
    async def excluded(self, info: Info) -> list[ExcludedFigure]:
        return await _excluded(info, (await self._figures(info)).excluded)

    @strawberry.field(description="The figures summed into the point, by id; `first` at most 100")
    async def contributions_connection(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[SeriesContribution]:
        ids = (await self._figures(info)).figure_ids
        return await _offset_page(ids, first, after, CONTRIBUTIONS, lambda shown: _contributions(info, self, shown))

    @strawberry.field(description="The figures left out because another figure of the point covers them, by id")
    async def excluded_connection(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ExcludedFigure]:
        pairs = (await self._figures(info)).excluded
        return await _offset_page(pairs, first, after, EXCLUDED, lambda shown: _excluded(info, shown))


async def _offset_page(
    items: list[T],
    first: int | None,
    after: str | None,
    of: str,
    make: Callable[[list[T]], Awaitable[list[NodeT]]],
) -> Connection[NodeT]:
    """Return the page of `items` (the offset-paged list `of`) by position that `first` and `after`
    ask for, its nodes `make(items shown)`."""
    PageArgs(first=first, after=after).validated()
    offset = offset_of(after, of)
    nodes = await make(items[offset : offset + (first if first is not None else 20)])
    edges = [Edge(cursor=offset_cursor(offset + i, of), node=node) for i, node in enumerate(nodes)]

    async def count() -> int:
        return len(items)

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=offset + len(nodes) < len(items),
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=count,
    )


async def _rows(info: Info, ids: set[int]) -> dict[int, FigureRow]:
    return {r.id: r for r in await info.context.loaders.by_id(FigureRow).load_many(sorted(ids)) if r is not None}


async def _contributions(info: Info, point: TradeSeriesPoint, ids: list[int]) -> list[SeriesContribution]:
    rows = await _rows(info, set(ids))
    contributions = []
    for fid in ids:
        row = rows[fid]
        figure = TradeFigure.from_row(row)
        assert row.amount is not None  # the series sums money figures only
        converted = None
        if row.currency != point.currency:
            converted = await convert(figure, info, point.currency)
        contributions.append(SeriesContribution(figure=figure, amount=Money.from_row(row), converted=converted))
    return contributions


async def _excluded(info: Info, pairs: list[tuple[int, int]]) -> list[ExcludedFigure]:
    rows = await _rows(info, {i for pair in pairs for i in pair})
    return [
        ExcludedFigure(
            figure=TradeFigure.from_row(rows[fid]),
            covered_by=TradeFigure.from_row(rows[cover]),
            reason=exclusion_reason(rows[fid], rows[cover]),
        )
        for fid, cover in pairs
    ]


def _point(point: SeriesPoint, where: FigureFilter, granularity: Granularity) -> TradeSeriesPoint:
    return TradeSeriesPoint(
        period_start=point.period_start,
        period_end=point.period_end,
        label=series.label(point.period_start, granularity),
        value=point.value,
        currency=point.currency,
        complete=point.complete,
        _point=point,
        _where=where,
        _granularity=granularity,
        _made_of={},
    )


# --- the root ------------------------------------------------------------------------------------

FIRST = strawberry.argument(description=f"at most {MAX_PAGE}")


@strawberry.type
class Query:
    @strawberry.field(description="Fetches any object by its global id; null if there is none")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await _node(info, id)

    @strawberry.field(description="Fetches objects by global id, in order; null where there is none")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_PAGE:
            raise BadUserInput(f"at most {MAX_PAGE} ids at once")

        async def one(global_id: str) -> Node | CodedError:
            try:
                found = await _node(info, global_id)
            except BadUserInput as exc:
                return exc
            return NotFound(f"no object with id {global_id[:40]!r}") if found is None else found

        # a bad or missing id is null with an error at its own index; the others still answer
        found = await asyncio.gather(*(one(global_id) for global_id in ids))
        for index, item in enumerate(found):
            if isinstance(item, CodedError):
                report(info, item, index=index)
        return [None if isinstance(item, CodedError) else item for item in found]

    @strawberry.field
    async def article(self, info: Info, slug: str) -> Article | None:
        row = await articles.get_article(info.context.db, slug=slug)
        return None if row is None else Article.from_row(row)

    @strawberry.field
    async def organisation(self, info: Info, slug: str) -> Organisation | None:
        row = await organisations.get_organisation(info.context.db, slug=slug)
        return None if row is None else Organisation.from_row(row)

    @strawberry.field(description="A place by slug, or by ISO 3166-1/-2 code (CN, RU, CN-LN)")
    async def place(self, info: Info, slug: str | None = None, code: str | None = None) -> Place | None:
        column, value = slug_or_code(slug, code)
        row = await places.get_place(info.context.db, **{column: value})
        return None if row is None else Place.from_row(row)

    @strawberry.field
    async def event(self, info: Info, slug: str) -> Event | None:
        row = await events.get_event(info.context.db, slug=slug)
        return None if row is None else Event.from_row(row)

    articles = _root_list(
        articles.list_articles, articles.ArticleFilter(), ArticleFilter, ArticleOrder.PUBLISHED_ON_DESC, Article
    )
    organisations = _root_list(
        organisations.list_organisations,
        organisations.OrganisationFilter(),
        OrganisationFilter,
        OrganisationOrder.NAME_ASC,
        Organisation,
    )
    places = _root_list(places.list_places, places.PlaceFilter(), PlaceFilter, PlaceOrder.NAME_ASC, Place)
    trade_figures = _root_list(
        figures.list_figures, figures.FigureFilter(), TradeFigureFilter, TradeFigureOrder.PERIOD_END_DESC, TradeFigure
    )
    events = _root_list(events.list_events, events.EventFilter(), EventFilter, EventOrder.STARTS_ON_ASC, Event)

    @strawberry.field(
        description="Full-text search over titles and bodies; names and aliases of entities count too. "
        f"Hits are ranked among the {search.CANDIDATES:,} most recently published matching articles "
        "(every match when fewer match)"
    )
    async def search(
        self, info: Info, query: str, first: int | None = None, after: str | None = None
    ) -> SearchHitConnection:
        args = PageArgs(first=first, after=after).validated()
        text = search_text(query)
        of = offset_list(f"search:{text}")
        offset = offset_of(after, of)
        limit = first if first is not None else 20
        hits, more = await search.search_articles(info.context.db, query=text, offset=offset, limit=limit)
        edges = [
            Edge(
                cursor=offset_cursor(offset + i, of),
                node=SearchHit.from_row(h),
            )
            for i, h in enumerate(hits)
        ]

        async def count() -> int:
            return await search.count_matches(info.context.db, query=search_text(query))

        return SearchHitConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=offset > 0 and args.after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            _count=count,
            _counted={},
        )

    @strawberry.field(description="Money figures summed per period, in `currency`, each point listing its figures")
    async def trade_series(
        self,
        info: Info,
        filter: TradeFigureFilter | None = None,
        granularity: Granularity = Granularity.YEAR,
        currency: str | None = "USD",
    ) -> list[TradeSeriesPoint]:
        if filter and (error := await _missing(info, **filter.references())):
            report(info, error)
            return []
        where = filter.to_query() if filter else figures.FigureFilter()
        points = await series.list_points(
            info.context.db,
            where=where,
            granularity=granularity,
            currency=currency_code("USD" if currency is None else currency),
        )
        return [_point(p, where, granularity) for p in points]
