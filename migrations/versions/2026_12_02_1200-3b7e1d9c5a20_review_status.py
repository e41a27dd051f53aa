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


def upgrade() -> None:
    for table in TABLES:
        # every fact stored so far came from the curated corpus: accepted
        op.add_column(table, sa.Column("review", sa.String(length=10), server_default="accepted", nullable=False))
        op.create_check_constraint(op.f(f"ck_{table}_review"), table, "review IN ('pending', 'accepted')")


def downgrade() -> None:
    for table in TABLES:
        op.drop_constraint(op.f(f"ck_{table}_review"), table, type_="check")
        op.drop_column(table, "review")
