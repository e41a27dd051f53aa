"""Trade series: money figures summed per period in SQL, without counting anything twice.

A figure joins a point only when its period is exactly one period of the granularity (a
January–September figure is not a year). Within a point, a figure is left out — and listed
with the figure that covers it — when another figure of the point already includes it:
  * it is `part_of` that figure (imports within total trade);
  * that figure is broader: a reporter and partner that contain this one's (China ⊇ Liaoning),
    the same flow or TOTAL (total ⊇ exports), and all goods or the same commodity;
  * it corroborates that figure: the same scope, stated again (the lower id is kept).
Values are in the asked currency: the figure's own amount when it is in that currency,
else its ECB-computed conversion; a point lacking a conversion is marked incomplete.

The totals of a point come from `trade_series_totals`, which the database keeps for every pair
of places a filter may name (migration 3e7a9c51d2b8 applies the rules above when it builds them),
so a chart reads a few rows per point whatever the number of figures. The same refresh keeps the
figures each point sums (`trade_series_kept`) and what covers each figure (`trade_series_covers`):
a page of a point's contributions or left-out figures reads a page's worth of rows
(kept_page_query, excluded_page_query), as the compiled statement does. Filters the totals do not
cover (a currency filter, amounts, an article, commodities, several statuses or review states,
some flows only) are computed from the figures, as are the figures of a point on the resolvers'
path (the reference the tests compare the rollup with), one point at a time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Date, and_, any_, case, cast, exists, false, func, literal_column, or_, select, true, union_all

from app.db import Reader
from app.models import trade_series_covers as covers_table
from app.models import trade_series_kept as kept_table
from app.models import trade_series_totals as totals
from app.queries.common import ancestors_cte, place_ref
from app.queries.figures import FigureFilter, filtered
from app.queries.rows import conversions, places, trade_figures
from app.seed.format import TradeFlow


class Granularity(Enum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"

    @property
    def length(self) -> str:
        """Return the period's length as a Postgres interval literal."""
        return {"year": "1 year", "quarter": "3 months", "month": "1 month"}[self.value]


@dataclasses.dataclass(frozen=True, slots=True)
class PointFigures:
    figure_ids: list[int]  # the figures summed, by id
    excluded: list[tuple[int, int]]  # (figure id, id of the figure that covers it)
    missing_conversion_ids: list[int]


@dataclasses.dataclass(frozen=True, slots=True)
class SeriesPoint:
    period_start: dt.date
    period_end: dt.date
    value: Decimal | None  # None when a figure of the point has no conversion to the currency
    currency: str
    complete: bool
    figures: PointFigures | None  # None when read from the totals: point_figures() lists them


