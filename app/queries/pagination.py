"""Keyset pagination: stable cursors over any ordered SELECT, forwards and backwards."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, ColumnElement, FromClause, Select, and_, func, not_, or_, select, true, union_all
from sqlalchemy.sql.elements import BindParameter

from app.db import Reader
from app.errors import BadUserInput

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)
MAX_PAGE = 100
DEFAULT_PAGE = 20
# a cursor holds a row's sort keys (a date, a name, an id): far shorter than this
MAX_CURSOR_LENGTH = 1000
# a decimal sort key as a cursor holds it: positional notation, no leading zeros, spaces, underscores or exponent
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


@dataclasses.dataclass(frozen=True)
class SortKey:
    """One ordering expression; its values must never be NULL (wrap them in coalesce)."""

    expr: ColumnElement[Any]
    kind: type = str  # how a cursor value is decoded: str, int, dt.date, Decimal


@dataclasses.dataclass(frozen=True)
class Ordering:
    """Sort keys, all in one direction; the last key must be unique (usually the id).

    `name` says what the keys order (`Article.PUBLISHED_ON_DESC`): orderings of one name give
    equal cursors for a row (a place's articles read from article_places, say), and a cursor is
    taken only by orderings of the name it was written for (see `named_orderings`)."""

    keys: tuple[SortKey, ...]
    descending: bool = False
    name: str = ""

    @property
    def tag(self) -> str:
        """Return the short mark of this ordering's name that its cursors end with."""
        if not self.name:
            raise ValueError("an ordering paginated must be named (pagination.named_orderings)")
        return _tag_of(self.name)


@functools.cache
def _tag_of(name: str) -> str:
    # asked on every page query: hashed once per ordering name
    return hashlib.sha256(name.encode()).hexdigest()[:6]


def named_orderings(entity: str, orderings: Mapping[E, Ordering]) -> dict[E, Ordering]:
    """Return `orderings` each named `entity.ORDER` after its key.

    A cursor holds its ordering's name (as a short tag): a cursor of `TITLE_ASC` is no position
    in `SLUG_ASC`, nor one of `PUBLISHED_ON_DESC` in `PUBLISHED_ON_ASC`, though their values
    decode alike; either is refused rather than read as a page of another order."""
    return {order: dataclasses.replace(o, name=f"{entity}.{order.name}") for order, o in orderings.items()}


@dataclasses.dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def validated(self) -> PageArgs:
        """Return these arguments if they make sense; raise BadUserInput naming the problem."""
        for name in ("first", "last"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= MAX_PAGE:
                raise BadUserInput(f"`{name}` must be between 0 and {MAX_PAGE}, got {value}")
        if self.first is not None and self.last is not None:
            raise BadUserInput("give `first` or `last`, not both")
        return self


@dataclasses.dataclass
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, row)
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]


def encode_cursor(values: Sequence[Any], tag: str) -> str:
    """Return an opaque cursor for a row's sort-key values in the ordering of `tag` (Ordering.tag)."""
    # non-ASCII kept as it is: the same bytes as Postgres's to_json, so compiled queries write equal cursors
    # decimals in positional notation, as Postgres writes numeric as text (str() may write 1E-7)
    plain = [v.isoformat() if isinstance(v, dt.date) else f"{v:f}" if isinstance(v, Decimal) else v for v in values]
    return _base64url([*plain, tag])


def _base64url(plain: list[Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode())
        .decode()
        .rstrip("=")
    )


