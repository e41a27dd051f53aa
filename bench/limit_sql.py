# ruff: noqa: S608 - statements are assembled from this module's constants; input only ever binds as %(v)s
"""Hand-written SQL for "the limit": each benchmark operation as ONE statement whose JSON Postgres builds.

Every statement takes one parameter, `%(v)s`: the operation's GraphQL variables as jsonb, and
returns one text column: the whole response body, `{"data": ...}`, shaped like tradegraph's
answer to the same operation (same field names, same order of lists, same cursors), so the
benchmark compares serving the same data. Helper functions live in the `bench` schema, which
`HELPERS` creates (the runner installs it; it never touches the tables).
"""

from __future__ import annotations

from app.queries.articles import ORDERINGS as ARTICLE_ORDERINGS
from app.queries.articles import ArticleOrder
from app.queries.events import ORDERINGS as EVENT_ORDERINGS
from app.queries.events import EventOrder
from app.queries.figures import ORDERINGS as FIGURE_ORDERINGS
from app.queries.figures import FigureOrder

# the series' totals read from the rollup, over the variables `{v}` (bench.series_totals, and inline in
# the limit's MonthlyTotals statement, where the plan of a prepared statement is kept)
_SERIES_TOTALS = """
WITH args AS NOT MATERIALIZED (  -- its values are the plan's parameters: index conditions
    SELECT coalesce({v}->>'granularity', 'YEAR') AS gran, upper(coalesce({v}->>'currency', 'USD')) AS cur,
           coalesce(({v}->'filter'->>'includeSubregions')::boolean, false) AS sub,
           coalesce(({v}->'filter'->>'periodFrom')::date, '-infinity') AS period_from,
           coalesce(({v}->'filter'->>'periodTo')::date, 'infinity') AS period_to,
           -- the places' keys (0: any place), computed once: index conditions below
           ARRAY(SELECT id FROM places
                  WHERE slug = {v}->'filter'->>'reporter' OR code = upper({v}->'filter'->>'reporter')
                 UNION ALL SELECT 0 WHERE {v}->'filter'->>'reporter' IS NULL) AS reporter_keys,
           ARRAY(SELECT id FROM places
                  WHERE slug = {v}->'filter'->>'partner' OR code = upper({v}->'filter'->>'partner')
                 UNION ALL SELECT 0 WHERE {v}->'filter'->>'partner' IS NULL) AS partner_keys),
  points AS (
    SELECT t.period_start, t.period_end, sum(t.value) AS total, sum(t.unconverted) AS unconverted
      FROM trade_series_totals t, args
     WHERE t.reporter_key = ANY(args.reporter_keys) AND t.partner_key = ANY(args.partner_keys)
       AND t.subregions = args.sub AND t.currency = args.cur AND t.granularity = lower(args.gran)
       AND t.status = 'actual' AND t.review = 'accepted'
       AND t.period_end >= args.period_from AND t.period_start <= args.period_to
     GROUP BY t.period_start, t.period_end)
SELECT coalesce(json_agg(json_build_object(
         'label', CASE args.gran WHEN 'YEAR' THEN to_char(p.period_start, 'YYYY')
                    WHEN 'QUARTER' THEN to_char(p.period_start, 'YYYY') || '-Q' || to_char(p.period_start, 'Q')
                    ELSE to_char(p.period_start, 'YYYY-MM') END,
         'periodStart', p.period_start, 'periodEnd', p.period_end,
         'value', CASE WHEN p.unconverted = 0 THEN p.total::text END, 'currency', args.cur,
         'complete', p.unconverted = 0)
       ORDER BY p.period_start), '[]')
  FROM points p CROSS JOIN args
"""

