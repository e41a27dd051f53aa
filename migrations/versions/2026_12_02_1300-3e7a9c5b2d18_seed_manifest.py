"""seed manifest: what the last seed read from each file, so that the next skips what is unchanged

Revision ID: 3e7a9c5b2d18
Revises: 3b7e1d9c5a20
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3e7a9c5b2d18"
down_revision: str | None = "3b7e1d9c5a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seed_manifest",
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("article_slug", sa.String(length=120), nullable=True),
        sa.Column("defines", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("refers", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("entries", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("shingles", sa.Integer(), nullable=True),
        sa.Column("similar", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.CheckConstraint("kind IN ('registry', 'article')", name=op.f("ck_seed_manifest_kind")),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_seed_manifest")),
    )


def downgrade() -> None:
    op.drop_table("seed_manifest")
