"""Compiles a validated query operation into one SQL statement whose JSON Postgres builds.

The resolver path (app.graphql.resolvers and app.graphql.types) stays the reference: the
compiled statement answers exactly what the resolvers answer, and `compile_operation` declines
(returns None) whatever it cannot compile — `node`, `nodes`, `search`, `tradeSeries`, directives,
arguments the resolvers would refuse — which then runs through the resolvers. Filters, orderings
and keyset pages come from the same query functions the resolvers call; only the shape of the
answer (which columns, which relations, in what order) is written here.

tests/test_compiler.py runs every example operation and generated selections on both paths and
requires identical answers.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.execution.values import get_argument_values, get_variable_values
from sqlalchemy import ColumnElement, Select, exists, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from strawberry.types.arguments import convert_arguments

from app.errors import CodedError
from app.graphql.enums import ConversionKind
from app.queries import articles, events, figures, organisations, places
from app.queries.common import place_ref
from app.queries.pagination import PageArgs, PageQuery, page_query
from app.queries.rows import articles as article_rows
from app.queries.rows import evidence
from app.seed import format as vocab

_DIALECT = pg_psycopg.dialect()  # type: ignore[no-untyped-call]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# json_build_object takes at most 100 arguments
_MAX_KEYS = 50


class Unsupported(Exception):
    """The operation needs something only the resolver path answers."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """One SELECT returning (the `data` object as JSON text, whether every filter reference exists)."""

    sql: str
    params: dict[str, Any]


def compile_operation(
    strawberry_schema: strawberry.Schema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
) -> Plan | None:
    """Return the operation as one SQL statement, or None if only the resolvers can answer it."""
    if operation.operation is not OperationType.QUERY:
        return None
    try:
        return _Compiler(strawberry_schema, document, operation, variables).compile()
    except (Unsupported, CodedError):
        # CodedError: arguments the resolvers refuse (a bad cursor, `first` out of range): they
        # say so with the error in its place in the answer
        return None


# --- SQL snippets ---------------------------------------------------------------------------------


def _b64url(text_sql: str) -> str:
    # base64url without padding, as app.graphql.types.encode_id and pagination.encode_cursor write it
    b64 = f"replace(encode(convert_to({text_sql}, 'UTF8'), 'base64'), chr(10), '')"
    return f"rtrim(translate({b64}, '+/', '-_'), '=')"


def _global_id(type_name: str, t: str) -> str:
    return _b64url(f"'{type_name}:' || {t}.id")


def _enum(column: str, enum_type: type[enum.Enum]) -> str:
    # GraphQL enum names of stored values (trade-fair → TRADE_FAIR), exactly as the resolvers map them
    whens = " ".join(f"WHEN '{m.value}' THEN '{m.name}'" for m in enum_type)
    return f"CASE {column} {whens} END"


def _json_object(pairs: list[tuple[str, str]]) -> str:
    """Return a SQL expression building a JSON object of (key, SQL value) pairs, keys in order."""
    chunks = [pairs[i : i + _MAX_KEYS] for i in range(0, len(pairs), _MAX_KEYS)] or [[]]
    objects = ["json_build_object(" + ", ".join(f"'{k}', {v}" for k, v in chunk) + ")" for chunk in chunks]
    if len(objects) == 1:
        return objects[0]
    # more keys than one call takes: join the objects' texts ({a} {b} → {a, b}), keeping the order
    texts = [f"{o}::text" for o in objects]
    parts = [f"left({texts[0]}, -1)"] + [f"substr(left({t}, -1), 2)" for t in texts[1:-1]] + [f"substr({texts[-1]}, 2)"]
    return "(" + " || ',' || ".join(parts) + ")::json"


def _agg(obj: str, order: str, where: str = "") -> str:
    filter_ = f" FILTER (WHERE {where})" if where else ""
    return f"coalesce(json_agg({obj} ORDER BY {order}){filter_}, '[]'::json)"


# --- the compiler -----------------------------------------------------------------------------------

Field = list[FieldNode]  # every node of one response key (merged like graphql-core does)


class _Compiler:
    def __init__(
        self,
        strawberry_schema: strawberry.Schema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
    ) -> None:
        self.strawberry_schema = strawberry_schema
        self.schema: GraphQLSchema = strawberry_schema._schema
        self.operation = operation
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            raise Unsupported("variables that do not coerce")
        self.variables = coerced
        self.params: dict[str, Any] = {}
        self.references: list[str] = []  # EXISTS conditions of every filter reference
        self._aliases = 0

    # --- plumbing ---

    def alias(self) -> str:
        self._aliases += 1
        return f"t{self._aliases}"

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def inline(self, stmt: Select[Any]) -> str:
        """Return `stmt` as SQL text whose parameters are this plan's."""
        compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
        names = {name: self.param(value) for name, value in compiled.params.items()}
        return _PLACEHOLDER.sub(lambda m: names[m.group(1)], compiled.string)

    def arguments(self, parent: GraphQLObjectType, nodes: Field) -> dict[str, Any]:
        """Return the field's arguments as the resolver receives them (input objects built)."""
        field_def = parent.fields[nodes[0].name.value]
        raw = get_argument_values(field_def, nodes[0], self.variables)
        definition = self.strawberry_schema.get_type_by_name(parent.name)
        strawberry_field = next(
            f
            for f in definition.fields  # type: ignore[union-attr]
            if f.python_name == _snake(nodes[0].name.value) or f.name == nodes[0].name.value
        )
        converted: dict[str, Any] = convert_arguments(
            raw,
            strawberry_field.arguments,
            scalar_registry=self.strawberry_schema.schema_converter.scalar_registry,
            config=self.strawberry_schema.config,
        )
        return converted

    def collect(self, type_name: str, selection_sets: list[SelectionSetNode]) -> dict[str, Field]:
        """Return the fields selected on `type_name`, by response key, in order of first selection."""
        fields: dict[str, Field] = {}
        object_type = self.schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        applies = {type_name, *(i.name for i in object_type.interfaces)}
        # each fragment once per selection, as graphql-core collects fields: a fragment spread
        # twice (or a thousand times, nested) adds nothing the first spread did not
        visited: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if selection.directives:
                    raise Unsupported("directives")
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if selection.type_condition is None or selection.type_condition.name.value in applies:
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    if selection.name.value in visited:
                        continue
                    visited.add(selection.name.value)
                    fragment = self.fragments[selection.name.value]
                    if fragment.directives:
                        raise Unsupported("directives")
                    if fragment.type_condition.name.value in applies:
                        walk(fragment.selection_set)

        for selection_set in selection_sets:
            walk(selection_set)
        return fields

    def selection(self, type_name: str, nodes: Field) -> dict[str, Field]:
        return self.collect(type_name, [n.selection_set for n in nodes if n.selection_set is not None])

    # --- the statement ---

    def compile(self) -> Plan:
        pairs = []
        for key, nodes in self.collect("Query", [self.operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, "'Query'"))
                continue
            root = ROOTS.get(name)
            if root is None:
                raise Unsupported(f"Query.{name}")
            pairs.append((key, root(self, nodes)))
        ok = " AND ".join(self.references) or "true"
        return Plan(sql=f"SELECT {_json_object(pairs)}::text, {ok}", params=self.params)

    def object(self, type_name: str, t: str, nodes: Field) -> str:
        """Return a SQL expression building the JSON object of the row aliased `t`."""
        spec = TYPES[type_name]
        object_type = self.schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        pairs = []
        for key, field_nodes in self.selection(type_name, nodes).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, f"'{type_name}'"))
                continue
            build = spec.get(name)
            if build is None:
                raise Unsupported(f"{type_name}.{name}")
            pairs.append((key, build(self, t, field_nodes, object_type)))
        return _json_object(pairs)

    # --- relations ---

    def one(self, type_name: str, table: str, t: str, fk: str, nodes: Field) -> str:
        a = self.alias()
        return f"(SELECT {self.object(type_name, a, nodes)} FROM {table} {a} WHERE {a}.id = {t}.{fk})"

    def many(self, type_name: str, table: str, nodes: Field, where: Callable[[str], str], order: str) -> str:
        a = self.alias()
        obj = self.object(type_name, a, nodes)
        return f"(SELECT {_agg(obj, order.format(a=a))} FROM {table} {a} WHERE {where(a)})"

    def first_mentioned(self, type_name: str, table: str, column: str, t: str, nodes: Field) -> str:
        # in the order the article first names them, each once (articles.list_*_mentioned)
        a, m = self.alias(), self.alias()
        obj = self.object(type_name, a, nodes)
        mentions = (
            f"SELECT {column} AS subject_id, min(start_offset) AS pos FROM evidence "
            f"WHERE article_id = {t}.id AND {column} IS NOT NULL GROUP BY {column}"
        )
        rows = f"({mentions}) {m} JOIN {table} {a} ON {a}.id = {m}.subject_id"
        return f"(SELECT {_agg(obj, f'{m}.pos, {a}.id')} FROM {rows})"

    def connection(self, type_name: str, pq: PageQuery, count: Select[Any], nodes: Field) -> str:
        """Return a SQL expression building a connection of the page `pq` (its total: `count`'s rows)."""
        r, p = self.alias(), self.alias()
        keys = [f"_k{i}" for i in range(pq.width)]
        fetch_dir = " DESC" if pq.descending else ""
        numbered = (
            f"SELECT {p}.*, row_number() OVER (ORDER BY {', '.join(f'{p}.{k}{fetch_dir}' for k in keys)}) AS _n "
            f"FROM ({self.inline(pq.stmt)}) {p}"
        )
        shown = f"{r}._n <= {pq.limit}"
        out, back = (f"{r}._n DESC", f"{r}._n") if pq.backward else (f"{r}._n", f"{r}._n DESC")
        values = " || ',' || ".join(_cursor_value(f"{r}.{k}", kind) for k, kind in zip(keys, pq.kinds, strict=True))
        cursor = _b64url(f"'[' || {values} || ']'")
        more = f"count(*) > {pq.limit}"

        def page_info(info_nodes: Field) -> str:
            values = {
                "hasNextPage": more if pq.has_next_constant is None else str(pq.has_next_constant).lower(),
                "hasPreviousPage": more if pq.has_previous_constant is None else str(pq.has_previous_constant).lower(),
                "startCursor": f"(array_agg({cursor} ORDER BY {out}) FILTER (WHERE {shown}))[1]",
                "endCursor": f"(array_agg({cursor} ORDER BY {back}) FILTER (WHERE {shown}))[1]",
                "__typename": "'PageInfo'",
            }
            return _json_object(
                [(k, values[n[0].name.value]) for k, n in self.selection("PageInfo", info_nodes).items()]
            )

        def edge(edge_nodes: Field) -> str:
            pairs = []
            for k, n in self.selection(f"{type_name}Edge", edge_nodes).items():
                name = n[0].name.value
                if name == "cursor":
                    pairs.append((k, cursor))
                elif name == "node":
                    pairs.append((k, self.object(type_name, r, n)))
                else:
                    pairs.append((k, f"'{type_name}Edge'"))
            return _json_object(pairs)

        pairs = []
        for key, field_nodes in self.selection(f"{type_name}Connection", nodes).items():
            name = field_nodes[0].name.value
            if name == "edges":
                pairs.append((key, _agg(edge(field_nodes), out, shown)))
            elif name == "nodes":
                pairs.append((key, _agg(self.object(type_name, r, field_nodes), out, shown)))
            elif name == "pageInfo":
                pairs.append((key, page_info(field_nodes)))
            elif name == "totalCount":
                c = self.alias()
                pairs.append((key, f"(SELECT count(*) FROM ({self.inline(count.order_by(None))}) {c})"))
            else:
                pairs.append((key, f"'{type_name}Connection'"))
        # GROUP BY (): one row, whatever is selected (only totalCount aggregates nothing)
        return f"(SELECT {_json_object(pairs)} FROM ({numbered}) {r} GROUP BY ())"

    def root_connection(
        self,
        nodes: Field,
        type_name: str,
        filtered: Callable[[Any], Select[Any]],
        orderings: dict[Any, Any],
        everything: Any,
    ) -> str:
        args = self.arguments(self.schema.query_type, nodes)  # type: ignore[arg-type]
        filter_ = args.get("filter")
        if filter_ is not None:
            self.reference_checks(**filter_.references())
        where = filter_.to_query() if filter_ is not None else everything
        query = filtered(where)
        page = PageArgs(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        pq = page_query(query, orderings[args["order_by"]], page)
        return self.connection(type_name, pq, query, nodes)

    def reference_checks(self, *, places_: list[str | None] | None = None, **slugs: list[str | None]) -> None:
        # the resolvers refuse a filter naming nothing (NOT_FOUND): the statement tells whether
        # every reference exists, and the request falls back to the resolvers if one does not
        for ref in places_ or []:
            if ref is not None:
                self.references.append(f"EXISTS ({self.inline(select(literal(1)).where(place_ref(ref)))})")
        for table_name, refs in slugs.items():
            table = evidence.metadata.tables[table_name]
            for ref in refs:
                if ref is not None:
                    self.references.append(f"EXISTS ({self.inline(select(literal(1)).where(table.c.slug == ref))})")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _cursor_value(column: str, kind: type) -> str:
    # as pagination.encode_cursor writes each value: ints as numbers; dates (ISO), decimals, text as strings
    if kind is int:
        return f"{column}::text"
    if kind is float:
        raise Unsupported("float sort keys")
    return f"to_json({column}::text)::text"


# --- what each type's fields are --------------------------------------------------------------------

Builder = Callable[[_Compiler, str, Field, GraphQLObjectType], str]


def column(name: str, cast: str = "") -> Builder:
    return lambda c, t, n, o: f"{t}.{name}{cast}"


def enum_of(name: str, enum_type: type[enum.Enum]) -> Builder:
    return lambda c, t, n, o: _enum(f"{t}.{name}", enum_type)


def global_id(type_name: str) -> Builder:
    return lambda c, t, n, o: _global_id(type_name, t)


def to_one(type_name: str, table: str, fk: str) -> Builder:
    return lambda c, t, n, o: c.one(type_name, table, t, fk, n)


def mentioned(type_name: str, table: str, column_name: str) -> Builder:
    return lambda c, t, n, o: c.first_mentioned(type_name, table, column_name, t, n)


def evidence_of(subject: str) -> Builder:
    # evidence.list_for: article then text order
    return lambda c, t, n, o: c.many(
        "Evidence", "evidence", n, lambda a: f"{a}.{subject}_id = {t}.id", "{a}.article_id, {a}.start_offset, {a}.id"
    )


def _value_object(type_name: str, present: str, values: dict[str, str]) -> Builder:
    def build(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> str:
        pairs = [
            (k, f"'{type_name}'" if n[0].name.value == "__typename" else values[n[0].name.value].format(t=t))
            for k, n in c.selection(type_name, nodes).items()
        ]
        return f"CASE WHEN {present.format(t=t)} THEN {_json_object(pairs)} END"

    return build


CONVERTED = {
    "amount": "{t}.amount::text",
    "currency": "{t}.to_currency",
    "rate": "{t}.rate::text",
    "rateDate": "{t}.rate_date",
    "source": "{t}.source",
    "kind": _enum("{t}.kind", ConversionKind),
    "fromCurrency": "{t}.from_currency",
    "method": "{t}.method",
}
# TradeFigure.convert: the amount itself when it is in the asked currency
CONVERTED_SELF = {
    "amount": "{t}.amount::text",
    "currency": "{t}.currency",
    "rate": "'1'",
    "rateDate": "{t}.period_end",
    "source": "'stated in the article'",
    "kind": "'STATED'",
    "fromCurrency": "{t}.currency",
    "method": "'no conversion: the article states the amount in this currency'",
}


def _converted_object(c: _Compiler, a: str, nodes: Field, values: dict[str, str]) -> str:
    pairs = [
        (k, "'ConvertedMoney'" if n[0].name.value == "__typename" else values[n[0].name.value].format(t=a))
        for k, n in c.selection("ConvertedMoney", nodes).items()
    ]
    return _json_object(pairs)


def conversions_list(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> str:
    a = c.alias()
    obj = _converted_object(c, a, nodes, CONVERTED)
    order = f"{a}.kind DESC, {a}.to_currency, {a}.id"
    return f"(SELECT {_agg(obj, order)} FROM currency_conversions {a} WHERE {a}.trade_figure_id = {t}.id)"


def stated_conversion(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> str:
    a = c.alias()
    obj = _converted_object(c, a, nodes, CONVERTED)
    return (
        f"(SELECT {obj} FROM currency_conversions {a} WHERE {a}.trade_figure_id = {t}.id AND {a}.kind = 'stated' "
        f"ORDER BY {a}.to_currency, {a}.id LIMIT 1)"
    )


def converted(currency: Callable[[_Compiler, Field, GraphQLObjectType], str]) -> Builder:
    def build(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> str:
        code = c.param(currency(c, nodes, o).upper())
        a = c.alias()
        computed = (
            f"(SELECT {_converted_object(c, a, nodes, CONVERTED)} FROM currency_conversions {a} "
            f"WHERE {a}.trade_figure_id = {t}.id AND {a}.kind = 'computed' AND {a}.to_currency = {code} "
            f"ORDER BY {a}.id LIMIT 1)"
        )
        itself = _converted_object(c, t, nodes, CONVERTED_SELF)
        return f"CASE WHEN {t}.amount IS NULL THEN NULL WHEN {t}.currency = {code} THEN {itself} ELSE {computed} END"

    return build


def organisation_articles(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> str:
    # Organisation.articles: published by it or mentioning it, newest first
    args = c.arguments(o, nodes)
    outer: ColumnElement[int] = literal_column(f"{t}.id")
    mentions = exists().where(evidence.c.article_id == article_rows.c.id, evidence.c.organisation_id == outer)
    query = articles.filtered(articles.ArticleFilter()).where(or_(article_rows.c.publisher_id == outer, mentions))
    ordering = articles.ORDERINGS[articles.ArticleOrder.PUBLISHED_ON_DESC]
    pq = page_query(query, ordering, PageArgs(first=args.get("first"), after=args.get("after")))
    return c.connection("Article", pq, query, nodes)


def event_organisations(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> str:
    # in the order of the participants, each once
    a, m = c.alias(), c.alias()
    obj = c.object("Organisation", a, nodes)
    firsts = (
        f"SELECT organisation_id, min(id) AS pos FROM event_participants "
        f"WHERE event_id = {t}.id AND organisation_id IS NOT NULL GROUP BY organisation_id"
    )
    return (
        f"(SELECT {_agg(obj, f'{m}.pos')} FROM ({firsts}) {m} JOIN organisations {a} ON {a}.id = {m}.organisation_id)"
    )


TYPES: dict[str, dict[str, Builder]] = {
    "Place": {
        "id": global_id("Place"),
        "slug": column("slug"),
        "name": column("name"),
        "kind": enum_of("kind", vocab.PlaceKind),
        "aliases": column("aliases"),
        "code": column("code"),
        "countryCode": column("country_code"),
        "geonamesId": column("geonames_id"),
        "latitude": column("latitude"),
        "longitude": column("longitude"),
        "note": column("note"),
        "parent": to_one("Place", "places", "parent_id"),
        "children": lambda c, t, n, o: c.many(
            "Place", "places", n, lambda a: f"{a}.parent_id = {t}.id", "{a}.name, {a}.id"
        ),
    },
    "Organisation": {
        "id": global_id("Organisation"),
        "slug": column("slug"),
        "name": column("name"),
        "kind": enum_of("kind", vocab.OrganisationKind),
        "aliases": column("aliases"),
        "note": column("note"),
        "country": to_one("Place", "places", "country_id"),
        "parent": to_one("Organisation", "organisations", "parent_id"),
        "articles": organisation_articles,
    },
    "Person": {
        "id": global_id("Person"),
        "slug": column("slug"),
        "name": column("name"),
        "title": column("title"),
        "aliases": column("aliases"),
        "organisation": to_one("Organisation", "organisations", "organisation_id"),
        "country": to_one("Place", "places", "country_id"),
    },
    "Article": {
        "id": global_id("Article"),
        "slug": column("slug"),
        "title": column("title"),
        "authors": column("authors"),
        "publishedOn": column("published_on"),
        "publishedPrecision": enum_of("published_precision", vocab.DatePrecision),
        "publishedBasis": enum_of("published_basis", vocab.DateBasis),
        "publishedInference": column("published_inference"),
        "publisherBasis": column("publisher_basis"),
        "language": column("language"),
        "body": column("body"),
        "bodySha256": column("body_sha256"),
        "wordCount": column("word_count"),
        "sourceFile": column("source_file"),
        "duplicateScore": column("duplicate_score", "::text"),
        "duplicateMethod": column("duplicate_method"),
        "publisher": to_one("Organisation", "organisations", "publisher_id"),
        "duplicateOf": to_one("Article", "articles", "duplicate_of_id"),
        "duplicates": lambda c, t, n, o: c.many(
            "Article", "articles", n, lambda a: f"{a}.duplicate_of_id = {t}.id", "{a}.id"
        ),
        "organisations": mentioned("Organisation", "organisations", "organisation_id"),
        "places": mentioned("Place", "places", "place_id"),
        "people": mentioned("Person", "people", "person_id"),
        "tradeFigures": mentioned("TradeFigure", "trade_figures", "trade_figure_id"),
        "events": mentioned("Event", "events", "event_id"),
    },
    "TradeFigure": {
        "id": global_id("TradeFigure"),
        "slug": column("slug"),
        "flow": enum_of("flow", vocab.TradeFlow),
        "commodity": column("commodity"),
        "amount": _value_object(
            "Money", "{t}.amount IS NOT NULL", {"amount": "{t}.amount::text", "currency": "coalesce({t}.currency, '')"}
        ),
        "quantity": _value_object(
            "Quantity", "{t}.quantity IS NOT NULL", {"value": "{t}.quantity::text", "unit": "coalesce({t}.unit, '')"}
        ),
        "periodStart": column("period_start"),
        "periodEnd": column("period_end"),
        "periodType": enum_of("period_type", vocab.PeriodType),
        "periodLabel": column("period_label"),
        "periodBasis": enum_of("period_basis", vocab.DateBasis),
        "periodInference": column("period_inference"),
        "changePct": column("change_pct", "::float8"),
        "changeMultiple": column("change_multiple", "::float8"),
        "changeBasis": column("change_basis"),
        "approximation": column("approximation"),
        "status": enum_of("status", vocab.FigureStatus),
        "note": column("note"),
        "reporter": to_one("Place", "places", "reporter_id"),
        "partner": to_one("Place", "places", "partner_id"),
        "partOf": to_one("TradeFigure", "trade_figures", "part_of_id"),
        "source": to_one("Organisation", "organisations", "source_id"),
        "conversions": conversions_list,
        "amountUsd": converted(lambda c, n, o: "USD"),
        "convertedAmount": converted(lambda c, n, o: str(c.arguments(o, n)["currency"])),
        "statedConversion": stated_conversion,
        "evidence": evidence_of("trade_figure"),
    },
    "Participant": {
        "role": enum_of("role", vocab.ParticipantRole),
        "organisation": to_one("Organisation", "organisations", "organisation_id"),
        "person": to_one("Person", "people", "person_id"),
    },
    "Event": {
        "id": global_id("Event"),
        "slug": column("slug"),
        "name": column("name"),
        "kind": enum_of("kind", vocab.EventKind),
        "startsOn": column("starts_on"),
        "endsOn": column("ends_on"),
        "datePrecision": column("date_precision"),
        "dateBasis": enum_of("date_basis", vocab.DateBasis),
        "dateInference": column("date_inference"),
        "participantCount": column("participant_count"),
        "participantUnit": column("participant_unit"),
        "participantApproximation": column("participant_approximation"),
        "description": column("description"),
        "places": lambda c, t, n, o: c.many(
            "Place",
            "places",
            n,
            lambda a: f"{a}.id IN (SELECT place_id FROM event_places WHERE event_id = {t}.id)",
            "{a}.name, {a}.id",
        ),
        "organisations": event_organisations,
        "participants": lambda c, t, n, o: c.many(
            "Participant", "event_participants", n, lambda a: f"{a}.event_id = {t}.id", "{a}.id"
        ),
        "parent": to_one("Event", "events", "parent_id"),
        "children": lambda c, t, n, o: c.many(
            "Event", "events", n, lambda a: f"{a}.parent_id = {t}.id", "{a}.starts_on, {a}.id"
        ),
        "evidence": evidence_of("event"),
    },
    "Evidence": {
        "quote": column("quote"),
        "start": column("start_offset"),
        "end": column("end_offset"),
        "article": to_one("Article", "articles", "article_id"),
    },
}


def _by_slug(type_name: str, table: str) -> Callable[[_Compiler, Field], str]:
    def build(c: _Compiler, nodes: Field) -> str:
        slug = c.arguments(c.schema.query_type, nodes)["slug"]  # type: ignore[arg-type]
        a = c.alias()
        return f"(SELECT {c.object(type_name, a, nodes)} FROM {table} {a} WHERE {a}.slug = {c.param(slug)})"

    return build


def _place(c: _Compiler, nodes: Field) -> str:
    args = c.arguments(c.schema.query_type, nodes)  # type: ignore[arg-type]
    slug, code = args.get("slug"), args.get("code")
    if (slug is None) == (code is None):
        raise Unsupported("Query.place needs exactly one of slug and code")
    a = c.alias()
    where = f"{a}.slug = {c.param(slug)}" if slug is not None else f"{a}.code = {c.param(str(code).upper())}"
    return f"(SELECT {c.object('Place', a, nodes)} FROM places {a} WHERE {where})"


ROOTS: dict[str, Callable[[_Compiler, Field], str]] = {
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
}


def _check_coverage(schema: GraphQLSchema) -> Iterator[str]:
    """Yield the fields of compiled types that have no builder (none, when complete)."""
    for type_name, spec in TYPES.items():
        object_type = schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        for name in object_type.fields:
            if name not in spec:
                yield f"{type_name}.{name}"