HELPERS = (
    r"""
CREATE SCHEMA IF NOT EXISTS bench;

-- tradegraph's opaque global id: base64url("Type:pk"), unpadded
CREATE OR REPLACE FUNCTION bench.gid(type_name text, pk bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT rtrim(translate(encode(convert_to(type_name || ':' || pk, 'UTF8'), 'base64'), '+/', '-_'), '=')
$$;

-- base64url of a string, unpadded (cursors)
CREATE OR REPLACE FUNCTION bench.b64(plain text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT rtrim(translate(encode(convert_to(plain, 'UTF8'), 'base64'), E'+/\n', '-_'), '=')
$$;

CREATE OR REPLACE FUNCTION bench.unb64(cursor text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT convert_from(decode(rpad(translate(cursor, '-_', '+/'),
                                  (length(cursor) + 3) / 4 * 4, '='), 'base64'), 'UTF8')
$$;

-- the place named by slug or ISO code, and every place inside it
CREATE OR REPLACE FUNCTION bench.subtree(ref text) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH RECURSIVE t(id) AS (
    SELECT id FROM places WHERE slug = ref OR code = upper(ref)
    UNION ALL
    SELECT p.id FROM places p JOIN t ON p.parent_id = t.id)
  SELECT id FROM t
$$;

-- the last day of the period a date of that precision stands for
CREATE OR REPLACE FUNCTION bench.last_day(start date, prec text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE prec
    WHEN 'week' THEN start + 6
    WHEN 'month' THEN (date_trunc('month', start) + interval '1 month' - interval '1 day')::date
    WHEN 'quarter' THEN (date_trunc('quarter', start) + interval '3 months' - interval '1 day')::date
    WHEN 'year' THEN (date_trunc('year', start) + interval '1 year' - interval '1 day')::date
    ELSE start END
$$;

CREATE OR REPLACE FUNCTION bench.enum(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT upper(replace(value, '-', '_')) $$;

-- a trade series (tradegraph's queries/series.py semantics) as JSON: points in period order; with
-- `detail`, each point with a page of `sources` (variable, default 5) of its figures and of those
-- left out, by id (SeriesPoint.contributionsConnection/excludedConnection: totalCount, hasNextPage,
-- nodes); without, the totals alone, from the rollup trade_series_totals when it holds the filter
CREATE OR REPLACE FUNCTION bench.series_points(v jsonb, detail boolean) RETURNS json
LANGUAGE sql STABLE AS $$
WITH RECURSIVE
  args AS (
    SELECT coalesce(v->>'granularity', 'YEAR') AS gran, upper(coalesce(v->>'currency', 'USD')) AS cur,
           v->'filter' AS f, coalesce((v->'filter'->>'includeSubregions')::boolean, false) AS sub),
  rep AS (SELECT id FROM places, args
           WHERE f->>'reporter' IS NOT NULL AND (slug = f->>'reporter' OR code = upper(f->>'reporter'))
          AND NOT sub
          UNION SELECT s FROM args, bench.subtree(f->>'reporter') s WHERE sub AND f->>'reporter' IS NOT NULL),
  par AS (SELECT id FROM places, args
           WHERE f->>'partner' IS NOT NULL AND (slug = f->>'partner' OR code = upper(f->>'partner'))
          AND NOT sub
          UNION SELECT s FROM args, bench.subtree(f->>'partner') s WHERE sub AND f->>'partner' IS NOT NULL),
  unit AS (SELECT lower(gran) AS u, coalesce((v->>'sources')::int, 5) AS n,
                  CASE gran WHEN 'YEAR' THEN interval '1 year' WHEN 'QUARTER' THEN interval '3 months'
                            ELSE interval '1 month' END AS len, gran, cur FROM args),
  f AS (
    SELECT t.* FROM trade_figures t, args
     WHERE t.amount IS NOT NULL AND t.status = 'actual'
       AND (f->>'reporter' IS NULL AND f->>'partner' IS NULL
            OR ((f->>'reporter' IS NULL OR t.reporter_id = ANY(ARRAY(SELECT id FROM rep)))
                AND (f->>'partner' IS NULL OR t.partner_id = ANY(ARRAY(SELECT id FROM par))))
            OR (t.flow = 'total' AND (f->>'reporter' IS NULL OR t.partner_id = ANY(ARRAY(SELECT id FROM rep)))
                AND (f->>'partner' IS NULL OR t.reporter_id = ANY(ARRAY(SELECT id FROM par)))))
       AND (f->>'periodFrom' IS NULL OR t.period_end >= (f->>'periodFrom')::date)
       AND (f->>'periodTo' IS NULL OR t.period_start <= (f->>'periodTo')::date)),
  anc AS (  -- each place with the ids of itself and everything containing it
    SELECT id AS place_id, ARRAY[id] AS ids, parent_id AS next FROM places
    UNION ALL
    SELECT anc.place_id, anc.ids || p.id, p.parent_id FROM anc JOIN places p ON p.id = anc.next),
  ancestors AS (SELECT place_id, ids FROM anc WHERE next IS NULL),
  valued AS (
    SELECT f.id, f.reporter_id, f.partner_id, f.flow, f.commodity, f.part_of_id,
           date_trunc(unit.u, f.period_start)::date AS bucket,
           CASE WHEN f.currency = unit.cur THEN f.amount ELSE c.amount END AS value,
           ra.ids AS reporter_in, pa.ids AS partner_in
      FROM f CROSS JOIN unit
      LEFT JOIN currency_conversions c
        ON c.trade_figure_id = f.id AND c.kind = 'computed' AND c.to_currency = unit.cur
      JOIN ancestors ra ON ra.place_id = f.reporter_id
      LEFT JOIN ancestors pa ON pa.place_id = f.partner_id
     -- as a CASE, estimated at half the rows rather than next to none (which makes nested loops below)
     WHERE CASE WHEN f.period_start = date_trunc(unit.u, f.period_start)::date
                 AND f.period_end = (date_trunc(unit.u, f.period_start) + unit.len - interval '1 day')::date
                THEN true ELSE false END),
  -- whether y covers x depends on x and y's scope and id only, and of one scope's figures the lowest
  -- id would be chosen: each figure meets only the scopes whose places can contain its own
  scopes AS (
    SELECT bucket, reporter_id, partner_id, coalesce(partner_id, 0) AS partner_key, flow, commodity, min(id) AS id
      FROM valued GROUP BY bucket, reporter_id, partner_id, flow, commodity),
  probes AS (
    SELECT x.id, x.bucket, x.reporter_id, x.partner_id, x.flow, x.commodity,
           r AS reporter_key, 0::bigint AS partner_key, false AS crossed
      FROM valued x, unnest(x.reporter_in) r
    UNION ALL
    SELECT x.id, x.bucket, x.reporter_id, x.partner_id, x.flow, x.commodity, r, p, false
      FROM valued x, unnest(x.reporter_in) r, unnest(x.partner_in) p WHERE x.partner_id IS NOT NULL
    UNION ALL
    SELECT x.id, x.bucket, x.reporter_id, x.partner_id, x.flow, x.commodity, r, p, true
      FROM valued x, unnest(x.partner_in) r, unnest(x.reporter_in) p WHERE x.partner_id IS NOT NULL),
  covers AS (
    SELECT x.id, min(y.id) AS covered_by
      FROM probes x JOIN scopes y
        ON y.bucket = x.bucket AND y.reporter_id = x.reporter_key AND y.partner_key = x.partner_key
     WHERE (NOT x.crossed OR y.flow = 'total') AND y.id <> x.id
       AND (y.flow = x.flow OR y.flow = 'total')
       AND (y.commodity IS NULL OR y.commodity = x.commodity)
       AND (NOT (y.flow = x.flow AND y.commodity IS NOT DISTINCT FROM x.commodity
                 AND ((y.reporter_id = x.reporter_id AND y.partner_id IS NOT DISTINCT FROM x.partner_id)
                      OR (y.flow = 'total' AND y.reporter_id = x.partner_id AND y.partner_id = x.reporter_id)))
            OR y.id < x.id)
     GROUP BY x.id),
  marked AS (  -- the figure x is part of covers it first
    SELECT x.*, coalesce(w.id, c.covered_by) AS covered_by
      FROM valued x
      LEFT JOIN valued w ON w.id = x.part_of_id AND w.bucket = x.bucket AND w.id <> x.id
      LEFT JOIN covers c ON c.id = x.id),
  points AS (
    SELECT bucket,
           sum(value) FILTER (WHERE covered_by IS NULL) AS total,
           bool_and(value IS NOT NULL) FILTER (WHERE covered_by IS NULL) AS complete
      FROM marked GROUP BY bucket)
SELECT coalesce(json_agg(CASE WHEN detail THEN json_build_object(
         'label', p.label, 'periodStart', p.bucket, 'periodEnd', p.bucket_end,
         'value', CASE WHEN p.complete THEN p.total::text END, 'currency', unit.cur,
         'complete', coalesce(p.complete, true),
         'contributionsConnection', (
            SELECT json_build_object(
                     'totalCount', (SELECT count(*) FROM marked m WHERE m.bucket = p.bucket AND m.covered_by IS NULL),
                     'pageInfo', json_build_object('hasNextPage', (
                        SELECT count(*) FROM marked m WHERE m.bucket = p.bucket AND m.covered_by IS NULL) > unit.n),
                     'nodes', coalesce(json_agg(json_build_object(
                     'figure', json_build_object(
                        'slug', t.slug,
                        'reporter', json_build_object('code', r.code),
                        'partner', CASE WHEN pp.id IS NOT NULL THEN json_build_object('code', pp.code) END,
                        'flow', upper(t.flow),
                        'evidence', (SELECT coalesce(json_agg(json_build_object(
                                        'quote', e.quote, 'article', json_build_object('slug', a.slug))
                                        ORDER BY e.article_id, e.start_offset), '[]')
                                       FROM evidence e JOIN articles a ON a.id = e.article_id
                                      WHERE e.trade_figure_id = t.id)),
                     'amount', json_build_object('amount', t.amount::text, 'currency', t.currency),
                     'converted', CASE WHEN t.currency <> unit.cur THEN (
                        SELECT json_build_object('amount', c.amount::text, 'rate', c.rate::text,
                                                 'rateDate', c.rate_date, 'source', c.source)
                          FROM currency_conversions c
                         WHERE c.trade_figure_id = t.id AND c.kind = 'computed' AND c.to_currency = unit.cur) END)
                   ORDER BY k.id), '[]'))
              FROM (SELECT m.id FROM marked m WHERE m.bucket = p.bucket AND m.covered_by IS NULL
                     ORDER BY m.id LIMIT unit.n) k
              JOIN trade_figures t ON t.id = k.id
              JOIN places r ON r.id = t.reporter_id LEFT JOIN places pp ON pp.id = t.partner_id),
         'excludedConnection', (
            SELECT json_build_object(
                     'totalCount', (
                        SELECT count(*) FROM marked m WHERE m.bucket = p.bucket AND m.covered_by IS NOT NULL),
                     'pageInfo', json_build_object('hasNextPage', (
                        SELECT count(*) FROM marked m WHERE m.bucket = p.bucket AND m.covered_by IS NOT NULL) > unit.n),
                     'nodes', coalesce(json_agg(json_build_object(
                     'figure', json_build_object('slug', t.slug),
                     'coveredBy', json_build_object('slug', c.slug),
                     'reason', CASE
                        WHEN t.part_of_id = c.id THEN 'part of the covering figure'
                        WHEN ((t.reporter_id = c.reporter_id AND t.partner_id IS NOT DISTINCT FROM c.partner_id)
                              OR (t.reporter_id = c.partner_id AND t.partner_id = c.reporter_id))
                             AND t.flow = c.flow AND t.commodity IS NOT DISTINCT FROM c.commodity
                          THEN 'corroborates the covering figure (same trade, stated again)'
                        ELSE 'included in a broader figure (its places, flow or goods contain this one''s)' END)
                   ORDER BY k.id), '[]'))
              FROM (SELECT m.id, m.covered_by FROM marked m WHERE m.bucket = p.bucket AND m.covered_by IS NOT NULL
                     ORDER BY m.id LIMIT unit.n) k
              JOIN trade_figures t ON t.id = k.id JOIN trade_figures c ON c.id = k.covered_by))
       ELSE json_build_object(
         'label', p.label, 'periodStart', p.bucket, 'periodEnd', p.bucket_end,
         'value', CASE WHEN p.complete THEN p.total::text END, 'currency', unit.cur,
         'complete', coalesce(p.complete, true)) END
       ORDER BY p.bucket), '[]')
  FROM (SELECT points.*,
               CASE unit.gran WHEN 'YEAR' THEN to_char(bucket, 'YYYY')
                              WHEN 'QUARTER' THEN to_char(bucket, 'YYYY') || '-Q' || to_char(bucket, 'Q')
                              ELSE to_char(bucket, 'YYYY-MM') END AS label,
               (bucket + unit.len - interval '1 day')::date AS bucket_end
          FROM points CROSS JOIN unit) p CROSS JOIN unit
$$;

-- whether trade_series_totals holds the series of these variables (series.from_totals): one of its
-- currencies, and a filter of places and periods alone (default status and review state)
CREATE OR REPLACE FUNCTION bench.totals_hold(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT upper(coalesce(v->>'currency', 'USD')) IN ('USD', 'EUR', 'CNY')
     AND coalesce(jsonb_typeof(v->'filter'), 'null') IN ('null', 'object')
     AND (jsonb_typeof(v->'filter') IS DISTINCT FROM 'object'
          OR (SELECT coalesce(bool_and(jsonb_typeof(value) = 'null' OR key IN (
                                'reporter', 'partner', 'includeSubregions', 'periodFrom', 'periodTo')), true)
                FROM jsonb_each(v->'filter')))
$$;

-- the points' totals alone, read from the rollup (series.totals_query)
CREATE OR REPLACE FUNCTION bench.series_totals(v jsonb) RETURNS json
LANGUAGE sql STABLE AS $$
"""
    + _SERIES_TOTALS.format(v="v")
    + r"""
$$;

CREATE OR REPLACE FUNCTION bench.trade_series(v jsonb, detail boolean) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN NOT detail AND bench.totals_hold(v) THEN bench.series_totals(v)
              ELSE bench.series_points(v, detail) END
$$;
"""
)

