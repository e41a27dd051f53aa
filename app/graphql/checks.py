"""Argument checks and rules that both answer paths apply: the resolvers and the compiler call these.

A check raises BadUserInput; the compiler then leaves the operation to the resolvers, which
answer the error in its place."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

import pycountry
import strawberry
from psycopg import sql

from app.errors import BadUserInput
from app.seed import format as vocab

if TYPE_CHECKING:
    from app.queries.rows import FigureRow

MAX_SEARCH_LENGTH = 500


def search_text(query: str) -> str:
    """Return the search text, trimmed; raise BadUserInput if it is empty, too long or holds NUL."""
    text = query.strip()
    if "\x00" in text:
        raise BadUserInput("the search text contains a NUL character")
    if not text:
        raise BadUserInput("the search text is empty")
    if len(text) > MAX_SEARCH_LENGTH:
        raise BadUserInput(f"the search text is longer than {MAX_SEARCH_LENGTH} characters")
    return text


def currency_code(code: str) -> str:
    """Return an ISO 4217 code, upper-cased; raise BadUserInput if it is not one."""
    code = code.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise BadUserInput(f"{code[:10]!r} is not an ISO 4217 currency code")
    return code


def slug_or_code(slug: str | None, code: str | None) -> tuple[str, str]:
    """Return (column, value) of a place lookup by slug or by ISO code; raise BadUserInput unless
    exactly one is given."""
    if (slug is None) == (code is None):
        raise BadUserInput("give exactly one of `slug` and `code`")
    return ("slug", slug) if slug is not None else ("code", str(code).upper())


# --- offset cursors (search hits, a series point's figures) ---------------------------------------


def offset_cursor(position: int) -> str:
    """Return the cursor of the item at `position` (from 0) of an offset-paged list."""
    return base64.urlsafe_b64encode(f"offset:{position}".encode()).decode().rstrip("=")


MAX_OFFSET = 2**62  # a position past any table's rows, far from 2**63 - 1 (Postgres's bigint)


def offset_of(cursor: str | None) -> int:
    """Return the position after a search cursor (0 without one); raise BadUserInput if it is not one."""
    if cursor is None:
        return 0
    if len(cursor) > 100:  # "offset:<n>" in base64
        raise BadUserInput(f"invalid cursor {cursor[:40]!r}…: cursors come from `edges.cursor` of this connection")
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        if kind != "offset" or not value.isdigit() or offset_cursor(int(value)) != cursor:
            raise ValueError  # (only as offset_cursor writes it)
        # past every row any table can hold the page is empty, as it is here: the position stays
        # within Postgres's bigint with a page's length added (a LIMIT or OFFSET beyond it fails)
        return min(int(value), MAX_OFFSET) + 1
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            f"invalid cursor {cursor[:40]!r}: cursors come from `edges.cursor` of this connection"
        ) from None


# --- review statuses of nested lists ----------------------------------------------------------------

REVIEW_ARG = strawberry.argument(description="default: [ACCEPTED], as the top-level lists")


def reviews_wanted(review: list[vocab.ReviewStatus] | None) -> set[str]:
    """Return the review statuses a nested list shows: those asked for, else accepted only."""
    return {r.value for r in review} if review else {"accepted"}


# --- why a series leaves a figure out ------------------------------------------------------------

PART_OF = "part of the covering figure"
CORROBORATES = "corroborates the covering figure (same trade, stated again)"
INCLUDED = "included in a broader figure (its places, flow or goods contain this one's)"


def exclusion_reason(figure: FigureRow, cover: FigureRow) -> str:
    """Return why `figure` is left out of a point that `cover` covers (exclusion_reason_sql in SQL)."""
    if figure.part_of_id == cover.id:
        return PART_OF
    same_places = {figure.reporter_id, figure.partner_id} == {cover.reporter_id, cover.partner_id}
    if same_places and figure.flow == cover.flow and figure.commodity == cover.commodity:
        return CORROBORATES
    return INCLUDED


_EXCLUSION_REASON = sql.SQL(
    "CASE WHEN {f}.part_of_id = {c}.id THEN {part_of} "
    "WHEN (({f}.reporter_id IS NOT DISTINCT FROM {c}.reporter_id"
    " AND {f}.partner_id IS NOT DISTINCT FROM {c}.partner_id)"
    " OR ({f}.reporter_id IS NOT DISTINCT FROM {c}.partner_id AND {f}.partner_id IS NOT DISTINCT FROM {c}.reporter_id))"
    " AND {f}.flow = {c}.flow AND {f}.commodity IS NOT DISTINCT FROM {c}.commodity "
    "THEN {corroborates} ELSE {included} END"
)


def exclusion_reason_sql(figure: str, cover: str) -> sql.Composed:
    """Return exclusion_reason in SQL, of the figure aliased `figure` and the one aliased `cover` covering it."""
    return _EXCLUSION_REASON.format(
        f=sql.Identifier(figure),
        c=sql.Identifier(cover),
        part_of=sql.Literal(PART_OF),
        corroborates=sql.Literal(CORROBORATES),
        included=sql.Literal(INCLUDED),
    )
