"""trade figure area counts: the figure counts by the areas that hold the reporter and the partner

A filter of a reporter and a partner with the places inside them summed a row of
trade_figure_counts per pair of places of the two subtrees: at size L, China -> Russia exports
from 2020 read 41,537 rows (15 ms, most of the benchmark's FigureFilterPage statement), and the
count grows with every place and period loaded. This table holds the same counts by area: a
figure counts under each place that holds its reporter (the place itself and every place above
it) paired with each place that holds its partner, and under -1 ("any place", a figure without a
partner included) on either side, so such a count sums the rows of one pair of areas (2,468 for
that filter).

Statement triggers on trade_figures keep it in the writer's own transaction (COPY included);
a statement that moves a place to another parent rebuilds it (a registry correction: rare, and
every figure inside the place changes areas). Places inserted or deleted change nothing: a place
is inserted before any figure names it, and one that a figure names cannot be deleted.

Revision ID: c8e2a4f6b1d7
Revises: b7d3f9a1c5e8
Create Date: 2026-12-04 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8e2a4f6b1d7"
down_revision: str | None = "b7d3f9a1c5e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REST = ["flow", "period_end", "period_start", "status", "review", "currency", "measure"]
KEY = ["reporter_area_id", "partner_area_id", *REST]

# Each of `ids` (distinct) with every area that holds it: itself, each place above it, and -1.
# No partner (0) is held by -1 alone. The depth bound stops a cycle of parents (the seed refuses
# one) from looping.
AREAS = """
CREATE FUNCTION place_areas(ids bigint[]) RETURNS TABLE (place_id bigint, area_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH RECURSIVE given AS (
        SELECT DISTINCT id FROM unnest(ids) AS id
    ), up (place_id, area_id, next_id, depth) AS (
        SELECT p.id, p.id, p.parent_id, 1 FROM places p JOIN given g ON g.id = p.id
        UNION ALL
        SELECT up.place_id, p.id, p.parent_id, up.depth + 1
          FROM up JOIN places p ON p.id = up.next_id
         WHERE up.depth < 64
    )
    SELECT place_id, area_id FROM up
    UNION ALL
    SELECT id, -1 FROM given
$$;
"""

# A figure's value of each column but the places (as trade_figure_counts holds them).
VALUES = (
    "flow, period_end, period_start, status, review, coalesce(currency, ''), "
    "CASE WHEN amount IS NOT NULL THEN 'money' WHEN quantity IS NOT NULL THEN 'quantity' ELSE 'change' END"
)

# `{ROWS}`: (reporter_id, partner_id, columns..., +1 or -1) per figure written or removed; each is
# counted under every pair of their areas. Keys whose count drops to zero are deleted; each key
# is in one branch, so the three writes never meet; inserts go in key order.
APPLY = """
        WITH r (reporter_id, partner_id, {REST}, d) AS ({ROWS}),
        areas AS (
            SELECT * FROM place_areas(ARRAY(SELECT reporter_id FROM r UNION SELECT partner_id FROM r))
        ), delta AS (
            SELECT ar.area_id AS reporter_area_id, ap.area_id AS partner_area_id, {RREST}, sum(r.d) AS n
              FROM r JOIN areas ar ON ar.place_id = r.reporter_id JOIN areas ap ON ap.place_id = r.partner_id
             GROUP BY 1, 2, {RREST} HAVING sum(r.d) <> 0
        ), dropped AS (
            DELETE FROM trade_figure_area_counts c USING delta d WHERE {MATCH} AND c.figures + d.n = 0 RETURNING 1
        ), lowered AS (
            UPDATE trade_figure_area_counts c SET figures = c.figures + d.n FROM delta d
             WHERE {MATCH} AND d.n < 0 AND c.figures + d.n > 0 RETURNING 1
        )
        INSERT INTO trade_figure_area_counts AS c ({COLUMNS}, figures)
        SELECT {COLUMNS}, n FROM delta WHERE n > 0 ORDER BY {COLUMNS}
        ON CONFLICT ({COLUMNS}) DO UPDATE SET figures = c.figures + excluded.figures;"""

ADDED = "SELECT reporter_id, coalesce(partner_id, 0), {VALUES}, 1 FROM new_rows"
REMOVED = "SELECT reporter_id, coalesce(partner_id, 0), {VALUES}, -1 FROM old_rows"

KEEP = """
CREATE FUNCTION trade_figure_area_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE trade_figure_area_counts;
    ELSIF TG_OP = 'INSERT' THEN{ADDED}
    ELSIF TG_OP = 'DELETE' THEN{REMOVED}
    ELSE{CHANGED}
    END IF;
    RETURN NULL;
END
$$;
"""

FILL = """
        INSERT INTO trade_figure_area_counts ({COLUMNS}, figures)
        SELECT ar.area_id, ap.area_id, {CREST}, sum(c.figures)
          FROM trade_figure_counts c
          JOIN place_areas(ARRAY(SELECT id FROM places UNION ALL SELECT 0)) ar ON ar.place_id = c.reporter_id
          JOIN place_areas(ARRAY(SELECT id FROM places UNION ALL SELECT 0)) ap ON ap.place_id = c.partner_id
         GROUP BY 1, 2, {CREST};"""

# DELETE, not TRUNCATE: readers keep the counts of before until the writer commits.
MOVED = """
CREATE FUNCTION trade_figure_area_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE n.parent_id IS DISTINCT FROM o.parent_id) THEN
        DELETE FROM trade_figure_area_counts;{FILL}
    END IF;
    RETURN NULL;