# Field sets reused by several operations ------------------------------------------------------------

_FIGURE_EVIDENCE_WITH_ARTICLE = """
  (SELECT coalesce(json_agg(json_build_object('quote', e.quote, 'start', e.start_offset, 'end', e.end_offset,
                                              'article', json_build_object('slug', ea.slug))
                   ORDER BY e.article_id, e.start_offset), '[]')
     FROM evidence e JOIN articles ea ON ea.id = e.article_id WHERE e.trade_figure_id = t.id)"""


def _first_mentioned(column: str, table: str, fields: str, article: str = "a") -> str:
    """JSON list of the entities an article names, in order of first mention."""
    return f"""
  (SELECT coalesce(json_agg(json_build_object({fields}) ORDER BY m.pos, x.id), '[]')
     FROM (SELECT {column} AS sid, min(start_offset) AS pos FROM evidence
            WHERE article_id = {article}.id AND {column} IS NOT NULL GROUP BY {column}) m
     JOIN {table} x ON x.id = m.sid)"""


def _usd(fields: str) -> str:
    """`amountUsd` of figure `t`: itself when in USD, else its computed conversion."""
    return f"""
  CASE WHEN t.amount IS NULL THEN NULL
       WHEN t.currency = 'USD' THEN json_build_object({
        fields.format(amount="t.amount::text", rate="'1'", date="t.period_end", source="'stated in the article'")
    })
       ELSE (SELECT json_build_object({
        fields.format(amount="c.amount::text", rate="c.rate::text", date="c.rate_date", source="c.source")
    })
               FROM currency_conversions c
              WHERE c.trade_figure_id = t.id AND c.kind = 'computed' AND c.to_currency = 'USD') END"""


