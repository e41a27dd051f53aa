"""Limits on what one operation may ask for, checked before any SQL runs.

Depth and aliases are properties of the document; the cost depends on the variables too. The
cost follows GitHub's GraphQL API: the number of nodes an operation may return, i.e. for each
connection the product of the page sizes (`first`/`last`, else the default page) of it and of
every connection it sits in, summed over the operation. Plain lists of objects, which have no
page size, count as LIST_ESTIMATE items each, so nesting them is costed too; a single object (an
article's publisher, a figure's partOf) is one node per object it is selected on, so ten levels
of them are costed like ten levels of anything else. A page size over MAX_PAGE counts as
MAX_PAGE, and so do more ids than that in `nodes(ids:)`: the field refuses it (BAD_USER_INPUT at
its path, the rest answered), so the request is not also refused as unaffordable.

The cost multiplies by page sizes; the work of planning the operation (the compiled statement
has one piece per selected field, whatever the page sizes) does not. So the fields selected,
counted through every fragment spread, are bounded too (`max_fields`), and the compiled
statement's length (`max_sql_bytes`, app.graphql.compiler).

The document is walked the way graphql-core executes it: fields are merged by response key,
each fragment is spread once per selection set, and type conditions select the fields of each
possible type (at an interface, the most demanding type counts). Each distinct selection is
analysed once, so a document whose fragments expand exponentially is still checked in linear
time. Variables are coerced as execution will coerce them (defaults applied, `100.0` is 100);
when they do not coerce, execution refuses the request anyway, before any resolver runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from app.config import Settings
from app.queries.pagination import DEFAULT_PAGE, MAX_PAGE


def _default(setting: str) -> Any:
    """Return the default of a setting: app.config holds every one."""
    return Settings.model_fields[setting].default


@dataclasses.dataclass(frozen=True)
class Limits:
    """The settings of the same names (MAX_DEPTH, ...); by default, their defaults."""

    max_depth: int = _default("max_depth")
    max_aliases: int = _default("max_aliases")
    max_tokens: int = _default("max_tokens")
    max_cost: int = _default("max_cost")
    max_string_length: int = _default("max_string_length")
    max_fields: int = _default("max_fields")
    max_sql_bytes: int = _default("max_sql_bytes")

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """Return the limits `settings` set."""
        return cls(**{field.name: getattr(settings, field.name) for field in dataclasses.fields(cls)})


# Items a plain list field is assumed to hold. The corpus's longest such list (an article's
# places) has about 15; most hold fewer than 10.
LIST_ESTIMATE = 10


def _is_object_list(definition: GraphQLField) -> bool:
    type_ = definition.type
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList) and not is_leaf_type(get_named_type(type_))


class LimitError(Exception):
    """An operation over a limit; the message says which and by how much."""


class _TooDeep(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class _Measure:
    """What a selection (on one type) asks for: nesting below it, aliases and nodes in it."""

    height: int = 0
    aliases: int = 0
    nodes: int = 0  # per object the selection is made on
    fields: int = 0  # selected through every fragment, whatever the page sizes: the work to plan it


_Key = tuple[str, tuple[int, ...]]


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: VariableValues | None,
        max_depth: int,
    ) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.max_depth = max_depth
        self._memo: dict[_Key, _Measure] = {}

    def _applies(self, condition: NamedTypeNode | None, type_: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if named is type_:
            return True
        return named is not None and is_abstract_type(named) and self.schema.is_sub_type(named, type_)

    def _collect(self, type_: GraphQLObjectType, sets: tuple[SelectionSetNode, ...]) -> dict[str, list[FieldNode]]:
        """Return the fields `sets` select on `type_`, grouped by response key (as execution does)."""
        groups: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    groups.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, type_):
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments.get(name)
                    if fragment is not None and self._applies(fragment.type_condition, type_):
                        visit(fragment.selection_set)

        for selection_set in sets:
            visit(selection_set)
        return groups

    def _page_size(self, definition: GraphQLField, field: FieldNode) -> int:
        try:
            args = get_argument_values(definition, field, self.variables)
        except GraphQLError:
            args = {}  # does not coerce: execution refuses the field before it runs
        sizes = [args[name] for name in ("first", "last") if isinstance(args.get(name), int)]
        # more than MAX_PAGE is refused by the field itself, at its path: never more nodes than that
        return min(MAX_PAGE, max(0, *sizes)) if sizes else DEFAULT_PAGE

    def _ids(self, definition: GraphQLField, field: FieldNode) -> int:
        try:
            ids = get_argument_values(definition, field, self.variables).get("ids")
        except GraphQLError:
            ids = None
        return min(MAX_PAGE, len(ids)) if isinstance(ids, list) else 1  # more are refused by `nodes` itself

    def measure(self, type_: GraphQLNamedType, sets: tuple[SelectionSetNode, ...], level: int) -> _Measure:
        """Return what `sets` ask for on an object of `type_`, the fields of `sets` being at `level`."""
        key: _Key = (type_.name, tuple(id(s) for s in sets))
        known = self._memo.get(key)
        if known is None:
            if is_abstract_type(type_):
                # an object is of one type at a time: the most demanding possible type counts
                options = [self._measure_object(t, sets, level) for t in self.schema.get_possible_types(type_)]
                known = _Measure(
                    height=max((m.height for m in options), default=0),
                    aliases=max((m.aliases for m in options), default=0),
                    nodes=max((m.nodes for m in options), default=0),
                    fields=sum(m.fields for m in options),
                )
            elif is_object_type(type_):
                known = self._measure_object(type_, sets, level)
            else:
                known = _Measure()
            self._memo[key] = known
        if level - 1 + known.height > self.max_depth:
            raise _TooDeep
        return known

    def _measure_object(self, type_: GraphQLObjectType, sets: tuple[SelectionSetNode, ...], level: int) -> _Measure:
        if level > self.max_depth:
            raise _TooDeep
        height = aliases = nodes = selected = 0
        for response_key, fields in self._collect(type_, sets).items():
            first = fields[0]
            name = first.name.value
            if name.startswith("__"):
                selected += name == "__typename"
                continue  # introspection (a client's schema fetch nests deep by design) is cheap
            definition = type_.fields.get(name)
            if definition is None:
                continue  # not in the schema: validation has refused the document already
            aliases += response_key != name or any(f.alias is not None for f in fields)
            children = tuple(f.selection_set for f in fields if f.selection_set is not None)
            target = get_named_type(definition.type)
            inner = self.measure(target, children, level + 1) if children else _Measure()
            height = max(height, 1 + inner.height)
            aliases += inner.aliases
            selected += 1 + inner.fields
            if target.name.endswith("Connection"):
                # a connection's own fields (edges, node) belong to its nodes: look through them
                size = self._page_size(definition, first)
                nodes += size + size * inner.nodes
            elif type_ is self.schema.query_type and name == "nodes" and "ids" in definition.args:
                count = self._ids(definition, first)
                nodes += count + count * inner.nodes
            elif _is_object_list(definition) and not type_.name.endswith("Connection"):
                # a plain list (an article's figures, a figure's evidence) has no page size: it
                # counts as LIST_ESTIMATE items, so that nesting lists is costed like nesting pages
                nodes += LIST_ESTIMATE + LIST_ESTIMATE * inner.nodes
            elif children and not type_.name.endswith(("Connection", "Edge")):
                # one object (an article's publisher, a figure's partOf): a node like any other
                nodes += 1 + inner.nodes
            else:
                nodes += inner.nodes
        return _Measure(height=height, aliases=aliases, nodes=nodes, fields=selected)


def strings(value: Any) -> Iterator[str]:
    """Yield every string (key or value) of a JSON-like value, however deeply it nests."""
    stack = [value]  # iterative: a request may nest lists and objects a thousand levels deep
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def has_nul(value: Any) -> bool:
    """Return whether a string (key or value) of a JSON-like value holds NUL, which Postgres text cannot."""
    return any("\x00" in text for text in strings(value))


def long_string(value: Any, max_length: int) -> int | None:
    """Return the length of the first string (key or value) in a JSON-like value longer than `max_length`."""
    return next((len(text) for text in strings(value) if len(text) > max_length), None)


def _coerced(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> VariableValues | None:
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    return None if isinstance(coerced, list) else coerced


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    return {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]


def _measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    max_depth: int,
) -> _Measure:
    root = _root(schema, operation)
    if root is None:
        return _Measure()
    walker = _Walker(schema, document, _coerced(schema, operation, variables), max_depth)
    _check_introspection(walker, root, operation)
    return walker.measure(root, (operation.selection_set,), 1)


# the schema once per operation (a client's whole fetch, ~100 KB), types by name a few times: the
# rest of introspection costs no node, so repeating it under aliases would be free otherwise
MAX_SCHEMA_FIELDS = 1
MAX_TYPE_FIELDS = 20


def _check_introspection(walker: _Walker, root: GraphQLObjectType, operation: OperationDefinitionNode) -> None:
    collected = walker._collect(root, (operation.selection_set,))
    names = [fields[0].name.value for fields in collected.values()]
    for name, most in (("__schema", MAX_SCHEMA_FIELDS), ("__type", MAX_TYPE_FIELDS)):
        if names.count(name) > most:
            raise LimitError(
                f"the operation asks for {name} {names.count(name)} times; the limit is {most} per operation"
            )
    # inside introspection each field is answered once: `types` under 29 aliases is the whole schema
    # 29 times over, at no cost in nodes (clients' introspection queries use no aliases)
    for fields in collected.values():
        if fields[0].name.value in ("__schema", "__type"):
            for field in fields:
                if field.selection_set is not None and _aliased(walker, field.selection_set):
                    raise LimitError("aliases inside __schema and __type are not answered: ask for each field once")


def _aliased(walker: _Walker, selection_set: SelectionSetNode, seen: frozenset[str] = frozenset()) -> bool:
    """Return whether a selection set, its fragments and what they select use an alias."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.alias is not None:
                return True
            inner = selection.selection_set
        elif isinstance(selection, InlineFragmentNode):
            inner = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = walker.fragments.get(name)
            if fragment is None or name in seen:
                continue
            seen = seen | {name}
            inner = fragment.selection_set
        else:
            continue
        if inner is not None and _aliased(walker, inner, seen):
            return True
    return False


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> int:
    """Return the operation's cost; raise LimitError if it is too deep, too aliased or too costly."""
    try:
        measured = _measure(schema, document, operation, variables, limits.max_depth)
    except (_TooDeep, RecursionError):
        raise LimitError(
            f"the operation nests more than {limits.max_depth} levels deep; the limit is {limits.max_depth}"
        ) from None
    if measured.aliases > limits.max_aliases:
        raise LimitError(f"the operation uses {measured.aliases} aliases; the limit is {limits.max_aliases}")
    if measured.fields > limits.max_fields:
        raise LimitError(
            f"the operation selects {measured.fields} fields, counted through every fragment spread; "
            f"the limit is {limits.max_fields}"
        )
    if measured.nodes > limits.max_cost:
        raise LimitError(
            f"the operation may return {measured.nodes} nodes (the product of page sizes down each nesting of "
            f"connections, lists counted as {LIST_ESTIMATE}); the limit is {limits.max_cost}: ask for smaller pages"
        )
    return measured.nodes
