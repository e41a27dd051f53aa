"""event places in start order: each place's events read from an index in a page's order

A page of the events of a place (and of the places inside it) looked up every event of the
subtree by id and sorted them: at size L, 1,139 events for one province, to show 50; the cost
grows with every event loaded there. event_places now holds each event's start (kept equal to
events.starts_on by triggers in the writer's transaction: a row written takes its event's, an
event's new start is copied to its rows), and two indexes give a place's events in the order of
a page (undated last, then by id, as ix_events_starts_asc_key and _desc_key), so the page
merges the first rows of each place (app.queries.events.event_page).

Revision ID: d9f3b5a7c2e4
Revises: c8e2a4f6b1d7
Create Date: 2026-12-04 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d9f3b5a7c2e4"
down_revision: str | None = "c8e2a4f6b1d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAKE = """
CREATE FUNCTION event_places_take_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.starts_on := (SELECT starts_on FROM events WHERE id = NEW.event_id);
    RETURN NEW;
END
$$;
"""

# only the events whose start changed: the rows' own trigger then reads the new start
COPY = """
CREATE FUNCTION event_places_copy_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE event_places ep SET starts_on = n.starts_on
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE ep.event_id = n.id AND n.starts_on IS DISTINCT FROM o.starts_on;
    RETURN NULL;
END
$$;
"""


def upgrade() -> None:
    op.add_column("event_places", sa.Column("starts_on", sa.Date(), nullable=True))
    op.execute("UPDATE event_places ep SET starts_on = e.starts_on FROM events e WHERE e.id = ep.event_id")
    op.execute(TAKE)
    op.execute(
        "CREATE TRIGGER event_places_take_start BEFORE INSERT OR UPDATE ON event_places "
        "FOR EACH ROW EXECUTE FUNCTION event_places_take_start()"
    )
    op.execute(COPY)
    op.execute(
        "CREATE TRIGGER event_places_copy_start AFTER UPDATE ON events "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION event_places_copy_start()"
    )
    for name, bound in (("asc", "9999-12-31"), ("desc", "0001-01-01")):
        op.create_index(
            f"ix_event_places_place_id_starts_{name}_key",
            "event_places",
            ["place_id", sa.text(f"COALESCE(starts_on, '{bound}'::date)"), "event_id"],
        )


def downgrade() -> None:
    op.drop_index("ix_event_places_place_id_starts_desc_key", table_name="event_places")
    op.drop_index("ix_event_places_place_id_starts_asc_key", table_name="event_places")
    op.execute("DROP TRIGGER event_places_copy_start ON events")
    op.execute("DROP FUNCTION event_places_copy_start()")
    op.execute("DROP TRIGGER event_places_take_start ON event_places")
    op.execute("DROP FUNCTION event_places_take_start()")
    op.drop_column("event_places", "starts_on")
