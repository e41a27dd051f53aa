"""A page of the articles that mention a place, merged from a page per place of its subtree
(articles.article_page), holds the rows of the single filtered SELECT's page, in every order and
direction, whichever of the two the statement reads, an article that mentions two places of the
subtree shown once; each place's articles come from its index in order, and the pairs the
triggers keep in article_places are those the evidence names, with the article's date."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Connection, select, text

from app.queries import articles
from app.queries.pagination import PageArgs, page_query
from app.queries.rows import article_places, places
from tests.test_event_pages import _pages, _rows  # the same pages and rows

KEPT = "SELECT place_id, article_id, published_on, mentions FROM article_places ORDER BY 1, 2"
REBUILT = (
    "SELECT e.place_id, e.article_id, a.published_on, count(*) FROM evidence e JOIN articles a ON a.id = e.article_id "
    "WHERE e.place_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2"
)


def assert_pairs_hold(conn: Connection) -> int:
    """Assert article_places hold the pairs the evidence names, with the article's date; return how many rows."""
    kept = _rows(conn, text(KEPT))
    assert kept == _rows(conn, text(REBUILT))
    return len(kept)


def _spread(conn: Connection) -> None:
    # each place an article names also named at the place's parent (several places of a subtree
    # in one article), some articles undated or moved
    conn.execute(
        text(
            "INSERT INTO evidence (article_id, quote, start_offset, end_offset, place_id) "
            "SELECT e.article_id, e.quote, e.start_offset, e.end_offset, p.parent_id FROM evidence e "
            "JOIN places p ON p.id = e.place_id WHERE p.parent_id IS NOT NULL ON CONFLICT DO NOTHING"
        )
    )
    conn.execute(
        text(
            "UPDATE articles SET published_on = NULL, published_precision = NULL, published_basis = NULL, "
            "published_inference = NULL WHERE id % 3 = 0"
        )
    )
    conn.execute(text("UPDATE articles SET published_on = published_on - 400 WHERE id % 3 = 1"))


def _refs(conn: Connection) -> list[str]:
    held = select(article_places.c.place_id)
    refs = [
        *conn.scalars(select(places.c.slug).where(places.c.id.in_(held)).order_by(places.c.slug)),
        *conn.scalars(select(places.c.code).where(places.c.id.in_(held), places.c.code.is_not(None))),
    ]
    assert refs, "the corpus names places"
    return refs


@pytest.mark.parametrize("merge_up_to", [None, 1, articles.MERGE_UP_TO])
@pytest.mark.parametrize("order", list(articles.ArticleOrder))
def test_merged_pages_are_the_filtered_pages(
    conn: Connection, order: articles.ArticleOrder, merge_up_to: int | None
) -> None:
    _spread(conn)
    ordering = articles.ORDERINGS[order]
    compared = 0
    for ref in _refs(conn):
        for where in [
            articles.ArticleFilter(place=ref),
            articles.ArticleFilter(place=ref, published_from=dt.date(2023, 1, 1)),
            articles.ArticleFilter(place=ref, text="trade"),
        ]:
            everything = _rows(conn, page_query(articles.filtered(where), ordering, PageArgs(first=100)).stmt)
            for args in _pages(everything, ordering):
                expected = _rows(conn, page_query(articles.filtered(where), ordering, args).stmt)
                got = _rows(conn, articles.article_page(where, order, args, merge_up_to=merge_up_to).stmt)
                assert got == expected, (ref, where, args)
                compared += len(expected)
    assert compared, "some pages hold articles"


def test_a_place_page_reads_each_place_from_its_index(conn: Connection) -> None:
    ref = conn.scalars(
        select(places.c.slug).where(places.c.id.in_(select(places.c.parent_id))).order_by(places.c.slug).limit(1)
    ).one()
    for order in (articles.ArticleOrder.PUBLISHED_ON_DESC, articles.ArticleOrder.PUBLISHED_ON_ASC):
        where = articles.ArticleFilter(place=ref)
        stmt = articles.article_page(where, order, PageArgs(first=5), merge_up_to=None).stmt
        compiled = stmt.compile(dialect=conn.dialect)
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_bitmapscan = off"))
        # the test's few rows are cheaper sorted: whether the statement can read them in order
        conn.execute(text("SET LOCAL enable_sort = off"))
        conn.execute(text("SET LOCAL enable_mergejoin = off"))
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
        assert f"ix_article_places_place_id_published_{order.value.rsplit('_', 1)[1].lower()}_key" in plan, plan


def test_article_places_follow_every_kind_of_write(conn: Connection) -> None:
    assert _rows(conn, text(KEPT)) == _rows(conn, text(REBUILT)) != []
    # pieces moved to the place's parent (the pair of the article and the old place may go)
    moved = conn.execute(
        text(
            "UPDATE evidence e SET place_id = p.parent_id FROM places p "
            "WHERE p.id = e.place_id AND p.parent_id IS NOT NULL AND e.id % 2 = 0 AND NOT EXISTS ("
            "SELECT 1 FROM evidence x WHERE x.article_id = e.article_id AND x.start_offset = e.start_offset "
            "AND x.end_offset = e.end_offset AND x.place_id = p.parent_id)"
        )
    ).rowcount
    assert moved > 0
    assert _rows(conn, text(KEPT)) == _rows(conn, text(REBUILT))
    _spread(conn)  # evidence inserted, articles' dates changed and removed
    assert _rows(conn, text(KEPT)) == _rows(conn, text(REBUILT))
    conn.execute(text("UPDATE articles SET title = title || ' (again)'"))  # no date changed
    conn.execute(text("DELETE FROM evidence WHERE place_id IS NOT NULL AND id % 3 = 0"))
    assert _rows(conn, text(KEPT)) == _rows(conn, text(REBUILT))
    last = "SELECT max(article_id) FROM evidence WHERE place_id IS NOT NULL"
    conn.execute(text(f"DELETE FROM articles WHERE id = ({last}) OR duplicate_of_id = ({last})"))
    assert _rows(conn, text(KEPT)) == _rows(conn, text(REBUILT))
    conn.execute(text("TRUNCATE evidence CASCADE"))
    assert _rows(conn, text(KEPT)) == []
