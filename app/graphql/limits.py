"""Limits on what one operation may ask for, checked before any SQL runs.

Depth and aliases are properties of the document; the cost depends on the variables too. The
cost follows GitHub's GraphQL API: the number of nodes an operation may return, i.e. for each
connection the product of the page sizes (`first`/`last`, else the default page) of it and of
every connection it sits in, summed over the operation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast_untyped,
)

from app.queries.pagination import DEFAULT_PAGE


@dataclasses.dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_cost: int = 25_000


class LimitError(Exception):
    """An operation over a limit; the message says which and by how much."""


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> list[FieldNode]:
    """Return the fields of a selection set, with fragments spread in."""
    out: list[FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            out.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            out += _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                out += _fields(fragments[name].selection_set, fragments, seen | {name})
    return out


def depth_and_aliases(document: DocumentNode, operation: OperationDefinitionNode) -> tuple[int, int]:
    """Return how deep the operation's selections nest and how many aliases it uses."""
    fragments = _fragments(document)
    aliases = 0

    def depth(selection_set: SelectionSetNode | None) -> int:
        nonlocal aliases
        deepest = 0
        for field in _fields(selection_set, fragments):
            if field.name.value.startswith("__"):
                continue  # introspection (a client's schema fetch nests deep by design) is cheap
            aliases += field.alias is not None
            deepest = max(deepest, 1 + depth(field.selection_set) if field.selection_set else 1)
        return deepest

    return depth(operation.selection_set), aliases


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def cost(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> int:
    """Return the number of nodes the operation may return (GitHub's measure)."""
    fragments = _fragments(document)
    variables = variables or {}

    def argument(field: FieldNode, name: str) -> Any:
        for arg in field.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, variables)
        return None

    def walk(selection_set: SelectionSetNode | None, parent: Any, multiplier: int) -> int:
        total = 0
        for field in _fields(selection_set, fragments):
            definition = parent.fields.get(field.name.value) if isinstance(parent, GraphQLObjectType) else None
            if definition is None:
                continue  # introspection and __typename cost nothing
            target = _unwrap(definition.type)
            inner = multiplier
            if target.name.endswith("Connection"):
                size = argument(field, "first") or argument(field, "last") or DEFAULT_PAGE
                inner = multiplier * max(int(size) if isinstance(size, int) else DEFAULT_PAGE, 1)
                total += inner
            elif field.name.value == "nodes" and isinstance(argument(field, "ids"), list):
                inner = multiplier * max(len(argument(field, "ids")), 1)
                total += inner
            if field.selection_set:
                # a connection's own fields (edges, node) belong to its nodes: look through them
                total += walk(field.selection_set, target, inner)
        return total

    root = schema.query_type if operation.operation.value == "query" else None
    return walk(operation.selection_set, root, 1)


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> int:
    """Return the operation's cost; raise LimitError if it is too deep, too aliased or too costly."""
    depth, aliases = depth_and_aliases(document, operation)
    if depth > limits.max_depth:
        raise LimitError(f"the operation nests {depth} levels deep; the limit is {limits.max_depth}")
    if aliases > limits.max_aliases:
        raise LimitError(f"the operation uses {aliases} aliases; the limit is {limits.max_aliases}")
    nodes = cost(schema, document, operation, variables)
    if nodes > limits.max_cost:
        raise LimitError(
            f"the operation may return {nodes} nodes (the product of page sizes down each nesting of "
            f"connections); the limit is {limits.max_cost}: ask for smaller pages"
        )
    return nodes
