"""trade figure counts: how many figures share each value of the columns a filter tests

A filtered page's totalCount visited every figure the filter matches: at size L, the 109,057
China -> Russia exports of the benchmark's filter took 52 ms to count from the index alone. The
figures share far fewer values of the columns a filter tests (the places, flow, period, status,
review state, stated currency and measure): this table holds one row per value with how many
figures have it, so such a count sums a few rows. Statement triggers on trade_figures keep it in
the writer's own transaction (COPY included): never stale, no refresh.

Revision ID: d4a8c2e6f1b3
Revises: b5d1f3a8e6c2
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4a8c2e6f1b3"
down_revision: str | None = "b5d1f3a8e6c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ["reporter_id", "partner_id", "flow", "period_end", "period_start", "status", "review", "currency", "measure"]

# A figure's value of each key column (as app.queries.figures tests them: the measure from which of
# amount and quantity it states; no partner is 0, no currency '').
VALUES = (
    "reporter_id, coalesce(partner_id, 0), flow, period_end, period_start, status, review, coalesce(currency, ''), "
    "CASE WHEN amount IS NOT NULL THEN 'money' WHEN quantity IS NOT NULL THEN 'quantity' ELSE 'change' END"
)

# `{ROWS}`: a SELECT of (key..., +1 or -1) per figure written or removed. Keys whose count drops to
# zero are deleted, so the table holds only values some figure has. Each key is in one branch (its
# net change is positive or negative), so the three writes of the one statement never meet; the
# inserts go in key order, as concurrent writers' do.
APPLY = """
        WITH delta AS (
            SELECT {COLUMNS}, sum(d) AS n FROM ({ROWS}) AS r ({COLUMNS}, d)
             GROUP BY {COLUMNS} HAVING sum(d) <> 0
        ), dropped AS (
            DELETE FROM trade_figure_counts c USING delta d WHERE {MATCH} AND c.figures + d.n = 0 RETURNING 1
        ), lowered AS (
            UPDATE trade_figure_counts c SET figures = c.figures + d.n FROM delta d
             WHERE {MATCH} AND d.n < 0 AND c.figures + d.n > 0 RETURNING 1
        )
        INSERT INTO trade_figure_counts AS c ({COLUMNS}, figures)
        SELECT {COLUMNS}, n FROM delta WHERE n > 0 ORDER BY {COLUMNS}
        ON CONFLICT ({COLUMNS}) DO UPDATE SET figures = c.figures + excluded.figures;"""

ADDED = "SELECT {VALUES}, 1 FROM new_rows"
REMOVED = "SELECT {VALUES}, -1 FROM old_rows"

KEEP = """
CREATE FUNCTION trade_figure_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE trade_figure_counts;
    ELSIF TG_OP = 'INSERT' THEN{ADDED}
    ELSIF TG_OP = 'DELETE' THEN{REMOVED}
    ELSE{CHANGED}
    END IF;
    RETURN NULL;
END
$$;
"""

FILL = (
    "INSERT INTO trade_figure_counts ({COLUMNS}, figures) SELECT {VALUES}, count(*) FROM trade_figures GROUP BY {KEYS}"
)


def _sql(template: str) -> str:
    # the templates' text is constants of this file only
    return (
        template.replace("{ADDED}", APPLY.replace("{ROWS}", ADDED))
        .replace("{REMOVED}", APPLY.replace("{ROWS}", REMOVED))
        .replace("{CHANGED}", APPLY.replace("{ROWS}", f"{ADDED} UNION ALL {REMOVED}"))
        .replace("{VALUES}", VALUES)
        .replace("{COLUMNS}", ", ".join(KEY))
        .replace("{MATCH}", " AND ".join(f"c.{k} = d.{k}" for k in KEY))
        .replace("{KEYS}", ", ".join(str(i) for i in range(1, len(KEY) + 1)))
    )


EVENTS = ("INSERT", "UPDATE", "DELETE")
COVERED = ["period_start", "status", "review", "currency", "measure", "figures"]


def upgrade() -> None:
    op.create_table(
        "trade_figure_counts",
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("flow", sa.String(length=10), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("review", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("figures", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_trade_figure_counts")),
    )
    # a filter's count reads one of these alone (an index-only scan), by the side it names first
    for first, other in (("reporter_id", "partner_id"), ("partner_id", "reporter_id")):
        op.create_index(
            op.f(f"ix_trade_figure_counts_{first}_flow_period_end"),
            "trade_figure_counts",
            [first, "flow", "period_end"],
            postgresql_include=[other, *COVERED],
        )
    op.execute(_sql(KEEP))
    for event in EVENTS:
        transition = {
            "INSERT": "NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        op.execute(
            f"CREATE TRIGGER trade_figure_counts_{event.lower()} AFTER {event} ON trade_figures "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION trade_figure_counts_keep()"
        )
    op.execute(
        "CREATE TRIGGER trade_figure_counts_truncate AFTER TRUNCATE ON trade_figures "
        "FOR EACH STATEMENT EXECUTE FUNCTION trade_figure_counts_keep()"
    )
    op.execute(_sql(FILL))


def downgrade() -> None:
    for event in (*EVENTS, "TRUNCATE"):
        op.execute(f"DROP TRIGGER trade_figure_counts_{event.lower()} ON trade_figures")
    op.execute("DROP FUNCTION trade_figure_counts_keep()")
    op.drop_table("trade_figure_counts")
