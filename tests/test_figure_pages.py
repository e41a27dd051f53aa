"""A page of the figures within a place, merged from a page per place of its subtree
(figures.figure_page), holds the rows of the single filtered SELECT's page, in every order and
direction, whichever of the two the statement reads, and reads each place's figures from their
index."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text

from app.queries import figures
from app.queries.pagination import PageArgs, encode_cursor, page_query
from app.queries.rows import places, trade_figures


def _rows(conn: Connection, stmt: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(stmt)]


def _refs(conn: Connection) -> list[str]:
    # places with figures reported inside them: the parents of reporters, and reporters themselves
    parents = select(places.c.slug).where(
        places.c.id.in_(select(places.c.parent_id).join(trade_figures, trade_figures.c.reporter_id == places.c.id))
    )
    reporters = select(places.c.slug).where(places.c.id.in_(select(trade_figures.c.reporter_id)))
    partners = select(places.c.slug).where(
        places.c.id.in_(select(trade_figures.c.partner_id).where(trade_figures.c.flow == "total"))
    )
    refs = sorted(
        {*conn.scalars(parents.limit(3)), *conn.scalars(reporters.limit(3)), *conn.scalars(partners.limit(3))}
    )
    assert refs, "the corpus has figures"
    return refs


def _pages(where: figures.FigureFilter, order: figures.FigureOrder, rows: list[tuple[Any, ...]]) -> list[PageArgs]:
    args = [PageArgs(first=3), PageArgs(last=3), PageArgs(first=0), PageArgs(first=100)]
    if len(rows) > 3:
        middle = encode_cursor(rows[2][-2:], figures.ORDERINGS[order].tag)
        args += [PageArgs(first=3, after=middle), PageArgs(last=2, before=middle), PageArgs(before=middle)]
    return args


@pytest.mark.parametrize("merge_up_to", [None, 1, figures.MERGE_UP_TO])
@pytest.mark.parametrize("order", list(figures.FigureOrder))
def test_merged_pages_are_the_filtered_pages(
    conn: Connection, order: figures.FigureOrder, merge_up_to: int | None
) -> None:
    ordering = figures.ORDERINGS[order]
    compared = 0
    for ref in _refs(conn):
        for where in [
            figures.FigureFilter(reporter=ref, include_subregions=True),
            figures.FigureFilter(reporter=ref),
            figures.FigureFilter(reporter=ref, include_subregions=True, flows=["export", "import"]),
            figures.FigureFilter(reporter=ref, include_subregions=True, flows=["total"], reviews=None),
            figures.FigureFilter(reporter=ref, include_subregions=True, period_from=dt.date(2023, 1, 1)),
        ]:
            everything = _rows(conn, page_query(figures.filtered(where), ordering, PageArgs(first=100)).stmt)
            for args in _pages(where, order, everything):
                expected = _rows(conn, page_query(figures.filtered(where), ordering, args).stmt)
                got = _rows(conn, figures.figure_page(where, order, args, merge_up_to=merge_up_to).stmt)
                assert got == expected, (ref, where, args)
                compared += len(expected)
    assert compared, "some pages hold figures"


def test_a_page_within_a_place_reads_each_place_from_the_reporter_index(conn: Connection) -> None:
    (ref,) = conn.execute(
        select(places.c.slug)
        .join(trade_figures, trade_figures.c.reporter_id == places.c.id)
        .group_by(places.c.slug)
        .order_by(func.count().desc(), places.c.slug)
        .limit(1)
    ).one()
    where = figures.FigureFilter(reporter=ref, include_subregions=True)
    stmt = figures.figure_page(where, figures.FigureOrder.PERIOD_END_DESC, PageArgs(first=5), merge_up_to=None).stmt
    compiled = stmt.compile(dialect=conn.dialect)
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
    plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
    assert "ix_trade_figures_reporter_id_period_end_id" in plan, plan
    # not the whole sort-key index, filtered by the subtree
    assert "ix_trade_figures_period_end_id" not in plan, plan
