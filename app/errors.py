"""Expected failures, each with a stable code that clients can switch on (`extensions.code`)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class CodedError(GraphQLError):
    """A failure the client caused or can act on; its message is safe to show."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(CodedError):
    code = "BAD_USER_INPUT"


class NotFound(CodedError):
    code = "NOT_FOUND"


class DatabaseUnavailable(CodedError):
    code = "SERVICE_UNAVAILABLE"