def label(start: dt.date, granularity: Granularity) -> str:
    """Return a period's display label: 2023, 2023-Q3, 2023-09."""
    if granularity is Granularity.YEAR:
        return f"{start.year}"
    if granularity is Granularity.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def series_query(where: FigureFilter, granularity: Granularity, currency: str) -> Any:
    """Return the SELECT computing one row per period."""
    unit = granularity.value
    f = filtered(where).where(trade_figures.c.amount.is_not(None)).subquery("f")
    truncated = func.date_trunc(unit, f.c.period_start)
    start = cast(truncated, Date)
    # the interval text comes from the enum above, never from input
    end = cast(
        truncated + literal_column(f"interval '{granularity.length}'") - literal_column("interval '1 day'"), Date
    )
    computed = conversions.alias("c")
    valued = (
        select(
            f.c.id,
            f.c.reporter_id,
            f.c.partner_id,
            f.c.flow,
            f.c.commodity,
            f.c.part_of_id,
            start.label("bucket_start"),
            end.label("bucket_end"),
            case((f.c.currency == currency, f.c.amount), else_=computed.c.amount).label("value"),
        )
        .outerjoin(
            computed,
            and_(
                computed.c.trade_figure_id == f.c.id, computed.c.kind == "computed", computed.c.to_currency == currency
            ),
        )
        # The same test as `period_start = start AND period_end = end`, which Postgres estimates
        # to keep next to no rows (0.5 % squared), whereupon it joins the figures below in nested
        # loops; as a CASE its estimate is half the rows, nearer the truth, and the joins hash.
        .where(case((and_(f.c.period_start == start, f.c.period_end == end), true()), else_=false()))
        .cte("valued")
    )
    # (place, ancestor) pairs. Postgres cannot estimate a recursive CTE (it guesses a hundred times
    # too many rows, which, joined twice, prices this query high enough to be JIT-compiled, which
    # takes longer than running it): read from arrays, the pairs are estimated at a handful.
    pairs = ancestors_cte()
    packed = select(
        func.array_agg(pairs.c.place_id).label("place_ids"), func.array_agg(pairs.c.ancestor_id).label("ancestor_ids")
    ).subquery("packed")
    pair = (
        func.unnest(packed.c.place_ids, packed.c.ancestor_ids)
        .table_valued("place_id", "ancestor_id")
        .render_derived(name="pair")
    )
    anc = select(pair.c.place_id, pair.c.ancestor_id).select_from(packed).join(pair, true()).cte("ancestors")

    # Which figure covers x, without comparing every pair of a point's figures. Whether y covers
    # x depends on x and on y's scope (point, reporter, partner, flow, commodity) and id only, and
    # of the figures of one scope the lowest id is the one that would be chosen: so figures are
    # grouped by scope (`y`, whose id is the scope's lowest), and each x meets only the scopes
    # whose places can contain its own (`probes`): reporter among its reporter's ancestors and
    # partner none (key 0) or among its partner's ancestors; or, crossed, a total's reporter among
    # its partner's ancestors and partner among its reporter's.
    y = (
        select(
            valued.c.bucket_start,
            valued.c.reporter_id,
            valued.c.partner_id,
            func.coalesce(valued.c.partner_id, 0).label("partner_key"),
            valued.c.flow,
            valued.c.commodity,
            func.min(valued.c.id).label("id"),
        )
        .group_by(valued.c.bucket_start, valued.c.reporter_id, valued.c.partner_id, valued.c.flow, valued.c.commodity)
        .cte("scopes")
    )
    v = valued.alias("v")
    ra, pa = anc.alias("ra"), anc.alias("pa")
    own = (v.c.id, v.c.bucket_start, v.c.reporter_id, v.c.partner_id, v.c.flow, v.c.commodity)
    x = union_all(
        select(
            *own,
            ra.c.ancestor_id.label("reporter_key"),
            literal_column("0").label("partner_key"),
            false().label("crossed"),
        ).join(ra, ra.c.place_id == v.c.reporter_id),
        select(*own, ra.c.ancestor_id, pa.c.ancestor_id, false())
        .join(ra, ra.c.place_id == v.c.reporter_id)
        .join(pa, pa.c.place_id == v.c.partner_id),
        select(*own, ra.c.ancestor_id, pa.c.ancestor_id, true())
        .join(ra, ra.c.place_id == v.c.partner_id)
        .join(pa, pa.c.place_id == v.c.reporter_id),
    ).subquery("probes")
    flow_ok = or_(y.c.flow == x.c.flow, y.c.flow == "total")
    commodity_ok = or_(y.c.commodity.is_(None), y.c.commodity == x.c.commodity)
    same_scope = and_(
        y.c.flow == x.c.flow,
        y.c.commodity.is_not_distinct_from(x.c.commodity),
        or_(
            and_(y.c.reporter_id == x.c.reporter_id, y.c.partner_id.is_not_distinct_from(x.c.partner_id)),
            # null-safe: a figure without a partner is never the crossed scope of another (a
            # NULL here would make a broader figure cover it only when its id is lower)
            and_(
                y.c.flow == "total",
                y.c.reporter_id.is_not_distinct_from(x.c.partner_id),
                y.c.partner_id.is_not_distinct_from(x.c.reporter_id),
            ),
        ),
    )
    candidates = (
        select(x.c.id.label("x_id"), y.c.id.label("y_id"))
        .join(
            y,
            and_(
                y.c.bucket_start == x.c.bucket_start,
                y.c.reporter_id == x.c.reporter_key,
                y.c.partner_key == x.c.partner_key,
            ),
        )
        .where(
            or_(~x.c.crossed, y.c.flow == "total"),
            y.c.id != x.c.id,
            flow_ok,
            commodity_ok,
            or_(~same_scope, y.c.id < x.c.id),
        )
        .subquery("candidates")
    )
    first_cover = (
        select(candidates.c.x_id, func.min(candidates.c.y_id).label("y_id"))
        .group_by(candidates.c.x_id)
        .subquery("cover")
    )
    # the figure x is part of covers it first, when it is in the same point
    whole = valued.alias("whole")
    covered_by = func.coalesce(whole.c.id, first_cover.c.y_id)
    v = valued.alias("point_figure")
    marked = (
        select(v, covered_by.label("covered_by"))
        .outerjoin(
            whole, and_(whole.c.id == v.c.part_of_id, whole.c.bucket_start == v.c.bucket_start, whole.c.id != v.c.id)
        )
        .outerjoin(first_cover, first_cover.c.x_id == v.c.id)
        .subquery("marked")
    )
    kept = marked.c.covered_by.is_(None)
    return (
        select(
            marked.c.bucket_start,
            marked.c.bucket_end,
            func.sum(marked.c.value).filter(kept),
            func.array_agg(marked.c.id).filter(kept),
            func.array_agg(marked.c.id).filter(~kept),
            func.array_agg(marked.c.covered_by).filter(~kept),
            func.array_agg(marked.c.id).filter(kept, marked.c.value.is_(None)),
        )
        .group_by(marked.c.bucket_start, marked.c.bucket_end)
        .order_by(marked.c.bucket_start)
    )


