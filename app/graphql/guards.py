"""Checks of a document and of field arguments, beyond graphql-core's validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLResolveInfo, StringValueNode, Visitor, visit

from app.errors import BadUserInput
from app.graphql.limits import long_string
from app.graphql.resolvers import MAX_SEARCH_LENGTH


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


def string_cap(max_length: int) -> Callable[..., Any]:
    """Return graphql-core middleware refusing any field whose arguments hold a string over `max_length`.

    Every string argument is a slug, a code, an id, a cursor, a name or a search: none is long,
    and a long one only makes work (a 200 KB text search is a statement Postgres cannot plan)."""

    def middleware(next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        for name, value in args.items():
            cap = min(max_length, ARGUMENT_CAPS.get(name, max_length))
            length = long_string(value, cap)
            if length is not None:
                raise BadUserInput(f"`{name}` holds a string longer than {cap} characters ({length})")
        return next_(root, info, **args)

    return middleware
