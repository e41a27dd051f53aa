"""Full-text search over articles, also finding articles through the entities they name."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import (
    Select,
    Text,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union,
    union_all,
)
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
# Very common words (most articles have them) are tested on the newest articles' own text first:
# the text index would list nearly every article for them. PROBE newest articles tell whether the
# words are that common (at least PROBE_HITS of them match); if so the newest QUICK are tested,
# and when CANDIDATES of those match they are the candidates. Rarer words cost the probe only.
PROBE, PROBE_HITS, QUICK = 20, 16, 250
COUNT_CAP = 10_000  # totalCount counts this many matches at most (and says when there are more)


@dataclasses.dataclass(frozen=True, slots=True)
class SearchHit:
    article: ArticleRow
    rank: float
    snippet: str  # HTML-escaped text with <mark>…</mark> around matches
    matched_entities: list[str]  # in code point order


def _entities_named(tsq: Any) -> Any:
    # every organisation, place and person whose name or aliases the query matches (none when the
    # query only excludes words: `-trade` would name every entity without "trade" in its name)
    def named(table: Any, kind: str) -> Any:
        # to_tsvector('english', name || ' ' || aliases joined by spaces), as its GIN index holds it
        doc = func.name_document(table.c.name, table.c.aliases, type_=TSVECTOR)
        return select(
            table.c.id.label("id"), literal(kind).label("kind"), table.c.name.label("name"), doc.label("doc")
        ).where(doc.bool_op("@@")(tsq), func.querytree(tsq) != "T")

    return union_all(named(organisations, "organisation"), named(places, "place"), named(people, "person")).cte("named")


def _excluding(query: str, tsq: Any) -> Any | None:
    """Return the parsed query when `query` may exclude a word (`-word`), else None."""
    # (websearch syntax excludes with `-`; a hyphenated word only costs the test below)
    return tsq if "-" in query else None


def _keeps_exclusions(excluding: Any | None, named: Any) -> Any:
    """Return the condition that an article named by a piece of evidence has none of the words the query excludes.

    An entity's name matches `moscow -guizhou`; an article that names it matches only if its text,
    with the name, does too (no "guizhou"). For a query that excludes nothing, no condition."""
    if excluding is None:
        return true()
    text_and_name = articles.c.search.op("||")(named.c.doc)
    return exists(
        select(articles.c.id).where(articles.c.id == evidence.c.article_id, text_and_name.bool_op("@@")(excluding))
    )


def _naming(named: Any, excluding: Any | None, *, of_one_article: bool = False) -> Any:
    """Return the evidence joined with the entities of `named` each piece names (keeping the query's exclusions).

    `of_one_article`: for the evidence of one article, found by its id, each piece then looked up
    among the entities (hashed once); else each entity's evidence is read from its own index."""
    if of_one_article:
        # a piece of evidence has one subject (ck_evidence_one_subject): its kind and id
        kind = case(
            (evidence.c.organisation_id.is_not(None), "organisation"),
            (evidence.c.place_id.is_not(None), "place"),
            (evidence.c.person_id.is_not(None), "person"),
        )
        subject = func.coalesce(evidence.c.organisation_id, evidence.c.place_id, evidence.c.person_id)
        return evidence.join(
            named, and_(named.c.kind == kind, named.c.id == subject, _keeps_exclusions(excluding, named))
        )
    return evidence.join(
        named,
        and_(
            or_(
                and_(named.c.kind == "organisation", evidence.c.organisation_id == named.c.id),
                and_(named.c.kind == "place", evidence.c.place_id == named.c.id),
                and_(named.c.kind == "person", evidence.c.person_id == named.c.id),
            ),
            _keeps_exclusions(excluding, named),
        ),
    )


_NO_NAMES = cast(array([], type_=Text), ARRAY(Text))


def _tsquery(query: str) -> Any:
    """Return the parsed query as a scalar subquery: a value the planner does not see.

    Seeing it, Postgres estimates how many articles match and, for common words, reads every
    article's tsvector (a TOASTed value detoasted per row) instead of the GIN index, which costs
    nothing per row; not seeing it, it reads the index whatever the words."""
    return select(websearch(query)).scalar_subquery()


def _entity_hits(named: Any, excluding: Any | None, article_id: Any) -> Any:
    """Return, per article of the outer query, how many entities of `named` it names and their names (a LATERAL)."""
    name = named.c.name.collate("C")
    return (
        select(
            func.count(func.distinct(func.concat(named.c.kind, ":", named.c.id))).label("n"),
            func.array_agg(aggregate_order_by(distinct(name), name)).label("names"),  # in code point order
        )
        .select_from(_naming(named, excluding, of_one_article=True))
        # (a one-time test: when the query names no entity, no article's evidence is read)
        .where(exists(select(named.c.id)), evidence.c.article_id == article_id)
        .lateral("entity_hits")
    )


def _by_id(article_id: Any, *cols: str) -> Any:
    """Return the LATERAL of the article `article_id` (its `cols`, or every column), read from its primary key.

    (The LIMIT keeps the lookup per outer row: joined as a table, a few hundred ids estimated as
    many would be hashed against every article read in full.)"""
    chosen = [articles.c[c] for c in cols] if cols else [articles]
    return select(*chosen).where(articles.c.id == article_id).limit(1).lateral("article")


def _matching_ids(tsq: Any, named: Any, excluding: Any | None) -> Any:
    # the ids of the articles whose text matches (from the GIN index) or that name a matching
    # entity (from each entity's evidence): the same rows as `search @@ tsq OR <names one>`, which
    # can only be tested row by row, detoasting every article's tsvector
    return union(
        select(articles.c.id.label("id")).where(articles.c.search.bool_op("@@")(tsq)),
        select(evidence.c.article_id).select_from(_naming(named, excluding)),
    ).subquery("matching")


def _matching(tsq: Any, named: Any, excluding: Any | None) -> Any:
    # the matching articles' ids with their published key (the key of newest first)
    ids = _matching_ids(tsq, named, excluding)
    article = _by_id(ids.c.id, "published_on")
    return select(ids.c.id, _published(article).label("published")).join(article, true()).subquery("matching_keyed")


def _published(table: Any) -> Any:
    # the key of ix_articles_published_desc_key: undated articles as the earliest
    return func.coalesce(table.c.published_on, EARLIEST_SQL)


def _newest_first(table: Any) -> tuple[Any, Any]:
    # published_on DESC NULLS LAST, id DESC: the index read backwards
    return _published(table).desc(), table.c.id.desc()


def _newest(n: int, *extra: Any) -> Any:
    """Return the subquery of the `n` newest articles' ids, published key and `extra` columns."""
    return (
        select(articles.c.id, _published(articles).label("published"), *extra)
        .order_by(*_newest_first(articles))
        .limit(n)
        .subquery()
    )


def _candidates(tsq: Any, named: Any, excluding: Any | None) -> Any:
    """Return the subquery of the CANDIDATES newest matching articles' ids (all of them when fewer match).

    For very common words (see PROBE), the newest QUICK articles' text is tested one by one; when
    CANDIDATES match there, they are the candidates. Else the newest articles are walked, at most
    RECENT of them (the date bound includes the ties at the RECENT-th), each a match when the text
    index found it among them or, failing that, its evidence names a matching entity; when
    CANDIDATES match there, every other match is older (the walk is skipped when the text index
    finds fewer among them and no entity is named: it could not find enough). Else the newest of
    all matches."""

    any_named = exists(select(named.c.id))

    def names_one(article_id: Any) -> Any:
        # (a scalar subquery with a LIMIT: looked up per article walked, never read for all articles)
        one = select(evidence.c.article_id).select_from(_naming(named, excluding, of_one_article=True))
        found = one.where(evidence.c.article_id == article_id).limit(1).scalar_subquery().is_not(None)
        return and_(any_named, found)

    probed = _newest(PROBE, articles.c.search)
    common = (
        select(func.count()).select_from(probed).where(probed.c.search.bool_op("@@")(tsq)).scalar_subquery()
        >= PROBE_HITS
    )
    newest = _newest(QUICK, articles.c.search)
    quick = (
        select(newest.c.id)
        .where(common, or_(newest.c.search.bool_op("@@")(tsq), names_one(newest.c.id)))
        .order_by(newest.c.published.desc(), newest.c.id.desc())
        .limit(CANDIDATES)
        .cte("quick")
    )
    # (none: fewer articles than RECENT, and every match is read); a CTE, so it is read once
    newest_kept = (
        select(_published(articles).label("published"))
        .order_by(*_newest_first(articles))
        .offset(RECENT - 1)
        .limit(1)
        .cte("bound")
    )
    bound = select(newest_kept.c.published).scalar_subquery()
    walked = articles.alias("walked")
    # the text's matches among them: the text index intersected with the date index, read once
    by_text = (
        select(articles.c.id)
        .where(articles.c.search.bool_op("@@")(tsq), _published(articles) >= bound)
        .cte("recent_text")
    )
    # the walk can find CANDIDATES only if the text does, or an entity is named: rare words skip it
    reachable = or_(any_named, select(func.count()).select_from(by_text).scalar_subquery() >= CANDIDATES)
    recent = (
        select(walked.c.id)
        .where(
            reachable,
            _published(walked) >= bound,
            or_(walked.c.id.in_(select(by_text.c.id)), names_one(walked.c.id)),
        )
        .order_by(*_newest_first(walked))
        .limit(CANDIDATES)
        .cte("recent")
    )

    def enough(cte: Any) -> Any:
        return select(func.count()).select_from(cte).scalar_subquery() >= CANDIDATES

    every = _matching(tsq, named, excluding)
    everywhere = select(every.c.id).order_by(every.c.published.desc(), every.c.id.desc()).limit(CANDIDATES)
    # one-time conditions, read left to right: one of the three is read, each count only when needed
    return union_all(
        select(quick.c.id).where(enough(quick)),
        select(recent.c.id).where(~enough(quick), enough(recent)),
        select(everywhere.subquery("everywhere").c.id).where(~enough(quick), ~enough(recent)),
    ).subquery("candidates")


def page_query(query: str, *, offset: int, limit: int) -> Select[Any]:
    """Return the SELECT of a page of hits, best first: the article's columns, rank, snippet, matched_entities.

    It selects `limit + 1` rows (one more tells whether more follow; its snippet is NULL, never
    made); the snippet is the database's `search_snippet` (migration e7f1a3c5b9d2): safe HTML,
    fragments of the article's opening when they match the query, else of its whole text."""
    tsq = _tsquery(query)
    named = _entities_named(tsq)
    excluding = _excluding(query, tsq)
    candidates = _candidates(tsq, named, excluding)
    article = _by_id(candidates.c.id)
    entity_hits = _entity_hits(named, excluding, article.c.id)
    text_rank = func.ts_rank_cd(article.c.search, tsq)
    rank = (text_rank + ENTITY_WEIGHT * func.coalesce(entity_hits.c.n, 0)).label("rank")
    ranked = (
        select(
            *columns(ArticleRow, article),
            rank,
            func.coalesce(entity_hits.c.names, _NO_NAMES).label("matched_entities"),
        )
        .select_from(candidates)
        .join(article, true())
        .join(entity_hits, true())  # (one row per article: an aggregate)
        .order_by(rank.desc(), article.c.id)
        .offset(offset)
        .limit(limit + 1)
        .subquery("ranked")
    )
    # a snippet costs as much as ranking every candidate: made for the page's rows only
    shown = func.row_number().over(order_by=(ranked.c.rank.desc(), ranked.c.id)) <= limit
    document = func.coalesce(ranked.c.title + " — ", "") + ranked.c.body
    snippet = case((shown, func.search_snippet(document, tsq, type_=Text))).label("snippet")
    return select(*columns(ArticleRow, ranked), ranked.c.rank, snippet, ranked.c.matched_entities).order_by(
        ranked.c.rank.desc(), ranked.c.id
    )


def matches_query(query: str) -> Select[Any]:
    """Return the SELECT of the ids of the articles matching `query`."""
    tsq = _tsquery(query)
    return select(_matching_ids(tsq, _entities_named(tsq), _excluding(query, tsq)).c.id)


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
