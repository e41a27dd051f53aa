"""The per-request context resolvers receive as `info.context`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.types import Info as StrawberryInfo

from app.config import Settings
from app.db import Reader
from app.graphql.loaders import Loaders, make_loaders

if TYPE_CHECKING:
    from app.live import CorpusHub


@dataclasses.dataclass
class Context:
    db: Reader
    settings: Settings
    loaders: Loaders
    errors: list[GraphQLError] = dataclasses.field(default_factory=list)
    """Field errors reported beside a value (a partial result), added to the response's `errors`."""
    live: CorpusHub | None = None  # what subscriptions wait on (None outside a running API)

    @classmethod
    def for_request(cls, db: Reader, settings: Settings, live: CorpusHub | None = None) -> Context:
        """Return a context with fresh loaders (a loader's cache lives for one request only)."""
        return cls(db=db, settings=settings, loaders=make_loaders(db), live=live)


Info = StrawberryInfo[Context, Any]
