"""The strawberry schema: its root types and the SDL committed in schema/schema.graphql."""

from __future__ import annotations

import datetime as dt
import decimal
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

_DECIMAL = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _parse_decimal(value: object) -> decimal.Decimal:
    """Return the number written in ASCII digits (`-12.5`, `3E9`), or given as a JSON number; raise ValueError
    for anything else (other scripts' digits, underscores, spaces, `NaN`, which Python reads as numbers too)."""
    text = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _DECIMAL.fullmatch(text):
        raise ValueError(f"expected a decimal number written with ASCII digits (-12.5, 3E9), got {str(value)[:40]!r}")
    return decimal.Decimal(text)


Decimal = strawberry.scalar(
    name="Decimal", description="Decimal (fixed-point)", serialize=str, parse_value=_parse_decimal
)

schema = strawberry.Schema(
    query=Query,
    subscription=Subscription,
    types=[Article, Event, Organisation, Person, Place, TradeFigure],
    config=StrawberryConfig(auto_camel_case=True),
    scalar_overrides={dt.date: Date, decimal.Decimal: Decimal},
)


def sdl() -> str:
    """Return the schema in SDL, as committed in schema/schema.graphql."""
    return schema.as_str() + "\n"
