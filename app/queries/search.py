"""Full-text search over articles, also finding articles through the entities they name."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Select, Text, and_, cast, distinct, func, literal, or_, select, union, union_all
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, aggregate_order_by, array

from app.db import Reader
from app.queries.common import EARLIEST_SQL, websearch
from app.queries.rows import ArticleRow, articles, columns, evidence, organisations, people, places

ENTITY_WEIGHT = 0.2  # added to the text rank per entity of the article that the query names
# Ranking reads each article's tsvector (TOASTed, several kB): it is done for at most this many
# matching articles, the most recently published, which the index and the articles' rows give
# without reading any tsvector. Fewer matches: every one is ranked.
CANDIDATES = 200
# The candidates are first looked for among this many newest articles (an index range, intersected
# with the text index's matches): for common words they are all there, and the other matches are
# never read; when fewer than CANDIDATES are, every match is read and the newest taken.
RECENT = 2_000
COUNT_CAP = 10_000  # totalCount counts this many matches at most (and says when there are more)
START, STOP = "\x02", "\x03"  # ts_headline's delimiters of a match, swapped for <mark> after escaping


@dataclasses.dataclass(frozen=True, slots=True)
class SearchHit:
    article: ArticleRow
    rank: float
    snippet: str  # HTML-escaped text with <mark>…</mark> around matches
    matched_entities: list[str]  # in code point order


def _entities_named(tsq: Any) -> Any:
    # every organisation, place and person whose name or aliases the query matches
    def named(table: Any, kind: str) -> Any:
        # to_tsvector('english', name || ' ' || aliases joined by spaces), as its GIN index holds it
        doc = func.name_document(table.c.name, table.c.aliases, type_=TSVECTOR)
        return select(table.c.id.label("id"), literal(kind).label("kind"), table.c.name.label("name")).where(
            doc.bool_op("@@")(tsq)
        )

    return union_all(named(organisations, "organisation"), named(places, "place"), named(people, "person")).subquery(
        "named"
    )


_NO_NAMES = cast(array([], type_=Text), ARRAY(Text))


def _tsquery(query: str) -> Any:
    """Return the parsed query as a scalar subquery: a value the planner does not see.

    Seeing it, Postgres estimates how many articles match and, for common words, reads every
    article's tsvector (a TOASTed value detoasted per row) instead of the GIN index, which costs
    nothing per row; not seeing it, it reads the index whatever the words."""
    return select(websearch(query)).scalar_subquery()


# `&`, `<` and `>` escaped (as html.escape(quote=False)), then the delimiters of a match swapped for <mark>
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), (START, "<mark>"), (STOP, "</mark>"))


def highlight(text: Any) -> Any:
    """Return the SQL of `text` from ts_headline as safe HTML, with matches wrapped in <mark>."""
    for raw, safe in _ESCAPES:
        text = func.replace(text, raw, safe)
    return text


def _entity_hits(tsq: Any) -> Any:
    # per article: how many entities it names that the query names, and their names
    named = _entities_named(tsq)
    name = named.c.name.collate("C")
    return (
        select(
            evidence.c.article_id,
            func.count(func.distinct(func.concat(named.c.kind, ":", named.c.id))).label("n"),
            func.array_agg(aggregate_order_by(distinct(name), name)).label("names"),  # in code point order
        )
        .join(
            named,
            or_(
                and_(named.c.kind == "organisation", evidence.c.organisation_id == named.c.id),
                and_(named.c.kind == "place", evidence.c.place_id == named.c.id),
                and_(named.c.kind == "person", evidence.c.person_id == named.c.id),
            ),
        )
        .group_by(evidence.c.article_id)
        .cte("entity_hits")
    )


def _matching(tsq: Any, entity_hits: Any, *where: Any) -> Any:
    # the articles (id, published: the key of newest first) whose text matches (from the GIN index)
    # or that name a matching entity: the same rows as `search @@ tsq OR entity_hits.article_id IS
    # NOT NULL` over a LEFT JOIN, which can only be tested row by row, detoasting every article's
    # tsvector; `where`: conditions on the articles
    key = _published(articles).label("published")
    return union(
        select(articles.c.id.label("id"), key).where(articles.c.search.bool_op("@@")(tsq), *where),
        select(articles.c.id, key).join(entity_hits, entity_hits.c.article_id == articles.c.id).where(*where),
    ).subquery("matching")


def _published(table: Any) -> Any:
    # the key of ix_articles_published_desc_key: undated articles as the earliest
    return func.coalesce(table.c.published_on, EARLIEST_SQL)


def _newest_first(table: Any) -> tuple[Any, Any]:
    # published_on DESC NULLS LAST, id DESC: the index read backwards
    return _published(table).desc(), table.c.id.desc()


def _candidates(tsq: Any, entity_hits: Any) -> Any:
    """Return the subquery of the CANDIDATES newest matching articles' ids (all of them when fewer match).

    The newest matches among the RECENT newest articles when there are CANDIDATES of them: every
    other match is older than all of these (the date bound includes the ties at the RECENT-th).
    Else the newest of all matches."""

    def newest(matching: Any) -> Any:
        return select(matching.c.id).order_by(matching.c.published.desc(), matching.c.id.desc()).limit(CANDIDATES)

    bound = select(_published(articles)).order_by(*_newest_first(articles)).offset(RECENT - 1).limit(1)
    since = _published(articles) >= bound.scalar_subquery()  # (none: fewer articles, every match is read)
    recent = newest(_matching(tsq, entity_hits, since)).cte("recent")
    enough = select(func.count()).select_from(recent).scalar_subquery() >= CANDIDATES
    everywhere = newest(_matching(tsq, entity_hits)).subquery("everywhere")
    return union_all(
        select(recent.c.id).where(enough),  # (one-time conditions: one of the two is read)
        select(everywhere.c.id).where(~enough),
    ).subquery("candidates")


def page_query(query: str, *, offset: int, limit: int) -> Select[Any]:
    """Return the SELECT of a page of hits, best first: the article's columns, rank, snippet, matched_entities.

    It selects `limit + 1` rows (one more tells whether more follow); the snippet is ts_headline's
    text as safe HTML (see `highlight`)."""
    tsq = _tsquery(query)
    entity_hits = _entity_hits(tsq)
    text_rank = func.ts_rank_cd(articles.c.search, tsq)
    rank = (text_rank + ENTITY_WEIGHT * func.coalesce(entity_hits.c.n, 0)).label("rank")
    options = f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=30, MinWords=12"
    headline = func.ts_headline("english", func.coalesce(articles.c.title + " — ", "") + articles.c.body, tsq, options)
    snippet = highlight(headline).label("snippet")
    candidates = _candidates(tsq, entity_hits)
    return (
        select(
            *columns(ArticleRow), rank, snippet, func.coalesce(entity_hits.c.names, _NO_NAMES).label("matched_entities")
        )
        .select_from(candidates)
        .join(articles, articles.c.id == candidates.c.id)
        .outerjoin(entity_hits, entity_hits.c.article_id == articles.c.id)
        .order_by(rank.desc(), articles.c.id)
        .offset(offset)
        .limit(limit + 1)
    )


def matches_query(query: str) -> Select[Any]:
    """Return the SELECT of the ids of the articles matching `query`."""
    tsq = _tsquery(query)
    return select(_matching(tsq, _entity_hits(tsq)).c.id)


async def search_articles(db: Reader, *, query: str, offset: int, limit: int) -> tuple[list[SearchHit], bool]:
    """Return one page of articles matching `query` (best first), and whether more follow."""
    rows = list(await db.all(page_query(query, offset=offset, limit=limit)))
    width = len(columns(ArticleRow))
    hits = [SearchHit(ArticleRow(*r[:width]), float(r[width]), r[width + 1], list(r[width + 2])) for r in rows[:limit]]
    return hits, len(rows) > limit


def count_query(query: str) -> Select[Any]:
    """Return the SELECT of how many articles match `query`, counting COUNT_CAP + 1 at most."""
    return select(func.count()).select_from(matches_query(query).limit(COUNT_CAP + 1).subquery())


async def count_matches(db: Reader, *, query: str) -> int:
    """Return how many articles match `query`, COUNT_CAP + 1 meaning more than COUNT_CAP."""
    return int(await db.scalar(count_query(query)))