_AMOUNT = "CASE WHEN t.amount IS NOT NULL THEN json_build_object('amount', t.amount::text, 'currency', t.currency) END"

_FIGURE_PAGE_FIELDS = f"""
  'id', bench.gid('TradeFigure', t.id), 'slug', t.slug, 'flow', upper(t.flow), 'status', upper(t.status),
  'reporter', (SELECT json_build_object('name', p.name, 'code', p.code) FROM places p WHERE p.id = t.reporter_id),
  'partner', (SELECT json_build_object('name', p.name, 'code', p.code) FROM places p WHERE p.id = t.partner_id),
  'commodity', t.commodity,
  'amount', {_AMOUNT},
  'quantity', CASE WHEN t.quantity IS NOT NULL THEN json_build_object('value', t.quantity::text, 'unit', t.unit) END,
  'amountUsd', {_usd("'amount', {amount}, 'rate', {rate}, 'rateDate', {date}, 'source', {source}")},
  'statedConversion', (SELECT json_build_object('amount', c.amount::text, 'currency', c.to_currency,
                                                'rate', c.rate::text)
                         FROM currency_conversions c WHERE c.trade_figure_id = t.id AND c.kind = 'stated'),
  'periodStart', t.period_start, 'periodEnd', t.period_end, 'periodLabel', t.period_label,
  'changePct', t.change_pct::float8, 'changeMultiple', t.change_multiple::float8, 'approximation', t.approximation,
  'partOf', (SELECT json_build_object('slug', pf.slug) FROM trade_figures pf WHERE pf.id = t.part_of_id),
  'evidence', {_FIGURE_EVIDENCE_WITH_ARTICLE}"""

# cursors end with their ordering's tag, as tradegraph writes them (app.queries.pagination)
_ARTICLE_TAG = ARTICLE_ORDERINGS[ArticleOrder.PUBLISHED_ON_DESC].tag
_ARTICLE_CURSOR = (
    f"""bench.b64('["' || coalesce(a.published_on, '0001-01-01') || '",' || a.id || ',"{_ARTICLE_TAG}"]')"""
)
_ARTICLE_ORDER = "coalesce(a.published_on, '0001-01-01') DESC, a.id DESC"
_EVENT_ORDER = "coalesce(ev.starts_on, '9999-12-31'), ev.id"
_EVENT_TAG = EVENT_ORDERINGS[EventOrder.STARTS_ON_ASC].tag

OPERATIONS: dict[str, str] = {}

OPERATIONS["ArticlePage"] = f"""
SELECT json_build_object('data', json_build_object('article', (
  SELECT json_build_object(
    'id', bench.gid('Article', a.id), 'slug', a.slug, 'title', a.title, 'authors', a.authors,
    'publishedOn', a.published_on, 'publishedPrecision', upper(a.published_precision),
    'publishedBasis', upper(a.published_basis), 'publishedInference', a.published_inference,
    'publisher', (SELECT json_build_object('name', o.name, 'kind', bench.enum(o.kind))
                    FROM organisations o WHERE o.id = a.publisher_id),
    'body', a.body, 'wordCount', a.word_count,
    'duplicateOf', (SELECT json_build_object('slug', d.slug, 'title', d.title) FROM articles d
                     WHERE d.id = a.duplicate_of_id),
    'duplicates', (SELECT coalesce(json_agg(json_build_object('slug', d.slug, 'title', d.title) ORDER BY d.id), '[]')
                     FROM articles d WHERE d.duplicate_of_id = a.id),
    'organisations', {
    _first_mentioned(
        "organisation_id",
        "organisations",
        "'slug', x.slug, 'name', x.name, 'kind', bench.enum(x.kind), "
        "'country', (SELECT json_build_object('code', c.code) FROM places c WHERE c.id = x.country_id)",
    )
},
    'places', {
    _first_mentioned(
        "place_id",
        "places",
        "'slug', x.slug, 'name', x.name, 'kind', bench.enum(x.kind), 'code', x.code, "
        "'latitude', x.latitude, 'longitude', x.longitude",
    )
},
    'people', {_first_mentioned("person_id", "people", "'name', x.name, 'title', x.title")},
    'tradeFigures', (
      SELECT coalesce(json_agg(json_build_object({_FIGURE_PAGE_FIELDS}) ORDER BY m.pos, t.id), '[]')
        FROM (SELECT trade_figure_id AS sid, min(start_offset) AS pos FROM evidence
               WHERE article_id = a.id AND trade_figure_id IS NOT NULL GROUP BY trade_figure_id) m
        JOIN trade_figures t ON t.id = m.sid),
    'events', (
      SELECT coalesce(json_agg(json_build_object(
               'slug', ev.slug, 'name', ev.name, 'kind', bench.enum(ev.kind), 'startsOn', ev.starts_on,
               'endsOn', ev.ends_on, 'datePrecision', ev.date_precision,
               'places', (SELECT coalesce(json_agg(json_build_object('name', p.name) ORDER BY p.name), '[]')
                            FROM event_places ep JOIN places p ON p.id = ep.place_id WHERE ep.event_id = ev.id),
               'evidence', (SELECT coalesce(json_agg(json_build_object('quote', e.quote, 'start', e.start_offset,
                                                                       'end', e.end_offset)
                                            ORDER BY e.article_id, e.start_offset), '[]')
                              FROM evidence e WHERE e.event_id = ev.id))
             ORDER BY m.pos, ev.id), '[]')
        FROM (SELECT event_id AS sid, min(start_offset) AS pos FROM evidence
               WHERE article_id = a.id AND event_id IS NOT NULL GROUP BY event_id) m
        JOIN events ev ON ev.id = m.sid))
  FROM articles a WHERE a.slug = %(v)s::jsonb->>'slug')))::text
"""

