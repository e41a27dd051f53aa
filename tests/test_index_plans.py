"""The query functions write their sort keys and filters so that the planner can use the indexes
made for them: an expression index serves only a query with the very same expression."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Select, text

from app.queries import articles, events
from app.queries.pagination import PageArgs, page_query


def _plan(conn: Connection, stmt: Select[Any]) -> str:
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    # a handful of rows: without these, a scan and a sort would be cheaper than any index
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_sort = off"))
    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
    return "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {compiled}")))


def test_article_pages_read_the_sort_key_index(conn: Connection) -> None:
    for order, index in [
        (articles.ArticleOrder.PUBLISHED_ON_DESC, "ix_articles_published_desc_key"),
        (articles.ArticleOrder.PUBLISHED_ON_ASC, "ix_articles_published_asc_key"),
    ]:
        pq = page_query(articles.filtered(articles.ArticleFilter()), articles.ORDERINGS[order], PageArgs(first=5))
        plan = _plan(conn, pq.stmt)
        assert index in plan and "Sort" not in plan, plan


def test_event_pages_read_the_sort_key_index(conn: Connection) -> None:
    for order, index in [
        (events.EventOrder.STARTS_ON_ASC, "ix_events_starts_asc_key"),
        (events.EventOrder.STARTS_ON_DESC, "ix_events_starts_desc_key"),
    ]:
        pq = page_query(events.filtered(events.EventFilter()), events.ORDERINGS[order], PageArgs(first=5))
        plan = _plan(conn, pq.stmt)
        assert index in plan and "Sort" not in plan, plan


def test_event_overlap_is_an_index_range_that_checks_the_ends(conn: Connection) -> None:
    where = events.EventFilter(starts_from=dt.date(2023, 1, 1), ends_to=dt.date(2023, 12, 31))
    ordering = events.ORDERINGS[events.EventOrder.STARTS_ON_ASC]
    plan = _plan(conn, page_query(events.filtered(where), ordering, PageArgs(first=5)).stmt)
    assert "ix_events_starts_asc_key" in plan and "ix_events_span" in plan, plan
    # the ends are an index condition (checked in the index), not a filter of heap rows
    assert "Filter" not in plan, plan
