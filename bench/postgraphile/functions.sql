-- What PostGraphile needs to answer the benchmark's operations with the same data as tradegraph.
--
-- PostGraphile builds its schema from the tables; everything that is not a plain column or a
-- foreign key (lists in order of first mention, place subtrees, USD amounts, full-text search,
-- trade series) is added the PostGraphile way: computed columns (functions named
-- <table>_<field> taking the row, in the table's schema) and custom queries (set-returning
-- functions). Installed into the benchmark database only, by bench/run.py, after bench/limit_sql.py's
-- helpers (schema `bench`), which some of these reuse. Idempotent.

CREATE OR REPLACE FUNCTION public.articles_organisations(a public.articles) RETURNS SETOF public.organisations
LANGUAGE sql STABLE AS $$
  SELECT x.* FROM (SELECT organisation_id AS sid, min(start_offset) AS pos FROM evidence
                    WHERE article_id = a.id AND organisation_id IS NOT NULL GROUP BY organisation_id) m
  JOIN organisations x ON x.id = m.sid ORDER BY m.pos, x.id
$$;

CREATE OR REPLACE FUNCTION public.articles_places(a public.articles) RETURNS SETOF public.places
LANGUAGE sql STABLE AS $$
  SELECT x.* FROM (SELECT place_id AS sid, min(start_offset) AS pos FROM evidence
                    WHERE article_id = a.id AND place_id IS NOT NULL GROUP BY place_id) m
  JOIN places x ON x.id = m.sid ORDER BY m.pos, x.id
$$;

CREATE OR REPLACE FUNCTION public.articles_people(a public.articles) RETURNS SETOF public.people
LANGUAGE sql STABLE AS $$
  SELECT x.* FROM (SELECT person_id AS sid, min(start_offset) AS pos FROM evidence
                    WHERE article_id = a.id AND person_id IS NOT NULL GROUP BY person_id) m
  JOIN people x ON x.id = m.sid ORDER BY m.pos, x.id
$$;

CREATE OR REPLACE FUNCTION public.articles_trade_figures(a public.articles) RETURNS SETOF public.trade_figures
LANGUAGE sql STABLE AS $$
  SELECT x.* FROM (SELECT trade_figure_id AS sid, min(start_offset) AS pos FROM evidence
                    WHERE article_id = a.id AND trade_figure_id IS NOT NULL GROUP BY trade_figure_id) m
  JOIN trade_figures x ON x.id = m.sid ORDER BY m.pos, x.id
$$;

CREATE OR REPLACE FUNCTION public.articles_events(a public.articles) RETURNS SETOF public.events
LANGUAGE sql STABLE AS $$
  SELECT x.* FROM (SELECT event_id AS sid, min(start_offset) AS pos FROM evidence
                    WHERE article_id = a.id AND event_id IS NOT NULL GROUP BY event_id) m
  JOIN events x ON x.id = m.sid ORDER BY m.pos, x.id
$$;

CREATE OR REPLACE FUNCTION public.events_places(e public.events) RETURNS SETOF public.places
LANGUAGE sql STABLE AS $$
  SELECT p.* FROM event_places ep JOIN places p ON p.id = ep.place_id WHERE ep.event_id = e.id ORDER BY p.name
$$;

CREATE OR REPLACE FUNCTION public.events_organisations(e public.events) RETURNS SETOF public.organisations
LANGUAGE sql STABLE AS $$
  SELECT o.* FROM (SELECT organisation_id, min(id) AS first FROM event_participants
                    WHERE event_id = e.id AND organisation_id IS NOT NULL GROUP BY organisation_id) f
  JOIN organisations o ON o.id = f.organisation_id ORDER BY f.first
$$;

CREATE OR REPLACE FUNCTION public.places_children(p public.places) RETURNS SETOF public.places
LANGUAGE sql STABLE AS $$
  SELECT c.* FROM places c WHERE c.parent_id = p.id ORDER BY c.name, c.id
$$;

CREATE OR REPLACE FUNCTION public.organisations_articles(o public.organisations) RETURNS SETOF public.articles
LANGUAGE sql STABLE AS $$
  SELECT a.* FROM articles a
   WHERE a.publisher_id = o.id OR EXISTS (SELECT 1 FROM evidence e WHERE e.article_id = a.id AND e.organisation_id = o.id)
   ORDER BY coalesce(a.published_on, '0001-01-01') DESC, a.id DESC
$$;

DO $$ BEGIN
  CREATE TYPE public.converted_money AS (amount numeric, rate numeric, rate_date date, source text);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.trade_figures_amount_usd(t public.trade_figures) RETURNS public.converted_money
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN t.amount IS NULL THEN NULL
              WHEN t.currency = 'USD' THEN ROW(t.amount, 1::numeric, t.period_end, 'stated in the article')::converted_money
              ELSE (SELECT ROW(c.amount, c.rate, c.rate_date, c.source)::converted_money FROM currency_conversions c
                     WHERE c.trade_figure_id = t.id AND c.kind = 'computed' AND c.to_currency = 'USD') END
$$;

CREATE OR REPLACE FUNCTION public.trade_figures_stated_conversion(t public.trade_figures)
RETURNS public.currency_conversions LANGUAGE sql STABLE AS $$
  SELECT c.* FROM currency_conversions c WHERE c.trade_figure_id = t.id AND c.kind = 'stated'
$$;

