"""seed manifest: each article's shingle hashes, so that a new text finds its near-duplicate candidates in SQL

intarray (a trusted extension shipped with Postgres) intersects two sorted int4 arrays in C: the
seed counts, for every stored article at once, the hashes it shares with a new text, and reads
only the texts of the few that could reach the near-duplicate threshold. Stored uncompressed
(random hashes do not compress; trying costs at every write).

Revision ID: 4a6c8e2f0b17
Revises: 8d2f4b6a1c39
Create Date: 2026-12-03 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "4a6c8e2f0b17"
down_revision: str | None = "8d2f4b6a1c39"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS intarray")
    op.add_column("seed_manifest", sa.Column("shingle_hashes", postgresql.ARRAY(sa.Integer()), nullable=True))
    op.execute("ALTER TABLE seed_manifest ALTER COLUMN shingle_hashes SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_column("seed_manifest", "shingle_hashes")
    # the extension stays: something else may have come to use it
