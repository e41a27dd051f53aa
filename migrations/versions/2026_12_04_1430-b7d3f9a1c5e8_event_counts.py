"""event counts: how many dated events start on each day, per kind and review state

A page of events in a date range with its totalCount counted every event the range holds: at
size L, the 20,864 events of a year took 4 ms to count from the index alone, a third of the
statement. They start on far fewer days and kinds (2,561 for that year): this table holds how
many events start on each, so the count of a range sums those rows and reads from the events'
index only the events that start before the range and last into it (the longest span of an
event before its start) and the undated ones. Statement triggers on events keep it in the
writer's own transaction (COPY included): never stale, no refresh. Undated events are not in it.

Revision ID: b7d3f9a1c5e8
Revises: a3c9e5f7b2d4
Create Date: 2026-12-04 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d3f9a1c5e8"
down_revision: str | None = "a3c9e5f7b2d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `{ROWS}`: (day, kind, review, +1 or -1) per dated event written or removed. An update that changes
# none of them nets to nothing and writes nothing; a key whose count drops to zero is deleted; the
# inserts go in key order, as concurrent writers' do.
APPLY = """
        WITH delta AS (
            SELECT s, k, r, sum(d) AS n FROM ({ROWS}) AS x (s, k, r, d) GROUP BY s, k, r HAVING sum(d) <> 0
        ), dropped AS (
            DELETE FROM event_counts c USING delta
             WHERE c.starts_on = s AND c.kind = k AND c.review = r AND c.events + n = 0 RETURNING 1
        ), lowered AS (
            UPDATE event_counts c SET events = c.events + n FROM delta
             WHERE c.starts_on = s AND c.kind = k AND c.review = r AND n < 0 AND c.events + n > 0 RETURNING 1
        )
        INSERT INTO event_counts AS c (starts_on, kind, review, events)
        SELECT s, k, r, n FROM delta WHERE n > 0 ORDER BY s, k, r
        ON CONFLICT (starts_on, kind, review) DO UPDATE SET events = c.events + excluded.events;"""

ADDED = "SELECT starts_on, kind, review, 1 FROM new_rows WHERE starts_on IS NOT NULL"
REMOVED = "SELECT starts_on, kind, review, -1 FROM old_rows WHERE starts_on IS NOT NULL"

KEEP = f"""
CREATE FUNCTION event_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE event_counts;
    ELSIF TG_OP = 'INSERT' THEN{APPLY.replace("{ROWS}", ADDED)}
    ELSIF TG_OP = 'DELETE' THEN{APPLY.replace("{ROWS}", REMOVED)}
    ELSE{APPLY.replace("{ROWS}", f"{ADDED} UNION ALL {REMOVED}")}
    END IF;
    RETURN NULL;
END
$$;
"""

TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "truncate": "",
}


def upgrade() -> None:
    op.create_table(
        "event_counts",
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("review", sa.String(length=10), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("starts_on", "kind", "review", name=op.f("pk_event_counts")),
    )
    # a range's count reads this alone (an index-only scan)
    op.create_index(
        op.f("ix_event_counts_starts_on"),
        "event_counts",
        ["starts_on"],
        postgresql_include=["kind", "review", "events"],
    )
    op.execute(KEEP)
    for event, transition in TRANSITIONS.items():
        op.execute(
            f"CREATE TRIGGER event_counts_{event} AFTER {event.upper()} ON events {transition} "
            "FOR EACH STATEMENT EXECUTE FUNCTION event_counts_keep()"
        )
    op.execute(
        "INSERT INTO event_counts (starts_on, kind, review, events) "
        "SELECT starts_on, kind, review, count(*) FROM events WHERE starts_on IS NOT NULL GROUP BY 1, 2, 3"
    )


def downgrade() -> None:
    for event in TRANSITIONS:
        op.execute(f"DROP TRIGGER event_counts_{event} ON events")
    op.execute("DROP FUNCTION event_counts_keep()")
    op.drop_table("event_counts")
