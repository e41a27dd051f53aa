"""The compiler's machinery: selections, arguments, parameters, objects, relations and pages.

What each type's fields are is declared in app.graphql.types (`TYPES`, derived from its field
tables); the root fields are compiled in app.graphql.compiler.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, ParamSpec

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
from sqlalchemy.sql.selectable import _OffsetLimitParam
from strawberry.types.arguments import convert_arguments

from app.errors import CodedError
from app.graphql.checks import reviews_wanted
from app.graphql.limits import long_string
from app.graphql.sqlparts import (
    EMPTY_LIST,
    FIELD_BYTES,
    OBJECT_BYTES,
    C,
    Unsupported,
    agg,
    b64url,
    col,
    cursor_value,
    json_object,
    order,
)
from app.queries.common import FIRST_MENTION_ORDER, place_ref
from app.queries.pagination import CursorValue, PageArgs, PageQuery, count_of, page_query
from app.queries.rows import evidence

_DIALECT = pg_psycopg.dialect()  # type: ignore[no-untyped-call]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# in a query function's SELECT given to `Compiler.inline(stmt, outer)`: the id of the row aliased `outer`
OUTER_ID = bindparam("outer_id", type_=BigInteger)


def _is_limit(bind: Any, value: Any) -> bool:
    """Return whether `bind` is a LIMIT or OFFSET, written into the SQL as a number.

    With a parameter there, the generic plan of a prepared statement is costed for a tenth of the
    table's rows: Postgres then never keeps it, and plans the statement again on every request
    (ArticleList: milliseconds of planning for one of execution). Each distinct page size is its
    own statement instead; the values are integers the checks bounded (app.graphql.checks)."""
    return isinstance(bind, _OffsetLimitParam) and type(value) is int


class PlanTooLarge(Exception):
    """The statement would be longer than allowed; compiling stopped as soon as that was clear."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the operation compiles to more than {limit} bytes of SQL (the limit): ask for fewer fields")
        self.size = size
        self.limit = limit


@dataclasses.dataclass(frozen=True)
class Plan:
    """One SELECT returning (the `data` object as JSON text, whether every filter reference exists)."""

    sql: str
    params: dict[str, Any]
    prepare: bool = True
    """False when a cursor's values decide how much the statement reads: planned with them each time."""


Field = list[FieldNode]  # every node of one response key (merged like graphql-core does)
# builds the SQL of one field of the row aliased `t`: (compiler, t, the field's nodes, its parent type)
Builder = Callable[["Compiler", str, Field, GraphQLObjectType], C]
Root = Callable[["Compiler", Field], C]
P = ParamSpec("P")


def declining(compiler: Callable[P, Compiler]) -> Callable[P, Plan | None]:
    """Return the function compiling an operation with `compiler`, taking its arguments."""

    def compile_operation(*args: P.args, **kwargs: P.kwargs) -> Plan | None:
        """Return the operation as one SQL statement, or None if only the resolvers can answer it.

        With `max_bytes`, raise PlanTooLarge as soon as the statement is sure to be longer: the work
        of compiling stays proportional to the limit, whatever the document expands into."""
        try:
            return compiler(*args, **kwargs).compile()
        except (Unsupported, CodedError):
            # CodedError: arguments the resolvers refuse (a bad cursor, `first` out of range): they
            # say so with the error in its place in the answer
            return None

    return compile_operation


