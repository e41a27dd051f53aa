"""Events: filtered pages, places and participants."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from enum import Enum
from typing import Any

from sqlalchemy import Select, exists, func, select

from app.db import Reader
from app.queries.common import get_by, group, last_day, subtree
from app.queries.pagination import Ordering, Page, PageArgs, SortKey, paginate
from app.queries.rows import (
    EventRow,
    ParticipantRow,
    PlaceRow,
    columns,
    event_participants,
    event_places,
    events,
    organisations,
    places,
)

EARLIEST = dt.date(1, 1, 1)
LATEST = dt.date(9999, 12, 31)


class EventOrder(Enum):
    STARTS_ON_ASC = "STARTS_ON_ASC"  # undated events last
    STARTS_ON_DESC = "STARTS_ON_DESC"  # undated events last
    NAME_ASC = "NAME_ASC"


ORDERINGS: dict[EventOrder, Ordering] = {
    EventOrder.STARTS_ON_ASC: Ordering(
        (SortKey(func.coalesce(events.c.starts_on, LATEST), dt.date), SortKey(events.c.id, int))
    ),
    EventOrder.STARTS_ON_DESC: Ordering(
        (SortKey(func.coalesce(events.c.starts_on, EARLIEST), dt.date), SortKey(events.c.id, int)), descending=True
    ),
    EventOrder.NAME_ASC: Ordering((SortKey(events.c.name, str), SortKey(events.c.id, int))),
}


@dataclasses.dataclass(frozen=True)
class EventFilter:
    kinds: Sequence[str] | None = None
    place: str | None = None  # slug or ISO code; events there or anywhere inside it
    starts_from: dt.date | None = None  # events overlapping [starts_from, ends_to]
    ends_to: dt.date | None = None
    organisation: str | None = None  # slug of a participating organisation
    parent: str | None = None  # slug of the enclosing event


def filtered(f: EventFilter) -> Select[Any]:
    """Return a SELECT of event rows matching `f`."""
    q = select(*columns(EventRow))
    if f.kinds:
        q = q.where(events.c.kind.in_(list(f.kinds)))
    if f.place is not None:
        q = q.where(
            exists().where(event_places.c.event_id == events.c.id, event_places.c.place_id.in_(subtree([f.place])))
        )
    if f.starts_from is not None:
        # an event dated "February 2022" lasts, as far as we know, all February
        ends = func.coalesce(events.c.ends_on, last_day(events.c.starts_on, events.c.date_precision))
        q = q.where(ends >= f.starts_from)
    if f.ends_to is not None:
        q = q.where(events.c.starts_on <= f.ends_to)
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


async def list_events(db: Reader, *, where: EventFilter, order: EventOrder, page: PageArgs) -> Page[EventRow]:
    """Return one page of events matching `where`."""
    return await paginate(db, filtered(where), ORDERINGS[order], page, lambda r: EventRow(*r))


async def get_event(db: Reader, *, slug: str) -> EventRow | None:
    """Return the event with `slug`, or None."""
    return await get_by(db, EventRow, "slug", slug)


async def list_places_of(db: Reader, *, event_ids: Sequence[int]) -> list[list[PlaceRow]]:
    """Return, per event id, the places where it happens, by name."""
    q = (
        select(event_places.c.event_id, *columns(PlaceRow))
        .join(places, places.c.id == event_places.c.place_id)
        .where(event_places.c.event_id.in_(event_ids))
        .order_by(event_places.c.event_id, places.c.name)
    )
    return group(((r[0], PlaceRow(*r[1:])) for r in await db.all(q)), event_ids)


async def list_participants(db: Reader, *, event_ids: Sequence[int]) -> list[list[ParticipantRow]]:
    """Return, per event id, its participants with their roles."""
    q = (
        select(*columns(ParticipantRow))
        .where(event_participants.c.event_id.in_(event_ids))
        .order_by(event_participants.c.event_id, event_participants.c.id)
    )
    rows = [ParticipantRow(*r) for r in await db.all(q)]
    return group(((r.event_id, r) for r in rows), event_ids)


async def list_children(db: Reader, *, parent_ids: Sequence[int]) -> list[list[EventRow]]:
    """Return, per event id, the events inside it."""
    q = select(*columns(EventRow)).where(events.c.parent_id.in_(parent_ids)).order_by(events.c.starts_on, events.c.id)
    rows = [EventRow(*r) for r in await db.all(q)]
    return group(((r.parent_id or 0, r) for r in rows), parent_ids)