END
$$;
"""


def _sql(template: str) -> str:
    # the templates' text is constants of this file only
    return (
        template.replace("{ADDED}", APPLY.replace("{ROWS}", ADDED))
        .replace("{REMOVED}", APPLY.replace("{ROWS}", REMOVED))
        .replace("{CHANGED}", APPLY.replace("{ROWS}", f"{ADDED} UNION ALL {REMOVED}"))
        .replace("{FILL}", FILL)
        .replace("{VALUES}", VALUES)
        .replace("{COLUMNS}", ", ".join(KEY))
        .replace("{REST}", ", ".join(REST))
        .replace("{RREST}", ", ".join(f"r.{k}" for k in REST))
        .replace("{CREST}", ", ".join(f"c.{k}" for k in REST))
        .replace("{MATCH}", " AND ".join(f"c.{k} = d.{k}" for k in KEY))
    )


EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "trade_figure_area_counts",
        sa.Column("reporter_area_id", sa.BigInteger(), nullable=False),
        sa.Column("partner_area_id", sa.BigInteger(), nullable=False),
        sa.Column("flow", sa.String(length=10), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("review", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("figures", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_trade_figure_area_counts"), postgresql_include=["figures"]),
    )
    op.execute(AREAS)
    op.execute(_sql(KEEP))
    for event in EVENTS:
        transition = {
            "INSERT": "NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        op.execute(
            f"CREATE TRIGGER trade_figure_area_counts_{event.lower()} AFTER {event} ON trade_figures "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION trade_figure_area_counts_keep()"
        )
    op.execute(
        "CREATE TRIGGER trade_figure_area_counts_truncate AFTER TRUNCATE ON trade_figures "
        "FOR EACH STATEMENT EXECUTE FUNCTION trade_figure_area_counts_keep()"
    )
    op.execute(_sql(MOVED))
    op.execute(
        "CREATE TRIGGER trade_figure_area_counts_moved AFTER UPDATE ON places "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION trade_figure_area_counts_moved()"
    )
    op.execute(_sql(FILL))


def downgrade() -> None:
    op.execute("DROP TRIGGER trade_figure_area_counts_moved ON places")
    op.execute("DROP FUNCTION trade_figure_area_counts_moved()")
    for event in (*EVENTS, "TRUNCATE"):
        op.execute(f"DROP TRIGGER trade_figure_area_counts_{event.lower()} ON trade_figures")
    op.execute("DROP FUNCTION trade_figure_area_counts_keep()")
    op.execute("DROP FUNCTION place_areas(bigint[])")
    op.drop_table("trade_figure_area_counts")
