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

from psycopg import sql

from app.graphql.checks import currency_code, exclusion_reason_sql, offset_of, search_text, slug_or_code
from app.graphql.enums import ConversionKind
from app.graphql.money import conversion_sql
from app.graphql.planner import Compiler, Field, Plan, PlanTooLarge, Root, declining
from app.graphql.sqlparts import C, agg, b64url, col, json_object, order
from app.graphql.types import TYPES
from app.queries import articles, events, figures, organisations, places, search, series
from app.queries.pagination import PageArgs
from app.queries.series import Granularity

__all__ = ["TYPES", "Compiler", "Plan", "PlanTooLarge", "compile_operation"]


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
        pairs: list[tuple[str, C]] = []
        for k, v in c.selection("SeriesContribution", contribution_nodes).items():
            name = v[0].name.value
            if name == "figure":
                pairs.append((k, c.object("TradeFigure", f, v)))
            elif name == "amount":
                # the figure's own (never null: the series sums money figures only)
                pairs.append((k, TYPES["TradeFigure"]["amount"](c, f, v, c.schema.type_map["TradeFigure"])))  # type: ignore[arg-type]
            elif name == "converted":
                # null when stated in the point's currency, else the computed conversion (or null)
                computed = conversion_sql(c, col(f, "id"), ConversionKind.COMPUTED, v, code)
                pairs.append(
                    (k, sql.SQL("CASE WHEN {} = {} THEN NULL ELSE {} END").format(col(f, "currency"), code, computed))
                )
            else:
                pairs.append((k, sql.Literal("SeriesContribution")))
        return json_object(pairs)

    def excluded_pair(f: str, cover: str, excluded_nodes: Field) -> C:
        # an ExcludedFigure of the figure aliased `f` and the one aliased `cover` that covers it
        pairs: list[tuple[str, C]] = []
        for k, v in c.selection("ExcludedFigure", excluded_nodes).items():
            name = v[0].name.value
            if name == "figure":
                pairs.append((k, c.object("TradeFigure", f, v)))
            elif name == "coveredBy":
                pairs.append((k, c.object("TradeFigure", cover, v)))
            elif name == "reason":
                pairs.append((k, exclusion_reason_sql(f, cover)))
            else:
                pairs.append((k, sql.Literal("ExcludedFigure")))
        return json_object(pairs)

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

    def page(field: Field, items: C, order: C, node: Callable[[Field, str], C], type_name: str) -> C:
        # a page of a point's figures by position, as resolvers._offset_page cuts it: `items` is a FROM
        # item whose rows are numbered in `order`; `node` builds one from the numbered row's alias
        args = c.arguments(c.schema.type_map["TradeSeriesPoint"], field)  # type: ignore[arg-type]
        first, after = args.get("first"), args.get("after")
        PageArgs(first=first, after=after).validated()
        offset = offset_of(after)
        end = offset + (first if first is not None else 20)
        u = c.alias()
        n = col(u, "n")
        numbered = sql.SQL("(SELECT *, row_number() OVER (ORDER BY {}) AS n FROM {}) AS {}").format(
            order, items, sql.Identifier(u)
        )
        cursor = b64url(sql.SQL("'offset:' || ({} - 1)").format(n))
        shown = sql.SQL("{} > {} AND {} <= {}").format(n, sql.Literal(offset), n, sql.Literal(end))

        def over(value: C) -> C:
            # GROUP BY (): one row, also when the value holds no aggregate
            return sql.SQL("(SELECT {} FROM {} GROUP BY ())").format(value, numbered)

        pairs: list[tuple[str, C]] = []
        for k, v in c.selection(f"{type_name}Connection", field).items():
            name = v[0].name.value
            if name == "edges":
                edge = c.edge(type_name, v, cursor, lambda e: node(e, u))
                pairs.append((k, over(agg(edge, n, shown))))
            elif name == "nodes":
                pairs.append((k, over(agg(node(v, u), n, shown))))
            elif name == "pageInfo":
                fields = {
                    "hasNextPage": sql.SQL("count(*) > {}").format(sql.Literal(end)),
                    "hasPreviousPage": sql.SQL("true" if offset > 0 else "false"),
                    "startCursor": sql.SQL("(array_agg({} ORDER BY {}) FILTER (WHERE {}))[1]").format(cursor, n, shown),
                    "endCursor": sql.SQL("(array_agg({} ORDER BY {} DESC) FILTER (WHERE {}))[1]").format(
                        cursor, n, shown
                    ),
                    "__typename": sql.Literal("PageInfo"),
                }
                info = [(ik, fields[i[0].name.value]) for ik, i in c.selection("PageInfo", v).items()]
                pairs.append((k, over(json_object(info))))
            elif name == "totalCount":
                pairs.append((k, over(sql.SQL("count(*)"))))
            else:
                pairs.append((k, sql.Literal(f"{type_name}Connection")))
        return json_object(pairs)

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

    point: list[tuple[str, C]] = []
    selected = c.selection("TradeSeriesPoint", nodes)
    names = {v[0].name.value for v in selected.values()}
    # the points' totals alone are read from trade_series_totals; the figures of every point only
    # when a list or a page of them is asked for
    lists = {"figures", "contributions", "excluded", "contributionsConnection", "excludedConnection"}
    if not names & lists and series.from_totals(where, currency):
        source = c.inline(series.totals_query(where, granularity, currency))
        columns = sql.SQL("b_start, b_end, total, missing")
    else:
        source = c.inline(series.points_query(where, granularity, currency))
        columns = sql.SQL("b_start, b_end, total, kept, dropped, covering, missing")
    for key, v in selected.items():
        name = v[0].name.value
        if name == "periodStart":
            point.append((key, col(s, "b_start")))
        elif name == "periodEnd":
            point.append((key, col(s, "b_end")))
        elif name == "label":
            point.append((key, _LABELS[granularity].format(col(s, "b_start"))))
        elif name == "value":
            # null when a figure of the point has no conversion (series.list_points)
            point.append(
                (key, sql.SQL("CASE WHEN {} IS NULL THEN {}::text END").format(col(s, "missing"), col(s, "total")))
            )
        elif name == "currency":
            point.append((key, sql.SQL("{}::text").format(code)))
        elif name == "complete":
            point.append((key, sql.SQL("{} IS NULL").format(col(s, "missing"))))
        elif name == "figures":
            point.append((key, figures_of("kept", functools.partial(c.object, "TradeFigure", nodes=v))))
        elif name == "contributions":
            point.append((key, figures_of("kept", functools.partial(contribution, contribution_nodes=v))))
        elif name == "excluded":
            point.append((key, excluded(v)))
        elif name == "contributionsConnection":
            kept = sql.SQL("unnest({}) AS {} (fid)").format(col(s, "kept"), sql.Identifier(c.alias()))
            point.append((key, page(v, kept, sql.SQL("fid"), contribution_node, "SeriesContribution")))
        elif name == "excludedConnection":
            dropped = sql.SQL("unnest({}, {}) AS {} (fid, cover)").format(
                col(s, "dropped"), col(s, "covering"), sql.Identifier(c.alias())
            )
            point.append((key, page(v, dropped, sql.SQL("fid, cover"), excluded_node, "ExcludedFigure")))
        else:
            point.append((key, sql.Literal("TradeSeriesPoint")))
    return sql.SQL("(SELECT {} FROM ({}) AS {} ({}))").format(
        agg(json_object(point), col(s, "b_start")), source, sql.Identifier(s), columns
    )


