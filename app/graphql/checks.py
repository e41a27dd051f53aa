"""Argument checks and rules that both answer paths apply: the resolvers and the compiler call these.

A check raises BadUserInput; the compiler then leaves the operation to the resolvers, which
answer the error in its place."""

from __future__ import annotations

import base64
import binascii
import hashlib
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


def country_code(code: str) -> str:
    """Return an ISO 3166-1 alpha-2 code, upper-cased; raise BadUserInput if it is not one."""
    code = code.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None or len(code) != 2:
        raise BadUserInput(f"{code[:10]!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def place_code(code: str) -> str:
    """Return an ISO 3166-1 alpha-2 or ISO 3166-2 code, upper-cased; raise BadUserInput if it is neither."""
    code = code.strip().upper()
    if len(code) == 2:
        return country_code(code)
    if pycountry.subdivisions.get(code=code) is None:  # type: ignore[no-untyped-call]
        raise BadUserInput(f"{code[:12]!r} is not an ISO 3166-1 alpha-2 or ISO 3166-2 code")
    return code


def language_code(code: str) -> str:
    """Return an ISO 639-1 language code, lower-cased; raise BadUserInput if it is not one."""
    code = code.strip().lower()
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        raise BadUserInput(f"{code[:10]!r} is not an ISO 639-1 language code")
    return code


def words(text: str | None) -> str | None:
    """Return a text filter as given, or None when it holds no word (an empty search box filters nothing)."""
    return text if text is not None and text.strip() else None


def slug_or_code(slug: str | None, code: str | None) -> tuple[str, str]:
    """Return (column, value) of a place lookup by slug or by ISO code; raise BadUserInput unless
    exactly one is given."""
    if (slug is None) == (code is None):
        raise BadUserInput("give exactly one of `slug` and `code`")
    # slugs are lower-case: "China" finds china, as filters do
    return ("slug", slug.strip().lower()) if slug is not None else ("code", str(code).strip().upper())


# --- offset cursors (search hits, a series point's figures) ---------------------------------------


def offset_list(name: str) -> str:
    """Return the mark of the offset-paged list `name` its cursors start with ("TradeSeriesPoint.excluded",
    or "search:" and the search text: an offset is a position in one ranking only)."""
    # sha256, which SQL can compute as well (bench/limit_sql.py writes the same cursors)
    return "o" + hashlib.sha256(name.encode()).hexdigest()[:6]


def offset_cursor(position: int, of: str) -> str:
    """Return the cursor of the item at `position` (from 0) of the offset-paged list `of` (offset_list)."""
    return base64.urlsafe_b64encode(f"{of}:{position}".encode()).decode().rstrip("=")


# a series point's figures: one list for every point, as a point has no id of its own to mark them by
CONTRIBUTIONS = offset_list("TradeSeriesPoint.contributions")
EXCLUDED = offset_list("TradeSeriesPoint.excluded")
MAX_OFFSET = 2**62  # a position past any table's rows, far from 2**63 - 1 (Postgres's bigint)


def offset_of(cursor: str | None, of: str) -> int:
    """Return the position after a cursor of the list `of` (0 without one); raise BadUserInput if it is not one."""
    if cursor is None:
        return 0
    if len(cursor) > 100:  # "<mark>:<n>" in base64
        raise BadUserInput(f"invalid cursor {cursor[:40]!r}…: cursors come from `edges.cursor` of this connection")
    try:
        mark, _, value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        if not value.isdigit() or offset_cursor(int(value), mark) != cursor:
            raise ValueError  # (only as offset_cursor writes it)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            f"invalid cursor {cursor[:40]!r}: cursors come from `edges.cursor` of this connection"
        ) from None
    if mark != of:
        raise BadUserInput(
            f"cursor {cursor[:40]!r} is of another connection or search: a cursor continues only the list"
            " whose `edges.cursor` gave it"
        )
    # past every row any table can hold the page is empty, as it is here: the position stays
    # within Postgres's bigint with a page's length added (a LIMIT or OFFSET beyond it fails)
    return min(int(value), MAX_OFFSET) + 1


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
