"""Figure counts: what the triggers keep in trade_figure_counts and trade_figure_area_counts
equals a count of the figures.

A filtered page's totalCount sums one of the tables when the filter tests only the columns they
hold (by area when it includes the places inside the reporter and partner). Each table must
equal a GROUP BY of the figures after any writer (inserts, updates of any key column, deletes,
TRUNCATE, a place moved to another parent; the seeds and the bulk load in test_series_totals),
and each filter's sum must equal the count of the figures it matches, including filters built to
trip the tables' stand-ins (no partner is 0, no currency is '', any place is -1) and a reference
that names two places.
"""

from __future__ import annotations

import dataclasses
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

KEPT_AREAS = "SELECT * FROM trade_figure_area_counts ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
# every place holding a figure's reporter (itself and each place above it) by every place
# holding its partner, and -1 on either side for any place (no partner included)
REBUILT_AREAS = (
    "WITH RECURSIVE up (place_id, area_id) AS ("
    " SELECT id, id FROM places UNION ALL"
    " SELECT up.place_id, p.parent_id FROM up JOIN places p ON p.id = up.area_id WHERE p.parent_id IS NOT NULL"
    "), areas AS (SELECT * FROM up UNION ALL SELECT id, -1 FROM places UNION ALL SELECT 0, -1) "
    "SELECT r.area_id, p.area_id, flow, period_end, period_start, status, review, "
    f"coalesce(currency, ''), {MEASURE} AS measure, count(*) FROM trade_figures f "
    "JOIN areas r ON r.place_id = f.reporter_id JOIN areas p ON p.place_id = coalesce(f.partner_id, 0) "
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
    assert list(conn.execute(text(KEPT_AREAS))) == list(conn.execute(text(REBUILT_AREAS)))
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
    assert conn.execute(text("SELECT count(*) FROM trade_figure_area_counts")).scalar_one() == 0
    assert assert_counts_hold(conn, n=5) == 0


def test_area_counts_follow_a_place_moved_to_another_parent(conn: Connection) -> None:
    # a place with figures inside it, and the country of another place with figures, moved there
    moved, to = conn.execute(
        text(
            "SELECT p.id, other.id FROM places p, places other "
            "WHERE p.parent_id IS NOT NULL AND other.parent_id IS NULL AND other.id <> p.parent_id "
            "AND EXISTS (SELECT 1 FROM trade_figures f WHERE f.reporter_id = p.id OR f.partner_id = p.id) "
            "AND EXISTS (SELECT 1 FROM trade_figures f WHERE f.reporter_id = other.id) ORDER BY p.id, other.id LIMIT 1"
        )
    ).one()
    before = list(conn.execute(text(KEPT_AREAS)))
    conn.execute(text("UPDATE places SET parent_id = :to WHERE id = :moved"), {"to": to, "moved": moved})
    assert list(conn.execute(text(KEPT_AREAS))) != before
    assert assert_counts_hold(conn, n=100) > 0
    conn.execute(text("UPDATE places SET parent_id = NULL WHERE id = :moved"), {"moved": moved})
    conn.execute(text("UPDATE places SET name = name || ' (renamed)'"))  # no place moves: nothing rebuilt
    assert assert_counts_hold(conn, n=100) > 0


def test_a_reference_naming_two_places_counts_both_subtrees(conn: Connection) -> None:
    # a new place whose slug is a country's code in lower case: "ru" names both
    code = conn.execute(
        text("SELECT code FROM places WHERE parent_id IS NULL AND code IS NOT NULL ORDER BY code LIMIT 1")
    ).scalar_one()
    city = conn.execute(
        text(
            "SELECT id FROM places WHERE parent_id IS NOT NULL AND id IN (SELECT reporter_id FROM trade_figures) "
            "ORDER BY id LIMIT 1"
        )
    ).scalar_one()
    conn.execute(
        text("INSERT INTO places (slug, name, kind, aliases) VALUES (:slug, 'Namesake', 'city', '{}')"),
        {"slug": code.lower()},
    )
    conn.execute(
        text("UPDATE places SET parent_id = (SELECT id FROM places WHERE slug = :slug) WHERE id = :city"),
        {"slug": code.lower(), "city": city},
    )
    assert (
        conn.execute(
            text("SELECT count(*) FROM places WHERE slug = :s OR code = :c"), {"s": code.lower(), "c": code}
        ).scalar_one()
        == 2
    )
    for where in (
        FigureFilter(reporter=code.lower(), include_subregions=True),
        FigureFilter(partner=code.lower(), include_subregions=True, flows=["export"]),
        FigureFilter(reporter=code.lower(), partner=code, include_subregions=True),
    ):
        expected = conn.execute(count_of(filtered(where))).scalar_one()
        assert conn.execute(count_query(where)).scalar_one() == expected, where


def test_a_held_filter_is_counted_from_the_table(conn: Connection) -> None:
    held = FigureFilter(reporter="CN", partner="RU", flows=["export"], period_from=dt.date(2020, 1, 1))
    assert counted_by_value(held)
    plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + _sql(conn, count_query(held)))))
    assert "trade_figure_counts" in plan and "trade_figures " not in plan.replace("trade_figures_", "")
    # with the places inside them: one pair of areas (the figure counts by place only for a
    # reference that names two places, never reached here)
    subtrees = dataclasses.replace(held, include_subregions=True)
    plan = _analyzed(conn, count_query(subtrees))
    assert "trade_figure_area_counts" in plan, plan
    assert all("never executed" in line for line in plan.splitlines() if " on trade_figure_counts " in line), plan
    assert "trade_figures " not in plan.replace("trade_figures_", "")
    for other in (
        FigureFilter(commodity="oil"),
        FigureFilter(article="x"),
        FigureFilter(usd_min=Decimal(1)),
        FigureFilter(currency="U$D"),
    ):
        assert not counted_by_value(other)


