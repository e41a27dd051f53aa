"""trade series totals: a rollup of the series' points, kept by the writers' own transactions

Revision ID: 3e7a9c51d2b8
Revises: 3e7a9c5b2d18
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e7a9c51d2b8"
down_revision: str | None = "3e7a9c5b2d18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The grouping dimensions that split the figures into separate series (a series counts one value
# of each): the status and the review state. Another is a column of trade_series_totals and one
# more name here (in a migration that re-creates the function).
DIMENSIONS = "status, review"

# Every period whose figures changed since the last refresh; '-infinity' stands for all of them.
# Filled by statement triggers (so COPY and every other writer are seen), emptied by the refresh.
DIRTY_TRIGGERS = """
CREATE FUNCTION trade_series_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' OR TG_TABLE_NAME = 'places' THEN
        -- the place hierarchy decides which figures cover which: everything is recomputed
        IF TG_OP = 'UPDATE' THEN
            -- (nested: the transition tables exist for UPDATE only, and AND does not short-circuit)
            IF NOT EXISTS (
                SELECT 1 FROM old_rows o JOIN new_rows n USING (id) WHERE o.parent_id IS DISTINCT FROM n.parent_id
            ) THEN
                RETURN NULL;
            END IF;
        END IF;
        INSERT INTO trade_series_dirty VALUES ('-infinity', '-infinity') ON CONFLICT DO NOTHING;
    ELSIF TG_TABLE_NAME = 'currency_conversions' THEN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO trade_series_dirty
            SELECT DISTINCT f.period_start, f.period_end FROM new_rows c JOIN trade_figures f ON f.id = c.trade_figure_id
            ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            INSERT INTO trade_series_dirty
            SELECT DISTINCT f.period_start, f.period_end FROM old_rows c JOIN trade_figures f ON f.id = c.trade_figure_id
            ON CONFLICT DO NOTHING;
        END IF;
    ELSE
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO trade_series_dirty SELECT DISTINCT period_start, period_end FROM new_rows ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            INSERT INTO trade_series_dirty SELECT DISTINCT period_start, period_end FROM old_rows ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
"""

# Recomputes the totals of the changed periods (all of them after a '-infinity' mark) and empties
# the marks. The seed calls it before its commit; a deferred trigger calls it at the commit of any
# other transaction that changed a figure, so committed totals always match the figures.
#
# For each period (a month, quarter or year a figure covers exactly), each dimension value, and
# each pair of places a filter may name — a reporter key and a partner key, each a place id or 0
# for "any" — with `subregions` (the place or anything inside it) or without (the place itself):
# which money figures a tradeSeries filter with these places matches (for TOTAL flows either side
# may match either place), and of those which are left out because another matched figure covers
# them, by the rules of app/queries/series.py; then per flow and currency the sum of the others.
REFRESH = """
CREATE FUNCTION trade_series_refresh() RETURNS bigint LANGUAGE plpgsql SET work_mem = '256MB' SET jit = off AS $fn$
DECLARE
    everything boolean;
    written bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM trade_series_dirty) THEN
        RETURN 0;
    END IF;
    everything := EXISTS (SELECT 1 FROM trade_series_dirty WHERE period_start = '-infinity');
    IF everything THEN
        DELETE FROM trade_series_totals;
    ELSE
        DELETE FROM trade_series_totals t USING trade_series_dirty d
        WHERE t.period_start = d.period_start AND t.period_end = d.period_end;
    END IF;
    -- Temporary tables, analysed: Postgres estimates a recursive CTE at a hundred times its rows,
    -- and the derived relations as badly, then sorts and merges hundreds of millions of rows.
    DROP TABLE IF EXISTS pg_temp.trade_series_keys, pg_temp.trade_series_figures;
    -- the places a filter may name to match a figure's place (0: no place named, or no partner):
    -- with subregions the place and those around it, without it the place itself
    CREATE TEMP TABLE trade_series_keys AS
    WITH RECURSIVE anc (place_id, ancestor_id, next_id) AS (
        SELECT id, id, parent_id FROM places
        UNION ALL
        SELECT a.place_id, p.id, p.parent_id FROM anc a JOIN places p ON p.id = a.next_id
    )
    SELECT true AS subregions, place_id, ancestor_id AS key FROM anc
    UNION ALL SELECT false, id, id FROM places
    UNION ALL SELECT m, id, 0 FROM places, (VALUES (true), (false)) AS s (m)
    UNION ALL SELECT m, 0, 0 FROM (VALUES (true), (false)) AS s (m);
    -- the money figures of the periods to compute, each with the granularity its period is one of
    EXECUTE format($q$
    CREATE TEMP TABLE trade_series_figures AS
    SELECT f.id, f.reporter_id, f.partner_id, coalesce(f.partner_id, 0) AS partner, f.flow, f.commodity,
           f.part_of_id, f.amount, f.currency, f.period_start, f.period_end, g.unit AS granularity, %1$s
    FROM trade_figures f
    CROSS JOIN LATERAL (SELECT CASE
        WHEN f.period_start <> date_trunc('month', f.period_start::timestamp)::date THEN NULL
        WHEN f.period_end = (f.period_start + interval '1 month' - interval '1 day')::date THEN 'month'
        WHEN f.period_end = (f.period_start + interval '3 months' - interval '1 day')::date
             AND f.period_start = date_trunc('quarter', f.period_start::timestamp)::date THEN 'quarter'
        WHEN f.period_end = (f.period_start + interval '1 year' - interval '1 day')::date
             AND f.period_start = date_trunc('year', f.period_start::timestamp)::date THEN 'year'
        END) AS g (unit)
    WHERE f.amount IS NOT NULL AND g.unit IS NOT NULL
      AND ($1 OR (f.period_start, f.period_end) IN (SELECT d.period_start, d.period_end FROM trade_series_dirty d))
    $q$, '{DIMENSIONS}') USING everything;
    ANALYZE trade_series_keys;
    ANALYZE trade_series_figures;
    EXECUTE format($q$
    INSERT INTO trade_series_totals (reporter_key, partner_key, subregions, currency, granularity, %1$s, period_start,
                                     flow, period_end, figures, unconverted, value)
    WITH anc AS (SELECT place_id, key AS ancestor_id FROM trade_series_keys WHERE subregions AND key <> 0),
    keys AS (SELECT * FROM trade_series_keys),
    v AS (SELECT * FROM trade_series_figures),
    scopes AS (
        SELECT period_start, period_end, %1$s, reporter_id, partner_id, partner, flow, commodity, min(id) AS id
        FROM v GROUP BY period_start, period_end, %1$s, reporter_id, partner_id, partner, flow, commodity
    ),
    probes AS (
        SELECT v.*, ra.ancestor_id AS reporter_key, 0::bigint AS partner_key, false AS crossed
        FROM v JOIN anc ra ON ra.place_id = v.reporter_id
        UNION ALL
        SELECT v.*, ra.ancestor_id, pa.ancestor_id, false
        FROM v JOIN anc ra ON ra.place_id = v.reporter_id JOIN anc pa ON pa.place_id = v.partner_id
        UNION ALL
        SELECT v.*, ra.ancestor_id, pa.ancestor_id, true
        FROM v JOIN anc ra ON ra.place_id = v.partner_id JOIN anc pa ON pa.place_id = v.reporter_id
    ),
    -- (x, y): y covers x whenever both are matched
    pairs AS MATERIALIZED (
        SELECT x.id AS x_id, y.id AS y_id
        FROM probes x JOIN scopes y USING (period_start, period_end, %1$s)
        WHERE y.reporter_id = x.reporter_key AND y.partner = x.partner_key
          AND (NOT x.crossed OR y.flow = 'total') AND y.id <> x.id
          AND (y.flow = x.flow OR y.flow = 'total')
          AND (y.commodity IS NULL OR y.commodity = x.commodity)
          AND (y.id < x.id OR NOT (
                y.flow = x.flow AND y.commodity IS NOT DISTINCT FROM x.commodity
                AND ((y.reporter_id = x.reporter_id AND y.partner = x.partner)
                     OR (y.flow = 'total' AND y.reporter_id = x.partner_id AND y.partner = x.reporter_id))))
        UNION
        SELECT x.id, w.id FROM v x JOIN v w USING (period_start, period_end, %1$s)
        WHERE w.id = x.part_of_id AND w.id <> x.id
    ),
    -- which filters match a figure depends on its places and on whether it is a TOTAL only
    combos AS MATERIALIZED (
        SELECT DISTINCT reporter_id, partner, flow = 'total' AS total FROM v
    ),
    -- (places, subregions, reporter key, partner key): the filters that match figures of these places
    combo_keys AS MATERIALIZED (
        SELECT o.reporter_id, o.partner, o.total, rk.subregions, rk.key AS reporter_key, pk.key AS partner_key
        FROM combos o JOIN keys rk ON rk.place_id = o.reporter_id
        JOIN keys pk ON pk.place_id = o.partner AND pk.subregions = rk.subregions
        UNION
        SELECT o.reporter_id, o.partner, o.total, rk.subregions, rk.key, pk.key
        FROM combos o JOIN keys rk ON rk.place_id = o.partner
        JOIN keys pk ON pk.place_id = o.reporter_id AND pk.subregions = rk.subregions
        WHERE o.total
    ),
    -- the places of the figures covering each figure
    covering AS MATERIALIZED (
        SELECT DISTINCT p.x_id, y.reporter_id, y.partner, y.flow = 'total' AS total
        FROM pairs p JOIN v y ON y.id = p.y_id
    ),
    -- covered by a figure of its own places: matched by every filter that matches it (a figure of
    -- the same places is matched by the same filters, a TOTAL by these and more), so left out of all
    everywhere AS MATERIALIZED (
        SELECT DISTINCT c.x_id AS id FROM covering c JOIN v x ON x.id = c.x_id
        WHERE c.reporter_id = x.reporter_id AND c.partner = x.partner
    ),
    covered AS (
        SELECT DISTINCT c.x_id AS id, k.subregions, k.reporter_key, k.partner_key
        FROM covering c JOIN combo_keys k USING (reporter_id, partner, total)
        WHERE c.x_id NOT IN (SELECT id FROM everywhere)
    ),
    -- per filter, each figure it matches and whether it counts; its value in each currency
    kept AS (
        SELECT v.*, k.subregions, k.reporter_key, k.partner_key,
               c.id IS NULL AND v.id NOT IN (SELECT id FROM everywhere) AS kept
        FROM v JOIN combo_keys k ON k.reporter_id = v.reporter_id AND k.partner = v.partner
                                AND k.total = (v.flow = 'total')
        LEFT JOIN covered c ON c.id = v.id AND c.subregions = k.subregions AND c.reporter_key = k.reporter_key
                           AND c.partner_key = k.partner_key
    ),
    valued AS (
        SELECT v.id,
               CASE WHEN v.currency = 'USD' THEN v.amount ELSE usd.amount END AS usd,
               CASE WHEN v.currency = 'EUR' THEN v.amount ELSE eur.amount END AS eur,
               CASE WHEN v.currency = 'CNY' THEN v.amount ELSE cny.amount END AS cny
        FROM v
        LEFT JOIN currency_conversions usd
               ON usd.trade_figure_id = v.id AND usd.kind = 'computed' AND usd.to_currency = 'USD'
        LEFT JOIN currency_conversions eur
               ON eur.trade_figure_id = v.id AND eur.kind = 'computed' AND eur.to_currency = 'EUR'
        LEFT JOIN currency_conversions cny
               ON cny.trade_figure_id = v.id AND cny.kind = 'computed' AND cny.to_currency = 'CNY'
    ),
    sums AS (
        SELECT k.reporter_key, k.partner_key, k.subregions, k.granularity, %1$s, k.period_start, k.flow,
               k.period_end, count(*) AS figures,
               count(*) FILTER (WHERE k.kept AND x.usd IS NULL) AS usd_missing,
               count(*) FILTER (WHERE k.kept AND x.eur IS NULL) AS eur_missing,
               count(*) FILTER (WHERE k.kept AND x.cny IS NULL) AS cny_missing,
               sum(x.usd) FILTER (WHERE k.kept) AS usd, sum(x.eur) FILTER (WHERE k.kept) AS eur,
               sum(x.cny) FILTER (WHERE k.kept) AS cny
        FROM kept k JOIN valued x USING (id)
        GROUP BY k.reporter_key, k.partner_key, k.subregions, k.granularity, %1$s, k.period_start, k.flow,
                 k.period_end
    )
    SELECT s.reporter_key, s.partner_key, s.subregions, t.code, s.granularity, %1$s, s.period_start, s.flow,
           s.period_end, s.figures, t.missing, t.value
    FROM sums s CROSS JOIN LATERAL (VALUES ('USD', s.usd_missing, s.usd), ('EUR', s.eur_missing, s.eur),
                                          ('CNY', s.cny_missing, s.cny)) AS t (code, missing, value)
    $q$, '{DIMENSIONS}') USING everything;
    GET DIAGNOSTICS written = ROW_COUNT;
    DROP TABLE pg_temp.trade_series_keys, pg_temp.trade_series_figures;
    DELETE FROM trade_series_dirty;
    RETURN written;
