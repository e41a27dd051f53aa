"""figure flows by period end: a filtered page of import or export flows reads its ids from an index alone

A page of figures filtered by places and flow (China -> Russia exports, newest first) walked
`ix_trade_figures_period_end_id` backwards and fetched each figure from the table to test the
filter: at size L, 21,385 figures read for the 21 of a page, 30 ms. This index holds, for the
import and export flows, what such a filter tests; the page's ids come from it alone (the rows
then by primary key). Total flows are left out: a merged page's total flows with a place as
partner read `ix_trade_figures_partner_id_period_end_id`, and an index of every flow in this
order, holding the partner, is what the planner took for them instead, reading it all per place.

Revision ID: f2b8d4e6a1c9
Revises: e7f1a3c5b9d2
Create Date: 2026-12-03 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2b8d4e6a1c9"
down_revision: str | None = "e7f1a3c5b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_trade_figures_flows_period_end_id"),
        "trade_figures",
        ["period_end", "id"],
        unique=False,
        postgresql_include=["reporter_id", "partner_id", "flow", "period_start", "review", "status"],
        postgresql_where=sa.text("flow <> 'total'"),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_trade_figures_flows_period_end_id"), table_name="trade_figures")
