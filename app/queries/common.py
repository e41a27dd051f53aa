"""Helpers shared by the query modules: batch loads by id, the rows of a relation (pointing, linked,
first mentioned) both answer paths read, sort keys and place-hierarchy subqueries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    TIMESTAMP,
    ColumnElement,
    Date,
    Select,
    Table,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
)

from app.db import Reader
from app.queries.rows import TABLE_OF, columns, event_participants, event_places, evidence, places

RowT = TypeVar("RowT")

EARLIEST = dt.date(1, 1, 1)
LATEST = dt.date(9999, 12, 31)
# The sort keys of undated rows, written into the SQL (not bound): the planner then matches them
# with the expression indexes of the keyset orderings (app/models.py).
EARLIEST_SQL = literal_column("DATE '0001-01-01'", Date)
LATEST_SQL = literal_column("DATE '9999-12-31'", Date)

# a run of exclusions with nothing to exclude between them ("- - -", "-!-!"): websearch_to_tsquery
# stacks one NOT per dash and fails past 32 ("tsquery stack too small", an internal error)
_EXCLUSION_RUN = re.compile(r"-(?:[^\w-]*-)+")


def websearch(text: str) -> Any:
    """Return websearch_to_tsquery('english', text) with runs of bare exclusions folded (--a is a)."""
    folded = _EXCLUSION_RUN.sub(lambda m: "-" if m.group().count("-") % 2 else " ", text)
    return func.websearch_to_tsquery("english", folded)


async def list_by_ids(db: Reader, row_type: type[RowT], ids: Sequence[int]) -> list[RowT | None]:
    """Return the rows with `ids`, in the same order, None where an id has no row."""
    table = TABLE_OF[row_type]
    found = {r[0]: row_type(*r) for r in await db.all(select(*columns(row_type)).where(table.c.id.in_(ids)))}
    return [found.get(i) for i in ids]


async def get_by(db: Reader, row_type: type[RowT], column: str, value: Any) -> RowT | None:
    """Return the row whose `column` equals `value`, or None."""
    table = TABLE_OF[row_type]
    rows = await db.all(select(*columns(row_type)).where(table.c[column] == value))
    return row_type(*rows[0]) if rows else None


async def list_pointing(
    db: Reader, *, row_type: type[RowT], fk: str, order: tuple[str, ...], ids: Sequence[int]
) -> list[list[RowT]]:
    """Return, per id, the rows of `row_type` whose `fk` is that id, in `order` (column names, each
    followed by " DESC" if it descends)."""
    table = TABLE_OF[row_type]
    q = select(*columns(row_type)).where(table.c[fk].in_(ids)).order_by(table.c[fk], *_keys(table, order))
    rows = [row_type(*r) for r in await db.all(q)]
    return group(((getattr(r, fk), r) for r in rows), ids)


def _keys(table: Table, order: tuple[str, ...]) -> list[ColumnElement[Any]]:
    return [table.c[name.split()[0]].desc() if name.endswith(" DESC") else table.c[name] for name in order]


@dataclasses.dataclass(frozen=True)
class Link:
    """A table pairing rows of two others: each of its rows an `owner` id with a `subject` id."""

    table: Table
    owner: str
    subject: str


EVENT_PLACES = Link(event_places, "event_id", "place_id")  # where an event takes place


async def list_linked(
    db: Reader, *, row_type: type[RowT], link: Link, order: tuple[str, ...], ids: Sequence[int]
) -> list[list[RowT]]:
    """Return, per id, the rows of `row_type` that `link` pairs with it, in `order` (as list_pointing's)."""
    table, pairs = TABLE_OF[row_type], link.table
    q = (
        select(pairs.c[link.owner], *columns(row_type))
        .select_from(table)
        .join(pairs, pairs.c[link.subject] == table.c.id)
        .where(pairs.c[link.owner].in_(ids))
        .order_by(pairs.c[link.owner], *_keys(table, order))
    )
    return group(((r[0], row_type(*r[1:])) for r in await db.all(q)), ids)


def group(pairs: Iterable[tuple[int, RowT]], keys: Sequence[int]) -> list[list[RowT]]:
    """Return, for each key, the list of values paired with it (in pair order)."""
    grouped: dict[int, list[RowT]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return [grouped.get(k, []) for k in keys]


@dataclasses.dataclass(frozen=True)
class Mentions:
    """Rows that name other rows: those of `table` whose `owner` column holds the owner's id, in `position` order."""

    table: Table
    owner: str
    position: str


# what an article names (its evidence, by offset); who takes part in an event (its participants, in order)
IN_ARTICLES = Mentions(evidence, "article_id", "start_offset")
IN_EVENTS = Mentions(event_participants, "event_id", "id")
# the order of first_mentioned's rows of one owner (its columns): first mention, then id
FIRST_MENTION_ORDER = ("_pos", "id")


def first_mentioned(row_type: type[Any], mentions: Mentions, subject: str, owners: Sequence[Any]) -> Select[Any]:
    """Return the SELECT of the rows of `row_type` that the `mentions` of `owners` point to with their
    `subject` column, each once per owner: (_owner, the row's columns, _pos: its first position),
    by owner then FIRST_MENTION_ORDER.

    `owners`: ids, or one bound parameter (the compiler's `outer_id`, the owner's row)."""
    source, table = mentions.table, TABLE_OF[row_type]
    owner, named_row, position = source.c[mentions.owner], source.c[subject], source.c[mentions.position]
    first = (
        select(owner.label("owner_id"), named_row.label("subject_id"), func.min(position).label("pos"))
        .where(owner.in_(owners), named_row.is_not(None))
        .group_by(owner, named_row)
        .subquery()
    )
    # each row by its primary key (a LATERAL with a LIMIT is never flattened into a join): as a
    # join, the planner hashed the whole table (every place, at size L 1,178) for each owner's
    # dozen mentions, per article of a page
    found = select(*columns(row_type)).where(table.c.id == first.c.subject_id).limit(1).lateral("found")
    return (
        select(first.c.owner_id.label("_owner"), *found.c, first.c.pos.label("_pos"))
        .select_from(first.join(found, true()))
        .order_by(first.c.owner_id, first.c.pos, found.c.id)
    )


async def list_first_mentioned(
    db: Reader, *, row_type: type[RowT], mentions: Mentions, subject: str, owners: Sequence[int]
) -> list[list[RowT]]:
    """Return, per owner id, the rows of `first_mentioned`."""
    rows = await db.all(first_mentioned(row_type, mentions, subject, owners))
    return group(((r[0], row_type(*r[1:-1])) for r in rows), owners)


def place_ref(ref: str) -> ColumnElement[bool]:
    """Return a condition matching the place named by slug or by ISO code, in any case ("China", "CN")."""
    ref = ref.strip()
    return or_(places.c.slug == ref.lower(), places.c.code == ref.upper())


def subtree_ids(refs: Sequence[str]) -> ColumnElement[Any]:
    """Return an ARRAY of the ids of the places named in `refs` and of every place inside them.

    `column = ANY(subtree_ids(...))` can be an index condition, also under OR, and Postgres
    estimates it at a handful of places, where it estimates a recursive CTE at most of them
    (and then scans whole tables: figures, evidence)."""
    # unnamed: one statement may hold several subtrees (reporter and partner)
    tree = select(places.c.id).where(or_(*[place_ref(r) for r in refs])).cte(recursive=True)
    tree = tree.union_all(select(places.c.id).join(tree, places.c.parent_id == tree.c.id))
    return func.array(select(tree.c.id).scalar_subquery())


def subtree(refs: Sequence[str]) -> Select[Any]:
    """Return a SELECT of the ids of the places named in `refs` and of every place inside them."""
    return select(func.unnest(subtree_ids(refs)).label("id"))


def ancestors_cte() -> Any:
    """Return a CTE of (place_id, ancestor_id) pairs, each place included as its own ancestor."""
    base = select(places.c.id.label("place_id"), places.c.id.label("ancestor_id"), places.c.parent_id.label("next_id"))
    cte = base.cte("place_ancestors", recursive=True)
    step = select(cte.c.place_id, places.c.id, places.c.parent_id).join(places, places.c.id == cte.c.next_id)
    return cte.union_all(step)


async def missing_references(db: Reader, *, places_: Sequence[str] = (), **slugs: Sequence[str]) -> list[str]:
    """Return the references that name nothing: place slugs or codes, and slugs of other kinds.

    `slugs` maps a row type's table name (organisations, articles, events) to slugs."""
    wanted = [(f"place {ref!r}", select(places.c.id).where(place_ref(ref)).exists()) for ref in places_]
    for table_name, refs in slugs.items():
        table = places.metadata.tables[table_name]
        wanted += [
            (f"{table_name[:-1]} {ref!r}", select(table.c.id).where(table.c.slug == ref).exists()) for ref in refs
        ]
    if not wanted:
        return []
    (found,) = await db.all(select(*[exists_.label(f"r{i}") for i, (_, exists_) in enumerate(wanted)]))
    return [name for (name, _), present in zip(wanted, found, strict=True) if not present]


def last_day(start: ColumnElement[Any], precision: ColumnElement[Any]) -> ColumnElement[Any]:
    """Return the last day of the period a date of that precision stands for (February 2022 → the 28th).

    Immutable, its constants written into the SQL: an expression index can hold it (the events'
    ends, app/models.py). The date is truncated as a `timestamp` (not the `timestamptz` Postgres
    would pick for a bare date, which depends on the session's time zone): same days, immutable."""

    def end_of(unit: str) -> ColumnElement[Any]:
        day = cast(start, TIMESTAMP(timezone=False))
        name, length = _PERIODS[unit]
        return cast(func.date_trunc(name, day) + length - literal_column("interval '1 day'"), Date)

    return case(
        (precision == _PRECISIONS["week"], start + literal_column("6")),
        (precision == _PRECISIONS["month"], end_of("month")),
        (precision == _PRECISIONS["quarter"], end_of("quarter")),
        (precision == _PRECISIONS["year"], end_of("year")),
        else_=start,
    )


# constants written into last_day's SQL (an index expression cannot hold parameters)
_PRECISIONS: dict[str, ColumnElement[Any]] = {
    "week": literal_column("'week'"),
    "month": literal_column("'month'"),
    "quarter": literal_column("'quarter'"),
    "year": literal_column("'year'"),
}
_PERIODS: dict[str, tuple[ColumnElement[Any], ColumnElement[Any]]] = {
    "month": (literal_column("'month'"), literal_column("interval '1 month'")),
    "quarter": (literal_column("'quarter'"), literal_column("interval '3 months'")),
    "year": (literal_column("'year'"), literal_column("interval '1 year'")),
}


def reviewed(q: Select[Any], column: ColumnElement[str], reviews: Sequence[str] | None) -> Select[Any]:
    """Return `q` keeping the facts whose `column` is in `reviews` (no condition when every status is)."""
    wanted = set(reviews or ())
    if not wanted or wanted >= {"pending", "accepted"}:
        return q
    # one status: a plain equality (no expanding IN), so plans stay those of an unfiltered list
    return q.where(column == next(iter(wanted)) if len(wanted) == 1 else column.in_(sorted(wanted)))


def named(table: Table, name: str) -> ColumnElement[bool]:
    """Return the condition that `name` is in the row's name or one of its aliases, ignoring case."""
    return or_(
        table.c.name.icontains(name, autoescape=True),
        func.array_to_string(table.c.aliases, "\x1f").icontains(name, autoescape=True),
    )
