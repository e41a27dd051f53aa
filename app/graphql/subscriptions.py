"""The root Subscription: events of committed seeds, delivered as the same types queries return.

Each event's selections are resolved by the same resolvers as a query's (app/graphql/ws.py runs
them, once per distinct document and event, for every subscriber alike).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncGenerator, Awaitable, Callable
from enum import Enum

import strawberry

from app.errors import BadUserInput, ServiceUnavailable
from app.graphql.context import Info
from app.graphql.guards import refuse_long_strings
from app.graphql.inputs import ArticleFilter
from app.graphql.resolvers import _missing
from app.graphql.types import Article
from app.live import CorpusHub
from app.queries.articles import ArticleFilter as ArticleQueryFilter
from app.queries.corpus import VersionRow, added_articles


@strawberry.enum(description="What kind of row a corpus change counts")
class CorpusEntity(Enum):
    PLACE = "places"
    ORGANISATION = "organisations"
    PERSON = "people"
    ARTICLE = "articles"
    TRADE_FIGURE = "trade_figures"
    EVENT = "events"
    EVENT_PLACE = "event_places"
    EVENT_PARTICIPANT = "event_participants"
    EVIDENCE = "evidence"
    CURRENCY_CONVERSION = "currency_conversions"


@strawberry.type(description="How many rows of one kind a seed added, updated and removed")
class EntityChange:
    entity: CorpusEntity
    added: int
    updated: int
    removed: int


@strawberry.type(description="A committed seed that changed the corpus: what to refetch")
class CorpusChange:
    version: int = strawberry.field(description="the corpus version it made; versions only grow")
    committed_at: dt.datetime
    reset: bool = strawberry.field(description="the seed emptied the corpus first: refetch everything")
    changes: list[EntityChange] = strawberry.field(description="each kind of row it changed, with counts")

    @classmethod
    def from_row(cls, row: VersionRow) -> CorpusChange:
        known = {e.value: e for e in CorpusEntity}
        return cls(
            version=row.version,
            committed_at=row.committed_at,
            reset=row.reset,
            changes=[
                EntityChange(
                    entity=known[table],
                    added=int(c.get("added", 0)),
                    updated=int(c.get("updated", 0)),
                    removed=int(c.get("removed", 0)),
                )
                for table, c in row.changes.items()
                if table in known
            ],
        )


def _hub(info: Info) -> CorpusHub:
    if info.context.live is None:
        raise ServiceUnavailable("live updates are not available in this process")
    return info.context.live


async def _added(hub: CorpusHub, version: VersionRow, where: ArticleQueryFilter) -> AsyncGenerator[Article, None]:
    """Yield the articles `version` added that match `where`: the same objects for every subscriber."""
    after: int | None = None
    while True:
        last = after

        async def page(last: int | None = last) -> list[Article]:
            rows = await hub.read(lambda db: added_articles(db, version=version, where=where, after_id=last))
            return [Article.from_row(r) for r in rows]

        found = await hub.shared(("articles added", version.version, where, last), page)
        for article in found:
            yield article
        if not found:
            return
        after = found[-1]._pk


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each article a committed seed adds that matches `filter` (place filters include the places "
        "inside), from now on"
    )
    async def article_added(self, info: Info, filter: ArticleFilter | None = None) -> AsyncGenerator[Article, None]:
        hub = _hub(info)
        if filter is not None:
            refuse_long_strings({"filter": dataclasses.asdict(filter)}, info.context.settings.max_string_length)
            try:
                missing = await _missing(info, **filter.references())
            finally:
                await info.context.db.close()  # a subscription holds no pooled connection while it waits
            if missing is not None:
                raise missing  # a stream has no partial result: the subscription ends with NOT_FOUND
        where = filter.to_query() if filter is not None else ArticleQueryFilter()
        version = await hub.current()
        while True:
            for row in await hub.versions_after(version):
                version = row.version
                async for article in _added(hub, row, where):
                    yield article

    @strawberry.subscription(
        description="One event per committed seed that changes the corpus, from now on; with `since`, first "
        "every version after that one (what a client missed while away)"
    )
    async def corpus_changed(self, info: Info, since: int | None = None) -> AsyncGenerator[CorpusChange, None]:
        hub = _hub(info)
        latest = await hub.current()
        if since is not None and not 0 <= since <= latest:
            raise BadUserInput(f"`since` must be a version from 0 to the latest, {latest}; got {since}")
        version = latest if since is None else since
        while True:
            for row in await hub.versions_after(version):
                version = row.version
                yield await hub.shared(("corpus change", row.version), _change(row))


def _change(row: VersionRow) -> Callable[[], Awaitable[CorpusChange]]:
    async def make() -> CorpusChange:
        return CorpusChange.from_row(row)

    return make