-- custom queries ---------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.events_between(from_day date, to_day date) RETURNS SETOF public.events
LANGUAGE sql STABLE AS $$
  SELECT ev.* FROM events ev
   WHERE coalesce(ev.ends_on, bench.last_day(ev.starts_on, ev.date_precision)) >= from_day AND ev.starts_on <= to_day
   ORDER BY coalesce(ev.starts_on, '9999-12-31'), ev.id
$$;

CREATE OR REPLACE FUNCTION public.events_with_organisation(slug text) RETURNS SETOF public.events
LANGUAGE sql STABLE AS $$
  SELECT ev.* FROM events ev
   WHERE EXISTS (SELECT 1 FROM event_participants pt JOIN organisations o ON o.id = pt.organisation_id
                  WHERE pt.event_id = ev.id AND o.slug = events_with_organisation.slug)
   ORDER BY coalesce(ev.starts_on, '9999-12-31'), ev.id
$$;

CREATE OR REPLACE FUNCTION public.events_within(place text) RETURNS SETOF public.events
LANGUAGE sql STABLE AS $$
  SELECT ev.* FROM events ev
   WHERE EXISTS (SELECT 1 FROM event_places ep
                  WHERE ep.event_id = ev.id AND ep.place_id = ANY(ARRAY(SELECT bench.subtree(place))))
   ORDER BY coalesce(ev.starts_on, '9999-12-31'), ev.id
$$;

CREATE OR REPLACE FUNCTION public.articles_mentioning_within(place text) RETURNS SETOF public.articles
LANGUAGE sql STABLE AS $$
  SELECT a.* FROM articles a
   WHERE EXISTS (SELECT 1 FROM evidence e
                  WHERE e.article_id = a.id AND e.place_id = ANY(ARRAY(SELECT bench.subtree(place))))
   ORDER BY coalesce(a.published_on, '0001-01-01') DESC, a.id DESC
$$;

CREATE OR REPLACE FUNCTION public.figures_reported_within(place text) RETURNS SETOF public.trade_figures
LANGUAGE sql STABLE AS $$
  SELECT t.* FROM trade_figures t
   WHERE t.reporter_id = ANY(ARRAY(SELECT bench.subtree(place)))
      OR (t.flow = 'total' AND t.partner_id = ANY(ARRAY(SELECT bench.subtree(place))))
   ORDER BY t.period_end DESC, t.id DESC
$$;

CREATE OR REPLACE FUNCTION public.figures_between(
  reporter text, partner text, flows text[], period_from date, period_to date
) RETURNS SETOF public.trade_figures LANGUAGE sql STABLE AS $$
  SELECT t.* FROM trade_figures t
   WHERE ((t.reporter_id = ANY(ARRAY(SELECT bench.subtree(reporter)))
           AND t.partner_id = ANY(ARRAY(SELECT bench.subtree(partner))))
          OR (t.flow = 'total' AND t.partner_id = ANY(ARRAY(SELECT bench.subtree(reporter)))
              AND t.reporter_id = ANY(ARRAY(SELECT bench.subtree(partner)))))
     AND t.flow = ANY(flows) AND t.period_end >= period_from AND t.period_start <= period_to
   ORDER BY t.period_end DESC, t.id DESC
$$;

DO $$ BEGIN
  CREATE TYPE public.search_hit AS (
    rank float8, snippet text, matched_entities text[], slug text, title text, published_on date, publisher text);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- `max_hits` bounds the work like tradegraph's offset/limit: snippets are made for those hits only
CREATE OR REPLACE FUNCTION public.search_articles(query text, max_hits int) RETURNS SETOF public.search_hit
LANGUAGE sql STABLE AS $$
  WITH q AS (SELECT websearch_to_tsquery('english', query) AS tsq),
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
     GROUP BY e.article_id)
  SELECT (ts_rank_cd(a.search, q.tsq) + 0.2 * coalesce(h.n, 0))::float8,
         search_snippet(coalesce(a.title || ' — ', '') || a.body, q.tsq),
         (SELECT coalesce(array_agg(n ORDER BY n COLLATE "C"), '{}') FROM unnest(h.names) n),
         a.slug, a.title, a.published_on, (SELECT o.name FROM organisations o WHERE o.id = a.publisher_id)
    FROM (SELECT m.id FROM (SELECT a.id FROM articles a, q WHERE a.search @@ q.tsq  -- from the GIN index
                            UNION SELECT article_id FROM entity_hits) m
            JOIN articles n ON n.id = m.id  -- ranked: the 200 most recently published matches
           ORDER BY n.published_on DESC NULLS LAST, n.id DESC LIMIT 200) m
    JOIN articles a ON a.id = m.id CROSS JOIN q LEFT JOIN entity_hits h ON h.article_id = a.id
   ORDER BY 1 DESC, a.id
   LIMIT max_hits
$$;

-- the series' totals; with `sources`, each point also with that many of its figures and of those
-- left out (bench.trade_series)
DROP FUNCTION IF EXISTS public.trade_series(jsonb, text, text, boolean);
CREATE OR REPLACE FUNCTION public.trade_series(filter jsonb, granularity text, currency text, sources int DEFAULT NULL)
RETURNS json LANGUAGE sql STABLE AS $$
  SELECT bench.trade_series(jsonb_build_object('filter', filter, 'granularity', granularity, 'currency', currency,
                                               'sources', sources),
                            sources IS NOT NULL)
$$;
