"""Events: filtered pages, places and participants."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from enum import Enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Select,
    any_,
    cast,
    exists,
    func,
    literal,
    select,
    tuple_,
    union_all,
)

from app.db import Reader
from app.queries.common import EARLIEST_SQL, LATEST, LATEST_SQL, get_by, last_day, reviewed, subtree, subtree_ids
from app.queries.pagination import (
    Ordering,
    Page,
    PageArgs,
    PageQuery,
    SortKey,
    count_of,
    merged_or_single_page_query,
    named_orderings,
    page_query,
    paginate,
    rows_page_query,
)
from app.queries.rows import (
    EventRow,
    columns,
    event_counts,
    event_participants,
    event_places,
    events,
    organisations,
)

# the sort keys of undated rows (common.EARLIEST_SQL, LATEST_SQL) match the expression indexes
# ix_events_starts_asc_key / _desc_key (app/models.py)


def _ends() -> ColumnElement[Any]:
    # an event dated "February 2022" lasts, as far as we know, all February
    return func.coalesce(events.c.ends_on, last_day(events.c.starts_on, events.c.date_precision))


def _array(ids: Select[Any]) -> ColumnElement[Any]:
    return func.array(ids.scalar_subquery())


def _starts_key() -> ColumnElement[Any]:
    return func.coalesce(events.c.starts_on, LATEST_SQL)


class EventOrder(Enum):
    STARTS_ON_ASC = "STARTS_ON_ASC"  # undated events last
    STARTS_ON_DESC = "STARTS_ON_DESC"  # undated events last
    NAME_ASC = "NAME_ASC"


ORDERINGS: dict[EventOrder, Ordering] = named_orderings(
    "Event",
    {
        EventOrder.STARTS_ON_ASC: Ordering((SortKey(_starts_key(), dt.date), SortKey(events.c.id, int))),
        EventOrder.STARTS_ON_DESC: Ordering(
            (SortKey(func.coalesce(events.c.starts_on, EARLIEST_SQL), dt.date), SortKey(events.c.id, int)),
            descending=True,
        ),
        EventOrder.NAME_ASC: Ordering((SortKey(events.c.name, str), SortKey(events.c.id, int))),
    },
)


# The same orders read from event_places (its start, copied from the event): a place's events come
# in order from ix_event_places_place_id_starts_asc_key / _desc_key. The keys' values, and so the
# cursors, are the events'.
BY_PLACE: dict[EventOrder, Ordering] = named_orderings(
    "Event",
    {
        EventOrder.STARTS_ON_ASC: Ordering(
            (
                SortKey(func.coalesce(event_places.c.starts_on, LATEST_SQL), dt.date),
                SortKey(event_places.c.event_id, int),
            )
        ),
        EventOrder.STARTS_ON_DESC: Ordering(
            (
                SortKey(func.coalesce(event_places.c.starts_on, EARLIEST_SQL), dt.date),
                SortKey(event_places.c.event_id, int),
            ),
            descending=True,
        ),
    },
)


@dataclasses.dataclass(frozen=True)
class EventFilter:
    kinds: Sequence[str] | None = None
    place: str | None = None  # slug or ISO code; events there or anywhere inside it
    starts_from: dt.date | None = None  # events overlapping [starts_from, ends_to]
    ends_to: dt.date | None = None
    organisation: str | None = None  # slug of a participating organisation
    parent: str | None = None  # slug of the enclosing event
    # accepted facts unless asked otherwise: drafts never mix in silently
    reviews: Sequence[str] | None = ("accepted",)


def filtered(f: EventFilter) -> Select[Any]:
    """Return a SELECT of event rows matching `f`."""
    q = select(*columns(EventRow))
    if f.kinds:
        q = q.where(events.c.kind.in_(list(f.kinds)))
    q = reviewed(q, events.c.review, f.reviews)
    if f.place is not None:
        q = q.where(
            # the ids of the events there, as an ARRAY (looked up in ix_event_places_place_id_event_id):
            # then events come by primary key, where EXISTS hash-joins a scan of every event
            events.c.id
            == any_(
                _array(select(event_places.c.event_id).where(event_places.c.place_id == any_(subtree_ids([f.place]))))
            )
        )
    # The overlap, as range conditions on the key of ix_events_starts_asc_key (its sort key, id
    # and ends): the index bounds the scan to the events that start in [from - longest, to]
    # and checks their ends itself, for the page (in that order) and for the count alike.
    if f.starts_from is not None:
        q = q.where(_ends() >= f.starts_from)
        # an event that ends on or after `from` starts no earlier than `from` minus the longest
        # span of any event (ix_events_span answers the max); undated events sort last (LATEST)
        longest = select(func.coalesce(func.max(_ends() - events.c.starts_on), 0)).correlate(None).scalar_subquery()
        # as a row comparison, (key, id) >= (bound, smallest bigint), the same rows as key >= bound:
        # Postgres pairs `key >= <unknown>` with `key <= to` into a range it estimates at 0.5% of
        # the table, then sorts what it expects to be a handful of rows instead of reading the
        # index in order and stopping at the page's end
        bound = tuple_(cast(literal(f.starts_from, Date), Date) - longest, literal(-(2**63), BigInteger))
        q = q.where(tuple_(_starts_key(), events.c.id) >= bound)
    if f.ends_to is not None:
        # below LATEST, the same rows as starts_on <= ends_to
        starts = _starts_key() if f.ends_to < LATEST else events.c.starts_on
        q = q.where(starts <= f.ends_to)
    if f.organisation is not None:
        q = q.where(
            exists().where(
                event_participants.c.event_id == events.c.id,
                event_participants.c.organisation_id.in_(
                    select(organisations.c.id).where(organisations.c.slug == f.organisation)
                ),
            )
        )
    if f.parent is not None:
        parent = events.alias("parent_event")
        q = q.where(events.c.parent_id.in_(select(parent.c.id).where(parent.c.slug == f.parent)))
    return q


def count_query(f: EventFilter) -> Select[Any]:
    """Return the SELECT of how many events match `f`: by day from event_counts when it can.

    The events `f` matches are those that start in [from, to] (each lasts at least to its start,
    so it overlaps the range: summed from event_counts), those that start before `from` and last
    into it, and the undated ones (both counted from the events' index, with every condition of
    `f`). A filter by place, organisation or parent counts the events."""
    if f.place is not None or f.organisation is not None or f.parent is not None:
        return count_of(filtered(f))
    t = event_counts
    by_day = select(func.coalesce(func.sum(t.c.events), 0))
    if f.kinds:
        by_day = by_day.where(t.c.kind.in_(list(f.kinds)))
    by_day = reviewed(by_day, t.c.review, f.reviews)
    if f.starts_from is not None:
        by_day = by_day.where(t.c.starts_on >= f.starts_from)
    if f.ends_to is not None:
        by_day = by_day.where(t.c.starts_on <= f.ends_to)
    matching = filtered(f).with_only_columns(literal(1))
    # (the key as the index holds it: an undated event's is LATEST)
    parts = [matching.where(_starts_key() == LATEST_SQL, events.c.starts_on.is_(None))]
    if f.starts_from is not None:
        parts.append(matching.where(_starts_key() < f.starts_from))
    rest = select(func.count()).select_from(union_all(*parts).subquery())
    return select(cast(by_day.scalar_subquery() + rest.scalar_subquery(), BigInteger))


# the most places a subtree has for its events' page to be merged from a page per place
MERGE_UP_TO = 50


def event_page(
    where: EventFilter, order: EventOrder, args: PageArgs, *, merge_up_to: int | None = MERGE_UP_TO
) -> PageQuery:
    """Return the SELECT of one page of `filtered(where)` in `order`.

    The events of a place (and of the places inside it), by start, are merged from a page per
    place of the subtree, read from the place's index in order (BY_PLACE), each event's other
    conditions tested by primary key; an event held by two places of the subtree is shown once.
    A subtree of more than MERGE_UP_TO places (a country: its events are a large share of all,
    whose first rows the events' own index finds soon) is read from the single filtered SELECT;
    the statement counts the places and reads one of the two. `merge_up_to=None`: always merged."""
    ordering = ORDERINGS[order]
    if where.place is None or order not in BY_PLACE:
        return page_query(filtered(where), ordering, args)
    tree = subtree([where.place]).cte("tree")
    others = filtered(dataclasses.replace(where, place=None))
    # filtered(where)'s page, with the subtree read once for both
    there = select(event_places.c.event_id).where(event_places.c.place_id == any_(_array(select(tree.c.id))))
    single = page_query(others.with_only_columns(events.c.id).where(events.c.id == any_(_array(there))), ordering, args)
    part = (
        others.with_only_columns(event_places.c.event_id.label("id"))
        .select_from(events.join(event_places, event_places.c.event_id == events.c.id))
        .where(event_places.c.place_id == tree.c.id)
    )
    merged = merged_or_single_page_query(
        tree, [part], BY_PLACE[order], args, single, merge_up_to=merge_up_to, distinct=True
    )
    return rows_page_query(merged, events.c.id, columns(EventRow))


async def list_events(db: Reader, *, where: EventFilter, order: EventOrder, page: PageArgs) -> Page[EventRow]:
    """Return one page of events matching `where`."""
    return await paginate(
        db,
        filtered(where),
        ORDERINGS[order],
        page,
        lambda r: EventRow(*r),
        paged=event_page(where, order, page),
        counted=count_query(where),
    )


async def get_event(db: Reader, *, slug: str) -> EventRow | None:
    """Return the event with `slug`, or None."""
    return await get_by(db, EventRow, "slug", slug)