def decode_cursor(cursor: str, ordering: Ordering) -> list[Any]:
    """Return the sort-key values in `cursor`; raise BadUserInput if it is not one of ours."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadUserInput(f"invalid cursor: longer than {MAX_CURSOR_LENGTH} characters, which none of ours is")
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(ordering.keys) + 1:
            raise ValueError
        # only as the API writes it: no padding, no stray characters, no other spacing of the JSON
        if _base64url(raw) != cursor:
            raise ValueError
        *values, tag = raw
        if tag != ordering.tag:
            raise BadUserInput(
                f"cursor {cursor[:40]!r} is of another order or connection: a cursor continues only the"
                " connection and `orderBy` whose `edges.cursor` gave it"
            )
        return [_decode(v, key.kind) for v, key in zip(values, ordering.keys, strict=True)]
    except (ValueError, TypeError, ArithmeticError, RecursionError, binascii.Error, UnicodeDecodeError):
        # RecursionError: JSON nested hundreds deep (`[[[[...`), which no cursor of ours is
        raise BadUserInput(
            f"invalid cursor {cursor[:40]!r}: cursors come from `edges.cursor` of this connection"
        ) from None


def _decode(value: Any, kind: type) -> Any:
    # cursors come back from clients: accept only values our own encoder could have written
    if kind is dt.date and isinstance(value, str):
        date = dt.date.fromisoformat(value)
        if date.isoformat() != value:  # 20240101 is a date to fromisoformat, but not as we write one
            raise ValueError
        return date
    if kind is Decimal and isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = Decimal(value)
        if number.is_zero() and value.startswith("-"):  # no numeric is -0
            raise ValueError
        return number
    if kind is int and isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    if kind is str and isinstance(value, str) and "\x00" not in value:
        return value
    if kind is float and isinstance(value, int | float):
        return float(value)
    raise ValueError


class CursorValue(BindParameter[Any]):
    """A sort key's value from a cursor: where a page starts, so how much of an index it reads.

    A statement holding one is planned with its values each time (app.graphql.planner): a generic
    plan, costed without them, may sort every matching row where the index would read a page."""

    inherit_cache = True


def _beyond(ordering: Ordering, values: list[Any], *, forward: bool) -> ColumnElement[bool]:
    # Row-wise comparison, spelled out so that it works for any mix of types.
    exprs = [k.expr for k in ordering.keys]
    greater = forward != ordering.descending
    bound = [CursorValue(None, v, type_=e.type, unique=True) for e, v in zip(exprs, values, strict=True)]
    clauses = []
    for i in range(len(exprs)):
        equal = [exprs[j] == bound[j] for j in range(i)]
        step = exprs[i] > bound[i] if greater else exprs[i] < bound[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


@dataclasses.dataclass(frozen=True)
class PageQuery:
    """A page as one SELECT: the row's columns, then the sort keys labelled `_k0`…, in fetch order.

    It fetches `limit + 1` rows (one more tells whether there is another page); a backward page
    is fetched in reverse and shown reversed."""

    stmt: Select[Any]
    limit: int
    backward: bool
    descending: bool  # the direction rows are fetched in
    kinds: tuple[type, ...]  # of the sort keys, as cursors encode them
    args: PageArgs
    tag: str  # of the ordering, that cursors end with

    @property
    def width(self) -> int:
        """Return the number of sort keys."""
        return len(self.kinds)

    @property
    def has_next_constant(self) -> bool | None:
        """Return hasNextPage when it does not depend on the rows (backward pages), else None."""
        return self.args.before is not None if self.backward else None

    @property
    def has_previous_constant(self) -> bool | None:
        """Return hasPreviousPage when it does not depend on the rows (forward pages), else None."""
        return None if self.backward else self.args.after is not None


def page_query(query: Select[Any], ordering: Ordering, args: PageArgs) -> PageQuery:
    """Return the SELECT of one page of `query` in `ordering`; raise BadUserInput for bad arguments."""
    args = args.validated()
    backward = args.last is not None or (args.before is not None and args.first is None)
    asked = args.last if backward else args.first
    limit = asked if asked is not None else DEFAULT_PAGE
    keys = [k.expr for k in ordering.keys]
    stmt = query.add_columns(*[k.label(f"_k{i}") for i, k in enumerate(keys)])
    if args.after is not None:
        stmt = stmt.where(_beyond(ordering, decode_cursor(args.after, ordering), forward=True))
    if args.before is not None:
        stmt = stmt.where(_beyond(ordering, decode_cursor(args.before, ordering), forward=False))
    descending = ordering.descending != backward
    stmt = stmt.order_by(*[k.desc() if descending else k.asc() for k in keys]).limit(limit + 1)
    kinds = tuple(k.kind for k in ordering.keys)
    return PageQuery(
        stmt=stmt, limit=limit, backward=backward, descending=descending, kinds=kinds, args=args, tag=ordering.tag
    )


def merged_page_query(
    source: FromClause, parts: Sequence[Select[Any]], ordering: Ordering, args: PageArgs, *, distinct: bool = False
) -> PageQuery:
    """Return the SELECT of one page of the rows of `parts` for every row of `source`, merged.

    Each part is a SELECT of the row's columns that refers to a column of `source` (a place of a
    subtree, say); for each row of `source` and each part, the part's own page (`limit + 1` rows,
    read from an index that has the sort keys after the column the part fixes) is taken in a
    LATERAL subquery, and the page is the first `limit + 1` rows of them all in `ordering`. The
    parts must be disjoint (no row in two parts, or twice for two rows of `source`): then the
    page is that of the union of the parts, under page_query's rules (cursors, direction).

    `distinct`: a row may be in several parts or come for several rows of `source` (an event at
    two places of a subtree); it is shown once. Each row among the first `limit + 1` distinct
    ones has fewer than `limit + 1` rows before it, so it is in its own part's page."""
    pages = [page_query(part, ordering, args) for part in parts]
    first = pages[0]
    branches = []
    for pq in pages:
        part = pq.stmt.lateral()
        branches.append(select(*part.c).select_from(source).join(part, true()))
    merged = (union_all(*branches) if len(branches) > 1 else branches[0]).subquery()
    stmt = select(*merged.c).order_by(*_key_order(first, merged)).limit(first.limit + 1)
    return dataclasses.replace(first, stmt=stmt.distinct() if distinct else stmt)


