"""Evidence: the exact passages that state each fact or name each entity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select

from app.db import Reader
from app.queries.common import group
from app.queries.rows import EvidenceRow, columns, evidence

Subject = Literal["trade_figure", "event", "organisation", "place", "person"]


async def list_for(db: Reader, *, subject: Subject, ids: Sequence[int]) -> list[list[EvidenceRow]]:
    """Return, per subject id, its evidence in article then text order."""
    column = evidence.c[f"{subject}_id"]
    q = (
        select(*columns(EvidenceRow))
        .where(column.in_(ids))
        .order_by(column, evidence.c.article_id, evidence.c.start_offset)
    )
    rows = [EvidenceRow(*r) for r in await db.all(q)]
    return group(((getattr(r, f"{subject}_id"), r) for r in rows), ids)