_LIST_NODE = f"""
  'slug', a.slug, 'title', a.title, 'publishedOn', a.published_on,
  'publisher', (SELECT json_build_object('name', o.name) FROM organisations o WHERE o.id = a.publisher_id),
  'organisations', {_first_mentioned("organisation_id", "organisations", "'name', x.name")},
  'places', {_first_mentioned("place_id", "places", "'name', x.name, 'code', x.code")},
  'tradeFigures', (
    SELECT coalesce(json_agg(json_build_object(
             'slug', t.slug, 'amount', {_AMOUNT},
             'evidence', (SELECT coalesce(json_agg(json_build_object('quote', e.quote)
                                          ORDER BY e.article_id, e.start_offset), '[]')
                            FROM evidence e WHERE e.trade_figure_id = t.id))
           ORDER BY m.pos, t.id), '[]')
      FROM (SELECT trade_figure_id AS sid, min(start_offset) AS pos FROM evidence
             WHERE article_id = a.id AND trade_figure_id IS NOT NULL GROUP BY trade_figure_id) m
      JOIN trade_figures t ON t.id = m.sid),
  'events', {_first_mentioned("event_id", "events", "'name', x.name, 'startsOn', x.starts_on")}"""

OPERATIONS["ArticleList"] = f"""
WITH page AS (
  SELECT a.* FROM articles a ORDER BY {_ARTICLE_ORDER}
   LIMIT coalesce((%(v)s::jsonb->>'first')::int, 10) + 1),
shown AS (SELECT * FROM page a ORDER BY {_ARTICLE_ORDER} LIMIT coalesce((%(v)s::jsonb->>'first')::int, 10))
SELECT json_build_object('data', json_build_object('articles', json_build_object(
  'totalCount', (SELECT count(*) FROM articles),
  'pageInfo', json_build_object('hasNextPage', (SELECT count(*) FROM page) > (SELECT count(*) FROM shown),
                                'endCursor', (SELECT {_ARTICLE_CURSOR} FROM shown a ORDER BY
                                              coalesce(a.published_on, '0001-01-01'), a.id LIMIT 1)),
  'edges', (SELECT coalesce(json_agg(json_build_object('cursor', {_ARTICLE_CURSOR}, 'node', json_build_object(
              {_LIST_NODE})) ORDER BY {_ARTICLE_ORDER}), '[]') FROM shown a))))::text
"""

OPERATIONS["ArticleFeed50"] = f"""
WITH shown AS (SELECT a.* FROM articles a ORDER BY {_ARTICLE_ORDER}
                LIMIT coalesce((%(v)s::jsonb->>'first')::int, 50))
SELECT json_build_object('data', json_build_object('articles', json_build_object(
  'edges', (SELECT coalesce(json_agg(json_build_object('node', json_build_object(
      'slug', a.slug, 'title', a.title, 'publishedOn', a.published_on,
      'publisher', (SELECT json_build_object('name', o.name) FROM organisations o WHERE o.id = a.publisher_id),
      'places', {_first_mentioned("place_id", "places", "'name', x.name, 'code', x.code")},
      'organisations', {_first_mentioned("organisation_id", "organisations", "'name', x.name")},
      'tradeFigures', (
        SELECT coalesce(json_agg(json_build_object(
                 'slug', t.slug, 'flow', upper(t.flow), 'amount', {_AMOUNT},
                 'amountUsd', {_usd("'amount', {amount}")},
                 'evidence', (SELECT coalesce(json_agg(json_build_object('quote', e.quote)
                                              ORDER BY e.article_id, e.start_offset), '[]')
                                FROM evidence e WHERE e.trade_figure_id = t.id))
               ORDER BY m.pos, t.id), '[]')
          FROM (SELECT trade_figure_id AS sid, min(start_offset) AS pos FROM evidence
                 WHERE article_id = a.id AND trade_figure_id IS NOT NULL GROUP BY trade_figure_id) m
          JOIN trade_figures t ON t.id = m.sid),
      'events', (
        SELECT coalesce(json_agg(json_build_object(
                 'name', ev.name, 'startsOn', ev.starts_on,
                 'places', (SELECT coalesce(json_agg(json_build_object('name', p.name) ORDER BY p.name), '[]')
                              FROM event_places ep JOIN places p ON p.id = ep.place_id WHERE ep.event_id = ev.id))
               ORDER BY m.pos, ev.id), '[]')
          FROM (SELECT event_id AS sid, min(start_offset) AS pos FROM evidence
                 WHERE article_id = a.id AND event_id IS NOT NULL GROUP BY event_id) m
          JOIN events ev ON ev.id = m.sid)))
    ORDER BY {_ARTICLE_ORDER}), '[]') FROM shown a))))::text
"""

OPERATIONS["ArticleSummary"] = f"""
SELECT json_build_object('data', json_build_object('article', (
  SELECT json_build_object(
    'slug', a.slug, 'title', a.title, 'publishedOn', a.published_on,
    'publisher', (SELECT json_build_object('name', o.name) FROM organisations o WHERE o.id = a.publisher_id),
    'organisations', {_first_mentioned("organisation_id", "organisations", "'slug', x.slug, 'name', x.name")},
    'places', {_first_mentioned("place_id", "places", "'slug', x.slug, 'name', x.name, 'code', x.code")},
    'tradeFigures', (
      SELECT coalesce(json_agg(json_build_object(
               'slug', t.slug, 'flow', upper(t.flow), 'amount', {_AMOUNT},
               'periodStart', t.period_start, 'periodEnd', t.period_end,
               'reporter', (SELECT json_build_object('name', p.name) FROM places p WHERE p.id = t.reporter_id),
               'partner', (SELECT json_build_object('name', p.name) FROM places p WHERE p.id = t.partner_id))
             ORDER BY m.pos, t.id), '[]')
        FROM (SELECT trade_figure_id AS sid, min(start_offset) AS pos FROM evidence
               WHERE article_id = a.id AND trade_figure_id IS NOT NULL GROUP BY trade_figure_id) m
        JOIN trade_figures t ON t.id = m.sid))
  FROM articles a WHERE a.slug = %(v)s::jsonb->>'slug')))::text
"""