def with_default_status(where: FigureFilter) -> FigureFilter:
    """Return the filter with the statuses a series sums when none is asked: actual figures only."""
    if not where.statuses:
        return dataclasses.replace(where, statuses=["actual"])  # sums mix no forecasts or targets
    return where


def points_query(where: FigureFilter, granularity: Granularity, currency: str) -> Any:
    """Return the SELECT of the points: start, end, sum, kept ids, dropped ids, their covers, unconverted ids."""
    return series_query(with_default_status(where), granularity, currency)


_ALL_FLOWS = {f.value for f in TradeFlow}
# The currencies trade_series_totals holds: those the seed converts every money figure into
# (app.seed.convert.TARGET_CURRENCIES, not imported here: serving loads no converter; a test
# checks the two agree).
TOTALS_CURRENCIES = ("USD", "EUR", "CNY")


def from_totals(where: FigureFilter, currency: str) -> bool:
    """Return whether trade_series_totals holds the points of this filter in this currency."""
    where = with_default_status(where)
    return (
        currency in TOTALS_CURRENCIES
        # one value of each grouping dimension of the totals
        and len(set(where.statuses or ())) == 1
        and len(set(where.reviews or ())) == 1
        # the totals match every flow: a figure is covered by a TOTAL or part of any figure
        and (not where.flows or set(where.flows) == _ALL_FLOWS)
        and where.currency is None
        and where.usd_min is None
        and where.usd_max is None
        and where.article is None
        and where.measure in (None, "money")
        and not where.commodity
    )


def _filter_key(table: Any, where: FigureFilter, granularity: Granularity) -> list[Any]:
    """Return the conditions on a rollup `table` (totals, kept) selecting the rows of `where`'s series.

    Only for filters `from_totals` accepts, with their default status."""
    assert where.statuses is not None and where.reviews is not None

    def key(column: Any, ref: str | None) -> Any:
        if ref is None:
            return column == 0  # no place named: the totals over every place
        return column == any_(func.array(select(places.c.id).where(place_ref(ref)).scalar_subquery()))

    return [
        key(table.c.reporter_key, where.reporter),
        key(table.c.partner_key, where.partner),
        table.c.subregions == where.include_subregions,
        table.c.granularity == granularity.value,
        table.c.status == where.statuses[0],
        table.c.review == next(iter(where.reviews)),
    ]


def totals_query(where: FigureFilter, granularity: Granularity, currency: str) -> Any:
    """Return the SELECT of the points from the totals: start, end, sum, unconverted figures (null if none),
    figures summed, figures matched.

    Only for filters `from_totals` accepts."""
    where = with_default_status(where)
    t = totals
    unconverted = func.sum(t.c.unconverted)
    q = select(
        t.c.period_start,
        t.c.period_end,
        func.sum(t.c.value),
        case((unconverted > 0, unconverted)),
        func.sum(t.c.kept),
        func.sum(t.c.figures),
    ).where(*_filter_key(t, where, granularity), t.c.currency == currency)
    if where.period_from is not None:
        q = q.where(t.c.period_end >= where.period_from)
    if where.period_to is not None:
        q = q.where(t.c.period_start <= where.period_to)
    return q.group_by(t.c.period_start, t.c.period_end).order_by(t.c.period_start)


