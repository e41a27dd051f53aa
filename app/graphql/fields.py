"""One declaration per field: an object type's table of fields, and what is derived from it.

Each GraphQL object type built from rows (app.graphql.types) declares its fields once, in
SDL order, each with its GraphQL type, description and source:

- `column`: a column of the row, as it is (`Decimal` as a string, `float` from numeric);
- `enum_of`: a column holding a vocabulary's value, answered as the enum's name;
- `node_id`: the global id of the row;
- `to_one`: the row of another type a foreign key points to;
- `to_many`: rows of another type pointing to this one, in an order of their columns;
- `linked`: rows of another type paired with this one by a link table (an event's places);
- `part`: in a row a query computes (a search hit), the row of another type it holds;
- `mentioned`: what an article names, in order of first mention (evidence offsets), or who
  takes part in an event, in order of participation;
- `embedded`: a value type (Money) made of some of the row's own columns;
- `computed` (a value from the row's columns) and `custom` (a resolver): a Python side and a
  SQL side written next to each other, by the table that uses them (or in app.graphql.money).

From a table are derived the strawberry type (its fields and their descriptions), `from_row`
(the row mapping of the resolver path), the compiler's JSON builder of every field and the
loaders each relation uses. tests/test_fields.py checks the tables, the SDL and the builders
agree.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, TypeVar

import strawberry
from psycopg import sql
from strawberry.types.private import StrawberryPrivate
from strawberry.utils.str_converters import to_camel_case

from app.graphql.checks import REVIEW_ARG, reviews_wanted
from app.graphql.context import Info
from app.graphql.planner import OUTER_ID, Builder, Compiler, Field
from app.graphql.relay import encode_id, global_id_sql
from app.graphql.sqlparts import OBJECT_BYTES, C, col, enum_sql, order
from app.queries.common import (
    IN_ARTICLES,
    Link,
    Mentions,
    first_mentioned,
    list_first_mentioned,
    list_linked,
    list_pointing,
)
from app.queries.rows import TABLE_OF
from app.seed import format as vocab

if TYPE_CHECKING:
    from graphql import GraphQLObjectType

# the declared types, by GraphQL name
TABLES: dict[str, Table] = {}
CLASSES: dict[str, type[Declared]] = {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Spec:
    """One field of a table: its Python name (the GraphQL name is its camelCase), type and description."""

    name: str
    type: Any  # an annotation, read in the declaring class's module (a string may name a type declared later)
    description: str | None = None

    @property
    def graphql_name(self) -> str:
        return to_camel_case(self.name)

    def value(self, owner: str) -> Callable[[Any], Any] | None:
        """Return how the resolver path reads the field from a row (None: it has a resolver)."""
        return None

    def resolver(self) -> Callable[..., Any]:
        raise NotImplementedError

    def builder(self, owner: str) -> Builder:
        """Return the compiler's builder of the field (its SQL, of the row aliased `t`)."""
        raise NotImplementedError


def _nullable(type_: Any, null: bool) -> Any:
    if not null:
        return type_
    return f"{type_} | None" if isinstance(type_, str) else type_ | None


# --- plain values ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Column(Spec):
    column: str

    def value(self, owner: str) -> Callable[[Any], Any]:
        name = self.column
        if self.type in (float, float | None):  # numeric columns served as Float
            return lambda row: None if (v := getattr(row, name)) is None else float(v)
        return lambda row: getattr(row, name)

    def builder(self, owner: str) -> Builder:
        base = {Decimal: "{}::text", Decimal | None: "{}::text", float: "{}::float8", float | None: "{}::float8"}
        template = sql.SQL(base.get(self.type, "{}"))
        name = self.column
        return lambda c, t, n, o: template.format(col(t, name))


