"""figures by partner in keyset order: the other side of a place's merged page is an index range too

A place's page of figures merges, per place of its subtree, the figures it reports and the total
flows others report with it as the partner (app/queries/figures.py, `figure_page`). The partner
side had only an index on partner_id, so the planner read the sort-key index and filtered it:
for a place that no figure names as partner, the whole table per place (19 s at size L). This
index replaces the one on partner_id alone, which it serves as well.

Revision ID: 7e3b5d9a2c60
Revises: 4a6c8e2f0b17
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7e3b5d9a2c60"
down_revision: str | None = "4a6c8e2f0b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_trade_figures_partner_id_period_end_id", "trade_figures", ["partner_id", "period_end", "id"], unique=False
    )
    op.drop_index("ix_trade_figures_partner_id", table_name="trade_figures")


def downgrade() -> None:
    op.create_index("ix_trade_figures_partner_id", "trade_figures", ["partner_id"], unique=False)
    op.drop_index("ix_trade_figures_partner_id_period_end_id", table_name="trade_figures")
