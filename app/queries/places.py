"""Places: lookups by slug or ISO code, filtered pages, and the hierarchy."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from enum import Enum
from typing import Any

from sqlalchemy import Select, func, select

from app.db import Reader
from app.queries.common import get_by, named, place_ref, subtree
from app.queries.pagination import Ordering, Page, PageArgs, SortKey, named_orderings, paginate
from app.queries.rows import PlaceRow, columns, places


class PlaceOrder(Enum):
    NAME_ASC = "NAME_ASC"
    SLUG_ASC = "SLUG_ASC"
    CODE_ASC = "CODE_ASC"  # places without a code last


ORDERINGS: dict[PlaceOrder, Ordering] = named_orderings(
    "Place",
    {
        PlaceOrder.NAME_ASC: Ordering((SortKey(places.c.name, str), SortKey(places.c.id, int))),
        PlaceOrder.SLUG_ASC: Ordering((SortKey(places.c.slug, str), SortKey(places.c.id, int))),
        # "~" sorts after letters and digits only byte-wise, hence the C collation
        PlaceOrder.CODE_ASC: Ordering(
            (SortKey(func.coalesce(places.c.code, "~").collate("C"), str), SortKey(places.c.id, int))
        ),
    },
)


@dataclasses.dataclass(frozen=True)
class PlaceFilter:
    kinds: Sequence[str] | None = None
    country_code: str | None = None  # ISO 3166-1 alpha-2 of the country the place lies in
    code: str | None = None  # exact ISO code
    within: str | None = None  # slug or code: places inside that place (not the place itself)
    name: str | None = None  # case-insensitive substring of the name or an alias


def filtered(f: PlaceFilter) -> Select[Any]:
    """Return a SELECT of place rows matching `f`."""
    q = select(*columns(PlaceRow))
    if f.kinds:
        q = q.where(places.c.kind.in_(list(f.kinds)))
    if f.country_code is not None:
        q = q.where(places.c.country_code == f.country_code.upper())
    if f.code is not None:
        q = q.where(places.c.code == f.code.upper())
    if f.within is not None:
        q = q.where(
            places.c.id.in_(subtree([f.within])),
            places.c.id.not_in(select(places.c.id).where(place_ref(f.within))),
        )
    if f.name:
        q = q.where(named(places, f.name))
    return q


async def list_places(db: Reader, *, where: PlaceFilter, order: PlaceOrder, page: PageArgs) -> Page[PlaceRow]:
    """Return one page of places matching `where`."""
    return await paginate(db, filtered(where), ORDERINGS[order], page, lambda r: PlaceRow(*r))


async def get_place(db: Reader, *, slug: str | None = None, code: str | None = None) -> PlaceRow | None:
    """Return the place with `slug` (or ISO `code`), or None."""
    if slug is not None:
        return await get_by(db, PlaceRow, "slug", slug)
    if code is not None:
        return await get_by(db, PlaceRow, "code", code.upper())
    return None
