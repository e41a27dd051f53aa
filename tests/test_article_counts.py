"""Article counts: what the triggers keep in article_counts equals a count of the articles.

A page of articles' totalCount sums article_counts when the filter tests at most the publisher
and the language. The table must equal a GROUP BY of the articles after any writer (inserts,
updates of either key column or of neither, deletes, TRUNCATE; the seeds and the bulk load
through the statistics tests), and each filter's sum the count of the articles it matches.
"""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from app.queries.articles import ArticleFilter, count_query, filtered
from app.queries.pagination import count_of
from tests.conftest import gql
from tests.test_api_pagination import _statements

KEPT = "SELECT publisher_id, language, articles FROM article_counts ORDER BY 1, 2"
REBUILT = "SELECT coalesce(publisher_id, 0), language, count(*) FROM articles GROUP BY 1, 2 ORDER BY 1, 2"


def _filters(conn: Connection) -> list[ArticleFilter]:
    """Return every publisher and language filter, unknown ones, and filters the table does not hold."""
    publishers = [s for (s,) in conn.execute(text("SELECT slug FROM organisations ORDER BY slug"))]
    languages = [c for (c,) in conn.execute(text("SELECT DISTINCT language FROM articles ORDER BY 1"))]
    filters = [ArticleFilter(), ArticleFilter(publisher="no-such-publisher"), ArticleFilter(language="xx")]
    filters += [ArticleFilter(publisher=p) for p in publishers]
    filters += [ArticleFilter(language=lang) for lang in languages]
    filters += [ArticleFilter(publisher=p, language=lang) for p in publishers[:5] for lang in [*languages, "zz"]]
    # not held: the articles are counted
    filters += [
        ArticleFilter(published_from=dt.date(2023, 1, 1)),
        ArticleFilter(text="Russia", language=languages[0] if languages else None),
        ArticleFilter(place="CN"),
    ]
    return filters


def assert_counts_hold(conn: Connection) -> int:
    """Assert the table equals its rebuild and each filter's count the articles'; return the articles counted."""
    assert list(conn.execute(text(KEPT))) == list(conn.execute(text(REBUILT)))
    counted = 0
    for where in _filters(conn):
        expected = conn.execute(count_of(filtered(where))).scalar_one()
        assert conn.execute(count_query(where)).scalar_one() == expected, where
        counted += expected
    return counted


def test_counts_match_the_seeded_articles(conn: Connection) -> None:
    assert assert_counts_hold(conn) > 0


def test_counts_follow_every_kind_of_write(conn: Connection) -> None:
    # in one transaction (rolled back): the triggers run in the writer's own
    copied = (
        "title, publisher_id, publisher_basis, authors, published_on, published_precision, "
        "published_basis, published_inference, language, body, body_sha256, word_count"
    )
    conn.execute(
        text(
            f"INSERT INTO articles (slug, source_file, {copied}) "
            f"SELECT slug || '-again', source_file || '-again', {copied} FROM articles"
        )
    )
    assert_counts_hold(conn)
    conn.execute(text("UPDATE articles SET publisher_id = NULL WHERE slug LIKE '%-again' AND id % 2 = 0"))
    conn.execute(text("UPDATE articles SET language = 'ru' WHERE slug LIKE '%-again' AND id % 3 = 0"))
    conn.execute(text("UPDATE articles SET publisher_id = (SELECT min(id) FROM organisations) WHERE id % 4 = 1"))
    conn.execute(text("UPDATE articles SET title = coalesce(title, '') || '.'"))  # nets to nothing
    assert_counts_hold(conn)
    conn.execute(text("DELETE FROM articles WHERE slug LIKE '%-again' AND id % 5 <> 0"))
    assert assert_counts_hold(conn) > 0
    conn.execute(text("DELETE FROM articles WHERE slug LIKE '%-again'"))
    assert list(conn.execute(text(KEPT))) == list(conn.execute(text(REBUILT)))
    conn.execute(text("TRUNCATE articles CASCADE"))
    assert conn.execute(text("SELECT count(*) FROM article_counts")).scalar_one() == 0
    assert assert_counts_hold(conn) == 0


def test_a_held_filter_is_counted_from_the_table(conn: Connection) -> None:
    for held in (ArticleFilter(), ArticleFilter(publisher="x", language="en")):
        plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + _sql(conn, count_query(held)))))
        assert "article_counts" in plan and "on articles" not in plan, plan
    for other in (ArticleFilter(place="CN"), ArticleFilter(published_to=dt.date(2024, 1, 1))):
        plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + _sql(conn, count_query(other)))))
        assert "article_counts" not in plan


def _sql(conn: Connection, stmt: object) -> str:
    return str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]


TOTAL = """
query ($filter: ArticleFilter) {
  articles(filter: $filter, first: 1) { totalCount }
}
"""


def test_total_count_is_the_same_on_both_paths(api: TestClient, resolver_api: TestClient, conn: Connection) -> None:
    publisher = conn.execute(
        text("SELECT o.slug FROM articles a JOIN organisations o ON o.id = a.publisher_id")
    ).first()
    assert publisher is not None
    for variables in (
        {},
        {"filter": {"publisher": publisher[0]}},
        {"filter": {"publisher": publisher[0], "language": "en"}},
        {"filter": {"language": "fr"}},  # a language no article is in
        {"filter": {"text": "Russia"}},
    ):
        compiled = gql(api, TOTAL, variables)["data"]["articles"]["totalCount"]
        resolved = gql(resolver_api, TOTAL, variables)["data"]["articles"]["totalCount"]
        assert compiled == resolved, variables
        assert _statements(api, TOTAL, variables) == 1, "compiled, with its total, in one statement"
    assert (
        gql(api, TOTAL, {})["data"]["articles"]["totalCount"]
        == conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
    )
