"""Search stays bounded: ranking reads a bounded set of candidates, totalCount stops at a cap."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from starlette.testclient import TestClient

from app.queries import search
from app.queries.rows import ArticleRow, columns
from tests.conftest import gql
from tests.helpers import a_word_naming_no_entity, executed_plan, search_matches_newest_first

WORD = "Russia"  # matches most articles of the corpus


def _matches_newest_first(conn: Connection, word: str = WORD) -> list[int]:
    return search_matches_newest_first(conn, word)


def test_ranking_reads_only_the_newest_candidates(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    newest = _matches_newest_first(conn)
    assert len(newest) > 3, "the word matches more articles than the candidates below"
    everything = [r[0] for r in conn.execute(search.page_query(WORD, offset=0, limit=100))]
    assert sorted(everything) == sorted(newest)  # fewer matches than CANDIDATES: all are ranked
    monkeypatch.setattr(search, "CANDIDATES", 3)
    bounded = [r[0] for r in conn.execute(search.page_query(WORD, offset=0, limit=100))]
    assert sorted(bounded) == sorted(newest[:3])
    # ranked among themselves, in the order the whole ranking gives them
    assert bounded == [i for i in everything if i in bounded]


def test_the_row_that_says_more_follow_gets_no_snippet(conn: Connection) -> None:
    # a snippet costs as much as ranking every candidate: the page's rows have one, the extra
    # row read to tell whether more follow has none, and the page is as the whole ranking gives it
    newest = _matches_newest_first(conn)
    width = len(columns(ArticleRow))
    everything = conn.execute(search.page_query(WORD, offset=0, limit=100)).all()
    for offset, limit in [(0, 2), (1, 2), (0, len(newest) - 1)]:
        rows = conn.execute(search.page_query(WORD, offset=offset, limit=limit)).all()
        assert [r[0] for r in rows] == [r[0] for r in everything[offset : offset + limit + 1]]
        assert len(rows) == limit + 1
        assert [r[width + 1] for r in rows[:limit]] == [r[width + 1] for r in everything[offset : offset + limit]]
        assert all(r[width + 1] for r in rows[:limit]) and rows[limit][width + 1] is None


# a name given to the place named in most articles: it matches them through their evidence only
ALIAS = "Zorblaxcorp"


@pytest.mark.parametrize("word", [WORD, ALIAS])
def test_candidates_among_the_newest_articles_are_the_newest_matches(
    conn: Connection, monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    if word == ALIAS:
        conn.execute(
            text(
                "UPDATE places SET aliases = aliases || CAST(:alias AS text) WHERE id = (SELECT place_id"
                " FROM evidence WHERE place_id IS NOT NULL GROUP BY 1 ORDER BY count(DISTINCT article_id) DESC, 1"
                " LIMIT 1)"
            ),
            {"alias": ALIAS},
        )
    newest = _matches_newest_first(conn, word)
    order = text("SELECT id FROM articles ORDER BY published_on DESC NULLS LAST, id DESC")
    articles = [i for (i,) in conn.execute(order)]
    if word == ALIAS:
        by_text = conn.execute(text("SELECT count(*) FROM articles WHERE search @@ plainto_tsquery(:w)"), {"w": word})
        assert by_text.scalar_one() == 0 and len(newest) >= 3, "matches through the evidence alone"
    candidates = len(newest) - 1
    monkeypatch.setattr(search, "CANDIDATES", candidates)
    enough = set()
    for recent in range(1, len(articles) + 2):
        monkeypatch.setattr(search, "RECENT", recent)
        bounded = [r[0] for r in conn.execute(search.page_query(word, offset=0, limit=100))]
        assert sorted(bounded) == sorted(newest[:candidates]), recent
        enough.add(len(set(articles[:recent]) & set(newest)) >= candidates)
    assert enough == {True, False}, "both ways: the candidates among the newest, and among every match"
    # the words taken as very common: the newest QUICK articles tested one by one first
    monkeypatch.setattr(search, "RECENT", 1)
    quick_enough = set()
    for probe_hits, quick in [(h, q) for h in (0, len(articles) + 1) for q in range(1, len(articles) + 2)]:
        monkeypatch.setattr(search, "PROBE", len(articles))
        monkeypatch.setattr(search, "PROBE_HITS", probe_hits)  # 0: always common; more than PROBE: never
        monkeypatch.setattr(search, "QUICK", quick)
        bounded = [r[0] for r in conn.execute(search.page_query(word, offset=0, limit=100))]
        assert sorted(bounded) == sorted(newest[:candidates]), (probe_hits, quick)
        quick_enough.add(probe_hits == 0 and len(set(articles[:quick]) & set(newest)) >= candidates)
    assert quick_enough == {True, False}


def _walks(conn: Connection, word: str) -> int:
    """Return how many times the search's walk of the newest articles ran (EXPLAIN ANALYZE)."""
    plan = executed_plan(conn, search.page_query(word, offset=0, limit=10))
    return sum(n.get("Actual Loops", 0) for n in plan if n.get("Alias") == "walked")


def test_the_walk_is_skipped_when_it_cannot_find_enough(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # the newest articles' text matches fewer than CANDIDATES and no entity is named: the walk
    # could not find enough, and every match is read at once
    word, matches = a_word_naming_no_entity(conn)
    total = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
    monkeypatch.setattr(search, "RECENT", total)  # every article is among the newest
    monkeypatch.setattr(search, "PROBE_HITS", total + 1)  # never taken as very common
    monkeypatch.setattr(search, "CANDIDATES", matches + 1)
    assert _walks(conn, word) == 0
    monkeypatch.setattr(search, "CANDIDATES", matches - 1)
    assert _walks(conn, word) == 1
    # an entity named: its articles are found by the walk, whatever the text matches
    monkeypatch.setattr(search, "CANDIDATES", len(_matches_newest_first(conn)) + 1)
    assert _walks(conn, WORD) == 1


def test_count_stops_at_the_cap(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    matches = len(_matches_newest_first(conn))
    assert conn.execute(search.count_query(WORD)).scalar_one() == matches
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    assert conn.execute(search.count_query(WORD)).scalar_one() == 3  # the cap and one more


def test_total_count_says_whether_it_is_capped(api: TestClient, conn: Connection) -> None:
    matches = len(_matches_newest_first(conn))
    data = gql(api, "query($q: String!) { search(query: $q) { totalCount totalCountCapped } }", {"q": WORD})
    assert data["data"]["search"] == {"totalCount": matches, "totalCountCapped": False}
