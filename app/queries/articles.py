"""Articles: lookups, filtered pages and near-duplicates (what each mentions: common.first_mentioned)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

from sqlalchemy import BigInteger, Select, any_, cast, exists, func, select, union

from app.db import Reader
from app.queries.common import EARLIEST_SQL, LATEST_SQL, get_by, last_day, subtree, websearch
from app.queries.pagination import (
    Ordering,
    Page,
    PageArgs,
    PageQuery,
    SortKey,
    count_of,
    merged_or_single_page_query,
    named_orderings,
    page_query,
    paginate,
    rows_page_query,
)
from app.queries.rows import (
    ArticleRow,
    article_counts,
    article_places,
    articles,
    columns,
    evidence,
    organisations,
)

# the sort keys of undated rows (common.EARLIEST_SQL, LATEST_SQL) match the expression indexes
# ix_articles_published_desc_key / _asc_key (app/models.py)


class ArticleOrder(Enum):
    PUBLISHED_ON_DESC = "PUBLISHED_ON_DESC"  # undated articles last
    PUBLISHED_ON_ASC = "PUBLISHED_ON_ASC"  # undated articles last
    TITLE_ASC = "TITLE_ASC"
    SLUG_ASC = "SLUG_ASC"


ORDERINGS: dict[ArticleOrder, Ordering] = named_orderings(
    "Article",
    {
        ArticleOrder.PUBLISHED_ON_DESC: Ordering(
            (SortKey(func.coalesce(articles.c.published_on, EARLIEST_SQL), dt.date), SortKey(articles.c.id, int)),
            descending=True,
        ),
        ArticleOrder.PUBLISHED_ON_ASC: Ordering(
            (SortKey(func.coalesce(articles.c.published_on, LATEST_SQL), dt.date), SortKey(articles.c.id, int))
        ),
        ArticleOrder.TITLE_ASC: Ordering(
            (SortKey(func.coalesce(articles.c.title, ""), str), SortKey(articles.c.id, int))
        ),
        ArticleOrder.SLUG_ASC: Ordering((SortKey(articles.c.slug, str), SortKey(articles.c.id, int))),
    },
)


# The same orders read from article_places (the article's date, copied): a place's articles come in
# order from ix_article_places_place_id_published_desc_key / _asc_key. The keys' values, and so the
# cursors, are the articles'.
BY_PLACE: dict[ArticleOrder, Ordering] = named_orderings(
    "Article",
    {
        ArticleOrder.PUBLISHED_ON_DESC: Ordering(
            (
                SortKey(func.coalesce(article_places.c.published_on, EARLIEST_SQL), dt.date),
                SortKey(article_places.c.article_id, int),
            ),
            descending=True,
        ),
        ArticleOrder.PUBLISHED_ON_ASC: Ordering(
            (
                SortKey(func.coalesce(article_places.c.published_on, LATEST_SQL), dt.date),
                SortKey(article_places.c.article_id, int),
            )
        ),
    },
)


@dataclasses.dataclass(frozen=True)
class ArticleFilter:
    publisher: str | None = None  # organisation slug
    organisation: str | None = None  # slug of an organisation the article mentions
    place: str | None = None  # slug or ISO code of a place the article mentions, or one inside it
    published_from: dt.date | None = None
    published_to: dt.date | None = None
    text: str | None = None  # web-search syntax: words, "phrases", -exclusions, or
    language: str | None = None
    involving_organisation_id: int | None = None  # published by or mentioning (Organisation.articles)


def _mentions(column: Any, ids: Select[Any]) -> Any:
    return exists().where(evidence.c.article_id == articles.c.id, column.in_(ids))


def filtered(f: ArticleFilter) -> Select[Any]:
    """Return a SELECT of article rows matching `f`."""
    q = select(*columns(ArticleRow))
    if f.publisher is not None:
        q = q.where(articles.c.publisher_id.in_(select(organisations.c.id).where(organisations.c.slug == f.publisher)))
    if f.organisation is not None:
        org_ids = select(organisations.c.id).where(organisations.c.slug == f.organisation)
        q = q.where(_mentions(evidence.c.organisation_id, org_ids))
    if f.involving_organisation_id is not None:
        # published by OR mentioning, as one ARRAY of ids from two index lookups (publisher_id;
        # evidence's organisation_id, article_id): the articles then come by primary key, where
        # the OR of a column and an EXISTS can use no index and scans every article
        org = f.involving_organisation_id
        ids = union(
            select(articles.c.id).where(articles.c.publisher_id == org).correlate(None),
            select(evidence.c.article_id).where(evidence.c.organisation_id == org),
        )
        q = q.where(articles.c.id == any_(func.array(ids.scalar_subquery())))
    if f.place is not None:
        q = q.where(_mentions(evidence.c.place_id, subtree([f.place])))
    if f.published_from is not None:
        # an article known to be from "October 2023" may be from any day of it
        q = q.where(last_day(articles.c.published_on, articles.c.published_precision) >= f.published_from)
    if f.published_to is not None:
        q = q.where(articles.c.published_on <= f.published_to)
    if f.text:
        q = q.where(articles.c.search.bool_op("@@")(websearch(f.text)))
    if f.language is not None:
        q = q.where(articles.c.language == f.language)
    return q


def count_query(f: ArticleFilter) -> Select[Any]:
    """Return the SELECT of how many articles match `f`: a sum of article_counts when it can."""
    held = dataclasses.replace(f, publisher=None, language=None)
    if held != ArticleFilter():  # tests more than article_counts holds
        return count_of(filtered(f))
    t = article_counts
    q = select(cast(func.coalesce(func.sum(t.c.articles), 0), BigInteger))
    if f.publisher is not None:
        q = q.where(t.c.publisher_id.in_(select(organisations.c.id).where(organisations.c.slug == f.publisher)))
    if f.language is not None:
        q = q.where(t.c.language == f.language)
    return q


# the most places a subtree has for its articles' page to be merged from a page per place
MERGE_UP_TO = 50


def article_page(
    where: ArticleFilter, order: ArticleOrder, args: PageArgs, *, merge_up_to: int | None = MERGE_UP_TO
) -> PageQuery:
    """Return the SELECT of one page of `filtered(where)` in `order`.

    The articles that mention a place (or a place inside it), by date, are merged from a page per
    place of the subtree, read from the place's index in order (BY_PLACE), each article's other
    conditions tested by primary key; an article that mentions two places of the subtree is shown
    once. A subtree of more than `merge_up_to` places (a country: most articles mention it, and
    the newest articles' own index finds them soon) is read from the single filtered SELECT; the
    statement counts the places and reads one of the two. `merge_up_to=None`: always merged."""
    ordering = ORDERINGS[order]
    if where.place is None or order not in BY_PLACE:
        return page_query(filtered(where), ordering, args)
    tree = subtree([where.place]).cte("tree")
    others = filtered(dataclasses.replace(where, place=None))
    # filtered(where)'s page, with the subtree read once for both
    mentioning = others.where(_mentions(evidence.c.place_id, select(tree.c.id)))
    single = page_query(mentioning.with_only_columns(articles.c.id), ordering, args)
    part = (
        others.with_only_columns(article_places.c.article_id.label("id"))
        .select_from(articles.join(article_places, article_places.c.article_id == articles.c.id))
        .where(article_places.c.place_id == tree.c.id)
    )
    merged = merged_or_single_page_query(
        tree, [part], BY_PLACE[order], args, single, merge_up_to=merge_up_to, distinct=True
    )
    return rows_page_query(merged, articles.c.id, columns(ArticleRow))


async def list_articles(db: Reader, *, where: ArticleFilter, order: ArticleOrder, page: PageArgs) -> Page[ArticleRow]:
    """Return one page of articles matching `where`."""
    return await paginate(
        db,
        filtered(where),
        ORDERINGS[order],
        page,
        lambda r: ArticleRow(*r),
        paged=article_page(where, order, page),
        counted=count_query(where),
    )


async def get_article(db: Reader, *, slug: str) -> ArticleRow | None:
    """Return the article with `slug`, or None."""
    return await get_by(db, ArticleRow, "slug", slug)
