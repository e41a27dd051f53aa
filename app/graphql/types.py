"""The GraphQL object types, each declared once by its table of fields (see app.graphql.fields).

A field's table entry gives its type, description and source; the strawberry field, the row
mapping of the resolver path and the compiler's SQL are derived from it. Fields that are neither
a column nor a relation (`computed`, `custom`) keep their Python side and their SQL side together,
just above the table that uses them (a figure's money and conversions: in app.graphql.money).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from app.graphql import money
from app.graphql.context import Info
from app.graphql.enums import ConversionKind
from app.graphql.fields import (
    CLASSES,
    TABLES,
    Declared,
    Table,
    ToMany,
    column,
    custom,
    declare,
    embedded,
    enum_of,
    linked,
    mentioned,
    node_id,
    part,
    to_many,
    to_one,
)
from app.graphql.planner import OUTER_ID, Builder, Compiler, Field
from app.graphql.relay import Connection, Node, connection
from app.graphql.sqlparts import C
from app.queries import articles as article_queries
from app.queries import rows
from app.queries import search as search_queries
from app.queries.common import EVENT_PLACES, IN_EVENTS
from app.queries.pagination import PageArgs, count_of, page_query
from app.seed import format as vocab

if TYPE_CHECKING:
    from graphql import GraphQLObjectType

# Enums are registered in app.graphql.enums, imported first so every use sees one definition.

# --- places, organisations, people ---------------------------------------------------------------------


@declare(
    Table(
        "Place",
        rows.PlaceRow,
        (
            node_id(),
            column("slug", str),
            column("name", str),
            enum_of("kind", vocab.PlaceKind),
            column("aliases", list[str]),
            column("code", str, "ISO 3166-1 alpha-2 (countries) or ISO 3166-2 (subdivisions)", null=True),
            column("country_code", str, "ISO 3166-1 alpha-2 of the country it lies in", null=True),
            column("geonames_id", int, null=True),
            column("latitude", float, null=True),
            column("longitude", float, null=True),
            column("note", str, null=True),
            to_one(
                "parent", "Place", "parent_id", "The place directly containing this one: Shenyang → Liaoning → China"
            ),
            to_many(
                "children",
                "Place",
                "parent_id",
                order=("name", "id"),
            ),
        ),
    )
)
class Place(Node, Declared):
    pass


async def organisation_articles(
    root: Organisation, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Article]:
    page = await article_queries.list_articles(
        info.context.db,
        where=article_queries.ArticleFilter(involving_organisation_id=root._row.id),
        order=article_queries.ArticleOrder.PUBLISHED_ON_DESC,
        page=PageArgs(first=first, after=after),
    )
    return connection(page, Article.from_row)


def organisation_articles_sql(c: Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
    args = c.arguments(o, nodes)
    # the filter the resolver uses, its organisation id the enclosing row's
    query = article_queries.filtered(article_queries.ArticleFilter(involving_organisation_id=OUTER_ID))  # type: ignore[arg-type]
    ordering = article_queries.ORDERINGS[article_queries.ArticleOrder.PUBLISHED_ON_DESC]
    pq = page_query(query, ordering, PageArgs(first=args.get("first"), after=args.get("after")))
    return c.connection("Article", pq, count_of(query), nodes, outer=t)


@declare(
    Table(
        "Organisation",
        rows.OrganisationRow,
        (
            node_id(),
            column("slug", str),
            column("name", str),
            enum_of("kind", vocab.OrganisationKind),
            column("aliases", list[str]),
            column("note", str, null=True),
            to_one("country", "Place", "country_id"),
            to_one(
                "parent", "Organisation", "parent_id", "The organisation this one belongs to (a department's ministry)"
            ),
            custom(
                "articles",
                "Connection[Article]",
                "Articles that this organisation published or that mention it, newest first",
                resolve=organisation_articles,
                build=organisation_articles_sql,
            ),
        ),
    )
)
class Organisation(Node, Declared):
    pass


@declare(
    Table(
        "Person",
        rows.PersonRow,
        (
            node_id(),
            column("slug", str),
            column("name", str),
            column("title", str, "as the text gives it", null=True),
            column("aliases", list[str]),
            to_one("organisation", "Organisation", "organisation_id"),
            to_one("country", "Place", "country_id"),
        ),
    )
)
class Person(Node, Declared):
    pass


# --- articles -----------------------------------------------------------------------------------------


@declare(
    Table(
        "Article",
        rows.ArticleRow,
        (
            node_id(),
            column("slug", str),
            column("title", str, "verbatim from the text; null when the text has no headline", null=True),
            column("authors", list[str]),
            column("published_on", dt.date, "first day of the publication period", null=True),
            enum_of("published_precision", vocab.DatePrecision, null=True),
            enum_of("published_basis", vocab.DateBasis, null=True),
            column("published_inference", str, "how an inferred date was deduced", null=True),
            column("publisher_basis", str, "how the publisher is known, when not a masthead", null=True),
            column("language", str),
            column("body", str, "the text, verbatim"),
            column("body_sha256", str),
            column("word_count", int),
            column("source_file", str),
            column("duplicate_score", Decimal, null=True),
            column("duplicate_method", str, null=True),
            to_one("publisher", "Organisation", "publisher_id"),
            to_one(
                "duplicate_of",
                "Article",
                "duplicate_of_id",
                "The article this one rewrites, when it is a near-duplicate",
            ),
            to_many(
                "duplicates",
                "Article",
                "duplicate_of_id",
                "Articles that are near-duplicates of this one",
                order=("id",),
            ),
            mentioned(
                "organisations",
                "Organisation",
                "organisation_id",
                "Organisations the article names, in order of first mention",
            ),
            mentioned(
                "places",
                "Place",
                "place_id",
                "Places the article names, in order of first mention",
            ),
            mentioned(
                "people",
                "Person",
                "person_id",
                "People the article names, in order of first mention",
            ),
            mentioned(
                "trade_figures",
                "TradeFigure",
                "trade_figure_id",
                "Trade figures the article states, in order of first statement",
                reviewed=True,
            ),
            mentioned(
                "events",
                "Event",
                "event_id",
                "Events the article reports, in order of first mention",
                reviewed=True,
            ),
        ),
    )
)
class Article(Node, Declared):
    pass


@declare(
    Table(
        "Evidence",
        rows.EvidenceRow,
        (
            column("quote", str),
            column(
                "start", int, "character offset (Unicode code points) where the quote starts", source="start_offset"
            ),
            column("end", int, "character offset just past the quote", source="end_offset"),
            to_one("article", "Article", "article_id", null=False),
        ),
        "The exact words of an article that state a fact: `article.body[start:end] == quote`",
    )
)
class Evidence(Declared):
    pass


def evidence_of(subject: str, description: str) -> ToMany:
    """The evidence of a fact (`subject`: trade_figure or event), by article then text order."""
    return to_many(
        "evidence",
        "Evidence",
        f"{subject}_id",
        description,
        order=("article_id", "start_offset", "id"),
    )


# --- trade figures and their conversions -----------------------------------------------------------------


@declare(
    Table(
        "ConvertedMoney",
        rows.ConversionRow,
        (
            column("amount", Decimal),
            column("currency", str, source="to_currency"),
            column("rate", Decimal, "units of `currency` per unit of `fromCurrency`"),
            column("rate_date", dt.date),
            column("source", str),
            enum_of("kind", ConversionKind),
            column("from_currency", str),
            column("method", str, "how the rate was obtained (e.g. a period mean of daily rates)"),
            to_one(
                "evidence",
                "Evidence",
                "evidence_id",
                "The words of the article that state the conversion; null if computed",
            ),
        ),
        "An amount converted from another currency, with the rate and where it comes from",
    )
)
class ConvertedMoney(Declared):
    pass


@declare(
    Table(
        "TradeFigure",
        rows.FigureRow,
        (
            node_id(),
            column("slug", str),
            enum_of("flow", vocab.TradeFlow),
            column("commodity", str, "null: all goods", null=True),
            embedded("amount", money.Money),
            embedded("quantity", money.Quantity),
            column("period_start", dt.date, "first day of the period (inclusive)"),
            column("period_end", dt.date, "last day of the period (inclusive)"),
            enum_of("period_type", vocab.PeriodType),
            column("period_label", str, "the period as the article writes it", null=True),
            enum_of("period_basis", vocab.DateBasis),
            column("period_inference", str, null=True),
            column("change_pct", float, "change against the previous period, in percent", null=True),
            column("change_multiple", float, 'as written: "grew 6.2 times"', null=True),
            column("change_basis", str, null=True),
            column("approximation", str, "exact, about, nearly, more-than, less-than, up-to", null=True),
            enum_of("status", vocab.FigureStatus),
            enum_of("review", vocab.ReviewStatus, "PENDING until a person has checked it"),
            column("note", str, null=True),
            to_one("reporter", "Place", "reporter_id", "The place whose trade this is", null=False),
            to_one("partner", "Place", "partner_id"),
            to_one(
                "part_of", "TradeFigure", "part_of_id", "The figure this one is part of (imports within total trade)"
            ),
            to_one("source", "Organisation", "source_id", "The organisation that compiled or announced the figure"),
            to_many(
                "conversions",
                "ConvertedMoney",
                "trade_figure_id",
                "Every conversion of the amount: stated by the article, or computed",
                order=("kind DESC", "to_currency", "id"),
            ),
            custom(
                "amount_usd",
                "ConvertedMoney | None",
                "The amount in USD: itself when stated in USD, else computed from ECB rates",
                resolve=money.amount_usd,
                build=money.converted_sql(lambda c, n, o: "USD"),
            ),
            custom(
                "converted_amount",
                "ConvertedMoney | None",
                "The amount in `currency`, computed from reference rates; null without a rate",
                resolve=money.converted_amount,
                build=money.converted_sql(lambda c, n, o: str(c.arguments(o, n)["currency"])),
            ),
            custom(
                "stated_conversion",
                "ConvertedMoney | None",
                "The conversion the article itself states, if it states one",
                resolve=money.stated_conversion,
                build=money.stated_conversion_sql,
            ),
            evidence_of("trade_figure", "The exact words that state the figure, in every article that does"),
        ),
        "One fact: a value of trade between two places over a period, as an article states it",
    )
)
class TradeFigure(Node, Declared):
    pass


# --- events ------------------------------------------------------------------------------------------


@declare(
    Table(
        "Participant",
        rows.ParticipantRow,
        (
            enum_of("role", vocab.ParticipantRole),
            to_one("organisation", "Organisation", "organisation_id"),
            to_one("person", "Person", "person_id"),
        ),
        "An organisation or person taking part in an event, and in what role",
    )
)
class Participant(Declared):
    pass


@declare(
    Table(
        "Event",
        rows.EventRow,
        (
            node_id(),
            column("slug", str),
            column("name", str),
            enum_of("kind", vocab.EventKind),
            column("starts_on", dt.date, null=True),
            column("ends_on", dt.date, null=True),
            column("date_precision", str, "day, week, month, quarter or year", null=True),
            enum_of("date_basis", vocab.DateBasis, null=True),
            column("date_inference", str, null=True),
            column("participant_count", int, null=True),
            column("participant_unit", str, 'what is counted: "companies"', null=True),
            column("participant_approximation", str, null=True),
            column("description", str, null=True),
            enum_of("review", vocab.ReviewStatus, "PENDING until a person has checked it"),
            linked("places", "Place", EVENT_PLACES, "Where it takes place", order=("name", "id")),
            mentioned(
                "organisations",
                "Organisation",
                "organisation_id",
                "Organisations taking part, in any role",
                mentions=IN_EVENTS,
            ),
            to_many(
                "participants",
                "Participant",
                "event_id",
                "Organisations and people taking part, with their roles",
                order=("id",),
            ),
            to_one("parent", "Event", "parent_id", "The event this one is part of (a delegation at an expo)"),
            to_many(
                "children",
                "Event",
                "parent_id",
                order=("starts_on", "id"),
                reviewed=True,
            ),
            evidence_of("event", "The exact words that report the event, in every article that does"),
        ),
    )
)
class Event(Node, Declared):
    pass


# --- search hits ---------------------------------------------------------------------------------------


@declare(
    Table(
        "SearchHit",
        search_queries.SearchHit,
        (
            part("article", "Article"),
            column("rank", float, "higher is better: text relevance plus matched entities"),
            column("snippet", str, "HTML-escaped excerpt with <mark>…</mark> around matches"),
            column("matched_entities", list[str], "names of entities the query names in this article"),
        ),
        "An article matching a search, with its rank and a highlighted snippet",
    )
)
class SearchHit(Declared):
    pass


# the types `node(id:)` refetches, by the type name of a global id
NODE_TYPES: dict[str, type[Declared]] = {
    name: cls for name, cls in CLASSES.items() if any(f.name == "id" for f in TABLES[name].fields)
}
# the compiler's builders of every declared type, by GraphQL type and field name
TYPES: dict[str, dict[str, Builder]] = {name: table.builders() for name, table in TABLES.items()}
