"""Compiles a validated query operation into one SQL statement whose JSON Postgres builds.

The resolver path (app.graphql.resolvers and app.graphql.types) stays the reference: the
compiled statement answers exactly what the resolvers answer, and `compile_operation` declines
(returns None) whatever it cannot compile — `node`, `nodes`, directives,
arguments the resolvers would refuse — which then runs through the resolvers. Filters, orderings
and keyset pages come from the same query functions the resolvers call; only the shape of the
answer (which columns, which relations, in what order) is written here.

tests/test_compiler.py runs every example operation and generated selections on both paths and
requires identical answers.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
from collections.abc import Callable
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
from psycopg import sql
from sqlalchemy import BigInteger, Select, bindparam, literal, select
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from strawberry.types.arguments import convert_arguments

from app.errors import CodedError
from app.graphql.enums import ConversionKind
from app.graphql.resolvers import currency_code, offset_of, search_text
from app.queries import articles, events, figures, organisations, places, search, series
from app.queries.common import place_ref
from app.queries.pagination import PageArgs, PageQuery, page_query
from app.queries.rows import evidence
from app.queries.series import Granularity
from app.seed import format as vocab

_DIALECT = pg_psycopg.dialect()  # type: ignore[no-untyped-call]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# json_build_object takes at most 100 arguments
_MAX_KEYS = 50


class Unsupported(Exception):
    """The operation needs something only the resolver path answers."""


class PlanTooLarge(Exception):
    """The statement would be longer than allowed; compiling stopped as soon as that was clear."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the operation compiles to more than {limit} bytes of SQL (the limit): ask for fewer fields")
        self.size = size
        self.limit = limit


# what compiling a selected field writes besides its value's own SQL (its key, the call around it)
_FIELD_BYTES = 32
# and a subquery around an object, a list or a page (its SELECT, FROM, WHERE and aliases)
_OBJECT_BYTES = 48


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
    *,
    max_bytes: int | None = None,
    max_string_length: int | None = None,
) -> Plan | None:
    """Return the operation as one SQL statement, or None if only the resolvers can answer it.

    With `max_bytes`, raise PlanTooLarge as soon as the statement is sure to be longer: the work
    of compiling stays proportional to the limit, whatever the document expands into."""
    if operation.operation is not OperationType.QUERY:
        return None
    try:
        return _Compiler(strawberry_schema, document, operation, variables, max_bytes, max_string_length).compile()
    except (Unsupported, CodedError):
        # CodedError: arguments the resolvers refuse (a bad cursor, `first` out of range): they
        # say so with the error in its place in the answer
        return None


# --- SQL snippets ---------------------------------------------------------------------------------
# Every piece of SQL is composed with psycopg.sql: constant templates, identifiers, literals and
# placeholders; every value a request carries is a parameter.

C = sql.Composable


def _col(alias: str, name: str) -> C:
    return sql.Identifier(alias, name)


def _b64url(text: C) -> C:
    # base64url without padding, as app.graphql.types.encode_id and pagination.encode_cursor write it
    return sql.SQL(
        "rtrim(translate(replace(encode(convert_to({}, 'UTF8'), 'base64'), chr(10), ''), '+/', '-_'), '=')"
    ).format(text)


def _global_id(type_name: str, t: str) -> C:
    return _b64url(sql.SQL("{} || {}").format(sql.Literal(type_name + ":"), _col(t, "id")))


def _enum(value: C, enum_type: type[enum.Enum]) -> C:
    # GraphQL enum names of stored values (trade-fair → TRADE_FAIR), exactly as the resolvers map them
    whens = sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(m.value), sql.Literal(m.name)) for m in enum_type
    )
    return sql.SQL("CASE {} {} END").format(value, whens)


def _json_object(pairs: list[tuple[str, C]]) -> C:
    """Return a SQL expression building a JSON object of (key, SQL value) pairs, keys in order."""
    chunks = [pairs[i : i + _MAX_KEYS] for i in range(0, len(pairs), _MAX_KEYS)] or [[]]
    objects = [
        sql.SQL("json_build_object({})").format(
            sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(k), v) for k, v in chunk)
        )
        for chunk in chunks
    ]
    if len(objects) == 1:
        return objects[0]
    # more keys than one call takes: join the objects' texts ({a} {b} → {a, b}), keeping the order
    parts = [sql.SQL("left({}::text, -1)").format(objects[0])]
    parts += [sql.SQL("substr(left({}::text, -1), 2)").format(o) for o in objects[1:-1]]
    parts += [sql.SQL("substr({}::text, 2)").format(objects[-1])]
    return sql.SQL("({})::json").format(sql.SQL(" || ',' || ").join(parts))


def _agg(obj: C, order: C, where: C | None = None) -> C:
    if where is None:
        return sql.SQL("coalesce(json_agg({} ORDER BY {}), '[]'::json)").format(obj, order)
    return sql.SQL("coalesce(json_agg({} ORDER BY {}) FILTER (WHERE {}), '[]'::json)").format(obj, order, where)


