"""figures by reporter in keyset order: a place's page of figures is one index range

A page of the figures reported within a place (and every place inside it) is merged from a page
per place of the subtree (app/queries/figures.py, `figure_page`); each is read from this index,
in the order of PERIOD_END_DESC/ASC, and stops after the page's rows.

Revision ID: 5c1f0e7a9d42
Revises: 6868a1144b8f
Create Date: 2026-12-02 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c1f0e7a9d42"
down_revision: str | None = "6868a1144b8f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_trade_figures_reporter_id_period_end_id", "trade_figures", ["reporter_id", "period_end", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_trade_figures_reporter_id_period_end_id", table_name="trade_figures")
