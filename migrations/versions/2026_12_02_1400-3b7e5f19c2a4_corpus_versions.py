"""corpus versions: one row per committed seed that changed the corpus, for live updates

Revision ID: 3b7e5f19c2a4
Revises: 3e7a9c51d2b8
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3b7e5f19c2a4"
down_revision: str | None = "3e7a9c51d2b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "corpus_versions",
        sa.Column("version", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "committed_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
        sa.Column("reset", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("articles_after", sa.BigInteger(), nullable=False),
        sa.Column("articles_upto", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("articles_upto >= articles_after", name=op.f("ck_corpus_versions_article_range")),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_corpus_versions")),
    )
    # A database seeded before versions existed: its articles are the baseline, not news; the
    # next seed announces only the articles it adds after them.
    op.execute(
        "INSERT INTO corpus_versions (changes, articles_after, articles_upto)"
        " SELECT '{}'::jsonb, max(id), max(id) FROM articles HAVING count(*) > 0"
    )


def downgrade() -> None:
    op.drop_table("corpus_versions")
