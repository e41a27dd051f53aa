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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Date, and_, case, cast, exists, func, literal_column, or_, select

from app.db import Reader
from app.queries.common import ancestors_cte
from app.queries.figures import FigureFilter, filtered
from app.queries.rows import conversions, trade_figures


class Granularity(Enum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"

    @property
    def length(self) -> str:
        """Return the period's length as a Postgres interval literal."""
        return {"year": "1 year", "quarter": "3 months", "month": "1 month"}[self.value]


@dataclasses.dataclass(frozen=True, slots=True)
class SeriesPoint:
    period_start: dt.date
    period_end: dt.date
    value: Decimal | None  # None when a figure of the point has no conversion to the currency
    currency: str
    figure_ids: list[int]
    excluded: list[tuple[int, int]]  # (figure id, id of the figure that covers it)
    missing_conversion_ids: list[int]


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
        .where(f.c.period_start == start, f.c.period_end == end)
        .cte("valued")
    )
    anc = ancestors_cte()

    def contains(outer: Any, inner: Any) -> Any:
        # x and y belong to enclosing queries two levels up: correlate them explicitly
        return exists().where(anc.c.ancestor_id == outer, anc.c.place_id == inner).correlate_except(anc)

    x, y = valued.alias("x"), valued.alias("y")
    flow_ok = or_(y.c.flow == x.c.flow, y.c.flow == "total")
    commodity_ok = or_(y.c.commodity.is_(None), y.c.commodity == x.c.commodity)
    partner_ok = or_(
        y.c.partner_id.is_(None), and_(x.c.partner_id.is_not(None), contains(y.c.partner_id, x.c.partner_id))
    )
    places_ok = or_(
        and_(contains(y.c.reporter_id, x.c.reporter_id), partner_ok),
        and_(
            y.c.flow == "total",
            x.c.partner_id.is_not(None),
            y.c.partner_id.is_not(None),
            contains(y.c.reporter_id, x.c.partner_id),
            contains(y.c.partner_id, x.c.reporter_id),
        ),
    )
    same_scope = and_(
        y.c.flow == x.c.flow,
        y.c.commodity.is_not_distinct_from(x.c.commodity),
        or_(
            and_(y.c.reporter_id == x.c.reporter_id, y.c.partner_id.is_not_distinct_from(x.c.partner_id)),
            and_(y.c.flow == "total", y.c.reporter_id == x.c.partner_id, y.c.partner_id == x.c.reporter_id),
        ),
    )
    covers = and_(
        y.c.bucket_start == x.c.bucket_start,
        y.c.id != x.c.id,
        or_(y.c.id == x.c.part_of_id, and_(flow_ok, commodity_ok, places_ok, or_(~same_scope, y.c.id < x.c.id))),
    )
    covered_by = (
        select(y.c.id).where(covers).order_by((y.c.id == x.c.part_of_id).desc(), y.c.id).limit(1).scalar_subquery()
    )
    marked = select(x, covered_by.label("covered_by")).subquery("marked")
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


async def list_points(db: Reader, *, where: FigureFilter, granularity: Granularity, currency: str) -> list[SeriesPoint]:
    """Return the series' points in period order."""
    if not where.statuses:
        where = dataclasses.replace(where, statuses=["actual"])  # sums mix no forecasts or targets
    points = []
    for start, end, total, kept, dropped, covering, missing in await db.all(series_query(where, granularity, currency)):
        missing_ids: Sequence[int] = sorted(missing or [])
        points.append(
            SeriesPoint(
                period_start=start,
                period_end=end,
                value=None if missing_ids else total,
                currency=currency,
                figure_ids=sorted(kept or []),
                excluded=sorted(zip(dropped or [], covering or [], strict=True)),
                missing_conversion_ids=list(missing_ids),
            )
        )
    return points
