"""A page of the events within a place, merged from a page per place of its subtree
(events.event_page), holds the rows of the single filtered SELECT's page, in every order and
direction, whichever of the two the statement reads, an event at two places of the subtree shown
once; each place's events come from its index in order, whose start the triggers keep equal to
the event's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, select, text

from app.queries import events
from app.queries.pagination import Ordering, PageArgs, encode_cursor, page_query
from app.queries.rows import event_places, places

KEPT = "SELECT event_id, place_id, starts_on FROM event_places ORDER BY 1, 2"
REBUILT = (
    "SELECT ep.event_id, ep.place_id, e.starts_on FROM event_places ep "
    "JOIN events e ON e.id = ep.event_id ORDER BY 1, 2"
)


def assert_starts_hold(conn: Connection) -> int:
    """Assert event_places hold each event's start; return how many rows."""
    kept = _rows(conn, text(KEPT))
    assert kept == _rows(conn, text(REBUILT))
    return len(kept)


def _rows(conn: Connection, stmt: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(stmt)]


def _spread(conn: Connection) -> None:
    # each event also at its places' parents, some events undated or moved: several places of one
    # subtree hold the same event, and undated events sort last
    conn.execute(
        text(
            "INSERT INTO event_places (event_id, place_id) SELECT DISTINCT ep.event_id, p.parent_id "
            "FROM event_places ep JOIN places p ON p.id = ep.place_id WHERE p.parent_id IS NOT NULL "
            "ON CONFLICT DO NOTHING"
        )
    )
    conn.execute(text("UPDATE events SET starts_on = NULL, ends_on = NULL, date_precision = NULL WHERE id % 3 = 0"))
    conn.execute(text("UPDATE events SET starts_on = starts_on - 400, ends_on = ends_on - 400 WHERE id % 3 = 1"))


def _refs(conn: Connection) -> list[str]:
    held = select(event_places.c.place_id)
    refs = [
        *conn.scalars(select(places.c.slug).where(places.c.id.in_(held)).order_by(places.c.slug)),
        *conn.scalars(select(places.c.code).where(places.c.id.in_(held), places.c.code.is_not(None))),
    ]
    assert refs, "the corpus has events at places"
    return refs


def _pages(rows: list[tuple[Any, ...]], ordering: Ordering) -> list[PageArgs]:
    args = [PageArgs(first=2), PageArgs(last=2), PageArgs(first=0), PageArgs(first=100)]
    if len(rows) > 2:
        middle = encode_cursor(rows[1][-2:], ordering.tag)
        args += [PageArgs(first=2, after=middle), PageArgs(last=1, before=middle), PageArgs(before=middle)]
    return args


@pytest.mark.parametrize("merge_up_to", [None, 1, events.MERGE_UP_TO])
@pytest.mark.parametrize("order", list(events.EventOrder))
def test_merged_pages_are_the_filtered_pages(
    conn: Connection, order: events.EventOrder, merge_up_to: int | None
) -> None:
    _spread(conn)
    ordering = events.ORDERINGS[order]
    compared = 0
    for ref in _refs(conn):
        for where in [
            events.EventFilter(place=ref),
            events.EventFilter(place=ref, reviews=None),
            events.EventFilter(place=ref, starts_from=dt.date(2022, 1, 1), ends_to=dt.date(2024, 12, 31)),
            events.EventFilter(place=ref, kinds=["summit", "meeting", "consulate-opening"]),
        ]:
            everything = _rows(conn, page_query(events.filtered(where), ordering, PageArgs(first=100)).stmt)
            assert len({r[0] for r in everything}) == len(everything)
            for args in _pages(everything, ordering):
                expected = _rows(conn, page_query(events.filtered(where), ordering, args).stmt)
                got = _rows(conn, events.event_page(where, order, args, merge_up_to=merge_up_to).stmt)
                assert got == expected, (ref, where, args)
                compared += len(expected)
    assert compared, "some pages hold events"


def test_a_place_page_reads_each_place_from_its_index(conn: Connection) -> None:
    ref = conn.scalars(
        select(places.c.slug).where(places.c.id.in_(select(places.c.parent_id))).order_by(places.c.slug).limit(1)
    ).one()
    for order in (events.EventOrder.STARTS_ON_ASC, events.EventOrder.STARTS_ON_DESC):
        stmt = events.event_page(events.EventFilter(place=ref), order, PageArgs(first=5), merge_up_to=None).stmt
        compiled = stmt.compile(dialect=conn.dialect)
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_bitmapscan = off"))
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
        assert f"ix_event_places_place_id_starts_{order.value.rsplit('_', 1)[1].lower()}_key" in plan, plan


def test_event_places_keep_their_events_start(conn: Connection) -> None:
    assert _rows(conn, text(KEPT)) == _rows(conn, text(REBUILT))
    _spread(conn)  # rows inserted, events' starts changed and removed
    assert _rows(conn, text(KEPT)) == _rows(conn, text(REBUILT))
    conn.execute(
        text("UPDATE events SET starts_on = DATE '2020-02-02', date_precision = 'day' WHERE starts_on IS NULL")
    )
    conn.execute(text("UPDATE events SET name = name || ' (renamed)'"))  # no start changed
    # a row written with another start, or moved to another event, takes its event's
    conn.execute(text("UPDATE event_places SET starts_on = DATE '1999-01-01' WHERE event_id % 2 = 0"))
    conn.execute(
        text(
            "UPDATE event_places SET event_id = (SELECT min(id) FROM events) "
            "WHERE (event_id, place_id) = (SELECT max(event_id), min(place_id) FROM event_places WHERE event_id <> "
            "(SELECT min(id) FROM events) AND place_id NOT IN "
            "(SELECT place_id FROM event_places WHERE event_id = (SELECT min(id) FROM events)))"
        )
    )
    kept = _rows(conn, text(KEPT))
    assert kept == _rows(conn, text(REBUILT)) and kept
