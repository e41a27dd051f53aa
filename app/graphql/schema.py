"""The strawberry schema: its root types and the SDL committed in schema/schema.graphql."""

from __future__ import annotations

import datetime as dt
import re

import strawberry
from strawberry.schema.config import StrawberryConfig

from app.graphql.resolvers import Query
from app.graphql.subscriptions import Subscription
from app.graphql.types import Article, Event, Organisation, Person, Place, TradeFigure

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _parse_date(value: object) -> dt.date:
    """Return the date written `YYYY-MM-DD`; raise ValueError for anything else (`20240101`, `2024-W01-1`)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError(f"expected a date written YYYY-MM-DD, got {str(value)[:40]!r}")
    return dt.date.fromisoformat(value)


# (Python reads other ISO 8601 forms as dates too: the API's documented form only)
Date = strawberry.scalar(
    name="Date", description="Date (isoformat)", serialize=dt.date.isoformat, parse_value=_parse_date
)

schema = strawberry.Schema(
    query=Query,
    subscription=Subscription,
    types=[Article, Event, Organisation, Person, Place, TradeFigure],
    config=StrawberryConfig(auto_camel_case=True),
    scalar_overrides={dt.date: Date},
)


def sdl() -> str:
    """Return the schema in SDL, as committed in schema/schema.graphql."""
    return schema.as_str() + "\n"
