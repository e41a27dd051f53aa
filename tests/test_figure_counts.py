"""Figure counts: what the triggers keep in trade_figure_counts equals a count of the figures.

A filtered page's totalCount sums trade_figure_counts when the filter tests only the columns it
holds. The table must equal a GROUP BY of the figures after any writer (inserts, updates of any
key column, deletes, TRUNCATE; the seeds and the bulk load in test_series_totals), and each
filter's sum must equal the count of the figures it matches, including filters built to trip
the table's stand-ins (no partner is 0, no currency is '').
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from app.queries.figures import FigureFilter, count_query, counted_by_value, filtered
from app.queries.pagination import count_of
from tests.conftest import gql
from tests.test_api_pagination import _statements

MEASURE = "CASE WHEN amount IS NOT NULL THEN 'money' WHEN quantity IS NOT NULL THEN 'quantity' ELSE 'change' END"
KEPT = "SELECT * FROM trade_figure_counts ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
REBUILT = (
    "SELECT reporter_id, coalesce(partner_id, 0), flow, period_end, period_start, status, review, "
    f"coalesce(currency, ''), {MEASURE} AS measure, count(*) FROM trade_figures "
    "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
)


def _filters(conn: Connection, *, n: int, seed: int = 20261203) -> list[FigureFilter]:
    """Return `n` filters drawn over the places, periods and values the figures hold, and hostile ones."""
    places = [s for (s,) in conn.execute(text("SELECT slug FROM places ORDER BY slug"))]
    codes = [c for (c,) in conn.execute(text("SELECT code FROM places WHERE code IS NOT NULL ORDER BY code"))]
    ends = [d for (d,) in conn.execute(text("SELECT DISTINCT period_end FROM trade_figures ORDER BY 1"))]
    draw = random.Random(seed)
    refs: list[str | None] = [None, None, *places, *codes]
    days: list[dt.date | None] = [None, None, *ends, dt.date(1900, 1, 1), dt.date(2999, 12, 31)]
    filters = [
        FigureFilter(),
        FigureFilter(reviews=("accepted", "pending")),
        FigureFilter(currency=""),  # no figure's currency is '' (the table's stand-in for none)
        FigureFilter(currency="usd"),
        FigureFilter(currency="US"),
        FigureFilter(currency="USDX"),
        FigureFilter(measure="weight"),
        FigureFilter(measure="change"),
        FigureFilter(commodity="oil"),  # not held: the figures are counted
    ]
    for _ in range(n):
        start, end = draw.choice(days), draw.choice(days)
        filters.append(
            FigureFilter(
                reporter=draw.choice(refs),
                partner=draw.choice(refs),
                include_subregions=draw.random() < 0.5,
                flows=draw.choice([None, ["total"], ["export"], ["export", "import"], ["import", "total"]]),
                period_from=start,
                period_to=end,
                statuses=draw.choice([None, ["actual"], ["estimate", "forecast"], ["target"]]),
                reviews=draw.choice([("accepted",), ("pending",), ("accepted", "pending")]),
                currency=draw.choice([None, None, "USD", "cny", "RUB", "EUR"]),
                measure=draw.choice([None, None, "money", "quantity", "change"]),
            )
        )
    return filters


def assert_counts_hold(conn: Connection, *, n: int = 60) -> int:
    """Assert the table equals its rebuild and each filter's count the figures'; return the figures counted."""
    assert list(conn.execute(text(KEPT))) == list(conn.execute(text(REBUILT)))
    counted = 0
    for where in _filters(conn, n=n):
        expected = conn.execute(count_of(filtered(where))).scalar_one()
        assert conn.execute(count_query(where)).scalar_one() == expected, where
        counted += expected
    return counted


def test_counts_match_the_seeded_figures(conn: Connection) -> None:
    assert assert_counts_hold(conn, n=300) > 0


def test_counts_follow_every_kind_of_write(conn: Connection) -> None:
    # in one transaction (rolled back): the triggers run in the writer's own
    conn.execute(text("UPDATE trade_figures SET review = 'pending' WHERE id % 3 = 0"))
    conn.execute(text("UPDATE trade_figures SET partner_id = NULL WHERE flow <> 'total' AND id % 4 = 1"))
    conn.execute(text("UPDATE trade_figures SET period_end = period_end + 1 WHERE id % 5 = 2"))
    conn.execute(
        text(
            "UPDATE trade_figures SET quantity = amount, unit = 'tonnes', amount = NULL, currency = NULL "
            "WHERE amount IS NOT NULL AND id % 6 = 3 AND id NOT IN (SELECT trade_figure_id FROM currency_conversions)"
        )
    )
    conn.execute(text("UPDATE trade_figures SET note = 'unchanged key' WHERE id % 2 = 0"))  # nets to nothing
    assert_counts_hold(conn, n=30)
    conn.execute(text("DELETE FROM trade_figures WHERE id = (SELECT max(id) FROM trade_figures)"))
    copied = (
        "reporter_id, partner_id, flow, commodity, amount, currency, quantity, unit, period_start, period_end, "
        "period_type, period_label, period_basis, period_inference, change_pct, change_multiple, change_basis, "
        "approximation, status, source_id, note, review"
    )
    conn.execute(
        text(f"INSERT INTO trade_figures (slug, {copied}) SELECT slug || '-again', {copied} FROM trade_figures")
    )
    assert assert_counts_hold(conn, n=30) > 0
    conn.execute(text("TRUNCATE trade_figures CASCADE"))
    assert conn.execute(text("SELECT count(*) FROM trade_figure_counts")).scalar_one() == 0
    assert assert_counts_hold(conn, n=5) == 0


def test_a_held_filter_is_counted_from_the_table(conn: Connection) -> None:
    held = FigureFilter(reporter="CN", partner="RU", flows=["export"], period_from=dt.date(2020, 1, 1))
    assert counted_by_value(held)
    plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + _sql(conn, count_query(held)))))
    assert "trade_figure_counts" in plan and "trade_figures " not in plan.replace("trade_figures_", "")
    for other in (
        FigureFilter(commodity="oil"),
        FigureFilter(article="x"),
        FigureFilter(usd_min=Decimal(1)),
        FigureFilter(currency="U$D"),
    ):
        assert not counted_by_value(other)


def _sql(conn: Connection, stmt: Any) -> str:
    return str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))


TOTAL = """
query ($filter: TradeFigureFilter) {
  tradeFigures(filter: $filter, first: 1) { totalCount }
}
"""


def test_total_count_is_the_same_on_both_paths(api: TestClient, resolver_api: TestClient) -> None:
    for variables in (
        {},
        {"filter": {"reporter": "CN", "partner": "RU"}},
        {"filter": {"reporter": "CN", "includeSubregions": True, "flow": ["EXPORT", "TOTAL"]}},
        {"filter": {"periodFrom": "2023-01-01", "periodTo": "2023-12-31", "status": ["ACTUAL"]}},
        {"filter": {"review": ["PENDING", "ACCEPTED"], "currency": "usd"}},
        {"filter": {"commodity": "oil"}},
    ):
        compiled = gql(api, TOTAL, variables)["data"]["tradeFigures"]["totalCount"]
        resolved = gql(resolver_api, TOTAL, variables)["data"]["tradeFigures"]["totalCount"]
        assert compiled == resolved, variables
        assert _statements(api, TOTAL, variables) == 1, "compiled, with its total, in one statement"
