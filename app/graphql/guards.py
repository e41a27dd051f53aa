"""Checks of a document and of field arguments, beyond graphql-core's validation."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    StringValueNode,
    Visitor,
    get_nullable_type,
    visit,
)

from app.errors import BadUserInput
from app.graphql.limits import long_string, strings
from app.graphql.resolvers import MAX_SEARCH_LENGTH
from app.queries.pagination import MAX_PAGE


def nul_literals(document: DocumentNode) -> list[GraphQLError]:
    """Return an error for each string literal holding NUL (written as \\u0000), which Postgres cannot store."""
    found: list[GraphQLError] = []

    class Finder(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            if "\x00" in node.value:
                found.append(
                    GraphQLError(
                        "a string in the document contains a NUL character", node, extensions={"code": "BAD_USER_INPUT"}
                    )
                )

    visit(document, Finder())
    return found


# arguments allowed less than the general cap (a search text: its resolver's own limit)
ARGUMENT_CAPS = {"query": MAX_SEARCH_LENGTH}
# lists whose strings are answered each at its own index (`nodes(ids:)`: a malformed id, an
# over-long one too, is null in its place with its error, and the others answer): no string of
# them is refused here for its length, the list is for its total, at most MAX_PAGE strings' worth
PER_ITEM_ARGUMENTS = {"ids"}


def string_cap(max_length: int) -> Callable[..., Any]:
    """Return graphql-core middleware refusing any field whose arguments hold a string over `max_length`.

    Every string argument is a slug, a code, an id, a cursor, a name or a search: none is long,
    and a long one only makes work (a 200 KB text search is a statement Postgres cannot plan)."""

    def middleware(next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        refuse_long_strings(args, max_length)
        return next_(root, info, **args)

    return middleware


def refuse_long_strings(args: Mapping[str, Any], max_length: int) -> None:
    """Raise BadUserInput when an argument (by name: JSON-like values) holds a string over its cap,
    or, for a list answered item by item (PER_ITEM_ARGUMENTS), strings over its total.

    The middleware checks every resolved field; a subscription checks its own arguments as it
    starts (its stream is not a resolved field, and would meet them only with its first event)."""
    for name, value in args.items():
        cap = min(max_length, ARGUMENT_CAPS.get(name, max_length))
        if name in PER_ITEM_ARGUMENTS and isinstance(value, list):
            total = sum(len(text) for text in strings(value))
            if total > MAX_PAGE * cap:
                raise BadUserInput(f"`{name}` holds {total} characters in all; the limit is {MAX_PAGE * cap}")
            continue
        length = long_string(value, cap)
        if length is not None:
            raise BadUserInput(f"`{name}` holds a string longer than {cap} characters ({length})")


def answered_empty() -> Callable[..., Any]:
    """Return graphql-core middleware answering a connection that cannot be answered as asked (BAD_USER_INPUT:
    a page size out of range, a cursor of another connection, a search text it cannot read) with an
    empty connection, and a list that cannot be null (`tradeSeries` in a currency that is none) with
    an empty list, the error at its path: the rest of the response keeps its data."""

    def middleware(next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        nullable = get_nullable_type(info.return_type)
        listed = isinstance(nullable, GraphQLList) and isinstance(info.return_type, GraphQLNonNull)
        paged = isinstance(nullable, GraphQLObjectType) and nullable.name.endswith("Connection")
        if not (listed or paged):
            return next_(root, info, **args)
        kind = cast("GraphQLObjectType | GraphQLList[Any]", nullable)
        try:
            result = next_(root, info, **args)
        except BadUserInput as exc:
            return _empty(kind, info, exc)
        return _awaited(result, kind, info) if inspect.isawaitable(result) else result

    return middleware


async def _awaited(
    result: Awaitable[Any], kind: GraphQLObjectType | GraphQLList[Any], info: GraphQLResolveInfo[Any]
) -> Any:
    try:
        return await result
    except BadUserInput as exc:
        return _empty(kind, info, exc)


def _empty(kind: GraphQLObjectType | GraphQLList[Any], info: GraphQLResolveInfo[Any], error: BadUserInput) -> Any:
    info.context.errors.append(
        GraphQLError(error.message, info.field_nodes, path=info.path.as_list(), extensions=error.extensions)
    )
    if isinstance(kind, GraphQLList):
        return []  # a list that cannot be null (`tradeSeries`, `nodes`): empty
    return kind.extensions["strawberry-definition"].origin.empty()
