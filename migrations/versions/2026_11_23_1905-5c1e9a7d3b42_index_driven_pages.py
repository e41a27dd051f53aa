"""index-driven pages: keyset sort keys, filter lookups and covering counts

Revision ID: 5c1e9a7d3b42
Revises: 0aaca0b7c937
Create Date: 2026-11-23 19:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e9a7d3b42"
down_revision: str | None = "0aaca0b7c937"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # articles.ORDERINGS: PUBLISHED_ON_DESC and PUBLISHED_ON_ASC (the constants as the queries write them)
    op.create_index(
        "ix_articles_published_desc_key",
        "articles",
        [sa.text("COALESCE(published_on, '0001-01-01'::date)"), "id"],
    )
    op.create_index(
        "ix_articles_published_asc_key",
        "articles",
        [sa.text("COALESCE(published_on, '9999-12-31'::date)"), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_articles_published_asc_key", table_name="articles")
    op.drop_index("ix_articles_published_desc_key", table_name="articles")