def _order(*columns: C) -> C:
    return sql.SQL(", ").join(columns)


def _cursor_value(value: C, kind: type) -> C:
    # as pagination.encode_cursor writes each value: ints as numbers; dates (ISO), decimals, text as strings
    if kind is int:
        return sql.SQL("{}::text").format(value)
    if kind is float:
        raise Unsupported("float sort keys")
    return sql.SQL("to_json({}::text)::text").format(value)


def _long_string(value: Any, max_length: int) -> bool:
    """Return whether a string (key or value) anywhere in an argument value is longer than `max_length`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) > max_length:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


# --- the compiler -----------------------------------------------------------------------------------

Field = list[FieldNode]  # every node of one response key (merged like graphql-core does)


class _Compiler:
    def __init__(
        self,
        strawberry_schema: strawberry.Schema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        max_bytes: int | None = None,
        max_string_length: int | None = None,
    ) -> None:
        self.strawberry_schema = strawberry_schema
        self.max_bytes = max_bytes
        self.max_string_length = max_string_length
        self.spent = 0  # bytes of SQL written so far, estimated (within ~20%: the final length is checked)
        self.schema: GraphQLSchema = strawberry_schema._schema
        self.operation = operation
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            raise Unsupported("variables that do not coerce")
        self.variables = coerced
        self.params: dict[str, Any] = {}
        self.references: list[C] = []  # EXISTS conditions of every filter reference
        self._aliases = 0

    # --- plumbing ---

    def alias(self) -> str:
        self._aliases += 1
        return f"t{self._aliases}"

    def spend(self, size: int) -> None:
        """Count `size` more bytes of SQL; raise PlanTooLarge past the limit."""
        self.spent += size
        if self.max_bytes is not None and self.spent > self.max_bytes:
            raise PlanTooLarge(self.spent, self.max_bytes)

    def param(self, value: Any) -> sql.Placeholder:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def inline(self, stmt: Select[Any], outer: str = "") -> C:
        """Return `stmt` (from the query functions) as SQL whose parameters are this plan's.

        A parameter `outer_id` stands for the id of the row aliased `outer` (a correlation)."""
        compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
        self.spend(len(compiled.string) * 9 // 10)  # its placeholders get shorter names here
        names = {
            name: (_col(outer, "id") if name == "outer_id" and outer else self.param(value)).as_string(None)
            for name, value in compiled.params.items()
        }
        # SQLAlchemy wrote it with bound parameters only; they are renamed to this plan's
        return sql.SQL(_PLACEHOLDER.sub(lambda m: names[m.group(1)], compiled.string))

    def row(self, type_name: str, table: str, column: str, value: C, nodes: Field) -> C:
        """Return the object of the row of `table` whose `column` equals `value` (null if none)."""
        self.spend(_OBJECT_BYTES)
        a = self.alias()
        return sql.SQL("(SELECT {} FROM {} {} WHERE {} = {})").format(
            self.object(type_name, a, nodes), sql.Identifier(table), sql.Identifier(a), _col(a, column), value
        )

    def arguments(self, parent: GraphQLObjectType, nodes: Field) -> dict[str, Any]:
        """Return the field's arguments as the resolver receives them (input objects built)."""
        field_def = parent.fields[nodes[0].name.value]
        raw = get_argument_values(field_def, nodes[0], self.variables)
        if self.max_string_length is not None and _long_string(raw, self.max_string_length):
            # the resolvers refuse it, with the error in its place
            raise Unsupported("an argument over the string length limit")
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
                    if key not in fields:
                        self.spend(_FIELD_BYTES + len(key))
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
        pairs: list[tuple[str, C]] = []
        for key, nodes in self.collect("Query", [self.operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, sql.Literal("Query")))
                continue
            root = ROOTS.get(name)
            if root is None:
                raise Unsupported(f"Query.{name}")
            pairs.append((key, root(self, nodes)))
        ok = sql.SQL(" AND ").join(self.references) if self.references else sql.SQL("true")
        statement = sql.SQL("SELECT {}::text, {}").format(_json_object(pairs), ok).as_string(None)
        if self.max_bytes is not None and len(statement) > self.max_bytes:
            raise PlanTooLarge(len(statement), self.max_bytes)
        return Plan(sql=statement, params=self.params)

    def object(self, type_name: str, t: str, nodes: Field) -> C:
        """Return a SQL expression building the JSON object of the row aliased `t`."""
        spec = TYPES[type_name]
        object_type = self.schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        pairs: list[tuple[str, C]] = []
        for key, field_nodes in self.selection(type_name, nodes).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, sql.Literal(type_name)))
                continue
            build = spec.get(name)
            if build is None:
                raise Unsupported(f"{type_name}.{name}")
            pairs.append((key, build(self, t, field_nodes, object_type)))
        return _json_object(pairs)

    def values(self, type_name: str, t: str, nodes: Field, values: dict[str, Callable[[str], C]]) -> C:
        """Return a SQL expression building an object of a value type (Money, ConvertedMoney) of row `t`."""
        return _json_object(
            [
                (k, sql.Literal(type_name) if n[0].name.value == "__typename" else values[n[0].name.value](t))
                for k, n in self.selection(type_name, nodes).items()
            ]
        )

    # --- relations ---

    def one(self, type_name: str, table: str, t: str, fk: str, nodes: Field) -> C:
        self.spend(_OBJECT_BYTES)
        a = self.alias()
        return sql.SQL("(SELECT {} FROM {} {} WHERE {} = {})").format(
            self.object(type_name, a, nodes), sql.Identifier(table), sql.Identifier(a), _col(a, "id"), _col(t, fk)
        )

    def reviewed(self, alias: str, parent: GraphQLObjectType, nodes: Field) -> C:
        """Return the condition on `alias`.review of a nested list's `review` argument (default: accepted)."""
        review = self.arguments(parent, nodes).get("review")
        wanted = sorted({r.value for r in review} if review else {"accepted"})
        return sql.SQL("{} IN ({})").format(_col(alias, "review"), sql.SQL(", ").join(map(self.param, wanted)))

    def many(self, type_name: str, table: str, nodes: Field, where: Callable[[str], C], order: Callable[[str], C]) -> C:
        self.spend(2 * _OBJECT_BYTES)
        a = self.alias()
        obj = self.object(type_name, a, nodes)
        return sql.SQL("(SELECT {} FROM {} {} WHERE {})").format(
            _agg(obj, order(a)), sql.Identifier(table), sql.Identifier(a), where(a)
        )

    def first_mentioned(
        self, type_name: str, table: str, column: str, t: str, nodes: Field, reviewed: GraphQLObjectType | None = None
    ) -> C:
        # in the order the article first names them, each once (articles.list_*_mentioned);
        # `reviewed`: the parent type of a list of reviewed facts, filtered by its review argument
        self.spend(3 * _OBJECT_BYTES)
        a, m = self.alias(), self.alias()
        on = sql.SQL("{} = {}").format(_col(a, "id"), _col(m, "subject_id"))
        if reviewed is not None:
            on = sql.SQL("{} AND {}").format(on, self.reviewed(a, reviewed, nodes))
        subject = sql.Identifier(column)
        mentions = sql.SQL(
            "SELECT {subject} AS subject_id, min(start_offset) AS pos FROM evidence "
            "WHERE article_id = {article} AND {subject} IS NOT NULL GROUP BY {subject}"
        ).format(subject=subject, article=_col(t, "id"))
        return sql.SQL("(SELECT {} FROM ({}) {} JOIN {} {} ON {})").format(
            _agg(self.object(type_name, a, nodes), _order(_col(m, "pos"), _col(a, "id"))),
            mentions,
            sql.Identifier(m),
            sql.Identifier(table),
            sql.Identifier(a),
            on,
        )

    def connection(self, type_name: str, pq: PageQuery, count: Select[Any], nodes: Field, outer: str = "") -> C:
        """Return a SQL expression building a connection of the page `pq` (its total: `count`'s rows).

        `outer`: the alias of the row a nested connection belongs to (bound as `outer_id`)."""
        self.spend(10 * _OBJECT_BYTES)
        r, p = self.alias(), self.alias()
        keys = [f"_k{i}" for i in range(pq.width)]
        direction = sql.SQL("{} DESC") if pq.descending else sql.SQL("{}")
        numbered = sql.SQL("SELECT {p}.*, row_number() OVER (ORDER BY {keys}) AS _n FROM ({page}) {p}").format(
            p=sql.Identifier(p),
            keys=_order(*(direction.format(_col(p, k)) for k in keys)),
            page=self.inline(pq.stmt, outer),
        )
        n = _col(r, "_n")
        shown = sql.SQL("{} <= {}").format(n, sql.Literal(pq.limit))
        forward, reverse = _order(n), sql.SQL("{} DESC").format(n)
        out, back = (reverse, forward) if pq.backward else (forward, reverse)
        values = sql.SQL(" || ',' || ").join(
            _cursor_value(_col(r, k), kind) for k, kind in zip(keys, pq.kinds, strict=True)
        )
        cursor = _b64url(sql.SQL("'[' || {} || ']'").format(values))
        more = sql.SQL("count(*) > {}").format(sql.Literal(pq.limit))

        def flag(constant: bool | None) -> C:
            return more if constant is None else sql.SQL("true" if constant else "false")

        def page_info(info_nodes: Field) -> C:
            fields = {
                "hasNextPage": flag(pq.has_next_constant),
                "hasPreviousPage": flag(pq.has_previous_constant),
                "startCursor": sql.SQL("(array_agg({} ORDER BY {}) FILTER (WHERE {}))[1]").format(cursor, out, shown),
                "endCursor": sql.SQL("(array_agg({} ORDER BY {}) FILTER (WHERE {}))[1]").format(cursor, back, shown),
                "__typename": sql.Literal("PageInfo"),
            }
            return _json_object(
                [(k, fields[v[0].name.value]) for k, v in self.selection("PageInfo", info_nodes).items()]
            )

        def edge(edge_nodes: Field) -> C:
            pairs: list[tuple[str, C]] = []
            for k, v in self.selection(f"{type_name}Edge", edge_nodes).items():
                name = v[0].name.value
                if name == "cursor":
                    pairs.append((k, cursor))
                elif name == "node":
                    pairs.append((k, self.object(type_name, r, v)))
                else:
                    pairs.append((k, sql.Literal(f"{type_name}Edge")))
            return _json_object(pairs)

        pairs: list[tuple[str, C]] = []
        for key, field_nodes in self.selection(f"{type_name}Connection", nodes).items():
            name = field_nodes[0].name.value
            if name == "edges":
                pairs.append((key, _agg(edge(field_nodes), out, shown)))
            elif name == "nodes":
                pairs.append((key, _agg(self.object(type_name, r, field_nodes), out, shown)))
            elif name == "pageInfo":
                pairs.append((key, page_info(field_nodes)))
            elif name == "totalCount":
                total = sql.SQL("(SELECT count(*) FROM ({}) {})")
                pairs.append(
                    (key, total.format(self.inline(count.order_by(None), outer), sql.Identifier(self.alias())))
                )
            else:
                pairs.append((key, sql.Literal(f"{type_name}Connection")))
        # GROUP BY (): one row, whatever is selected (only totalCount aggregates nothing)
        return sql.SQL("(SELECT {} FROM ({}) {} GROUP BY ())").format(_json_object(pairs), numbered, sql.Identifier(r))

    def root_connection(
        self,
        nodes: Field,
        type_name: str,
        filtered: Callable[[Any], Select[Any]],
        orderings: dict[Any, Any],
        everything: Any,
    ) -> C:
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
        exists_ = sql.SQL("EXISTS ({})")
        for ref in places_ or []:
            if ref is not None:
                self.references.append(exists_.format(self.inline(select(literal(1)).where(place_ref(ref)))))
        for table_name, refs in slugs.items():
            table = evidence.metadata.tables[table_name]
            for ref in refs:
                if ref is not None:
                    self.references.append(exists_.format(self.inline(select(literal(1)).where(table.c.slug == ref))))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# --- what each type's fields are --------------------------------------------------------------------

