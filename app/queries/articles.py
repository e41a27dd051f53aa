"""Articles: lookups, filtered pages and near-duplicates (what each mentions: common.first_mentioned)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

from sqlalchemy import BigInteger, Select, any_, cast, exists, func, select, union

from app.db import Reader
from app.queries.common import EARLIEST_SQL, LATEST_SQL, get_by, last_day, subtree, websearch
from app.queries.pagination import Ordering, Page, PageArgs, SortKey, count_of, paginate
from app.queries.rows import (
    ArticleRow,
    article_counts,
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


ORDERINGS: dict[ArticleOrder, Ordering] = {
    ArticleOrder.PUBLISHED_ON_DESC: Ordering(
        (SortKey(func.coalesce(articles.c.published_on, EARLIEST_SQL), dt.date), SortKey(articles.c.id, int)),
        descending=True,
    ),
    ArticleOrder.PUBLISHED_ON_ASC: Ordering(
        (SortKey(func.coalesce(articles.c.published_on, LATEST_SQL), dt.date), SortKey(articles.c.id, int))
    ),
    ArticleOrder.TITLE_ASC: Ordering((SortKey(func.coalesce(articles.c.title, ""), str), SortKey(articles.c.id, int))),
    ArticleOrder.SLUG_ASC: Ordering((SortKey(articles.c.slug, str), SortKey(articles.c.id, int))),
}


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


async def list_articles(db: Reader, *, where: ArticleFilter, order: ArticleOrder, page: PageArgs) -> Page[ArticleRow]:
    """Return one page of articles matching `where`."""
    rows = filtered(where)
    return await paginate(db, rows, ORDERINGS[order], page, lambda r: ArticleRow(*r), counted=count_query(where))


async def get_article(db: Reader, *, slug: str) -> ArticleRow | None:
    """Return the article with `slug`, or None."""
    return await get_by(db, ArticleRow, "slug", slug)