def _analyzed(conn: Connection, stmt: Any) -> str:
    return "\n".join(r[0] for r in conn.execute(text("EXPLAIN ANALYZE " + _sql(conn, stmt))))


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


def test_total_flows_within_one_area_are_counted_once(conn: Connection) -> None:
    # total trade between a place and a place inside it matches a filter of the outer place both
    # ways round: counted once
    moved = conn.execute(
        text(
            "UPDATE trade_figures f SET partner_id = c.id FROM places c "
            "WHERE c.parent_id = f.reporter_id AND f.flow = 'total' AND f.id % 2 = 0"
        )
    ).rowcount
    conn.execute(
        text(
            "UPDATE trade_figures f SET partner_id = p.parent_id FROM places p "
            "WHERE p.id = f.reporter_id AND p.parent_id IS NOT NULL AND f.flow = 'total' AND f.id % 2 = 1"
        )
    )
    assert moved > 0
    # and between a place and one inside it, both inside a country: that pair is matched both ways
    # by a filter of the outer place and the country as well
    conn.execute(
        text(
            "INSERT INTO places (slug, name, kind, aliases, parent_id) SELECT 'outer-area', 'Outer', 'province', "
            "'{}', (SELECT reporter_id FROM trade_figures WHERE flow = 'total' ORDER BY id LIMIT 1)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO places (slug, name, kind, aliases, parent_id) "
            "SELECT 'inner-area', 'Inner', 'city', '{}', id FROM places WHERE slug = 'outer-area'"
        )
    )
    conn.execute(
        text(
            "UPDATE trade_figures SET reporter_id = (SELECT id FROM places WHERE slug = 'outer-area'), "
            "partner_id = (SELECT id FROM places WHERE slug = 'inner-area') WHERE flow = 'total' AND id % 3 = 0"
        )
    )
    # each total figure's reporter, partner and the reporter's parent, by slug and by code
    trios = conn.execute(
        text(
            "SELECT DISTINCT r.slug, p.code, up.slug FROM trade_figures f JOIN places r ON r.id = f.reporter_id "
            "JOIN places p ON p.id = f.partner_id LEFT JOIN places up ON up.id = r.parent_id WHERE f.flow = 'total'"
        )
    ).all()
    filters = []
    for trio in trios:
        refs = [ref for ref in trio if ref is not None]
        for a in refs:
            filters += [
                FigureFilter(reporter=a, include_subregions=True),
                FigureFilter(partner=a, include_subregions=True, flows=["total", "export"]),
            ]
            filters += [FigureFilter(reporter=a, partner=b, include_subregions=True) for b in refs]
    for where in filters:
        expected = conn.execute(count_of(filtered(where))).scalar_one()
        assert conn.execute(count_query(where)).scalar_one() == expected, where
    assert assert_counts_hold(conn, n=30) > 0