_EVENT_IN_RANGE = """
  coalesce(ev.ends_on, bench.last_day(ev.starts_on, ev.date_precision)) >= (%(v)s::jsonb->>'from')::date
  AND ev.starts_on <= (%(v)s::jsonb->>'to')::date"""

OPERATIONS["EventCalendar"] = f"""
WITH page AS (
  SELECT ev.* FROM events ev WHERE {_EVENT_IN_RANGE} ORDER BY {_EVENT_ORDER}
   LIMIT coalesce((%(v)s::jsonb->>'first')::int, 50) + 1),
shown AS (SELECT * FROM page ev ORDER BY {_EVENT_ORDER} LIMIT coalesce((%(v)s::jsonb->>'first')::int, 50))
SELECT json_build_object('data', json_build_object('events', json_build_object(
  'totalCount', (SELECT count(*) FROM events ev WHERE {_EVENT_IN_RANGE}),
  'pageInfo', json_build_object(
     'hasNextPage', (SELECT count(*) FROM page) > (SELECT count(*) FROM shown),
     'endCursor', (SELECT bench.b64('["' || coalesce(ev.starts_on, '9999-12-31') || '",' || ev.id || ',"{_EVENT_TAG}"]')
                     FROM shown ev ORDER BY coalesce(ev.starts_on, '9999-12-31') DESC, ev.id DESC LIMIT 1)),
  'edges', (SELECT coalesce(json_agg(json_build_object('node', json_build_object(
      'id', bench.gid('Event', ev.id), 'slug', ev.slug, 'name', ev.name, 'kind', bench.enum(ev.kind),
      'startsOn', ev.starts_on, 'endsOn', ev.ends_on, 'datePrecision', ev.date_precision,
      'places', (SELECT coalesce(json_agg(json_build_object('name', p.name, 'code', p.code, 'latitude', p.latitude,
                                                             'longitude', p.longitude) ORDER BY p.name), '[]')
                   FROM event_places ep JOIN places p ON p.id = ep.place_id WHERE ep.event_id = ev.id),
      'organisations', (SELECT coalesce(json_agg(json_build_object('name', o.name) ORDER BY f.first), '[]')
                          FROM (SELECT organisation_id, min(id) AS first FROM event_participants
                                 WHERE event_id = ev.id AND organisation_id IS NOT NULL GROUP BY organisation_id) f
                          JOIN organisations o ON o.id = f.organisation_id),
      'participants', (SELECT coalesce(json_agg(json_build_object(
                          'role', upper(pt.role),
                          'organisation', (SELECT json_build_object('name', o.name) FROM organisations o
                                            WHERE o.id = pt.organisation_id),
                          'person', (SELECT json_build_object('name', h.name) FROM people h WHERE h.id = pt.person_id))
                          ORDER BY pt.id), '[]')
                         FROM event_participants pt WHERE pt.event_id = ev.id),
      'participantCount', ev.participant_count, 'participantUnit', ev.participant_unit,
      'parent', (SELECT json_build_object('name', pe.name) FROM events pe WHERE pe.id = ev.parent_id),
      'evidence', (SELECT coalesce(json_agg(json_build_object(
                      'quote', e.quote, 'article', json_build_object('slug', a.slug, 'title', a.title))
                      ORDER BY e.article_id, e.start_offset), '[]')
                     FROM evidence e JOIN articles a ON a.id = e.article_id WHERE e.event_id = ev.id)))
    ORDER BY {_EVENT_ORDER}), '[]') FROM shown ev))))::text
"""

OPERATIONS["OrganisationPage"] = f"""
WITH org AS (SELECT * FROM organisations WHERE slug = %(v)s::jsonb->>'slug'),
involved AS (
  SELECT a.* FROM articles a, org
   WHERE a.publisher_id = org.id
      OR EXISTS (SELECT 1 FROM evidence e WHERE e.article_id = a.id AND e.organisation_id = org.id))
SELECT json_build_object('data', json_build_object(
  'organisation', (SELECT json_build_object(
      'id', bench.gid('Organisation', o.id), 'name', o.name, 'kind', bench.enum(o.kind), 'aliases', o.aliases,
      'country', (SELECT json_build_object('name', p.name, 'code', p.code) FROM places p WHERE p.id = o.country_id),
      'parent', (SELECT json_build_object('name', po.name) FROM organisations po WHERE po.id = o.parent_id),
      'articles', json_build_object(
         'totalCount', (SELECT count(*) FROM involved),
         'edges', (SELECT coalesce(json_agg(json_build_object('node', json_build_object(
                     'slug', a.slug, 'title', a.title, 'publishedOn', a.published_on)) ORDER BY {_ARTICLE_ORDER}), '[]')
                     FROM (SELECT * FROM involved a ORDER BY {_ARTICLE_ORDER}
                            LIMIT coalesce((%(v)s::jsonb->>'first')::int, 10)) a)))
    FROM org o),
  'events', json_build_object('edges', (
      SELECT coalesce(json_agg(json_build_object('node', json_build_object('name', ev.name, 'startsOn', ev.starts_on))
                      ORDER BY {_EVENT_ORDER}), '[]')
        FROM (SELECT ev.* FROM events ev
               WHERE EXISTS (SELECT 1 FROM event_participants pt, org
                              WHERE pt.event_id = ev.id AND pt.organisation_id = org.id)
               ORDER BY {_EVENT_ORDER} LIMIT 20) ev))))::text
"""

