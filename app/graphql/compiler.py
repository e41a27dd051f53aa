"""Compiles a validated query operation into one SQL statement whose JSON Postgres builds.

The resolver path (app.graphql.resolvers and app.graphql.types) stays the reference: the
compiled statement answers exactly what the resolvers answer, and `compile_operation` declines
(returns None) whatever it cannot compile — `node`, `nodes`, directives,
arguments the resolvers would refuse — which then runs through the resolvers. Filters, orderings
and keyset pages come from the same query functions the resolvers call, and each object type's
fields from the same table (app.graphql.types, `TYPES`); the root fields are compiled here, the
machinery is app.graphql.planner's.

tests/test_compiler.py runs every example operation and generated selections on both paths and
requires identical answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from psycopg import sql
from sqlalchemy import Date, bindparam

from app.graphql.checks import (
    CONTRIBUTIONS,
    EXCLUDED,
    currency_code,
    exclusion_reason_sql,
    offset_list,
    offset_of,
    search_text,
    slug_or_code,
)
from app.graphql.enums import ConversionKind
from app.graphql.money import conversion_sql
from app.graphql.planner import Compiler, Field, Plan, PlanTooLarge, Root, declining
from app.graphql.sqlparts import EMPTY_LIST, C, agg, b64url, col, order
from app.graphql.types import TYPES
from app.queries import articles, events, figures, organisations, places, search, series
from app.queries.pagination import PageArgs
from app.queries.series import Granularity

__all__ = ["TYPES", "Compiler", "Plan", "PlanTooLarge", "compile_operation"]

# in the rollup's page queries: the period of the point whose page is read (a correlation)
POINT_START = bindparam("point_start", None, type_=Date)
POINT_END = bindparam("point_end", None, type_=Date)


def _by_slug(type_name: str, table: str) -> Callable[[Compiler, Field], C]:
    def build(c: Compiler, nodes: Field) -> C:
        slug = c.arguments(c.schema.query_type, nodes)["slug"]  # type: ignore[arg-type]
        return c.row(type_name, table, "slug", c.param(slug), nodes)

    return build


def _place(c: Compiler, nodes: Field) -> C:
    args = c.arguments(c.schema.query_type, nodes)  # type: ignore[arg-type]
    column, value = slug_or_code(args.get("slug"), args.get("code"))
    return c.row("Place", "places", column, c.param(value), nodes)


# --- the trade series -------------------------------------------------------------------------------

_LABELS = {
    Granularity.YEAR: sql.SQL("to_char({}, 'YYYY')"),
    Granularity.QUARTER: sql.SQL("to_char({}, 'YYYY-\"Q\"Q')"),
    Granularity.MONTH: sql.SQL("to_char({}, 'YYYY-MM')"),
}


def _trade_series(c: Compiler, nodes: Field) -> C:
    args = c.arguments(c.schema.query_type, nodes)  # type: ignore[arg-type]
    filter_ = args.get("filter")
    if filter_ is not None:
        c.reference_checks(**filter_.references())
    where = filter_.to_query() if filter_ is not None else figures.FigureFilter()
    granularity: Granularity = args["granularity"]
    currency = currency_code("USD" if args.get("currency") is None else args["currency"])
    code = c.param(currency)
    s = c.alias()

    def figures_of(ids: str, build: Callable[[str], C]) -> C:
        f = c.alias()
        return sql.SQL("(SELECT {} FROM trade_figures {} WHERE {} = ANY({}))").format(
            agg(build(f), col(f, "id")), sql.Identifier(f), col(f, "id"), col(s, ids)
        )

    def contribution(f: str, contribution_nodes: Field) -> C:
        def converted(v: Field) -> C:
            # null when stated in the point's currency, else the computed conversion (or null)
            computed = conversion_sql(c, col(f, "id"), ConversionKind.COMPUTED, v, code)
            return sql.SQL("CASE WHEN {} = {} THEN NULL ELSE {} END").format(col(f, "currency"), code, computed)

        trade_figure = c.schema.type_map["TradeFigure"]
        return c.fields(
            "SeriesContribution",
            contribution_nodes,
            {
                "figure": lambda v: c.object("TradeFigure", f, v),
                # the figure's own (never null: the series sums money figures only)
                "amount": lambda v: TYPES["TradeFigure"]["amount"](c, f, v, trade_figure),  # type: ignore[arg-type]
                "converted": converted,
            },
        )

    def excluded_pair(f: str, cover: str, excluded_nodes: Field) -> C:
        # an ExcludedFigure of the figure aliased `f` and the one aliased `cover` that covers it
        return c.fields(
            "ExcludedFigure",
            excluded_nodes,
            {
                "figure": lambda v: c.object("TradeFigure", f, v),
                "coveredBy": lambda v: c.object("TradeFigure", cover, v),
                "reason": lambda v: exclusion_reason_sql(f, cover),
            },
        )

    def excluded(excluded_nodes: Field) -> C:
        x, f, cover = c.alias(), c.alias(), c.alias()
        return sql.SQL(
            "(SELECT {} FROM unnest({}, {}) AS {} (fid, cover) JOIN trade_figures {} ON {} = {} "
            "JOIN trade_figures {} ON {} = {})"
        ).format(
            agg(excluded_pair(f, cover, excluded_nodes), order(col(x, "fid"), col(x, "cover"))),
            col(s, "dropped"),
            col(s, "covering"),
            sql.Identifier(x),
            sql.Identifier(f),
            col(f, "id"),
            col(x, "fid"),
            sql.Identifier(cover),
            col(cover, "id"),
            col(x, "cover"),
        )

    def page(
        field: Field,
        items: Callable[[int], C],
        order: C,
        node: Callable[[Field, str], C],
        type_name: str,
        total: C | None,
        of: str,
    ) -> C:
        # a page of a point's figures by position, as resolvers._offset_page cuts it: `items(n)` is a
        # FROM item holding (at least) the first n rows, numbered in `order`; `node` builds one from the
        # numbered row's alias; `total` counts them all (else they are all in `items`)
        args = c.arguments(c.schema.type_map["TradeSeriesPoint"], field)  # type: ignore[arg-type]
        first, after = args.get("first"), args.get("after")
        PageArgs(first=first, after=after).validated()
        offset = offset_of(after, of)
        end = offset + (first if first is not None else 20)
        u = c.alias()
        n = col(u, "n")
        numbered = sql.SQL("(SELECT *, row_number() OVER (ORDER BY {}) AS n FROM {}) AS {}").format(
            order, items(end + 1), sql.Identifier(u)
        )
        cursor = b64url(sql.SQL("{} || ({} - 1)").format(sql.Literal(f"{of}:"), n))
        shown = sql.SQL("{} > {} AND {} <= {}").format(n, sql.Literal(offset), n, sql.Literal(end))
        more, last = sql.SQL("count(*) > {}").format(sql.Literal(end)), sql.SQL("{} DESC").format(n)

        empty = end <= offset  # `first: 0`: no node is built, whatever it selects
        connection = c.fields(
            f"{type_name}Connection",
            field,
            {
                "edges": lambda v: (
                    EMPTY_LIST if empty else agg(c.edge(type_name, v, cursor, lambda e: node(e, u)), n, shown)
                ),
                "nodes": lambda v: EMPTY_LIST if empty else agg(node(v, u), n, shown),
                "pageInfo": lambda v: c.page_info(
                    v, more, sql.SQL("true" if offset > 0 else "false"), cursor, n, last, None if empty else shown
                ),
                "totalCount": lambda v: sql.SQL("count(*)") if total is None else total,
            },
        )
        # the rows read once for every field; GROUP BY (): one row, also when no field aggregates
        return sql.SQL("(SELECT {} FROM {} GROUP BY ())").format(connection, numbered)

    def contribution_node(v: Field, u: str) -> C:
        f = c.alias()
        return sql.SQL("(SELECT {} FROM trade_figures {} WHERE {} = {})").format(
            contribution(f, v), sql.Identifier(f), col(f, "id"), col(u, "fid")
        )

    def excluded_node(v: Field, u: str) -> C:
        f, cover = c.alias(), c.alias()
        return sql.SQL("(SELECT {} FROM trade_figures {}, trade_figures {} WHERE {} = {} AND {} = {})").format(
            excluded_pair(f, cover, v),
            sql.Identifier(f),
            sql.Identifier(cover),
            col(f, "id"),
            col(u, "fid"),
            col(cover, "id"),
            col(u, "cover"),
        )

    selected = c.selection("TradeSeriesPoint", nodes)
    names = {v[0].name.value for v in selected.values()}
    # The points' totals, and pages of their figures, are read from the rollup (trade_series_totals,
    # _kept, _covers) when it holds the filter; every figure of every point is computed only for
    # the lists of them all, or a filter the rollup does not hold.
    every_figure = {"figures", "contributions", "excluded"}
    rollup = not names & every_figure and series.from_totals(where, currency)
    if rollup:
        source = c.inline(series.totals_query(where, granularity, currency))
        columns = sql.SQL("b_start, b_end, total, missing, n_kept, n_matched")
    else:
        source = c.inline(series.points_query(where, granularity, currency))
        columns = sql.SQL("b_start, b_end, total, kept, dropped, covering, missing")
    point_columns = {"point_start": col(s, "b_start"), "point_end": col(s, "b_end")}

    def rows(query: Any, names: str) -> C:
        # a page query of the rollup, correlated with the point, as a FROM item of these columns
        return sql.SQL("({}) AS {} ({})").format(
            c.inline(query, columns=point_columns), sql.Identifier(c.alias()), sql.SQL(names)
        )

    def kept(v: Field) -> C:
        def items(n: int) -> C:
            if rollup:
                return rows(series.kept_page_query(where, granularity, start=POINT_START, limit=n), "fid")
            return sql.SQL("unnest({}) AS {} (fid)").format(col(s, "kept"), sql.Identifier(c.alias()))

        total = col(s, "n_kept") if rollup else None
        return page(v, items, sql.SQL("fid"), contribution_node, "SeriesContribution", total, CONTRIBUTIONS)

    def dropped(v: Field) -> C:
        def items(n: int) -> C:
            if rollup:
                query = series.excluded_page_query(where, granularity, start=POINT_START, end=POINT_END, limit=n)
                return rows(query, "fid, cover")
            return sql.SQL("unnest({}, {}) AS {} (fid, cover)").format(
                col(s, "dropped"), col(s, "covering"), sql.Identifier(c.alias())
            )

        total = sql.SQL("({} - {})").format(col(s, "n_matched"), col(s, "n_kept")) if rollup else None
        return page(v, items, sql.SQL("fid, cover"), excluded_node, "ExcludedFigure", total, EXCLUDED)

    point = {
        "periodStart": lambda v: col(s, "b_start"),
        "periodEnd": lambda v: col(s, "b_end"),
        "label": lambda v: _LABELS[granularity].format(col(s, "b_start")),
        # null when a figure of the point has no conversion (series.list_points)
        "value": lambda v: sql.SQL("CASE WHEN {} IS NULL THEN {}::text END").format(col(s, "missing"), col(s, "total")),
        "currency": lambda v: sql.SQL("{}::text").format(code),
        "complete": lambda v: sql.SQL("{} IS NULL").format(col(s, "missing")),
        "figures": lambda v: figures_of("kept", functools.partial(c.object, "TradeFigure", nodes=v)),
        "contributions": lambda v: figures_of("kept", functools.partial(contribution, contribution_nodes=v)),
        "excluded": excluded,
        "contributionsConnection": kept,
        "excludedConnection": dropped,
    }
    return sql.SQL("(SELECT {} FROM ({}) AS {} ({}))").format(
        agg(c.fields("TradeSeriesPoint", nodes, point, selected), col(s, "b_start")),
        source,
        sql.Identifier(s),
        columns,
    )


# --- search ------------------------------------------------------------------------------------------


def _search(c: Compiler, nodes: Field) -> C:
    args = c.arguments(c.schema.query_type, nodes)  # type: ignore[arg-type]
    first, after = args.get("first"), args.get("after")
    PageArgs(first=first, after=after).validated()
    text = search_text(args["query"])
    of = offset_list(f"search:{text}")
    offset = offset_of(after, of)
    limit = first if first is not None else 20
    r, h = c.alias(), c.alias()
    n = col(r, "_n")
    shown = sql.SQL("{} <= {}").format(n, sql.Literal(limit))
    cursor = b64url(sql.SQL("{} || ({} + {} - 1)").format(sql.Literal(f"{of}:"), sql.Literal(offset), n))

    def hit(hit_nodes: Field) -> C:
        return c.object("SearchHit", r, hit_nodes)  # of the page query's row: the article's columns and the hit's

    more = sql.SQL("count(*) > {}").format(sql.Literal(limit))
    previous = sql.SQL("true" if offset > 0 and after is not None else "false")

    def count() -> C:
        return c.inline(search.count_query(text))

    connection = c.fields(
        "SearchHitConnection",
        nodes,
        {
            "edges": lambda v: agg(c.edge("SearchHit", v, cursor, hit), n, shown),
            "nodes": lambda v: agg(hit(v), n, shown),
            "pageInfo": lambda v: c.page_info(v, more, previous, cursor, n, sql.SQL("{} DESC").format(n), shown),
            "totalCount": lambda v: sql.SQL("least(({}), {})").format(count(), sql.Literal(search.COUNT_CAP)),
            "totalCountCapped": lambda v: sql.SQL("({}) > {}").format(count(), sql.Literal(search.COUNT_CAP)),
        },
    )
    numbered = sql.SQL(
        "SELECT {h}.*, row_number() OVER (ORDER BY {h}.rank DESC, {h}.id) AS _n FROM ({page}) {h}"
    ).format(h=sql.Identifier(h), page=c.inline(search.page_query(text, offset=offset, limit=limit)))
    return sql.SQL("(SELECT {} FROM ({}) {} GROUP BY ())").format(connection, numbered, sql.Identifier(r))


ROOTS: dict[str, Root] = {
    "article": _by_slug("Article", "articles"),
    "organisation": _by_slug("Organisation", "organisations"),
    "event": _by_slug("Event", "events"),
    "place": _place,
    "articles": lambda c, n: c.root_connection(
        n,
        "Article",
        articles.filtered,
        articles.ORDERINGS,
        articles.ArticleFilter(),
        articles.article_page,
        articles.count_query,
    ),
    "organisations": lambda c, n: c.root_connection(
        n, "Organisation", organisations.filtered, organisations.ORDERINGS, organisations.OrganisationFilter()
    ),
    "places": lambda c, n: c.root_connection(n, "Place", places.filtered, places.ORDERINGS, places.PlaceFilter()),
    "tradeFigures": lambda c, n: c.root_connection(
        n,
        "TradeFigure",
        figures.filtered,
        figures.ORDERINGS,
        figures.FigureFilter(),
        figures.figure_page,
        figures.count_query,
    ),
    "events": lambda c, n: c.root_connection(
        n,
        "Event",
        events.filtered,
        events.ORDERINGS,
        events.EventFilter(),
        events.event_page,
        events.count_query,
    ),
    "tradeSeries": _trade_series,
    "search": _search,
}


class _Compiler(Compiler):
    types = TYPES
    roots = ROOTS


compile_operation = declining(_Compiler)
