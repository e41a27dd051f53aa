"""review status: trade figures and events are pending (drafted) or accepted (checked)

Revision ID: 3b7e1d9c5a20
Revises: 8d2f4b6a1c07
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7e1d9c5a20"
down_revision: str | None = "8d2f4b6a1c07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("trade_figures", "events")
# as in app/models.py: an event's last day by its precision (the overlap filter's key)
EVENT_ENDS = (
    "COALESCE(ends_on, CASE"
    " WHEN (date_precision = 'week') THEN starts_on + 6"
    " WHEN (date_precision = 'month') THEN CAST((date_trunc('month', CAST(starts_on AS TIMESTAMP WITHOUT TIME ZONE))"
    " + interval '1 month') - interval '1 day' AS DATE)"
    " WHEN (date_precision = 'quarter') THEN CAST((date_trunc('quarter', CAST(starts_on AS TIMESTAMP WITHOUT TIME ZONE))"
    " + interval '3 months') - interval '1 day' AS DATE)"
    " WHEN (date_precision = 'year') THEN CAST((date_trunc('year', CAST(starts_on AS TIMESTAMP WITHOUT TIME ZONE))"
    " + interval '1 year') - interval '1 day' AS DATE)"
    " ELSE starts_on END)"
)


def _event_sort_indexes(*extra: str) -> None:
    # the sort-key indexes of event pages; with `review` among their keys, the default filter
    # (accepted facts only) is an index condition, not a filter of heap rows
    op.drop_index("ix_events_starts_asc_key", table_name="events")
    op.drop_index("ix_events_starts_desc_key", table_name="events")
    op.create_index(
        "ix_events_starts_asc_key",
        "events",
        [sa.text("COALESCE(starts_on, '9999-12-31'::date)"), "id", sa.text(EVENT_ENDS), *extra],
        postgresql_include=["starts_on", "ends_on", "date_precision"],
    )
    op.create_index(
        "ix_events_starts_desc_key", "events", [sa.text("COALESCE(starts_on, '0001-01-01'::date)"), "id", *extra]
    )


def upgrade() -> None:
    for table in TABLES:
        # every fact stored so far came from the curated corpus: accepted
        op.add_column(table, sa.Column("review", sa.String(length=10), server_default="accepted", nullable=False))
        op.create_check_constraint(op.f(f"ck_{table}_review"), table, "review IN ('pending', 'accepted')")
    _event_sort_indexes("review")


def downgrade() -> None:
    _event_sort_indexes()
    for table in TABLES:
        op.drop_constraint(op.f(f"ck_{table}_review"), table, type_="check")
        op.drop_column(table, "review")