OPERATIONS["PlacePage"] = f"""
WITH tree AS (SELECT ARRAY(SELECT bench.subtree(%(v)s::jsonb->>'code')) AS ids),
figs AS (  -- = ANY(array): index conditions under OR, estimated at a handful of places
  SELECT t.* FROM trade_figures t
   WHERE t.reporter_id = ANY((SELECT ids FROM tree)::bigint[])
      OR (t.flow = 'total' AND t.partner_id = ANY((SELECT ids FROM tree)::bigint[])))
SELECT json_build_object('data', json_build_object(
  'place', (SELECT json_build_object(
      'id', bench.gid('Place', p.id), 'name', p.name, 'kind', bench.enum(p.kind), 'code', p.code,
      'countryCode', p.country_code, 'geonamesId', p.geonames_id, 'latitude', p.latitude, 'longitude', p.longitude,
      'aliases', p.aliases,
      'parent', (SELECT json_build_object('name', pp.name, 'code', pp.code) FROM places pp WHERE pp.id = p.parent_id),
      'children', (SELECT coalesce(json_agg(json_build_object('slug', c.slug, 'name', c.name,
                                                              'kind', bench.enum(c.kind),
                                                              'latitude', c.latitude, 'longitude', c.longitude)
                                            ORDER BY c.name, c.id), '[]')
                     FROM places c WHERE c.parent_id = p.id))
    FROM places p WHERE p.code = upper(%(v)s::jsonb->>'code')),
  'tradeFigures', json_build_object(
    'totalCount', (SELECT count(*) FROM figs),
    'edges', (SELECT coalesce(json_agg(json_build_object('node', json_build_object(
        'slug', t.slug, 'flow', upper(t.flow),
        'reporter', (SELECT json_build_object('name', p.name) FROM places p WHERE p.id = t.reporter_id),
        'partner', (SELECT json_build_object('name', p.name) FROM places p WHERE p.id = t.partner_id),
        'commodity', t.commodity, 'amount', {_AMOUNT},
        'amountUsd', {_usd("'amount', {amount}, 'source', {source}")},
        'periodStart', t.period_start, 'periodEnd', t.period_end, 'periodLabel', t.period_label,
        'changePct', t.change_pct::float8, 'status', upper(t.status),
        'evidence', (SELECT coalesce(json_agg(json_build_object(
                        'quote', e.quote, 'article', json_build_object('slug', a.slug, 'title', a.title))
                        ORDER BY e.article_id, e.start_offset), '[]')
                       FROM evidence e JOIN articles a ON a.id = e.article_id WHERE e.trade_figure_id = t.id)))
      ORDER BY t.period_end DESC, t.id DESC), '[]')
      FROM (SELECT * FROM figs ORDER BY period_end DESC, id DESC LIMIT 50) t)),
  'events', json_build_object('edges', (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
             'slug', ev.slug, 'name', ev.name, 'kind', bench.enum(ev.kind), 'startsOn', ev.starts_on,
             'endsOn', ev.ends_on)) ORDER BY {_EVENT_ORDER}), '[]')
      FROM (SELECT ev.* FROM events ev
             WHERE EXISTS (SELECT 1 FROM event_places ep
                            WHERE ep.event_id = ev.id AND ep.place_id = ANY((SELECT ids FROM tree)::bigint[]))
             ORDER BY {_EVENT_ORDER} LIMIT 50) ev)),
  'articles', json_build_object('edges', (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
             'slug', a.slug, 'title', a.title, 'publishedOn', a.published_on)) ORDER BY {_ARTICLE_ORDER}), '[]')
      FROM (SELECT a.* FROM articles a
             WHERE EXISTS (SELECT 1 FROM evidence e
                            WHERE e.article_id = a.id AND e.place_id = ANY((SELECT ids FROM tree)::bigint[]))
             ORDER BY {_ARTICLE_ORDER} LIMIT 20) a))))::text
"""

_FILTER_SIDES = """
  ((t.reporter_id = ANY(ARRAY(SELECT bench.subtree(%(v)s::jsonb->'filter'->>'reporter')))
    AND t.partner_id = ANY(ARRAY(SELECT bench.subtree(%(v)s::jsonb->'filter'->>'partner'))))
   OR (t.flow = 'total' AND t.partner_id = ANY(ARRAY(SELECT bench.subtree(%(v)s::jsonb->'filter'->>'reporter')))
       AND t.reporter_id = ANY(ARRAY(SELECT bench.subtree(%(v)s::jsonb->'filter'->>'partner')))))
  AND t.flow IN (SELECT lower(jsonb_array_elements_text(%(v)s::jsonb->'filter'->'flow')))
  AND t.period_end >= (%(v)s::jsonb->'filter'->>'periodFrom')::date
  AND t.period_start <= (%(v)s::jsonb->'filter'->>'periodTo')::date"""

_AFTER = """
  (%(v)s::jsonb->>'after' IS NULL
   OR (t.period_end, t.id) < ((bench.unb64(%(v)s::jsonb->>'after')::jsonb->>0)::date,
                              (bench.unb64(%(v)s::jsonb->>'after')::jsonb->>1)::bigint))"""

# a search cursor's mark: of the search text (app.graphql.checks.offset_list)
# (trimmed of any white space, as app.graphql.checks.search_text trims it)
_SEARCH_MARK = (
    "'o' || left(encode(sha256(convert_to('search:' || "
    "regexp_replace(%(v)s::jsonb->>'query', '^\\s+|\\s+$', '', 'g'), 'UTF8')), 'hex'), 6)"
)
_FIGURE_TAG = FIGURE_ORDERINGS[FigureOrder.PERIOD_END_DESC].tag
_FIGURE_CURSOR = f"""bench.b64('["' || t.period_end || '",' || t.id || ',"{_FIGURE_TAG}"]')"""

