"""Trade figures: filtered pages, conversions and evidence."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Select,
    Table,
    and_,
    any_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import array

from app.db import Reader
from app.queries.common import place_ref, reviewed, subtree_ids
from app.queries.pagination import (
    Ordering,
    Page,
    PageArgs,
    PageQuery,
    SortKey,
    count_of,
    merged_or_single_page_query,
    named_orderings,
    page_query,
    paginate,
    rows_page_query,
)
from app.queries.rows import (
    FigureRow,
    articles,
    columns,
    conversions,
    evidence,
    places,
    trade_figure_area_counts,
    trade_figure_counts,
    trade_figures,
)


class FigureOrder(Enum):
    PERIOD_END_DESC = "PERIOD_END_DESC"
    PERIOD_END_ASC = "PERIOD_END_ASC"
    AMOUNT_USD_DESC = "AMOUNT_USD_DESC"  # figures without a USD value last
    SLUG_ASC = "SLUG_ASC"


def usd_value() -> ColumnElement[Decimal]:
    """Return the figure's USD value: its own amount in USD, else the ECB-computed conversion."""
    converted = (
        select(conversions.c.amount)
        .where(
            conversions.c.trade_figure_id == trade_figures.c.id,
            conversions.c.to_currency == "USD",
            conversions.c.kind == "computed",
        )
        .scalar_subquery()
    )
    return case((trade_figures.c.currency == "USD", trade_figures.c.amount), else_=converted)


ORDERINGS: dict[FigureOrder, Ordering] = named_orderings(
    "TradeFigure",
    {
        FigureOrder.PERIOD_END_DESC: Ordering(
            (SortKey(trade_figures.c.period_end, dt.date), SortKey(trade_figures.c.id, int)), descending=True
        ),
        FigureOrder.PERIOD_END_ASC: Ordering(
            (SortKey(trade_figures.c.period_end, dt.date), SortKey(trade_figures.c.id, int))
        ),
        FigureOrder.AMOUNT_USD_DESC: Ordering(
            (SortKey(func.coalesce(usd_value(), -1), Decimal), SortKey(trade_figures.c.id, int)), descending=True
        ),
        FigureOrder.SLUG_ASC: Ordering((SortKey(trade_figures.c.slug, str), SortKey(trade_figures.c.id, int))),
    },
)


@dataclasses.dataclass(frozen=True)
class FigureFilter:
    reporter: str | None = None  # slug or ISO code
    partner: str | None = None  # slug or ISO code
    include_subregions: bool = False  # reporter/partner also match places inside them
    flows: Sequence[str] | None = None
    period_from: dt.date | None = None  # figures whose period overlaps [period_from, period_to]
    period_to: dt.date | None = None
    statuses: Sequence[str] | None = None
    currency: str | None = None  # currency the figure was stated in
    usd_min: Decimal | None = None
    usd_max: Decimal | None = None
    article: str | None = None  # slug of an article that states the figure
    measure: str | None = None  # "money" | "quantity" | "change"
    commodity: str | None = None  # case-insensitive substring
    # accepted facts unless asked otherwise: drafts never mix in silently
    reviews: Sequence[str] | None = ("accepted",)


def _place_ids(ref: str, *, subregions: bool) -> ColumnElement[Any]:
    ids = select(places.c.id).where(place_ref(ref)).scalar_subquery()
    return subtree_ids([ref]) if subregions else func.array(ids)


def _sides(f: FigureFilter, table: Table = trade_figures) -> ColumnElement[bool] | None:
    # `table`: trade_figures, or trade_figure_counts (the same columns)
    if f.reporter is None and f.partner is None:
        return None
    sub = f.include_subregions
    reporter = table.c.reporter_id
    partner = table.c.partner_id

    def side(column: ColumnElement[Any], ref: str | None, *, second: bool = False) -> ColumnElement[bool] | None:
        if ref is None:
            return None
        ids = _place_ids(ref, subregions=sub)
        if second and table is not trade_figures:
            # the counts are read from a covering index by the first side and the second tested
            # per entry: IN (subquery) hashes its places, = ANY(array) would walk them per entry
            return column.in_(select(func.unnest(ids)))
        # = ANY(array): an index condition even under the OR below (IN (subquery) is not)
        return column == any_(ids)

    paired = f.reporter is not None  # with a reporter named, the partner is the second side
    straight = [c for c in (side(reporter, f.reporter), side(partner, f.partner, second=paired)) if c is not None]
    if f.flows and "total" not in f.flows:
        # the crossed sides below match total flows only, which the flow filter excludes: without
        # the OR, the sides are index conditions that narrow each other (a BitmapAnd)
        return and_(*straight)
    crossed = [c for c in (side(partner, f.reporter), side(reporter, f.partner, second=paired)) if c is not None]
    # total trade between A and B is the same fact whichever side reported it
    return or_(and_(*straight), and_(table.c.flow == "total", *crossed))


