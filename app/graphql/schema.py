"""The strawberry schema: its root types and the SDL committed in schema/schema.graphql."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from app.graphql.resolvers import Query
from app.graphql.subscriptions import Subscription
from app.graphql.types import Article, Event, Organisation, Person, Place, TradeFigure

schema = strawberry.Schema(
    query=Query,
    subscription=Subscription,
    types=[Article, Event, Organisation, Person, Place, TradeFigure],
    config=StrawberryConfig(auto_camel_case=True),
)


def sdl() -> str:
    """Return the schema in SDL, as committed in schema/schema.graphql."""
    return schema.as_str() + "\n"