class Compiler:
    """Compiles one operation; `types` holds each type's field builders and `roots` the root fields'."""

    types: ClassVar[dict[str, dict[str, Builder]]] = {}
    roots: ClassVar[dict[str, Root]] = {}

    def __init__(
        self,
        strawberry_schema: strawberry.Schema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        *,
        max_bytes: int | None = None,
        max_string_length: int | None = None,
    ) -> None:
        if operation.operation is not OperationType.QUERY:
            raise Unsupported(f"a {operation.operation.value}")
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
        self.prepare = True
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

    def inline(self, stmt: Select[Any], outer: str = "", columns: Mapping[str, C] | None = None) -> C:
        """Return `stmt` (from the query functions) as SQL whose parameters are this plan's.

        A parameter `outer_id` stands for the id of the row aliased `outer` (a correlation), and
        one named in `columns` for its SQL there."""
        compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
        self.spend(len(compiled.string) * 9 // 10)  # its placeholders get shorter names here
        given = {"outer_id": col(outer, "id")} if outer else {}
        given.update(columns or {})
        names = {
            name: (
                given[name]
                if name in given
                else sql.Literal(value)
                if _is_limit(compiled.binds.get(name), value)
                else self.param(value)
            ).as_string(None)
            for name, value in compiled.params.items()
        }
        if any(isinstance(compiled.binds.get(name), CursorValue) for name in compiled.params):
            self.prepare = False
        # SQLAlchemy wrote it with bound parameters only; they are renamed to this plan's
        return sql.SQL(_PLACEHOLDER.sub(lambda m: names[m.group(1)], compiled.string))

    def row(self, type_name: str, table: str, column: str, value: C, nodes: Field) -> C:
        """Return the object of the row of `table` whose `column` equals `value` (null if none)."""
        self.spend(OBJECT_BYTES)
        a = self.alias()
        return sql.SQL("(SELECT {} FROM {} {} WHERE {} = {})").format(
            self.object(type_name, a, nodes), sql.Identifier(table), sql.Identifier(a), col(a, column), value
        )

    def arguments(self, parent: GraphQLObjectType, nodes: Field) -> dict[str, Any]:
        """Return the field's arguments as the resolver receives them (input objects built)."""
        field_def = parent.fields[nodes[0].name.value]
        raw = get_argument_values(field_def, nodes[0], self.variables)
        if self.max_string_length is not None and long_string(raw, self.max_string_length) is not None:
            # the resolvers refuse it, with the error in its place
            raise Unsupported("an argument over the string length limit")
        definition = self.strawberry_schema.get_type_by_name(parent.name)
        strawberry_field = next(
            f
            for f in definition.fields  # type: ignore[union-attr]
            if f.python_name == snake(nodes[0].name.value) or f.name == nodes[0].name.value
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
                        self.spend(FIELD_BYTES + len(key))
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
            root = self.roots.get(name)
            if root is None:
                raise Unsupported(f"Query.{name}")
            pairs.append((key, root(self, nodes)))
        ok = sql.SQL(" AND ").join(self.references) if self.references else sql.SQL("true")
        statement = sql.SQL("SELECT {}::text, {}").format(json_object(pairs), ok).as_string(None)
        if self.max_bytes is not None and len(statement) > self.max_bytes:
            raise PlanTooLarge(len(statement), self.max_bytes)
        return Plan(sql=statement, params=self.params, prepare=self.prepare)

    def edge(self, type_name: str, nodes: Field, cursor: C, node: Callable[[Field], C]) -> C:
        """Return the JSON object of an edge of `type_name`: `cursor`, and `node(its nodes)` for its node."""
        return self.fields(f"{type_name}Edge", nodes, {"cursor": _constant(cursor), "node": node})

    def object(self, type_name: str, t: str, nodes: Field) -> C:
        """Return a SQL expression building the JSON object of the row aliased `t`."""
        spec = self.types[type_name]
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
        return json_object(pairs)

    def fields(
        self,
        type_name: str,
        nodes: Field,
        build: dict[str, Callable[[Field], C]],
        selected: dict[str, Field] | None = None,
    ) -> C:
        """Return the JSON object of a type built by hand: each selected field `build[its name](its nodes)`.

        `selected`: the selection of `nodes` when the caller has collected it already."""
        pairs: list[tuple[str, C]] = []
        for key, field_nodes in (self.selection(type_name, nodes) if selected is None else selected).items():
            name = field_nodes[0].name.value
            pairs.append((key, sql.Literal(type_name) if name == "__typename" else build[name](field_nodes)))
        return json_object(pairs)

    # --- relations ---

    def one(self, type_name: str, table: str, t: str, fk: str, nodes: Field) -> C:
        self.spend(OBJECT_BYTES)
        a = self.alias()
        return sql.SQL("(SELECT {} FROM {} {} WHERE {} = {})").format(
            self.object(type_name, a, nodes), sql.Identifier(table), sql.Identifier(a), col(a, "id"), col(t, fk)
        )

    def reviewed(self, alias: str, parent: GraphQLObjectType, nodes: Field) -> C:
        """Return the condition on `alias`.review of a nested list's `review` argument (default: accepted)."""
        review = self.arguments(parent, nodes).get("review")
        wanted = sorted(reviews_wanted(review))
        return sql.SQL("{} IN ({})").format(col(alias, "review"), sql.SQL(", ").join(map(self.param, wanted)))

    def many(self, type_name: str, table: str, nodes: Field, where: Callable[[str], C], order: Callable[[str], C]) -> C:
        self.spend(2 * OBJECT_BYTES)
        a = self.alias()
        obj = self.object(type_name, a, nodes)
        return sql.SQL("(SELECT {} FROM {} {} WHERE {})").format(
            agg(obj, order(a)), sql.Identifier(table), sql.Identifier(a), where(a)
        )

    def first_mentioned(
        self, type_name: str, mentions: Select[Any], t: str, nodes: Field, reviewed: GraphQLObjectType | None = None
    ) -> C:
        """Return the rows `mentions` selects (common.first_mentioned, its owners `[OUTER_ID]`: row `t`),
        in order of first mention.

        `reviewed`: the parent type of a list of reviewed facts, filtered by its review argument."""
        self.spend(3 * OBJECT_BYTES)
        m = self.alias()
        where = self.reviewed(m, reviewed, nodes) if reviewed is not None else sql.SQL("true")
        return sql.SQL("(SELECT {} FROM ({}) {} WHERE {})").format(
            agg(self.object(type_name, m, nodes), order(*(col(m, k) for k in FIRST_MENTION_ORDER))),
            self.inline(mentions.order_by(None), t),
            sql.Identifier(m),
            where,
        )

    def connection(self, type_name: str, pq: PageQuery, counted: Select[Any], nodes: Field, outer: str = "") -> C:
        """Return a SQL expression building a connection of the page `pq` (its total: what `counted` selects).

        `outer`: the alias of the row a nested connection belongs to (bound as `outer_id`)."""
        empty = pq.limit == 0  # `first: 0` / `last: 0`: no node is built, whatever it selects
        # an empty page writes its numbered rows and constants, not the aggregates around its nodes
        self.spend((4 if empty else 10) * OBJECT_BYTES)
        r, p = self.alias(), self.alias()
        keys = [f"_k{i}" for i in range(pq.width)]
        direction = sql.SQL("{} DESC") if pq.descending else sql.SQL("{}")
        numbered = sql.SQL("SELECT {p}.*, row_number() OVER (ORDER BY {keys}) AS _n FROM ({page}) {p}").format(
            p=sql.Identifier(p),
            keys=order(*(direction.format(col(p, k)) for k in keys)),
            page=self.inline(pq.stmt, outer),
        )
        n = col(r, "_n")
        shown = sql.SQL("{} <= {}").format(n, sql.Literal(pq.limit))
        forward, reverse = order(n), sql.SQL("{} DESC").format(n)
        out, back = (reverse, forward) if pq.backward else (forward, reverse)
        values = sql.SQL(" || ',' || ").join(
            cursor_value(col(r, k), kind) for k, kind in zip(keys, pq.kinds, strict=True)
        )
        # the ordering's tag last, as pagination.encode_cursor writes it (hex: no escaping in JSON)
        cursor = b64url(sql.SQL("'[' || {} || {}").format(values, sql.Literal(f',"{pq.tag}"]')))
        more = sql.SQL("count(*) > {}").format(sql.Literal(pq.limit))

        def flag(constant: bool | None) -> C:
            return more if constant is None else sql.SQL("true" if constant else "false")

        def total(v: Field) -> C:
            return sql.SQL("({})").format(self.inline(counted, outer))

        connection = self.fields(
            f"{type_name}Connection",
            nodes,
            {
                "edges": lambda v: (
                    EMPTY_LIST
                    if empty
                    else agg(self.edge(type_name, v, cursor, lambda e: self.object(type_name, r, e)), out, shown)
                ),
                "nodes": lambda v: EMPTY_LIST if empty else agg(self.object(type_name, r, v), out, shown),
                "pageInfo": lambda v: self.page_info(
                    v,
                    flag(pq.has_next_constant),
                    flag(pq.has_previous_constant),
                    cursor,
                    out,
                    back,
                    None if empty else shown,
                ),
                "totalCount": total,
            },
        )
        # GROUP BY (): one row, whatever is selected (only totalCount aggregates nothing)
        return sql.SQL("(SELECT {} FROM ({}) {} GROUP BY ())").format(connection, numbered, sql.Identifier(r))

    def page_info(self, nodes: Field, has_next: C, has_previous: C, cursor: C, out: C, back: C, shown: C | None) -> C:
        """Return the PageInfo of a page of rows: its cursors those of the first `shown` row in order
        `out` and in order `back` (`shown` None: a page of no rows, without cursors)."""
        first = sql.SQL("(array_agg({} ORDER BY {}) FILTER (WHERE {}))[1]")
        values = {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": sql.NULL if shown is None else first.format(cursor, out, shown),
            "endCursor": sql.NULL if shown is None else first.format(cursor, back, shown),
        }
        return self.fields("PageInfo", nodes, {name: _constant(value) for name, value in values.items()})

    def root_connection(
        self,
        nodes: Field,
        type_name: str,
        filtered: Callable[[Any], Select[Any]],
        orderings: dict[Any, Any],
        everything: Any,
        paged: Callable[[Any, Any, PageArgs], PageQuery] | None = None,
        counted: Callable[[Any], Select[Any]] | None = None,
    ) -> C:
        """`paged(where, order, page)`: the page's SELECT, when the query function has its own
        (else page_query's of `filtered(where)`), as the resolver's query function reads it;
        `counted(where)`: the SELECT of the total, likewise (else count_of's)."""
        args = self.arguments(self.schema.query_type, nodes)  # type: ignore[arg-type]
        filter_ = args.get("filter")
        if filter_ is not None:
            self.reference_checks(**filter_.references())
        where = filter_.to_query() if filter_ is not None else everything
        query = filtered(where)
        page = PageArgs(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        if paged is not None:
            pq = paged(where, args["order_by"], page)
        else:
            pq = page_query(query, orderings[args["order_by"]], page)
        return self.connection(type_name, pq, counted(where) if counted is not None else count_of(query), nodes)

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


def _constant(value: C) -> Callable[[Field], C]:
    return lambda nodes: value


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