def filtered(f: FigureFilter) -> Select[Any]:
    """Return a SELECT of figure rows matching `f`."""
    q = select(*columns(FigureRow))
    sides = _sides(f)
    if sides is not None:
        q = q.where(sides)
    return _beside_sides(q, f)


def _beside_sides(q: Select[Any], f: FigureFilter, table: FromClause = trade_figures) -> Select[Any]:
    # every condition of `f` but the reporter's and partner's; on trade_figure_counts (`table`),
    # those counted_by_value() accepts
    if f.flows:
        q = q.where(table.c.flow.in_(list(f.flows)))
    if f.period_from is not None:
        q = q.where(table.c.period_end >= f.period_from)
    if f.period_to is not None:
        q = q.where(table.c.period_start <= f.period_to)
    if f.statuses:
        q = q.where(table.c.status.in_(list(f.statuses)))
    q = reviewed(q, table.c.review, f.reviews)
    if f.currency is not None:
        q = q.where(table.c.currency == f.currency.upper())
    if table is not trade_figures:
        return q.where(table.c.measure == f.measure) if f.measure is not None else q
    if f.usd_min is not None:
        q = q.where(usd_value() >= f.usd_min)
    if f.usd_max is not None:
        q = q.where(usd_value() <= f.usd_max)
    if f.article is not None:
        q = q.where(
            exists().where(
                evidence.c.trade_figure_id == trade_figures.c.id,
                evidence.c.article_id.in_(select(articles.c.id).where(articles.c.slug == f.article)),
            )
        )
    if f.measure == "money":
        q = q.where(trade_figures.c.amount.is_not(None))
    elif f.measure == "quantity":
        q = q.where(trade_figures.c.quantity.is_not(None))
    elif f.measure == "change":
        q = q.where(trade_figures.c.amount.is_(None), trade_figures.c.quantity.is_(None))
    elif f.measure is not None:
        q = q.where(false())
    if f.commodity:
        q = q.where(trade_figures.c.commodity.icontains(f.commodity, autoescape=True))
    return q


def counted_by_value(f: FigureFilter) -> bool:
    """Return whether trade_figure_counts holds every column `f` tests."""
    return (
        f.usd_min is None
        and f.usd_max is None
        and f.article is None
        and not f.commodity
        # a figure's currency is three letters; the counts hold '' for none
        and (f.currency is None or re.fullmatch("[A-Z]{3}", f.currency.upper()) is not None)
    )


def count_query(f: FigureFilter) -> Select[Any]:
    """Return the SELECT of how many figures match `f`: a sum of the figure counts when it can.

    A filter of places with the places inside them (or of none) sums trade_figure_area_counts,
    one pair of areas; a filter of the places themselves sums trade_figure_counts."""
    if not counted_by_value(f):
        return count_of(filtered(f))
    if f.include_subregions or (f.reporter is None and f.partner is None):
        return _area_count(f)
    return _place_count(f)


def _place_count(f: FigureFilter) -> Select[Any]:
    t = trade_figure_counts
    q = select(cast(func.coalesce(func.sum(t.c.figures), 0), BigInteger))
    sides = _sides(f, t)
    return _beside_sides(q if sides is None else q.where(sides), f, t)


ANY_AREA = -1  # trade_figure_area_counts' area of every place (and of no partner)


