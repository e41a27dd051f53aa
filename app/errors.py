"""Expected failures, each with a stable code that clients can switch on (`extensions.code`).

Plain exceptions: the query layer raises them without knowing about GraphQL, and the GraphQL
layer shows their message and code to clients (anything else is masked).
"""

from __future__ import annotations

from typing import Any


class CodedError(Exception):
    """A failure the client caused or can act on; its message is safe to show."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class BadUserInput(CodedError):
    code = "BAD_USER_INPUT"


class NotFound(CodedError):
    code = "NOT_FOUND"


class QueryTimeout(CodedError):
    code = "QUERY_TIMEOUT"


class DatabaseUnavailable(CodedError):
    """The database cannot be reached, or the connection was lost again after one retry: the
    fields it affects answer null with this code, the others answer as usual."""

    code = "DATABASE_UNAVAILABLE"


class ServiceUnavailable(CodedError):
    """The API as a whole cannot take the request now (no connection free in time, too much planning
    waiting, live updates not running in this process): retry later, or elsewhere."""

    code = "SERVICE_UNAVAILABLE"
