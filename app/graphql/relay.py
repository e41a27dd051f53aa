"""Relay's pieces: global ids (in Python and in SQL, side by side), the Node interface, connections."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry
from psycopg import sql

from app.errors import BadUserInput
from app.graphql.sqlparts import C, b64url, col
from app.queries.pagination import Page

# --- global ids ---------------------------------------------------------------------------------


def encode_id(type_name: str, pk: int) -> strawberry.ID:
    """Return the opaque global id of a row."""
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("="))


def global_id_sql(type_name: str, t: str) -> C:
    """Return `encode_id(type_name, id)` in SQL, of the row aliased `t`."""
    return b64url(sql.SQL("{} || {}").format(sql.Literal(type_name + ":"), col(t, "id")))


def decode_id(global_id: str) -> tuple[str, int]:
    """Return (type name, primary key) of a global id; raise BadUserInput if it is not one."""
    if len(global_id) > 100:  # a type name and a 64-bit key, in base64: 40 characters at most
        raise BadUserInput(f"{global_id[:40]!r}… is not a valid node id")
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, pk = raw.partition(":")
        if not type_name or not pk.isdigit() or int(pk) >= 2**63:
            raise ValueError
        # only as encode_id writes it: no padding, no other digits (`٤`), no leading zeros
        if encode_id(type_name, int(pk)) != global_id:
            raise ValueError
        return type_name, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(f"{global_id[:40]!r} is not a valid node id") from None


@strawberry.interface(description="An object with a global id, refetchable with `node(id:)`")
class Node:
    id: strawberry.ID


# --- connections --------------------------------------------------------------------------------

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="All matching items; computed only when asked for")
    async def total_count(self) -> int:
        return await self._count()

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @classmethod
    def empty(cls, **private: Any) -> Any:
        """Return a connection of no items (what a field answers in place of what it cannot).

        `private`: the values of a subclass's own private fields."""
        return cls(
            edges=[],
            page_info=PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None),
            _count=none_counted,
            **private,
        )


async def none_counted() -> int:
    """Return the count of an empty connection."""
    return 0


RowT = TypeVar("RowT")


def connection(page: Page[RowT], make: Callable[[RowT], NodeT]) -> Connection[NodeT]:
    """Return a connection of `page`'s rows, built into GraphQL types by `make`."""
    edges = [Edge(cursor=cursor, node=make(row)) for cursor, row in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=page.count,
    )