def _area_count(f: FigureFilter) -> Select[Any]:
    # the reporter's area paired with the partner's, as _sides matches them with the subregions
    t = trade_figure_area_counts.alias("c")
    # each place named, read once: its id (null when none) and how many places the reference
    # names (one's slug and another's code: two, whose subtrees are counted by place below)
    named = {
        ref: select(func.min(places.c.id).label("id"), func.count().label("n")).where(place_ref(ref)).subquery()
        for ref in dict.fromkeys(r for r in (f.reporter, f.partner) if r is not None)
    }
    any_area = literal(ANY_AREA, BigInteger)
    reporter = named[f.reporter].c.id if f.reporter is not None else any_area
    partner = named[f.partner].c.id if f.partner is not None else any_area

    def summed(r: ColumnElement[Any], p: ColumnElement[Any], *, total_only: bool = False) -> ColumnElement[Any]:
        q = select(func.coalesce(func.sum(t.c.figures), 0)).where(t.c.reporter_area_id == r, t.c.partner_area_id == p)
        return _beside_sides(q.where(t.c.flow == "total") if total_only else q, f, t).scalar_subquery()

    n = summed(reporter, partner)
    if named and (not f.flows or "total" in f.flows):
        # total trade between A and B is the same fact whichever side reported it (_sides): the
        # total flows reported the other way round, less those matched both ways (both places in
        # the smaller area, when one area holds the other), which the first sum holds already
        if f.reporter is None or f.partner is None:
            both: ColumnElement[Any] = partner if f.reporter is None else reporter
        else:
            both = case((_in_area(partner, reporter), partner), (_in_area(reporter, partner), reporter))
        n = n + summed(partner, reporter, total_only=True) - summed(both, both, total_only=True)
    if not named:
        return select(cast(n, BigInteger))
    twice = or_(*(side.c.n > 1 for side in named.values()))
    first, *second = named.values()  # one row each
    sides = first.join(second[0], true()) if second else first
    return select(cast(case((twice, _place_count(f).scalar_subquery()), else_=n), BigInteger)).select_from(sides)


def _in_area(place: ColumnElement[Any], area: ColumnElement[Any]) -> ColumnElement[bool]:
    # whether `place` is `area` or lies inside it (place_areas: migration c8e2a4f6b1d7)
    held = func.place_areas(array([place])).table_valued("place_id", "area_id")
    return exists().select_from(held).where(held.c.area_id == area)


# the most places a subtree has for its figures' page to be merged from a page per place
MERGE_UP_TO = 50


def figure_page(
    where: FigureFilter, order: FigureOrder, args: PageArgs, *, merge_up_to: int | None = MERGE_UP_TO
) -> PageQuery:
    """Return the SELECT of one page of `filtered(where)` in `order`.

    The figures of one reporter (and of the places inside it), whatever their partner, are
    merged from a page per place of the subtree (merged_page_query): the figures it reports, read
    from `ix_trade_figures_reporter_id_period_end_id` in `order`, and the total flows reported
    by a place outside the subtree with it as the partner. The subtree's size is unknown to the
    planner, so the single filtered SELECT reads the sort-key index and filters it by the
    subtree: for a small place, most of the figures.

    A subtree of more than `merge_up_to` places (a country: a large share of the figures, whose
    first rows the sort-key index finds soon; a page per place would read them all) is read
    from the single filtered SELECT; the statement counts the places and reads one of the two.
    `merge_up_to=None`: always merged."""
    ordering = ORDERINGS[order]
    if where.reporter is None or where.partner is not None:
        # ids and sort keys first: a filter of import or export flows reads them from
        # ix_trade_figures_flows_period_end_id alone, the rows then by primary key
        keys = page_query(filtered(where).with_only_columns(trade_figures.c.id), ordering, args)
        return rows_page_query(keys, trade_figures.c.id, columns(FigureRow))
    ids = _place_ids(where.reporter, subregions=where.include_subregions)
    tree = select(func.unnest(ids).label("id")).cte("tree")
    row = select(trade_figures.c.id)
    parts = [_beside_sides(row.where(trade_figures.c.reporter_id == tree.c.id), where)]
    if not where.flows or "total" in where.flows:
        # total trade between A and B is the same fact whichever side reported it (_sides)
        crossed = row.where(
            trade_figures.c.flow == "total",
            trade_figures.c.partner_id == tree.c.id,
            trade_figures.c.reporter_id.not_in(select(tree.c.id)),
        )
        parts.append(_beside_sides(crossed, where))
    single = page_query(filtered(where).with_only_columns(trade_figures.c.id), ordering, args)
    merged = merged_or_single_page_query(tree, parts, ordering, args, single, merge_up_to=merge_up_to)
    return rows_page_query(merged, trade_figures.c.id, columns(FigureRow))


async def list_figures(db: Reader, *, where: FigureFilter, order: FigureOrder, page: PageArgs) -> Page[FigureRow]:
    """Return one page of trade figures matching `where`."""
    paged = figure_page(where, order, page)
    return await paginate(
        db, filtered(where), ORDERINGS[order], page, lambda r: FigureRow(*r), paged=paged, counted=count_query(where)
    )