# --- search ------------------------------------------------------------------------------------------


def _search(c: Compiler, nodes: Field) -> C:
    args = c.arguments(c.schema.query_type, nodes)  # type: ignore[arg-type]
    first, after = args.get("first"), args.get("after")
    PageArgs(first=first, after=after).validated()
    text, offset = search_text(args["query"]), offset_of(after)
    limit = first if first is not None else 20
    r, h = c.alias(), c.alias()
    n = col(r, "_n")
    shown = sql.SQL("{} <= {}").format(n, sql.Literal(limit))
    cursor = b64url(sql.SQL("'offset:' || ({} + {} - 1)").format(sql.Literal(offset), n))

    def hit(hit_nodes: Field) -> C:
        pairs: list[tuple[str, C]] = []
        for k, v in c.selection("SearchHit", hit_nodes).items():
            name = v[0].name.value
            if name == "article":
                pairs.append((k, c.object("Article", r, v)))
            elif name == "rank":
                pairs.append((k, sql.SQL("{}::float8").format(col(r, "rank"))))
            elif name == "snippet":
                pairs.append((k, col(r, "snippet")))  # safe HTML already (search.highlight)
            elif name == "matchedEntities":
                names = sql.SQL('to_json(ARRAY(SELECT x FROM unnest({}) AS x ORDER BY x COLLATE "C"))')
                pairs.append((k, names.format(col(r, "names"))))
            else:
                pairs.append((k, sql.Literal("SearchHit")))
        return json_object(pairs)

    def page_info(info_nodes: Field) -> C:
        fields = {
            "hasNextPage": sql.SQL("count(*) > {}").format(sql.Literal(limit)),
            "hasPreviousPage": sql.SQL("true" if offset > 0 and after is not None else "false"),
            "startCursor": sql.SQL("(array_agg({} ORDER BY {}) FILTER (WHERE {}))[1]").format(cursor, n, shown),
            "endCursor": sql.SQL("(array_agg({} ORDER BY {} DESC) FILTER (WHERE {}))[1]").format(cursor, n, shown),
            "__typename": sql.Literal("PageInfo"),
        }
        return json_object([(k, fields[v[0].name.value]) for k, v in c.selection("PageInfo", info_nodes).items()])

    pairs: list[tuple[str, C]] = []
    for key, v in c.selection("SearchHitConnection", nodes).items():
        name = v[0].name.value
        if name == "edges":
            pairs.append((key, agg(c.edge("SearchHit", v, cursor, hit), n, shown)))
        elif name == "nodes":
            pairs.append((key, agg(hit(v), n, shown)))
        elif name == "pageInfo":
            pairs.append((key, page_info(v)))
        elif name == "totalCount":
            total = sql.SQL("least(({}), {})").format(c.inline(search.count_query(text)), sql.Literal(search.COUNT_CAP))
            pairs.append((key, total))
        elif name == "totalCountCapped":
            capped = sql.SQL("({}) > {}").format(c.inline(search.count_query(text)), sql.Literal(search.COUNT_CAP))
            pairs.append((key, capped))
        else:
            pairs.append((key, sql.Literal("SearchHitConnection")))
    numbered = sql.SQL(
        "SELECT {h}.*, row_number() OVER (ORDER BY {h}.rank DESC, {h}.id) AS _n FROM ({page}) {h}"
    ).format(h=sql.Identifier(h), page=c.inline(search.page_query(text, offset=offset, limit=limit)))
    return sql.SQL("(SELECT {} FROM ({}) {} GROUP BY ())").format(json_object(pairs), numbered, sql.Identifier(r))


ROOTS: dict[str, Root] = {
    "article": _by_slug("Article", "articles"),
    "organisation": _by_slug("Organisation", "organisations"),
    "event": _by_slug("Event", "events"),
    "place": _place,
    "articles": lambda c, n: c.root_connection(
        n, "Article", articles.filtered, articles.ORDERINGS, articles.ArticleFilter()
    ),
    "organisations": lambda c, n: c.root_connection(
        n, "Organisation", organisations.filtered, organisations.ORDERINGS, organisations.OrganisationFilter()
    ),
    "places": lambda c, n: c.root_connection(n, "Place", places.filtered, places.ORDERINGS, places.PlaceFilter()),
    "tradeFigures": lambda c, n: c.root_connection(
        n, "TradeFigure", figures.filtered, figures.ORDERINGS, figures.FigureFilter()
    ),
    "events": lambda c, n: c.root_connection(n, "Event", events.filtered, events.ORDERINGS, events.EventFilter()),
    "tradeSeries": _trade_series,
    "search": _search,
}


class _Compiler(Compiler):
    types = TYPES
    roots = ROOTS


compile_operation = declining(_Compiler)
