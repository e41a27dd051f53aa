"""entity name search: the document of an organisation's, place's or person's names, indexed

Revision ID: 8d2f4b6a1c07
Revises: 5c1e9a7d3b42
Create Date: 2026-11-29 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d2f4b6a1c07"
down_revision: str | None = "5c1e9a7d3b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("organisations", "places", "people")

# array_to_string is STABLE (it may format any element type), so Postgres refuses it in an index
# expression; over text[] it always returns the same, which this IMMUTABLE wrapper declares.
# Postgres does not inline it (its body is less than IMMUTABLE): the index holds the call, and a
# query matches the index by calling name_document(name, aliases) itself.
NAME_DOCUMENT = """
CREATE FUNCTION name_document(name text, aliases text[]) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_tsvector('english'::regconfig, name || ' ' || array_to_string(aliases, ' '))
"""


def upgrade() -> None:
    op.execute(NAME_DOCUMENT)
    for table in TABLES:
        op.create_index(
            f"ix_{table}_name_document", table, [sa.text("name_document(name, aliases)")], postgresql_using="gin"
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_name_document", table_name=table)
    op.execute("DROP FUNCTION name_document(text, text[])")