def kept_page_query(where: FigureFilter, granularity: Granularity, *, start: Any, limit: int) -> Any:
    """Return the SELECT of the first `limit` figures the point starting at `start` sums, by id: fid.

    From trade_series_kept, for filters `from_totals` accepts; `start` may be a correlated column."""
    k = kept_table
    return (
        select(k.c.figure_id.label("fid"))
        .where(*_filter_key(k, with_default_status(where), granularity), k.c.period_start == start)
        .distinct()  # (a place named by slug and another by code: each figure once)
        .order_by(k.c.figure_id)
        .limit(limit)
    )


def excluded_page_query(where: FigureFilter, granularity: Granularity, *, start: Any, end: Any, limit: int) -> Any:
    """Return the SELECT of the first `limit` figures the point leaves out, by id: fid, cover.

    The figures the point matches that it does not sum (trade_series_kept), each covered by the
    first of its covers (trade_series_covers: the whole it is part of, then the lowest id) that
    the filter matches too. For filters `from_totals` accepts; `start`, `end` may be correlated."""
    where = with_default_status(where)
    tf = trade_figures
    among = filtered(where).with_only_columns(tf.c.id)
    matched = among.where(tf.c.period_start == start, tf.c.period_end == end, tf.c.amount.is_not(None)).subquery(
        "matched"
    )
    k, c = kept_table, covers_table
    # NOT IN: the point's kept figures are read once, not probed per figure matched
    summed = matched.c.id.in_(
        select(k.c.figure_id).where(*_filter_key(k, where, granularity), k.c.period_start == start)
    )
    cover = (
        select(c.c.y_id)
        # (a cover has the point's period: its row is looked up by id, not the period's scanned)
        .where(c.c.x_id == matched.c.id, exists(among.where(tf.c.id == c.c.y_id)))
        .order_by(c.c.part_of.desc(), c.c.y_id)
        .limit(1)
        .scalar_subquery()
    )
    return select(matched.c.id.label("fid"), cover.label("cover")).where(~summed).order_by(matched.c.id).limit(limit)


def _figures(kept: Any, dropped: Any, covering: Any, missing: Any) -> PointFigures:
    return PointFigures(
        figure_ids=sorted(kept or []),
        excluded=sorted(zip(dropped or [], covering or [], strict=True)),
        missing_conversion_ids=sorted(missing or []),
    )


async def list_points(db: Reader, *, where: FigureFilter, granularity: Granularity, currency: str) -> list[SeriesPoint]:
    """Return the series' points in period order (from the totals when they hold them)."""
    if from_totals(where, currency):
        return [
            SeriesPoint(start, end, None if missing else total, currency, not missing, None)
            for start, end, total, missing, _kept, _matched in await db.all(totals_query(where, granularity, currency))
        ]
    points = []
    for start, end, total, kept, dropped, covering, missing in await db.all(points_query(where, granularity, currency)):
        found = _figures(kept, dropped, covering, missing)
        complete = not found.missing_conversion_ids
        points.append(SeriesPoint(start, end, total if complete else None, currency, complete, found))
    return points


def point_where(where: FigureFilter, start: dt.date, end: dt.date) -> FigureFilter:
    """Return the filter narrowed to one point's period (the rules never look beyond a point)."""
    return dataclasses.replace(where, period_from=start, period_to=end)


async def point_figures(
    db: Reader, *, where: FigureFilter, granularity: Granularity, currency: str, point: SeriesPoint
) -> PointFigures:
    """Return which figures make one point: those summed, those left out and what covers them."""
    if point.figures is not None:
        return point.figures
    narrowed = point_where(where, point.period_start, point.period_end)
    for start, _end, _total, kept, dropped, covering, missing in await db.all(
        points_query(narrowed, granularity, currency)
    ):
        if start == point.period_start:
            return _figures(kept, dropped, covering, missing)
    return PointFigures([], [], [])
