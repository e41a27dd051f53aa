"""Organisations and people: lookups and filtered pages."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from enum import Enum
from typing import Any

from sqlalchemy import Select, select

from app.db import Reader
from app.queries.common import get_by, named, place_ref
from app.queries.pagination import Ordering, Page, PageArgs, SortKey, named_orderings, paginate
from app.queries.rows import OrganisationRow, columns, organisations, places


class OrganisationOrder(Enum):
    NAME_ASC = "NAME_ASC"
    SLUG_ASC = "SLUG_ASC"


ORDERINGS: dict[OrganisationOrder, Ordering] = named_orderings(
    "Organisation",
    {
        OrganisationOrder.NAME_ASC: Ordering((SortKey(organisations.c.name, str), SortKey(organisations.c.id, int))),
        OrganisationOrder.SLUG_ASC: Ordering((SortKey(organisations.c.slug, str), SortKey(organisations.c.id, int))),
    },
)


@dataclasses.dataclass(frozen=True)
class OrganisationFilter:
    kinds: Sequence[str] | None = None
    country: str | None = None  # slug or ISO code of the organisation's country
    name: str | None = None  # case-insensitive substring of the name or an alias


def filtered(f: OrganisationFilter) -> Select[Any]:
    """Return a SELECT of organisation rows matching `f`."""
    q = select(*columns(OrganisationRow))
    if f.kinds:
        q = q.where(organisations.c.kind.in_(list(f.kinds)))
    if f.country is not None:
        q = q.where(organisations.c.country_id.in_(select(places.c.id).where(place_ref(f.country))))
    if f.name:
        q = q.where(named(organisations, f.name))
    return q


async def list_organisations(
    db: Reader, *, where: OrganisationFilter, order: OrganisationOrder, page: PageArgs
) -> Page[OrganisationRow]:
    """Return one page of organisations matching `where`."""
    return await paginate(db, filtered(where), ORDERINGS[order], page, lambda r: OrganisationRow(*r))


async def get_organisation(db: Reader, *, slug: str) -> OrganisationRow | None:
    """Return the organisation with `slug`, or None."""
    return await get_by(db, OrganisationRow, "slug", slug)
