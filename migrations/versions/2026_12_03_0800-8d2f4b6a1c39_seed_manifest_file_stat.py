"""seed manifest: each file's status when it was hashed, so that an unwritten file is not hashed again

Revision ID: 8d2f4b6a1c39
Revises: 5c1f0e7a9d42
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d2f4b6a1c39"
down_revision: str | None = "5c1f0e7a9d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("seed_manifest", sa.Column("file_stat", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("seed_manifest", "file_stat")
