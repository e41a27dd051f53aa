"""trade series kept and covers: a point's figures read a page at a time, not recomputed per request

A chart's point lists the figures it sums and those it leaves out (with the figure that covers
each), a page at a time. They were computed from every figure of the point on each request, by
the rules the totals' refresh already applies: at size L a yearly China–Russia series did not
answer within the statement timeout. The refresh (migration 6868a1144b8f's, otherwise unchanged)
now also writes, for the periods it recomputes:
  * trade_series_kept: per filter and point, the figures summed (the kept ones), in id order;
  * trade_series_covers: per figure, the figures that cover it whenever a filter matches both,
    marked when it is part of that figure (which then covers it first);
  * trade_series_totals.kept: how many figures each row sums (`figures` counts all it matches).
A point's left-out figures are the others it matches, each covered by the first of its covers
the filter matches; the figures' period index gains their id, so a page of them is read in
order from the index and stops at the page's end (it read and sorted every figure of the period).

Revision ID: 9c4e2a7d5b13
Revises: 7e3b5d9a2c60
Create Date: 2026-12-03 15:00:00.000000
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "9c4e2a7d5b13"
down_revision: str | None = "7e3b5d9a2c60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _previous() -> Any:
    """Return migration 6868a1144b8f, whose refresh function this one extends (and a downgrade restores)."""
    path = Path(__file__).with_name("2026_12_02_1500-6868a1144b8f_trade_series_values_first.py")
    spec = importlib.util.spec_from_file_location("trade_series_values_first", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# (old, new) passages of the previous function; each occurs exactly once
_CHANGES = [
    # every period: the figures' rows go with the totals
    (
        "        DELETE FROM trade_series_totals;\n",
        "        DELETE FROM trade_series_totals;\n"
        "        DELETE FROM trade_series_kept;\n"
        "        DELETE FROM trade_series_covers;\n",
    ),
    # the changed periods
    (
        "        WHERE t.period_start = d.period_start AND t.period_end = d.period_end;\n",
        "        WHERE t.period_start = d.period_start AND t.period_end = d.period_end;\n"
        "        DELETE FROM trade_series_kept t USING trade_series_dirty d\n"
        "        WHERE t.period_start = d.period_start AND t.period_end = d.period_end;\n"
        "        DELETE FROM trade_series_covers t USING trade_series_dirty d\n"
        "        WHERE t.period_start = d.period_start AND t.period_end = d.period_end;\n",
    ),
    # the totals' INSERT moves below its WITH, which now writes too (only a top-level WITH may)
    (
        "    INSERT INTO trade_series_totals (reporter_key, partner_key, subregions, currency, granularity, %1$s, "
        "period_start,\n                                     flow, period_end, figures, unconverted, value)\n"
        "    WITH anc AS",
        "    WITH anc AS",
    ),
    (
        "    sums AS (\n",
        "    -- per filter and point, the figures summed; per figure, what covers it\n"
        "    kept_rows AS (\n"
        "        INSERT INTO trade_series_kept (reporter_key, partner_key, subregions, granularity, %1$s,\n"
        "                                       period_start, figure_id, period_end)\n"
        "        SELECT reporter_key, partner_key, subregions, granularity, %1$s, period_start, id, period_end\n"
        "        FROM kept WHERE kept\n"
        "    ),\n"
        "    cover_rows AS (\n"
        "        INSERT INTO trade_series_covers (x_id, y_id, part_of, period_start, period_end)\n"
        "        SELECT p.x_id, p.y_id, p.y_id IS NOT DISTINCT FROM x.part_of_id, x.period_start, x.period_end\n"
        "        FROM pairs p JOIN v x ON x.id = p.x_id\n"
        "    ),\n"
        "    sums AS (\n",
    ),
    (
        "               k.period_end, count(*) AS figures,\n",
        "               k.period_end, count(*) AS figures, count(*) FILTER (WHERE k.kept) AS kept,\n",
    ),
    (
        "    SELECT s.reporter_key, s.partner_key, s.subregions, t.code, s.granularity, %1$s, s.period_start, s.flow,\n"
        "           s.period_end, s.figures, t.missing, t.value\n",
        "    INSERT INTO trade_series_totals (reporter_key, partner_key, subregions, currency, granularity, %1$s, "
        "period_start,\n                                     flow, period_end, figures, kept, unconverted, value)\n"
        "    SELECT s.reporter_key, s.partner_key, s.subregions, t.code, s.granularity, %1$s, s.period_start, s.flow,\n"
        "           s.period_end, s.figures, s.kept, t.missing, t.value\n",
    ),
]


def refresh(previous: str) -> str:
    """Return the previous refresh function's text with this migration's changes."""
    for old, new in _CHANGES:
        assert previous.count(old) == 1, old
        previous = previous.replace(old, new)
    return previous


def _period_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_period_start_period_end"), table, ["period_start", "period_end"])


def upgrade() -> None:
    op.add_column("trade_series_totals", sa.Column("kept", sa.Integer(), nullable=False, server_default="0"))
    op.alter_column("trade_series_totals", "kept", server_default=None)
    op.create_table(
        "trade_series_kept",
        sa.Column("reporter_key", sa.BigInteger(), nullable=False),
        sa.Column("partner_key", sa.BigInteger(), nullable=False),
        sa.Column("subregions", sa.Boolean(), nullable=False),
        sa.Column("granularity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("review", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("figure_id", sa.BigInteger(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint(
            "reporter_key",
            "partner_key",
            "subregions",
            "granularity",
            "status",
            "review",
            "period_start",
            "figure_id",
            name=op.f("pk_trade_series_kept"),
        ),
    )
    _period_index("trade_series_kept")
    op.create_table(
        "trade_series_covers",
        sa.Column("x_id", sa.BigInteger(), nullable=False),
        sa.Column("y_id", sa.BigInteger(), nullable=False),
        sa.Column("part_of", sa.Boolean(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("x_id", "y_id", name=op.f("pk_trade_series_covers")),
    )
    _period_index("trade_series_covers")
    op.create_index("ix_trade_figures_period_id", "trade_figures", ["period_start", "period_end", "id"])
    op.drop_index("ix_trade_figures_period", table_name="trade_figures")
    previous = _previous()
    op.execute(refresh(previous.REFRESH).replace("{DIMENSIONS}", previous.DIMENSIONS))
    # every period again: the new tables are filled, the counts written
    op.execute("INSERT INTO trade_series_dirty VALUES ('-infinity', '-infinity') ON CONFLICT DO NOTHING")
    op.execute("SELECT trade_series_refresh()")


def downgrade() -> None:
    previous = _previous()
    op.execute(previous.REFRESH.replace("{DIMENSIONS}", previous.DIMENSIONS))
    op.drop_table("trade_series_covers")
    op.drop_table("trade_series_kept")
    op.drop_column("trade_series_totals", "kept")
    op.create_index("ix_trade_figures_period", "trade_figures", ["period_start", "period_end"])
    op.drop_index("ix_trade_figures_period_id", table_name="trade_figures")