def column(name: str, type_: Any, description: str | None = None, *, null: bool = False, source: str = "") -> Column:
    """A column of the row (`source`, else the field's own name)."""
    return Column(name=name, type=_nullable(type_, null), description=description, column=source or name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnumOf(Spec):
    column: str
    enum: type[enum.Enum]

    def value(self, owner: str) -> Callable[[Any], Any]:
        name, make = self.column, self.enum
        return lambda row: None if (v := getattr(row, name)) is None else make(v)

    def builder(self, owner: str) -> Builder:
        size = sum(len(m.name) + len(str(m.value)) + 24 for m in self.enum)  # its CASE, one WHEN per member
        name, enum_type = self.column, self.enum

        def build(c: Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
            c.spend(size)
            return enum_sql(col(t, name), enum_type)

        return build


def enum_of(
    name: str, enum_type: type[enum.Enum], description: str | None = None, *, null: bool = False, source: str = ""
) -> EnumOf:
    """A column holding a value of `enum_type`, answered as the member's name."""
    return EnumOf(
        name=name, type=_nullable(enum_type, null), description=description, column=source or name, enum=enum_type
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class NodeId(Spec):
    def value(self, owner: str) -> Callable[[Any], Any]:
        return lambda row: encode_id(owner, row.id)

    def builder(self, owner: str) -> Builder:
        return lambda c, t, n, o: global_id_sql(owner, t)


def node_id() -> NodeId:
    """The global id (the Node interface's `id`)."""
    return NodeId(name="id", type=strawberry.ID)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Computed(Spec):
    compute: Callable[[Any], Any]
    build: Builder

    def value(self, owner: str) -> Callable[[Any], Any]:
        return self.compute

    def builder(self, owner: str) -> Builder:
        return self.build


def computed(
    name: str, type_: Any, description: str | None = None, *, value: Callable[[Any], Any], build: Builder
) -> Computed:
    """A value computed from the row: `value` on the resolver path, `build` its SQL."""
    return Computed(name=name, type=type_, description=description, compute=value, build=build)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Embedded(Spec):
    target: str
    present: str

    def value(self, owner: str) -> Callable[[Any], Any]:
        target, present = self.target, self.present
        return lambda row: None if getattr(row, present) is None else CLASSES[target].from_row(row)

    def builder(self, owner: str) -> Builder:
        target, present = self.target, self.present

        def build(c: Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
            c.spend(OBJECT_BYTES)
            return sql.SQL("CASE WHEN {} IS NOT NULL THEN {} END").format(col(t, present), c.object(target, t, nodes))

        return build


def embedded(name: str, value_type: type[Declared], description: str | None = None) -> Embedded:
    """A value type made of this row's own columns (its table reads the same row type), null unless
    the column its table names `present` has a value."""
    table = value_type.table
    assert table.present is not None, f"{table.name} is not a value type of its row's columns"
    return Embedded(
        name=name, type=value_type | None, description=description, target=table.name, present=table.present
    )


# --- relations --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Part(Spec):
    target: str

    def value(self, owner: str) -> Callable[[Any], Any]:
        name, target = self.name, self.target
        return lambda row: CLASSES[target].from_row(getattr(row, name))

    def builder(self, owner: str) -> Builder:
        target = self.target
        return lambda c, t, n, o: c.object(target, t, n)


def part(name: str, target: str, description: str | None = None) -> Part:
    """A row of `target` that a row a query computes holds: its attribute `name` on the resolver
    path, its columns among the row's own in SQL (a search hit's article)."""
    return Part(name=name, type=target, description=description, target=target)


def make(type_name: str, row: Any) -> Any:
    """Return the object of type `type_name` of `row` (None for None)."""
    return None if row is None else CLASSES[type_name].from_row(row)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToOne(Spec):
    target: str
    fk: str
    null: bool

    def resolver(self) -> Callable[..., Any]:
        target, fk, null = self.target, self.fk, self.null

        async def resolve(root: Any, info: Info) -> Any:
            pk = getattr(root._row, fk)
            row = None if pk is None else await info.context.loaders.by_id(TABLES[target].row).load(pk)
            assert null or row is not None  # a foreign key that cannot be null
            return make(target, row)

        return resolve

    def builder(self, owner: str) -> Builder:
        target, fk = self.target, self.fk
        return lambda c, t, n, o: c.one(target, TABLES[target].table, t, fk, n)


def to_one(name: str, target: str, fk: str, description: str | None = None, *, null: bool = True) -> ToOne:
    """The row of `target` whose id is this row's `fk`."""
    return ToOne(name=name, type=_nullable(target, null), description=description, target=target, fk=fk, null=null)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToMany(Spec):
    target: str
    fk: str
    order: tuple[str, ...]
    reviewed: bool

    @classmethod
    def of(cls, name: str, target: str, fk: str, description: str | None, **more: Any) -> Self:
        """Return the relation `name` to a list of `target` rows."""
        return cls(name=name, type=f"list[{target}]", description=description, target=target, fk=fk, **more)

    def load(self, info: Info, pk: int) -> Any:
        """Return (awaitable) the rows of the relation of the row whose id is `pk`, batched per request."""
        row_type = TABLES[self.target].row
        return info.context.loaders.of(list_pointing, "ids", row_type=row_type, fk=self.fk, order=self.order).load(pk)

    def resolver(self) -> Callable[..., Any]:
        target, load = self.target, self.load
        if not self.reviewed:

            async def resolve(root: Any, info: Info) -> list[Any]:
                return [make(target, r) for r in await load(info, root._row.id)]

            return resolve

        async def resolve_reviewed(
            root: Any, info: Info, review: Annotated[list[vocab.ReviewStatus] | None, REVIEW_ARG] = None
        ) -> list[Any]:
            wanted = reviews_wanted(review)
            return [make(target, r) for r in await load(info, root._row.id) if r.review in wanted]

        return resolve_reviewed

    def related(self, a: str, t: str) -> C:
        """Return the SQL condition that the `target` row aliased `a` belongs to the row aliased `t`."""
        return sql.SQL("{} = {}").format(col(a, self.fk), col(t, "id"))

    def builder(self, owner: str) -> Builder:
        target, related, reviewed = self.target, self.related, self.reviewed
        keys = [(name.split()[0], name.endswith(" DESC")) for name in self.order]

        def build(c: Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
            def where(a: str) -> C:
                same = related(a, t)
                return sql.SQL("{} AND {}").format(same, c.reviewed(a, o, nodes)) if reviewed else same

            def by(a: str) -> C:
                return order(*(sql.SQL("{} DESC" if desc else "{}").format(col(a, k)) for k, desc in keys))

            return c.many(target, TABLES[target].table, nodes, where, by)

        return build


def to_many(
    name: str, target: str, fk: str, description: str | None = None, *, order: tuple[str, ...], reviewed: bool = False
) -> ToMany:
    """Rows of `target` whose `fk` is this row's id, in `order` (columns, "DESC" after one that descends;
    both paths read them so: app.queries.common.list_pointing on the resolver path).

    `reviewed`: facts, those of the `review` argument's statuses (default: accepted)."""
    return ToMany.of(name, target, fk, description, reviewed=reviewed, order=order)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Linked(ToMany):
    link: Link

    def load(self, info: Info, pk: int) -> Any:
        row_type = TABLES[self.target].row
        return info.context.loaders.of(list_linked, "ids", row_type=row_type, link=self.link, order=self.order).load(pk)

    def related(self, a: str, t: str) -> C:
        link = self.link
        return sql.SQL("{} IN (SELECT {} FROM {} WHERE {} = {})").format(
            col(a, "id"),
            sql.Identifier(link.subject),
            sql.Identifier(link.table.name),
            sql.Identifier(link.owner),
            col(t, "id"),
        )


def linked(name: str, target: str, link: Link, description: str | None = None, *, order: tuple[str, ...]) -> Linked:
    """Rows of `target` that `link`'s rows pair with this row, in `order` (as `to_many`'s; both
    paths read them so: app.queries.common.list_linked on the resolver path)."""
    return Linked.of(name, target, link.subject, description, reviewed=False, order=order, link=link)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Mentioned(ToMany):
    mentions: Mentions

    def load(self, info: Info, pk: int) -> Any:
        row_type = TABLES[self.target].row
        loader = info.context.loaders.of(
            list_first_mentioned, "owners", row_type=row_type, mentions=self.mentions, subject=self.fk
        )
        return loader.load(pk)

    def builder(self, owner: str) -> Builder:
        target, subject, mentions, reviewed = self.target, self.fk, self.mentions, self.reviewed

        def build(c: Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
            query = first_mentioned(TABLES[target].row, mentions, subject, [OUTER_ID])
            return c.first_mentioned(target, query, t, nodes, reviewed=o if reviewed else None)

        return build


def mentioned(
    name: str,
    target: str,
    subject: str,
    description: str,
    *,
    reviewed: bool = False,
    mentions: Mentions = IN_ARTICLES,
) -> Mentioned:
    """What an article names (its evidence whose `subject` column points to a `target`), or what
    other `mentions` name, in order of first mention, each once (app.queries.common.first_mentioned,
    on both paths)."""
    return Mentioned.of(name, target, subject, description, reviewed=reviewed, order=(), mentions=mentions)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Custom(Spec):
    resolve: Callable[..., Any]
    build: Builder

    def resolver(self) -> Callable[..., Any]:
        return self.resolve

    def builder(self, owner: str) -> Builder:
        return self.build


def custom(
    name: str, type_: Any, description: str | None = None, *, resolve: Callable[..., Any], build: Builder
) -> Custom:
    """A field with its own resolver (`resolve(root, info, **arguments)`) and SQL (`build`)."""
    return Custom(name=name, type=type_, description=description, resolve=resolve, build=build)


# --- the table and what is derived from it ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Table:
    name: str  # the GraphQL type's
    row: type[Any]  # its row type: of a table (app.queries.rows, which names it), or one a query computes
    fields: tuple[Spec, ...]
    description: str | None = None
    # a value type embedded in another type's row (`embedded`): the column that makes it present
    present: str | None = None

    @property
    def table(self) -> str:
        return TABLE_OF[self.row].name

    def spec(self, name: str) -> Spec:
        """Return the field whose Python name is `name`."""
        return next(f for f in self.fields if f.name == name)

    def builders(self) -> dict[str, Builder]:
        """Return the compiler's builder of every field, by GraphQL name."""
        return {f.graphql_name: f.builder(self.name) for f in self.fields}


class Declared:
    """A GraphQL object type declared by a Table: it keeps its row, for its relations."""

    table: ClassVar[Table]
    _values: ClassVar[tuple[tuple[str, Callable[[Any], Any]], ...]]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        """Return the object of `row`: every field with no resolver read from it."""
        return cls(**{name: get(row) for name, get in cls._values}, _row=row)

    @property
    def _pk(self) -> int:
        """The primary key of its row."""
        pk: int = self._row.id
        return pk

    if TYPE_CHECKING:  # made by `declare`: read the fields from the row, not from the object
        _row: Any

        def __init__(self, **values: Any) -> None: ...


DeclaredT = TypeVar("DeclaredT", bound=Declared)


def declare(table: Table) -> Callable[[type[DeclaredT]], type[DeclaredT]]:
    """Return a class decorator making a strawberry type of `table`'s fields, in its order."""

    def wrap(cls: type[DeclaredT]) -> type[DeclaredT]:
        annotations: dict[str, Any] = {}
        values = []
        for spec in table.fields:
            get = spec.value(table.name)
            if get is not None:
                values.append((spec.name, get))
                if spec.name == "id":  # the Node interface's, first
                    continue
                field = strawberry.field(description=spec.description)
            else:
                field = strawberry.field(resolver=spec.resolver(), description=spec.description)
            annotations[spec.name] = spec.type
            setattr(cls, spec.name, field)
        annotations["_row"] = Annotated[Any, StrawberryPrivate()]  # strawberry.Private: not in the schema
        cls.__annotations__ = annotations
        cls.table = table
        cls._values = tuple(values)
        made: type[DeclaredT] = strawberry.type(cls, description=table.description)
        TABLES[table.name] = table
        CLASSES[table.name] = made
        return made

    return wrap
