"""What clients may see of errors: coded errors as they are, others masked; no schema hints."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError

from app.errors import CodedError

log = logging.getLogger("app.graphql.executor")


_SUGGESTION = re.compile(r"\s*Did you mean\b.*?\?(?=\s|$)", re.DOTALL)


def without_suggestions(error: GraphQLError) -> GraphQLError:
    """Return `error` without graphql-core's "Did you mean ...?" hints, which spell out the schema."""
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message, error.nodes, error.source, error.positions, error.path, error.original_error, error.extensions
    )


def mask(error: GraphQLError) -> GraphQLError:
    """Return the error as clients may see it: coded errors as they are, others masked."""
    original = error.original_error
    if isinstance(original, CodedError):
        return GraphQLError(
            original.message, error.nodes, error.source, error.positions, error.path, None, original.extensions
        )
    if error.path is None:
        # raised before any field ran: variables that do not coerce to their types
        return GraphQLError(
            error.message, error.nodes, error.source, error.positions, None, None, {"code": "BAD_USER_INPUT"}
        )
    if original is None or (isinstance(original, GraphQLError) and (original.extensions or {}).get("code")):
        # graphql-core's own field errors (a null for a non-null field) and already coded ones
        extensions = (
            error.extensions if error.extensions and "code" in error.extensions else {"code": "INTERNAL_SERVER_ERROR"}
        )
        return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path, None, extensions)
    log.error("unexpected error in a resolver at %s", error.path, exc_info=original)
    return GraphQLError(
        "Internal server error",
        error.nodes,
        error.source,
        error.positions,
        error.path,
        None,
        {"code": "INTERNAL_SERVER_ERROR"},
    )