Builder = Callable[[_Compiler, str, Field, GraphQLObjectType], C]


def column(name: str, cast: str = "") -> Builder:
    casts = {"": sql.SQL("{}"), "::text": sql.SQL("{}::text"), "::float8": sql.SQL("{}::float8")}
    return lambda c, t, n, o: casts[cast].format(_col(t, name))


def enum_of(name: str, enum_type: type[enum.Enum]) -> Builder:
    size = sum(len(m.name) + len(str(m.value)) + 24 for m in enum_type)  # its CASE, one WHEN per member

    def build(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
        c.spend(size)
        return _enum(_col(t, name), enum_type)

    return build


def global_id(type_name: str) -> Builder:
    return lambda c, t, n, o: _global_id(type_name, t)


def to_one(type_name: str, table: str, fk: str) -> Builder:
    return lambda c, t, n, o: c.one(type_name, table, t, fk, n)


def to_many(type_name: str, table: str, fk: str, *order: str) -> Builder:
    """Rows of `table` whose `fk` is this row's id, in `order`."""

    def build(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
        return c.many(
            type_name,
            table,
            nodes,
            lambda a: sql.SQL("{} = {}").format(_col(a, fk), _col(t, "id")),
            lambda a: _order(*(_col(a, name) for name in order)),
        )

    return build


def mentioned(type_name: str, table: str, column_name: str) -> Builder:
    return lambda c, t, n, o: c.first_mentioned(type_name, table, column_name, t, n)


def mentioned_reviewed(type_name: str, table: str, column_name: str) -> Builder:
    # facts the article states, those of the review argument's statuses (default: accepted)
    return lambda c, t, n, o: c.first_mentioned(type_name, table, column_name, t, n, reviewed=o)


def event_children(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
    # Event.children of the review argument's statuses (default: accepted), by start date
    return c.many(
        "Event",
        "events",
        nodes,
        lambda a: sql.SQL("{} = {} AND {}").format(_col(a, "parent_id"), _col(t, "id"), c.reviewed(a, o, nodes)),
        lambda a: _order(_col(a, "starts_on"), _col(a, "id")),
    )


def evidence_of(subject: str) -> Builder:
    # evidence.list_for: article then text order
    return to_many("Evidence", "evidence", f"{subject}_id", "article_id", "start_offset", "id")


def value_object(type_name: str, present: str, values: dict[str, Callable[[str], C]]) -> Builder:
    """A value type built from the row's own columns; null unless column `present` has a value."""

    def build(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
        c.spend(_OBJECT_BYTES)
        return sql.SQL("CASE WHEN {} IS NOT NULL THEN {} END").format(
            _col(t, present), c.values(type_name, t, nodes, values)
        )

    return build


def _text(name: str) -> Callable[[str], C]:
    return lambda t: sql.SQL("{}::text").format(_col(t, name))


def _plain(name: str) -> Callable[[str], C]:
    return lambda t: _col(t, name)


def _or_empty(name: str) -> Callable[[str], C]:
    return lambda t: sql.SQL("coalesce({}, '')").format(_col(t, name))


def _constant(value: str) -> Callable[[str], C]:
    return lambda t: sql.Literal(value)


CONVERTED: dict[str, Callable[[str], C]] = {
    "amount": _text("amount"),
    "currency": _plain("to_currency"),
    "rate": _text("rate"),
    "rateDate": _plain("rate_date"),
    "source": _plain("source"),
    "kind": lambda t: _enum(_col(t, "kind"), ConversionKind),
    "fromCurrency": _plain("from_currency"),
    "method": _plain("method"),
}
# TradeFigure.convert: the amount itself when it is in the asked currency
CONVERTED_SELF: dict[str, Callable[[str], C]] = {
    "amount": _text("amount"),
    "currency": _plain("currency"),
    "rate": _constant("1"),
    "rateDate": _plain("period_end"),
    "source": _constant("stated in the article"),
    "kind": _constant(ConversionKind.STATED.name),
    "fromCurrency": _plain("currency"),
    "method": _constant("no conversion: the article states the amount in this currency"),
}


def conversions_list(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
    a = c.alias()
    return sql.SQL("(SELECT {} FROM currency_conversions {} WHERE {} = {})").format(
        _agg(
            c.values("ConvertedMoney", a, nodes, CONVERTED),
            sql.SQL("{} DESC, {}, {}").format(_col(a, "kind"), _col(a, "to_currency"), _col(a, "id")),
        ),
        sql.Identifier(a),
        _col(a, "trade_figure_id"),
        _col(t, "id"),
    )


def stated_conversion(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
    a = c.alias()
    return sql.SQL(
        "(SELECT {} FROM currency_conversions {} WHERE {} = {} AND {} = 'stated' ORDER BY {}, {} LIMIT 1)"
    ).format(
        c.values("ConvertedMoney", a, nodes, CONVERTED),
        sql.Identifier(a),
        _col(a, "trade_figure_id"),
        _col(t, "id"),
        _col(a, "kind"),
        _col(a, "to_currency"),
        _col(a, "id"),
    )


def converted(currency: Callable[[_Compiler, Field, GraphQLObjectType], str]) -> Builder:
    def build(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
        code = c.param(currency(c, nodes, o).upper())
        a = c.alias()
        computed = sql.SQL(
            "(SELECT {} FROM currency_conversions {} WHERE {} = {} AND {} = 'computed' AND {} = {} ORDER BY {} LIMIT 1)"
        ).format(
            c.values("ConvertedMoney", a, nodes, CONVERTED),
            sql.Identifier(a),
            _col(a, "trade_figure_id"),
            _col(t, "id"),
            _col(a, "kind"),
            _col(a, "to_currency"),
            code,
            _col(a, "id"),
        )
        return sql.SQL("CASE WHEN {} IS NULL THEN NULL WHEN {} = {} THEN {} ELSE {} END").format(
            _col(t, "amount"), _col(t, "currency"), code, c.values("ConvertedMoney", t, nodes, CONVERTED_SELF), computed
        )

    return build


def organisation_articles(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
    # Organisation.articles: published by it or mentioning it, newest first
    args = c.arguments(o, nodes)
    # the filter the resolver uses, its organisation id bound to the enclosing row's (`outer_id`)
    outer = bindparam("outer_id", type_=BigInteger)
    query = articles.filtered(articles.ArticleFilter(involving_organisation_id=outer))  # type: ignore[arg-type]
    ordering = articles.ORDERINGS[articles.ArticleOrder.PUBLISHED_ON_DESC]
    pq = page_query(query, ordering, PageArgs(first=args.get("first"), after=args.get("after")))
    return c.connection("Article", pq, query, nodes, outer=t)


def event_organisations(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
    # in the order of the participants, each once
    a, m = c.alias(), c.alias()
    firsts = sql.SQL(
        "SELECT organisation_id, min(id) AS pos FROM event_participants "
        "WHERE event_id = {} AND organisation_id IS NOT NULL GROUP BY organisation_id"
    ).format(_col(t, "id"))
    return sql.SQL("(SELECT {} FROM ({}) {} JOIN organisations {} ON {} = {})").format(
        _agg(c.object("Organisation", a, nodes), _order(_col(m, "pos"))),
        firsts,
        sql.Identifier(m),
        sql.Identifier(a),
        _col(a, "id"),
        _col(m, "organisation_id"),
    )


def event_places(c: _Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
    # events.list_places_of: by name
    return c.many(
        "Place",
        "places",
        nodes,
        lambda a: sql.SQL("{} IN (SELECT place_id FROM event_places WHERE event_id = {})").format(
            _col(a, "id"), _col(t, "id")
        ),
        lambda a: _order(_col(a, "name"), _col(a, "id")),
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
        "children": to_many("Place", "places", "parent_id", "name", "id"),
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
        "duplicates": to_many("Article", "articles", "duplicate_of_id", "id"),
        "organisations": mentioned("Organisation", "organisations", "organisation_id"),
        "places": mentioned("Place", "places", "place_id"),
        "people": mentioned("Person", "people", "person_id"),
        "tradeFigures": mentioned_reviewed("TradeFigure", "trade_figures", "trade_figure_id"),
        "events": mentioned_reviewed("Event", "events", "event_id"),
    },
    "TradeFigure": {
        "id": global_id("TradeFigure"),
        "slug": column("slug"),
        "flow": enum_of("flow", vocab.TradeFlow),
        "commodity": column("commodity"),
        "amount": value_object("Money", "amount", {"amount": _text("amount"), "currency": _or_empty("currency")}),
        "quantity": value_object("Quantity", "quantity", {"value": _text("quantity"), "unit": _or_empty("unit")}),
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
        "review": enum_of("review", vocab.ReviewStatus),
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
        "review": enum_of("review", vocab.ReviewStatus),
        "description": column("description"),
        "places": event_places,
        "organisations": event_organisations,
        "participants": to_many("Participant", "event_participants", "event_id", "id"),
        "parent": to_one("Event", "events", "parent_id"),
        "children": event_children,
        "evidence": evidence_of("event"),
    },
    "Evidence": {
        "quote": column("quote"),
        "start": column("start_offset"),
        "end": column("end_offset"),
        "article": to_one("Article", "articles", "article_id"),
    },
}


def _by_slug(type_name: str, table: str) -> Callable[[_Compiler, Field], C]:
    def build(c: _Compiler, nodes: Field) -> C:
        slug = c.arguments(c.schema.query_type, nodes)["slug"]  # type: ignore[arg-type]
        return c.row(type_name, table, "slug", c.param(slug), nodes)

    return build


def _place(c: _Compiler, nodes: Field) -> C:
    args = c.arguments(c.schema.query_type, nodes)  # type: ignore[arg-type]
    slug, code = args.get("slug"), args.get("code")
    if (slug is None) == (code is None):
        raise Unsupported("Query.place needs exactly one of slug and code")
    if slug is not None:
        return c.row("Place", "places", "slug", c.param(slug), nodes)
    return c.row("Place", "places", "code", c.param(str(code).upper()), nodes)


# --- the trade series -------------------------------------------------------------------------------

# resolvers._exclusion_reason, in SQL: why a figure `f` is left out of a point that `c` covers
_REASON = sql.SQL(
    "CASE WHEN {f}.part_of_id = {c}.id THEN 'part of the covering figure' "
    "WHEN (({f}.reporter_id IS NOT DISTINCT FROM {c}.reporter_id"
    " AND {f}.partner_id IS NOT DISTINCT FROM {c}.partner_id)"
    " OR ({f}.reporter_id IS NOT DISTINCT FROM {c}.partner_id AND {f}.partner_id IS NOT DISTINCT FROM {c}.reporter_id))"
    " AND {f}.flow = {c}.flow AND {f}.commodity IS NOT DISTINCT FROM {c}.commodity "
    "THEN 'corroborates the covering figure (same trade, stated again)' "
    "ELSE 'included in a broader figure (its places, flow or goods contain this one''s)' END"
)
_LABELS = {
    Granularity.YEAR: sql.SQL("to_char({}, 'YYYY')"),
    Granularity.QUARTER: sql.SQL("to_char({}, 'YYYY-\"Q\"Q')"),
    Granularity.MONTH: sql.SQL("to_char({}, 'YYYY-MM')"),
}


def _trade_series(c: _Compiler, nodes: Field) -> C:
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
            _agg(build(f), _col(f, "id")), sql.Identifier(f), _col(f, "id"), _col(s, ids)
        )

    def contribution(f: str, contribution_nodes: Field) -> C:
        pairs: list[tuple[str, C]] = []
        for k, v in c.selection("SeriesContribution", contribution_nodes).items():
            name = v[0].name.value
            if name == "figure":
                pairs.append((k, c.object("TradeFigure", f, v)))
            elif name == "amount":
                pairs.append(
                    (k, c.values("Money", f, v, {"amount": _text("amount"), "currency": _or_empty("currency")}))
                )
            elif name == "converted":
                # null when stated in the point's currency, else the computed conversion (or null)
                a = c.alias()
                computed = sql.SQL(
                    "(SELECT {} FROM currency_conversions {} WHERE {} = {} AND {} = 'computed' AND {} = {} "
                    "ORDER BY {} LIMIT 1)"
                ).format(
                    c.values("ConvertedMoney", a, v, CONVERTED),
                    sql.Identifier(a),
                    _col(a, "trade_figure_id"),
                    _col(f, "id"),
                    _col(a, "kind"),
                    _col(a, "to_currency"),
                    code,
                    _col(a, "id"),
                )
                pairs.append(
                    (k, sql.SQL("CASE WHEN {} = {} THEN NULL ELSE {} END").format(_col(f, "currency"), code, computed))
                )
            else:
                pairs.append((k, sql.Literal("SeriesContribution")))
        return _json_object(pairs)

    def excluded(excluded_nodes: Field) -> C:
        x, f, cover = c.alias(), c.alias(), c.alias()
        pairs: list[tuple[str, C]] = []
        for k, v in c.selection("ExcludedFigure", excluded_nodes).items():
            name = v[0].name.value
            if name == "figure":
                pairs.append((k, c.object("TradeFigure", f, v)))
            elif name == "coveredBy":
                pairs.append((k, c.object("TradeFigure", cover, v)))
            elif name == "reason":
                pairs.append((k, _REASON.format(f=sql.Identifier(f), c=sql.Identifier(cover))))
            else:
                pairs.append((k, sql.Literal("ExcludedFigure")))
        return sql.SQL(
            "(SELECT {} FROM unnest({}, {}) AS {} (fid, cover) JOIN trade_figures {} ON {} = {} "
            "JOIN trade_figures {} ON {} = {})"
        ).format(
            _agg(_json_object(pairs), _order(_col(x, "fid"), _col(x, "cover"))),
            _col(s, "dropped"),
            _col(s, "covering"),
            sql.Identifier(x),
            sql.Identifier(f),
            _col(f, "id"),
            _col(x, "fid"),
            sql.Identifier(cover),
            _col(cover, "id"),
            _col(x, "cover"),
        )

    def page(field: Field, items: C, order: C, node: Callable[[Field, str], C], type_name: str) -> C:
        # a page of a point's figures by position, as resolvers._slice cuts it: `items` is a FROM
        # item whose rows are numbered in `order`; `node` builds one from the numbered row's alias
        args = c.arguments(c.schema.type_map["TradeSeriesPoint"], field)  # type: ignore[arg-type]
        first, after = args.get("first"), args.get("after")
        PageArgs(first=first, after=after).validated()
        offset = offset_of(after)
        end = offset + (first if first is not None else 20)
        u = c.alias()
        n = _col(u, "n")
        numbered = sql.SQL("(SELECT *, row_number() OVER (ORDER BY {}) AS n FROM {}) AS {}").format(
            order, items, sql.Identifier(u)
        )
        cursor = _b64url(sql.SQL("'offset:' || ({} - 1)").format(n))
        shown = sql.SQL("{} > {} AND {} <= {}").format(n, sql.Literal(offset), n, sql.Literal(end))

        def over(value: C) -> C:
            # GROUP BY (): one row, also when the value holds no aggregate
            return sql.SQL("(SELECT {} FROM {} GROUP BY ())").format(value, numbered)

        pairs: list[tuple[str, C]] = []
        for k, v in c.selection(f"{type_name}Connection", field).items():
            name = v[0].name.value
            if name == "edges":
                edge: list[tuple[str, C]] = []
                for ek, e in c.selection(f"{type_name}Edge", v).items():
                    edge_field = e[0].name.value
                    if edge_field == "cursor":
                        edge.append((ek, cursor))
                    elif edge_field == "node":
                        edge.append((ek, node(e, u)))
                    else:
                        edge.append((ek, sql.Literal(f"{type_name}Edge")))
                pairs.append((k, over(_agg(_json_object(edge), n, shown))))
            elif name == "nodes":
                pairs.append((k, over(_agg(node(v, u), n, shown))))
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
                pairs.append((k, over(_json_object(info))))
            elif name == "totalCount":
                pairs.append((k, over(sql.SQL("count(*)"))))
            else:
                pairs.append((k, sql.Literal(f"{type_name}Connection")))
        return _json_object(pairs)

    def contribution_node(v: Field, u: str) -> C:
        f = c.alias()
        return sql.SQL("(SELECT {} FROM trade_figures {} WHERE {} = {})").format(
            contribution(f, v), sql.Identifier(f), _col(f, "id"), _col(u, "fid")
        )

    def excluded_node(v: Field, u: str) -> C:
        f, cover = c.alias(), c.alias()
        pairs: list[tuple[str, C]] = []
        for k, e in c.selection("ExcludedFigure", v).items():
            name = e[0].name.value
            if name == "figure":
                pairs.append((k, c.object("TradeFigure", f, e)))
            elif name == "coveredBy":
                pairs.append((k, c.object("TradeFigure", cover, e)))
            elif name == "reason":
                pairs.append((k, _REASON.format(f=sql.Identifier(f), c=sql.Identifier(cover))))
            else:
                pairs.append((k, sql.Literal("ExcludedFigure")))
        return sql.SQL("(SELECT {} FROM trade_figures {}, trade_figures {} WHERE {} = {} AND {} = {})").format(
            _json_object(pairs),
            sql.Identifier(f),
            sql.Identifier(cover),
            _col(f, "id"),
            _col(u, "fid"),
            _col(cover, "id"),
            _col(u, "cover"),
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
            point.append((key, _col(s, "b_start")))
        elif name == "periodEnd":
            point.append((key, _col(s, "b_end")))
        elif name == "label":
            point.append((key, _LABELS[granularity].format(_col(s, "b_start"))))
        elif name == "value":
            # null when a figure of the point has no conversion (series.list_points)
            point.append(
                (key, sql.SQL("CASE WHEN {} IS NULL THEN {}::text END").format(_col(s, "missing"), _col(s, "total")))
            )
        elif name == "currency":
            point.append((key, sql.SQL("{}::text").format(code)))
        elif name == "complete":
            point.append((key, sql.SQL("{} IS NULL").format(_col(s, "missing"))))
        elif name == "figures":
            point.append((key, figures_of("kept", functools.partial(c.object, "TradeFigure", nodes=v))))
        elif name == "contributions":
            point.append((key, figures_of("kept", functools.partial(contribution, contribution_nodes=v))))
        elif name == "excluded":
            point.append((key, excluded(v)))
        elif name == "contributionsConnection":
            kept = sql.SQL("unnest({}) AS {} (fid)").format(_col(s, "kept"), sql.Identifier(c.alias()))
            point.append((key, page(v, kept, sql.SQL("fid"), contribution_node, "SeriesContribution")))
        elif name == "excludedConnection":
            dropped = sql.SQL("unnest({}, {}) AS {} (fid, cover)").format(
                _col(s, "dropped"), _col(s, "covering"), sql.Identifier(c.alias())
            )
            point.append((key, page(v, dropped, sql.SQL("fid, cover"), excluded_node, "ExcludedFigure")))
        else:
            point.append((key, sql.Literal("TradeSeriesPoint")))
    return sql.SQL("(SELECT {} FROM ({}) AS {} ({}))").format(
        _agg(_json_object(point), _col(s, "b_start")), source, sql.Identifier(s), columns
    )


# --- search ------------------------------------------------------------------------------------------

# search.highlight, in SQL: the snippet HTML-escaped (as html.escape(quote=False)), matches in <mark>
_HIGHLIGHT = sql.SQL(
    "replace(replace(replace(replace(replace({}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(2), '<mark>'),"
    " chr(3), '</mark>')"
)


def _search(c: _Compiler, nodes: Field) -> C:
    args = c.arguments(c.schema.query_type, nodes)  # type: ignore[arg-type]
    first, after = args.get("first"), args.get("after")
    PageArgs(first=first, after=after).validated()
    text, offset = search_text(args["query"]), offset_of(after)
    limit = first if first is not None else 20
    r, h = c.alias(), c.alias()
    n = _col(r, "_n")
    shown = sql.SQL("{} <= {}").format(n, sql.Literal(limit))
    cursor = _b64url(sql.SQL("'offset:' || ({} + {} - 1)").format(sql.Literal(offset), n))

    def hit(hit_nodes: Field) -> C:
        pairs: list[tuple[str, C]] = []
        for k, v in c.selection("SearchHit", hit_nodes).items():
            name = v[0].name.value
            if name == "article":
                pairs.append((k, c.object("Article", r, v)))
            elif name == "rank":
                pairs.append((k, sql.SQL("{}::float8").format(_col(r, "rank"))))
            elif name == "snippet":
                pairs.append((k, _HIGHLIGHT.format(_col(r, "snippet"))))
            elif name == "matchedEntities":
                names = sql.SQL('to_json(ARRAY(SELECT x FROM unnest({}) AS x ORDER BY x COLLATE "C"))')
                pairs.append((k, names.format(_col(r, "names"))))
            else:
                pairs.append((k, sql.Literal("SearchHit")))
        return _json_object(pairs)

    def page_info(info_nodes: Field) -> C:
        fields = {
            "hasNextPage": sql.SQL("count(*) > {}").format(sql.Literal(limit)),
            "hasPreviousPage": sql.SQL("true" if offset > 0 and after is not None else "false"),
            "startCursor": sql.SQL("(array_agg({} ORDER BY {}) FILTER (WHERE {}))[1]").format(cursor, n, shown),
            "endCursor": sql.SQL("(array_agg({} ORDER BY {} DESC) FILTER (WHERE {}))[1]").format(cursor, n, shown),
            "__typename": sql.Literal("PageInfo"),
        }
        return _json_object([(k, fields[v[0].name.value]) for k, v in c.selection("PageInfo", info_nodes).items()])

    pairs: list[tuple[str, C]] = []
    for key, v in c.selection("SearchHitConnection", nodes).items():
        name = v[0].name.value
        if name == "edges":
            edge: list[tuple[str, C]] = []
            for k, e in c.selection("SearchHitEdge", v).items():
                edge_field = e[0].name.value
                if edge_field == "cursor":
                    edge.append((k, cursor))
                elif edge_field == "node":
                    edge.append((k, hit(e)))
                else:
                    edge.append((k, sql.Literal("SearchHitEdge")))
            pairs.append((key, _agg(_json_object(edge), n, shown)))
        elif name == "nodes":
            pairs.append((key, _agg(hit(v), n, shown)))
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
    return sql.SQL("(SELECT {} FROM ({}) {} GROUP BY ())").format(_json_object(pairs), numbered, sql.Identifier(r))


ROOTS: dict[str, Callable[[_Compiler, Field], C]] = {
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
