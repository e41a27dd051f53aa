"""GraphQL enums, registered once, before any type refers to them.

The vocabularies are the seed format's own enums, and the orderings are the query layer's:
registering them here gives them GraphQL names without copying their values.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from app.queries.articles import ArticleOrder
from app.queries.events import EventOrder
from app.queries.figures import FigureOrder
from app.queries.organisations import OrganisationOrder
from app.queries.places import PlaceOrder
from app.queries.series import Granularity
from app.seed import format as vocab

strawberry.enum(vocab.PlaceKind, name="PlaceKind", description="What kind of place")
strawberry.enum(vocab.OrganisationKind, name="OrganisationKind")
strawberry.enum(vocab.EventKind, name="EventKind")
strawberry.enum(vocab.TradeFlow, name="TradeFlow", description="TOTAL is exports plus imports")
strawberry.enum(vocab.FigureStatus, name="FigureStatus")
strawberry.enum(
    vocab.ReviewStatus, name="ReviewStatus", description="PENDING: drafted, not yet checked; ACCEPTED: checked"
)
strawberry.enum(vocab.DatePrecision, name="DatePrecision")
strawberry.enum(vocab.DateBasis, name="DateBasis", description="STATED in the text, or INFERRED from it")
strawberry.enum(vocab.ParticipantRole, name="ParticipantRole")
strawberry.enum(vocab.PeriodType, name="PeriodType")


@strawberry.enum(description="Where a converted amount comes from")
class ConversionKind(Enum):
    STATED = "stated"  # the article states it
    COMPUTED = "computed"  # computed from a published reference rate


strawberry.enum(ArticleOrder, name="ArticleOrder")
strawberry.enum(PlaceOrder, name="PlaceOrder")
strawberry.enum(OrganisationOrder, name="OrganisationOrder")
strawberry.enum(FigureOrder, name="TradeFigureOrder")
strawberry.enum(EventOrder, name="EventOrder")
strawberry.enum(Granularity, name="Granularity")


@strawberry.enum(description="What a figure measures")
class FigureMeasure(Enum):
    MONEY = "money"
    QUANTITY = "quantity"
    CHANGE = "change"  # a change only ("grew 53%"), with no amount