OPERATIONS["FigureFilterPage"] = f"""
WITH page AS (
  SELECT t.* FROM trade_figures t WHERE {_FILTER_SIDES} AND {_AFTER}
   ORDER BY t.period_end DESC, t.id DESC LIMIT coalesce((%(v)s::jsonb->>'first')::int, 20) + 1),
shown AS (SELECT * FROM page t ORDER BY t.period_end DESC, t.id DESC LIMIT coalesce((%(v)s::jsonb->>'first')::int, 20))
SELECT json_build_object('data', json_build_object('tradeFigures', json_build_object(
  'totalCount', (SELECT count(*) FROM trade_figures t WHERE {_FILTER_SIDES}),
  'pageInfo', json_build_object(
     'hasNextPage', (SELECT count(*) FROM page) > (SELECT count(*) FROM shown),
     'endCursor', (SELECT {_FIGURE_CURSOR} FROM shown t ORDER BY t.period_end, t.id LIMIT 1)),
  'edges', (SELECT coalesce(json_agg(json_build_object('cursor', {_FIGURE_CURSOR}, 'node', json_build_object(
      'slug', t.slug, 'flow', upper(t.flow), 'periodStart', t.period_start, 'periodEnd', t.period_end,
      'amount', {_AMOUNT}, 'amountUsd', {_usd("'amount', {amount}")},
      'reporter', (SELECT json_build_object('name', p.name) FROM places p WHERE p.id = t.reporter_id),
      'partner', (SELECT json_build_object('name', p.name) FROM places p WHERE p.id = t.partner_id)))
    ORDER BY t.period_end DESC, t.id DESC), '[]') FROM shown t))))::text
"""

_SEARCH = """
WITH q AS (SELECT websearch_to_tsquery('english', %(v)s::jsonb->>'query') AS tsq),
named AS (
  SELECT o.id, 'organisation' AS kind, o.name FROM organisations o, q
   WHERE to_tsvector('english', o.name || ' ' || array_to_string(o.aliases, ' ')) @@ q.tsq
  UNION ALL
  SELECT p.id, 'place', p.name FROM places p, q
   WHERE to_tsvector('english', p.name || ' ' || array_to_string(p.aliases, ' ')) @@ q.tsq
  UNION ALL
  SELECT h.id, 'person', h.name FROM people h, q
   WHERE to_tsvector('english', h.name || ' ' || array_to_string(h.aliases, ' ')) @@ q.tsq),
entity_hits AS (
  SELECT e.article_id, count(DISTINCT n.kind || ':' || n.id) AS n, array_agg(DISTINCT n.name) AS names
    FROM evidence e JOIN named n
      ON (n.kind = 'organisation' AND e.organisation_id = n.id) OR (n.kind = 'place' AND e.place_id = n.id)
         OR (n.kind = 'person' AND e.person_id = n.id)
   GROUP BY e.article_id),
matching AS (  -- text matches from the GIN index, plus the articles naming a matching entity
  SELECT a.id FROM articles a, q WHERE a.search @@ q.tsq
  UNION
  SELECT article_id FROM entity_hits),
candidates AS (  -- ranked: the 200 most recently published matches (app.queries.search.CANDIDATES)
  SELECT m.id FROM matching m JOIN articles n ON n.id = m.id
   ORDER BY n.published_on DESC NULLS LAST, n.id DESC LIMIT 200),
hits AS (
  SELECT a.id, ts_rank_cd(a.search, q.tsq) + 0.2 * coalesce(h.n, 0) AS rank, h.names
    FROM candidates m JOIN articles a ON a.id = m.id CROSS JOIN q LEFT JOIN entity_hits h ON h.article_id = a.id),
page AS (
  SELECT hits.*, row_number() OVER (ORDER BY rank DESC, id) - 1 AS pos FROM hits
   ORDER BY rank DESC, id LIMIT coalesce((%(v)s::jsonb->>'first')::int, 20) + 1),
shown AS (SELECT * FROM page ORDER BY pos LIMIT coalesce((%(v)s::jsonb->>'first')::int, 20)),
snippets AS (
  SELECT s.*, a.slug, a.title, a.published_on, a.publisher_id,
         search_snippet(coalesce(a.title || ' — ', '') || a.body, q.tsq) AS snippet
    FROM shown s JOIN articles a ON a.id = s.id CROSS JOIN q)"""

OPERATIONS["Search"] = f"""
{_SEARCH}
SELECT json_build_object('data', json_build_object('search', json_build_object(
  'totalCount', least((SELECT count(*) FROM (SELECT id FROM matching LIMIT 10001) c), 10000),
  'pageInfo', json_build_object('hasNextPage', (SELECT count(*) FROM page) > (SELECT count(*) FROM shown),
                                'endCursor', (SELECT bench.b64({_SEARCH_MARK} || ':' || max(pos)) FROM shown)),
  'edges', (SELECT coalesce(json_agg(json_build_object(
      'cursor', bench.b64({_SEARCH_MARK} || ':' || s.pos),
      'node', json_build_object(
         'rank', s.rank::float8, 'snippet', s.snippet,
         'matchedEntities', coalesce((SELECT json_agg(n ORDER BY n COLLATE "C") FROM unnest(s.names) n), '[]'),
         'article', json_build_object(
            'slug', s.slug, 'title', s.title, 'publishedOn', s.published_on,
            'publisher', (SELECT json_build_object('name', o.name) FROM organisations o WHERE o.id = s.publisher_id))))
    ORDER BY s.pos), '[]') FROM snippets s))))::text
"""

OPERATIONS["SearchCommon"] = f"""
{_SEARCH}
SELECT json_build_object('data', json_build_object('search', json_build_object(
  'pageInfo', json_build_object('hasNextPage', (SELECT count(*) FROM page) > (SELECT count(*) FROM shown),
                                'endCursor', (SELECT bench.b64({_SEARCH_MARK} || ':' || max(pos)) FROM shown)),
  'edges', (SELECT coalesce(json_agg(json_build_object(
      'node', json_build_object(
         'rank', s.rank::float8, 'snippet', s.snippet,
         'article', json_build_object('slug', s.slug, 'title', s.title)))
    ORDER BY s.pos), '[]') FROM snippets s))))::text
"""

OPERATIONS["TradeChart"] = """
SELECT json_build_object('data', json_build_object('tradeSeries', bench.trade_series(%(v)s::jsonb, true)))::text
"""

OPERATIONS["MonthlyTotals"] = (
    """
SELECT json_build_object('data', json_build_object('tradeSeries', CASE WHEN bench.totals_hold(%(v)s::jsonb) THEN (
"""
    + _SERIES_TOTALS.format(v="%(v)s::jsonb")
    + """
) ELSE bench.series_points(%(v)s::jsonb, false) END))::text
"""
)
