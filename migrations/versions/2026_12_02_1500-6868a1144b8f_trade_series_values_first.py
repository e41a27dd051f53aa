"""trade series totals: each figure's values read with its row, so a refresh plans well on fresh tables

The refresh used to join the figures it counts to currency_conversions three times inside its one
large statement. On tables loaded in the same transaction (a first seed, a bulk load: no
statistics yet) Postgres planned that join as a nested loop over every conversion for every
figure, and a refresh at size S took ~20 s instead of ~3 s. Now each figure's USD, EUR and CNY
values are looked up once per figure (in the conversions' unique index) when the temporary table
of figures is built and analysed; the large statement reads only the temporary tables, whose
statistics are always fresh. The totals written are the same.

Revision ID: 6868a1144b8f
Revises: 3b7e5f19c2a4
Create Date: 2026-12-02 15:00:00.000000
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "6868a1144b8f"
down_revision: str | None = "3b7e5f19c2a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# as in the migration that created the totals: the grouping dimensions that split the series
DIMENSIONS = "status, review"

# The rules are those of migration 3e7a9c51d2b8 (see there), unchanged.
REFRESH = """
CREATE OR REPLACE FUNCTION trade_series_refresh() RETURNS bigint LANGUAGE plpgsql SET work_mem = '256MB' SET jit = off AS $fn$
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
    -- and its value in each currency the totals are kept in (its own amount, or the computed
    -- conversion: one lookup in the conversions' unique index per figure)
    EXECUTE format($q$
    CREATE TEMP TABLE trade_series_figures AS
    SELECT f.id, f.reporter_id, f.partner_id, coalesce(f.partner_id, 0) AS partner, f.flow, f.commodity,
           f.part_of_id, f.amount, f.currency, f.period_start, f.period_end, g.unit AS granularity, %1$s,
           CASE WHEN f.currency = 'USD' THEN f.amount ELSE c.usd END AS usd,
           CASE WHEN f.currency = 'EUR' THEN f.amount ELSE c.eur END AS eur,
           CASE WHEN f.currency = 'CNY' THEN f.amount ELSE c.cny END AS cny
    FROM trade_figures f
    CROSS JOIN LATERAL (SELECT CASE
        WHEN f.period_start <> date_trunc('month', f.period_start::timestamp)::date THEN NULL
        WHEN f.period_end = (f.period_start + interval '1 month' - interval '1 day')::date THEN 'month'
        WHEN f.period_end = (f.period_start + interval '3 months' - interval '1 day')::date
             AND f.period_start = date_trunc('quarter', f.period_start::timestamp)::date THEN 'quarter'
        WHEN f.period_end = (f.period_start + interval '1 year' - interval '1 day')::date
             AND f.period_start = date_trunc('year', f.period_start::timestamp)::date THEN 'year'
        END) AS g (unit)
    LEFT JOIN LATERAL (
        SELECT max(x.amount) FILTER (WHERE x.to_currency = 'USD') AS usd,
               max(x.amount) FILTER (WHERE x.to_currency = 'EUR') AS eur,
               max(x.amount) FILTER (WHERE x.to_currency = 'CNY') AS cny
        FROM currency_conversions x
        WHERE x.trade_figure_id = f.id AND x.kind = 'computed' AND x.to_currency IN ('USD', 'EUR', 'CNY')
    ) AS c ON true
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
    sums AS (
        SELECT k.reporter_key, k.partner_key, k.subregions, k.granularity, %1$s, k.period_start, k.flow,
               k.period_end, count(*) AS figures,
               count(*) FILTER (WHERE k.kept AND k.usd IS NULL) AS usd_missing,
               count(*) FILTER (WHERE k.kept AND k.eur IS NULL) AS eur_missing,
               count(*) FILTER (WHERE k.kept AND k.cny IS NULL) AS cny_missing,
               sum(k.usd) FILTER (WHERE k.kept) AS usd, sum(k.eur) FILTER (WHERE k.kept) AS eur,
               sum(k.cny) FILTER (WHERE k.kept) AS cny
        FROM kept k
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
"""


def _created() -> Any:
    """Return the migration module that created the totals (its function is what a downgrade restores)."""
    path = Path(__file__).with_name("2026_12_02_1310-3e7a9c51d2b8_trade_series_totals.py")
    spec = importlib.util.spec_from_file_location("trade_series_totals_created", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.execute(REFRESH.replace("{DIMENSIONS}", DIMENSIONS))


def downgrade() -> None:
    created = _created()
    refresh = created.REFRESH.split("CREATE FUNCTION trade_series_refresh_at_commit")[0]
    op.execute(
        refresh.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace("{DIMENSIONS}", created.DIMENSIONS)
    )