END
$fn$;

CREATE FUNCTION trade_series_refresh_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM trade_series_refresh();
    RETURN NULL;
END
$$;
"""

TRIGGERS = [
    (table, event)
    for table in ("trade_figures", "currency_conversions", "places")
    for event in ("INSERT", "UPDATE", "DELETE")
    if not (table == "places" and event == "INSERT")  # a new place holds no figures yet
]


def upgrade() -> None:
    op.create_table(
        "trade_series_totals",
        sa.Column("reporter_key", sa.BigInteger(), nullable=False),
        sa.Column("partner_key", sa.BigInteger(), nullable=False),
        sa.Column("subregions", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("granularity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("review", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("flow", sa.String(length=10), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("figures", sa.Integer(), nullable=False),
        sa.Column("unconverted", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=True),
        sa.PrimaryKeyConstraint(
            "reporter_key",
            "partner_key",
            "subregions",
            "currency",
            "granularity",
            "status",
            "review",
            "period_start",
            "flow",
            "period_end",
            name=op.f("pk_trade_series_totals"),
        ),
    )
    op.create_index(
        op.f("ix_trade_series_totals_period_start_period_end"),
        "trade_series_totals",
        ["period_start", "period_end"],
    )
    op.create_table(
        "trade_series_dirty",
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("period_start", "period_end", name=op.f("pk_trade_series_dirty")),
    )
    op.execute(DIRTY_TRIGGERS)
    op.execute(REFRESH.replace("{DIMENSIONS}", DIMENSIONS))
    for table, event in TRIGGERS:
        transition = "NEW TABLE AS new_rows" if event == "INSERT" else "OLD TABLE AS old_rows"
        if event == "UPDATE":
            transition = "OLD TABLE AS old_rows NEW TABLE AS new_rows"
        op.execute(
            f"CREATE TRIGGER trade_series_mark_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION trade_series_mark()"
        )
    for table in ("trade_figures", "currency_conversions", "places"):
        op.execute(
            f"CREATE TRIGGER trade_series_mark_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION trade_series_mark()"
        )
    # one call per period marked (the marks are unique), the first of which does the work
    op.execute(
        "CREATE CONSTRAINT TRIGGER trade_series_refresh AFTER INSERT ON trade_series_dirty "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION trade_series_refresh_at_commit()"
    )
    op.execute("INSERT INTO trade_series_dirty VALUES ('-infinity', '-infinity')")
    op.execute("SELECT trade_series_refresh()")


def downgrade() -> None:
    op.drop_table("trade_series_dirty")
    for table, event in TRIGGERS:
        op.execute(f"DROP TRIGGER trade_series_mark_{event.lower()} ON {table}")
    for table in ("trade_figures", "currency_conversions", "places"):
        op.execute(f"DROP TRIGGER trade_series_mark_truncate ON {table}")
    op.execute("DROP FUNCTION trade_series_refresh_at_commit()")
    op.execute("DROP FUNCTION trade_series_refresh()")
    op.execute("DROP FUNCTION trade_series_mark()")
    op.drop_table("trade_series_totals")