def merged_or_single_page_query(
    source: FromClause,
    parts: Sequence[Select[Any]],
    ordering: Ordering,
    args: PageArgs,
    single: PageQuery,
    *,
    merge_up_to: int | None,
    distinct: bool = False,
) -> PageQuery:
    """Return merged_page_query's page when `source` has at most `merge_up_to` rows, else `single`.

    `single` is the same page read from one filtered SELECT (of ids and sort keys); the statement
    counts `source` and reads one of the two. `merge_up_to=None`: always merged."""
    merged = merged_page_query(source, parts, ordering, args, distinct=distinct)
    if merge_up_to is None:
        return merged
    small = select(func.count()).select_from(source).scalar_subquery() <= merge_up_to
    return either_page_query(small, merged, single)


def either_page_query(condition: ColumnElement[bool], then: PageQuery, otherwise: PageQuery) -> PageQuery:
    """Return the page `then` where `condition` holds, else the page `otherwise` (the same page,
    read another way: the same arguments and the same columns).

    `condition` is computed once, before either is read (a one-time filter): only one of the
    two pages is read."""
    branches = [
        select(*then.stmt.subquery().c).where(condition),
        select(*otherwise.stmt.subquery().c).where(not_(condition)),
    ]
    either = union_all(*branches).subquery()
    stmt = select(*either.c).order_by(*_key_order(then, either))
    return dataclasses.replace(then, stmt=stmt.limit(then.limit + 1))


def rows_page_query(ids: PageQuery, id_column: Column[Any], row: Sequence[ColumnElement[Any]]) -> PageQuery:
    """Return the page `ids` (a page of ids and sort keys) with the columns `row` of each id.

    A page read through nested subqueries (merged_page_query, either_page_query) carries only
    ids and sort keys through them, and the row's columns are named once, where the page's rows
    are joined to their table by primary key: the statement stays short, however many parts."""
    page = ids.stmt.subquery()
    keys = [page.c[f"_k{i}"] for i in range(ids.width)]
    joined = page.join(id_column.table, id_column == page.c[id_column.name])
    stmt = select(*row, *keys).select_from(joined).order_by(*_key_order(ids, page))
    return dataclasses.replace(ids, stmt=stmt)


def _key_order(pq: PageQuery, page: FromClause) -> list[ColumnElement[Any]]:
    # the sort keys (_k0, _k1, …) of `pq`'s rows read from `page`, in the page's direction
    return [page.c[f"_k{i}"].desc() if pq.descending else page.c[f"_k{i}"].asc() for i in range(pq.width)]


def count_of(query: Select[Any]) -> Select[Any]:
    """Return the SELECT of how many rows `query` selects."""
    return select(func.count()).select_from(query.order_by(None).subquery())


async def paginate(
    db: Reader,
    query: Select[Any],
    ordering: Ordering,
    args: PageArgs,
    make: Callable[[Any], T],
    *,
    paged: PageQuery | None = None,
    counted: Select[Any] | None = None,
) -> Page[T]:
    """Return one page of `query` (a SELECT of the row's columns) in `ordering`.

    Sort-key values are selected alongside the row; `make` builds the row from the leading
    columns. The total is computed only when `Page.count` is awaited. `paged`: the page's
    SELECT when it is not `page_query(query, ordering, args)`'s (merged_page_query's, say);
    `counted`: the SELECT of the total when it is not count_of(query)'s.
    """
    pq = paged if paged is not None else page_query(query, ordering, args)
    rows = list(await db.all(pq.stmt))
    more = len(rows) > pq.limit
    rows = rows[: pq.limit]
    if pq.backward:
        rows.reverse()
    width = pq.width
    items = [(encode_cursor(r[-width:], pq.tag), make(r[:-width])) for r in rows]

    async def count() -> int:
        return int(await db.scalar(counted if counted is not None else count_of(query)))

    return Page(
        items=items,
        has_next_page=more if pq.has_next_constant is None else pq.has_next_constant,
        has_previous_page=more if pq.has_previous_constant is None else pq.has_previous_constant,
        count=count,
    )
