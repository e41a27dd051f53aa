"""The query functions write their sort keys and filters so that the planner can use the indexes
made for them: an expression index serves only a query with the very same expression."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Select, func, text

from app.queries import articles, events, figures, rows, search
from app.queries.common import last_day
from app.queries.pagination import PageArgs, page_query
from tests.helpers import a_word_naming_no_entity, executed_plan


def _plan(conn: Connection, stmt: Select[Any], *, bitmaps: bool = False, index_scans: bool = True) -> str:
    compiled = stmt.compile(dialect=conn.dialect)
    # a handful of rows: without these, a scan and a sort would be cheaper than any index
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_sort = off"))
    conn.execute(text(f"SET LOCAL enable_bitmapscan = {'on' if bitmaps else 'off'}"))
    conn.execute(text(f"SET LOCAL enable_indexscan = {'on' if index_scans else 'off'}"))
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))


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


def _ids(conn: Connection, stmt: Select[Any]) -> set[int]:
    return {r[0] for r in conn.execute(stmt)}


def test_event_overlap_bounds_keep_every_overlapping_event(conn: Connection) -> None:
    # the index range (from minus the longest span, to) only narrows the scan: the same events
    # as the plain overlap condition, whatever the dates
    table = rows.events
    ends = func.coalesce(table.c.ends_on, last_day(table.c.starts_on, table.c.date_precision))
    cases: list[tuple[dt.date | None, dt.date | None]] = [
        (dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
        (dt.date(2024, 2, 15), dt.date(2024, 3, 1)),
        (dt.date(2022, 6, 30), None),
        (None, dt.date(2021, 1, 1)),
        (dt.date(1, 1, 1), dt.date.max),
        (dt.date(2099, 1, 1), None),
    ]
    found = 0
    for starts_from, ends_to in cases:
        q = events.filtered(events.EventFilter(starts_from=starts_from, ends_to=ends_to))
        expected = events.filtered(events.EventFilter())
        if starts_from is not None:
            expected = expected.where(ends >= starts_from)
        if ends_to is not None:
            expected = expected.where(table.c.starts_on <= ends_to)
        got = _ids(conn, q)
        assert got == _ids(conn, expected), (starts_from, ends_to)
        found += len(got)
    assert found, "the corpus has events in these ranges"


def test_figure_sides_without_total_flows_match_the_full_condition(conn: Connection) -> None:
    found = 0
    for flows in (["export"], ["import", "export"], ["total"], ["total", "export"]):
        where = figures.FigureFilter(reporter="CN", partner="RU", include_subregions=True, flows=flows)
        everything = figures.FigureFilter(reporter="CN", partner="RU", include_subregions=True)
        expected = figures.filtered(everything).where(rows.trade_figures.c.flow.in_(flows))
        got = _ids(conn, figures.filtered(where))
        assert got == _ids(conn, expected), flows
        found += len(got)
    assert found, "the corpus has such figures"


def test_search_finds_named_entities_through_their_name_index(conn: Connection) -> None:
    plan = _plan(conn, search.matches_query("Moscow consulate"), bitmaps=True)  # GIN: bitmaps only
    for table in ("organisations", "places", "people"):
        assert f"ix_{table}_name_document" in plan, plan
        assert f"Seq Scan on {table}" not in plan, plan


def test_search_hides_the_parsed_query_from_the_planner(conn: Connection) -> None:
    # a tsquery constant lets Postgres estimate that common words match most articles and then
    # detoast every article's tsvector in a sequential scan; a parameter keeps it on the GIN index
    # with the statistics a seed leaves, five articles are read cheapest by walking the primary
    # key and testing each: index scans are left out, so the plan shows whether the GIN can serve
    conn.execute(text("ANALYZE articles"))
    plan = _plan(conn, search.page_query("trade russia", offset=0, limit=20), bitmaps=True, index_scans=False)
    assert "::tsquery" not in plan, plan
    assert "ix_articles_search" in plan, plan


def test_search_bounds_the_newest_articles_from_the_index_alone(conn: Connection) -> None:
    # where the newest articles end (the RECENT-th from the newest) is read from the key index,
    # which holds the date itself: no article's row (several kB each) is read for it
    plan = _plan(conn, search.page_query("trade russia", offset=0, limit=20))
    bound = plan.split("CTE bound", 1)[1].split("CTE ", 1)[0]
    assert "Index Only Scan Backward using ix_articles_published_desc_key" in bound, plan


def _analyzed(conn: Connection, stmt: Select[Any]) -> list[dict[str, Any]]:
    """Return every node of the executed plan of `stmt`, the planner left to hash joins."""
    # the plan a few hundred candidates estimated as many would get: each table hashed in full
    # (a handful of rows: without enable_seqscan off, a lookup would scan them all, per loop)
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_nestloop = off"))
    conn.execute(text("SET LOCAL enable_mergejoin = off"))
    return executed_plan(conn, stmt)


def test_search_reads_each_candidate_by_its_key(conn: Connection) -> None:
    # ranking joins the candidates (a few hundred at most) to their articles: one lookup each,
    # never every article read and hashed
    hits = conn.execute(search.page_query("Russia", offset=0, limit=100)).all()
    assert len(hits) > 2
    plan = _analyzed(conn, search.page_query("Russia", offset=0, limit=100))
    # the lookups by key (the candidates' id is named after the first branch of their union that
    # can give them); a read of the handful of articles for the text's matches may use the key
    # index too, with the text as a filter and no key condition
    lookups = [n for n in plan if n.get("Index Name") == "pk_articles" and "Index Cond" in n]
    # (an index scan, or a bitmap of the one key: the planner takes either with the statistics)
    by_key = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
    assert all(n["Node Type"] in by_key and n["Actual Rows"] <= 1 for n in lookups), lookups
    assert len(hits) in [n["Actual Loops"] for n in lookups], lookups
    assert not [n for n in plan if n.get("Node Type") == "Hash" and "articles" in str(n)], "no articles hashed"


def test_search_counts_without_reading_the_articles_that_name_an_entity(conn: Connection) -> None:
    # the articles that name a matching entity are counted from the evidence's article ids alone:
    # only the text's matches are read from articles (through the text index, or for a handful of
    # rows any scan with the text as its filter)
    plan = _analyzed(conn, search.count_query("Russia"))
    reads = [n for n in plan if n.get("Relation Name") == "articles"]
    text = ("Recheck Cond", "Index Cond", "Filter")
    assert reads and all(any("search @@" in n.get(k, "") for k in text) for n in reads), reads
    assert any(n.get("Relation Name") == "evidence" and n.get("Actual Rows", 0) > 0 for n in plan), plan


def test_search_reads_no_evidence_when_the_query_names_no_entity(conn: Connection) -> None:
    # the entity hits of each candidate come from its evidence: read only when an entity is named
    word, _ = a_word_naming_no_entity(conn)
    plan = _analyzed(conn, search.page_query(word, offset=0, limit=100))
    assert [n for n in plan if n.get("Relation Name") == "articles" and n.get("Actual Rows", 0) > 0]
    read = [n for n in plan if n.get("Relation Name") == "evidence" and n.get("Actual Loops", 0) > 0]
    assert not read, read
    # naming one, each candidate's evidence is read
    plan = _analyzed(conn, search.page_query("Russia", offset=0, limit=100))
    assert [n for n in plan if n.get("Relation Name") == "evidence" and n.get("Actual Loops", 0) > 1]
