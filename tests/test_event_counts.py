"""Event counts: what the triggers keep in event_counts equals a count of the dated events per day.

A page of events' totalCount sums event_counts for the events that start in the filter's range and
counts the others (started before it and lasting into it, undated) from the events, when the filter
tests at most kinds, dates and review states. The table must equal a GROUP BY of the events after
any writer (inserts, updates of a key column or of none, deletes, TRUNCATE; the seeds and the bulk
load through the statistics tests), and each filter's count the events it matches.
"""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Connection, select, text

from app.queries.common import LATEST
from app.queries.events import EventFilter, _ends, count_query, filtered
from app.queries.pagination import count_of
from app.queries.rows import events
from tests.conftest import gql
from tests.test_api_pagination import _statements

KEPT = "SELECT starts_on, kind, review, events FROM event_counts ORDER BY 1, 2, 3"
REBUILT = (
    "SELECT starts_on, kind, review, count(*) FROM events WHERE starts_on IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)


def _filters(conn: Connection) -> list[EventFilter]:
    """Return date ranges on and around every event's start and end, with kinds and review states."""
    days: set[dt.date] = {dt.date(2024, 1, 1)}  # one bound when there are no events
    # each dated event's start and last day (a month's last day for "February 2022")
    for starts, ends in conn.execute(select(events.c.starts_on, _ends()).where(events.c.starts_on.is_not(None))):
        for day in (starts, ends):
            days |= {day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)}
    bounds = sorted(days)[:: max(1, len(days) // 12)]
    kinds = [k for (k,) in conn.execute(text("SELECT DISTINCT kind FROM events ORDER BY 1"))]
    filters = [EventFilter(), EventFilter(reviews=None), EventFilter(reviews=("pending",))]
    filters += [EventFilter(starts_from=b) for b in bounds] + [EventFilter(ends_to=b) for b in bounds]
    filters += [EventFilter(starts_from=a, ends_to=b) for a in bounds for b in bounds]  # a > b too: none
    filters += [EventFilter(ends_to=LATEST), EventFilter(starts_from=dt.date(1, 1, 1), ends_to=LATEST)]
    filters += [EventFilter(kinds=[k], starts_from=bounds[len(bounds) // 2], reviews=None) for k in kinds]
    filters += [EventFilter(kinds=[*kinds[:2], "no-such-kind"], ends_to=bounds[-1], reviews=("accepted", "pending"))]
    # not held: the events are counted
    filters += [EventFilter(place="CN", starts_from=bounds[0]), EventFilter(organisation="no-such-organisation")]
    return filters


def assert_counts_hold(conn: Connection) -> int:
    """Assert the table equals its rebuild and each filter's count the events'; return the events counted."""
    assert list(conn.execute(text(KEPT))) == list(conn.execute(text(REBUILT)))
    counted = 0
    for where in _filters(conn):
        expected = conn.execute(count_of(filtered(where))).scalar_one()
        assert conn.execute(count_query(where)).scalar_one() == expected, where
        counted += expected
    return counted


def test_counts_match_the_seeded_events(conn: Connection) -> None:
    assert assert_counts_hold(conn) > 0


COPIED = "name, kind, date_precision, date_basis, date_inference, participant_approximation, description, review"


def test_counts_follow_every_kind_of_write(conn: Connection) -> None:
    # in one transaction (rolled back): the triggers run in the writer's own
    seeded = conn.execute(text("SELECT max(id) FROM events")).scalar_one()
    for suffix, starts, ends in (
        ("later", "starts_on + 40", "ends_on + 40"),  # starts and ends moved: spans across new bounds
        ("long", "starts_on - 3", "coalesce(ends_on, starts_on) + 9"),  # longer: the overlap's bound moves
        ("undated", "NULL", "NULL"),
        ("undated-ending", "NULL", "coalesce(ends_on, starts_on)"),  # allowed: ends_on >= NULL holds
    ):
        conn.execute(
            text(
                f"INSERT INTO events (slug, starts_on, ends_on, {COPIED}) "
                f"SELECT slug || '-{suffix}', {starts}, {ends}, {COPIED} FROM events WHERE id <= :seeded"
            ),
            {"seeded": seeded},
        )
    assert assert_counts_hold(conn) > 0
    conn.execute(text("UPDATE events SET review = 'pending' WHERE slug LIKE '%-later' AND id % 2 = 0"))
    conn.execute(text("UPDATE events SET kind = 'other' WHERE id % 3 = 0"))
    conn.execute(text("UPDATE events SET starts_on = NULL, ends_on = NULL WHERE slug LIKE '%-long' AND id % 2 = 1"))
    conn.execute(text("UPDATE events SET starts_on = DATE '2024-02-29' WHERE slug LIKE '%-undated' AND id % 2 = 0"))
    conn.execute(text("UPDATE events SET name = name || '.'"))  # nets to nothing
    assert_counts_hold(conn)
    conn.execute(text("DELETE FROM events WHERE slug LIKE '%-later' AND id % 5 <> 0"))
    assert assert_counts_hold(conn) > 0
    conn.execute(text("DELETE FROM events WHERE slug LIKE '%-later' OR slug LIKE '%-long' OR slug LIKE '%-undated%'"))
    assert list(conn.execute(text(KEPT))) == list(conn.execute(text(REBUILT)))
    conn.execute(text("TRUNCATE events CASCADE"))
    assert conn.execute(text("SELECT count(*) FROM event_counts")).scalar_one() == 0
    assert assert_counts_hold(conn) == 0


def _plan(conn: Connection, where: EventFilter) -> str:
    stmt = count_query(where).compile(conn, compile_kwargs={"literal_binds": True})
    return "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {stmt}")))


def test_a_date_range_is_counted_by_day(conn: Connection) -> None:
    for held in (EventFilter(), EventFilter(starts_from=dt.date(2024, 1, 1), ends_to=dt.date(2024, 12, 31))):
        assert "event_counts" in _plan(conn, held)
    assert "event_counts" not in _plan(conn, EventFilter(place="CN"))


TOTAL = """
query ($filter: EventFilter) {
  events(filter: $filter, first: 1) { totalCount }
}
"""


def test_total_count_is_the_same_on_both_paths(api: TestClient, resolver_api: TestClient, conn: Connection) -> None:
    starts = [d for (d,) in conn.execute(text("SELECT starts_on FROM events WHERE starts_on IS NOT NULL ORDER BY 1"))]
    assert starts
    middle = starts[len(starts) // 2]
    for variables in (
        {},
        {"filter": {"from": middle.isoformat()}},
        {"filter": {"to": middle.isoformat()}},
        {"filter": {"from": starts[0].isoformat(), "to": middle.isoformat()}},
        {"filter": {"from": middle.isoformat(), "to": starts[0].isoformat()}},
        {"filter": {"place": "CN"}},
    ):
        compiled = gql(api, TOTAL, variables)["data"]["events"]["totalCount"]
        resolved = gql(resolver_api, TOTAL, variables)["data"]["events"]["totalCount"]
        assert compiled == resolved, variables
        assert _statements(api, TOTAL, variables) == 1, "compiled, with its total, in one statement"
    assert (
        gql(api, TOTAL, {})["data"]["events"]["totalCount"]
        == conn.execute(text("SELECT count(*) FROM events WHERE review = 'accepted'")).scalar_one()
    )
