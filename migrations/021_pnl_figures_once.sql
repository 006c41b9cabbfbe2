-- Up Migration
-- Issue 12: the aggregate PnL figures are defined once, as data. Each row of
-- fifo_pnl_figure_defs is one figure (sells, win rate, realized PnL, ...): its column name,
-- type and aggregate over the columns of v_sell_pnl (015, the per-sell figures). The PnL views
-- are generated from those rows by fifo_pnl_regenerate_views(), each with its own grouping
-- (fifo_pnl_views), and `fifo report` splices the same rows into its one grouped query
-- (fifo_pnl_figures('report'), read by packages/cli/src/queries/pnl.ts); fifo_trading_metrics
-- takes its counts and win rate from them too. Each view stays a plain GROUP BY
-- over v_sell_pnl, so a `WHERE symbol = ...` on it still reaches the grouping.
-- Every view keeps its name, columns (order and types), grants and numbers.
--
-- Adding a figure: a migration inserts one row and calls the function, e.g.
--   INSERT INTO fifo_pnl_figure_defs (name, sql_type, expression, position, meaning)
--   VALUES ('breakeven_sells', 'bigint', 'count(*) FILTER (WHERE is_matched AND NOT is_win AND NOT is_loss)', 160, '...');
--   SELECT fifo_pnl_regenerate_views();
-- and it appears at the end of every PnL view and in the report's JSON (to print it in the
-- table, HTML or CSV: one entry in packages/cli/src/report/columns.ts).
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- What this migration replaces, as it was (the down puts it back).
CREATE TABLE fifo_021_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_021_replaced
SELECT v, pg_get_viewdef(v::regclass)
  FROM unnest(ARRAY['v_pnl_by_symbol', 'v_daily_pnl_by_symbol', 'v_daily_pnl', 'v_pnl_by_source', 'v_pnl_by_trigger',
                    'v_pnl_totals', 'v_pnl_by_symbol_account']) v
UNION ALL
SELECT 'fifo_trading_metrics', pg_get_functiondef('fifo_trading_metrics(int, text, timestamptz, timestamptz, boolean, text)'::regprocedure);

-- The figures. left_out_of names the views (and 'report', the figures of `fifo report`) that
-- were published without a figure; a figure added later is in all of them. A view's figures
-- come in `position` order (a figure added to an existing view goes after its columns).
CREATE TABLE fifo_pnl_figure_defs (
  name        text PRIMARY KEY CONSTRAINT fifo_pnl_figure_defs_name_is_identifier CHECK (name ~ '^[a-z][a-z0-9_]*$'),
  sql_type    regtype NOT NULL,
  expression  text NOT NULL,   -- an aggregate over v_sell_pnl's columns, unqualified
  position    int NOT NULL UNIQUE,
  left_out_of text[] NOT NULL DEFAULT '{}',
  meaning     text NOT NULL
);

INSERT INTO fifo_pnl_figure_defs (name, sql_type, expression, position, left_out_of, meaning) VALUES
  ('sells', 'bigint', 'count(*)', 10, '{}', 'sells'),
  ('winning_sells', 'bigint', 'count(*) FILTER (WHERE is_win)', 20, '{}', 'sells with a positive realized PnL'),
  ('losing_sells', 'bigint', 'count(*) FILTER (WHERE is_loss)', 30, '{v_daily_pnl_by_symbol,v_daily_pnl}',
   'sells with a negative realized PnL'),
  ('matched_size', 'numeric', 'sum(matched_size)', 40,
   '{v_daily_pnl_by_symbol,v_daily_pnl,v_pnl_by_source,v_pnl_by_trigger,v_pnl_totals,report}', 'base units matched to buys'),
  ('matched_sells', 'bigint', 'count(*) FILTER (WHERE is_matched)', 50,
   '{v_pnl_by_symbol,v_daily_pnl_by_symbol,v_daily_pnl,v_pnl_by_source,v_pnl_by_trigger,v_pnl_totals,v_pnl_by_symbol_account}',
   'sells with a matched part (those with a PnL): the win rate''s denominator'),
  ('win_rate_pct', 'numeric', 'round(100.0 * count(*) FILTER (WHERE is_win) / nullif(count(*) FILTER (WHERE is_matched), 0), 1)', 60,
   '{v_pnl_by_symbol,v_daily_pnl_by_symbol,v_daily_pnl,v_pnl_by_symbol_account}',
   'winning sells / sells with a matched part, in %, 1 decimal; NULL: no sell matched'),
  ('proceeds_usd', 'numeric', 'coalesce(sum(proceeds_usd), 0)', 70, '{}', 'proceeds of the matched parts'),
  ('cost_basis_usd', 'numeric', 'coalesce(sum(cost_basis_usd), 0)', 80, '{}', 'cost basis of the matched parts'),
  ('realized_pnl_usd', 'numeric', 'coalesce(sum(realized_pnl_usd), 0)', 90, '{}', 'realized PnL'),
  ('fees_usd', 'numeric', 'sum(fees_usd)', 100, '{}', 'sell and buy fees'),
  ('unmatched_sells', 'bigint', 'count(*) FILTER (WHERE has_unmatched)', 110, '{}', 'sells with an unmatched part'),
  ('unmatched_size', 'numeric', 'sum(unmatched_size)', 120,
   '{v_daily_pnl_by_symbol,v_daily_pnl,v_pnl_by_source,v_pnl_by_trigger,v_pnl_totals}', 'base units sold without a buy'),
  ('unmatched_proceeds_usd', 'numeric', 'coalesce(sum(unmatched_proceeds_usd), 0)', 130,
   '{v_pnl_by_symbol,v_daily_pnl_by_symbol,v_daily_pnl,v_pnl_by_source,v_pnl_by_trigger,v_pnl_by_symbol_account}',
   'proceeds of the unmatched parts (no cost basis)'),
  ('first_sell_time', 'timestamptz', 'min(sell_time)', 140, '{v_daily_pnl_by_symbol,v_daily_pnl}', 'the first sell'),
  ('last_sell_time', 'timestamptz', 'max(sell_time)', 150, '{v_daily_pnl_by_symbol,v_daily_pnl}', 'the last sell');

-- The views' groupings: key columns (before the figures), trailing columns (after them, in
-- each view as it was published; {name} there is that figure's expression), the GROUP BY,
-- and counts_as: the type the view gives its bigint counts (v_daily_pnl's are numeric, as the
-- sums it was once made of gave them).
CREATE TABLE fifo_pnl_views (
  view_name        text PRIMARY KEY,
  key_columns      text[] NOT NULL,
  trailing_columns text[] NOT NULL DEFAULT '{}',
  group_by         text NOT NULL,
  counts_as        regtype
);

INSERT INTO fifo_pnl_views (view_name, key_columns, trailing_columns, group_by, counts_as) VALUES
  ('v_pnl_by_symbol', '{allocation_version,symbol}', '{quote}', 'allocation_version, symbol, quote', NULL),
  ('v_daily_pnl_by_symbol', '{allocation_version,day,symbol}', '{}', 'allocation_version, day, symbol', NULL),
  ('v_daily_pnl', '{allocation_version,day}',
   ARRAY['sum({realized_pnl_usd}) OVER (PARTITION BY allocation_version, quote ORDER BY day) AS cumulative_pnl_usd', 'quote'],
   'allocation_version, day, quote', 'numeric'),
  ('v_pnl_by_source', '{allocation_version,source}', '{quote}', 'allocation_version, source, quote', NULL),
  ('v_pnl_by_trigger', '{allocation_version,trigger}', '{quote}', 'allocation_version, trigger, quote', NULL),
  ('v_pnl_totals', '{allocation_version}', '{quote}', 'allocation_version, quote', NULL),
  ('v_pnl_by_symbol_account', '{allocation_version,symbol,account}', '{quote}', 'allocation_version, symbol, account, quote', NULL);

-- Functions whose text takes figures: {name} is that figure's expression. 016's
-- fifo_trading_metrics as it is, its counts and win rate being the figures (same values: the
-- same aggregates over the same sells).
CREATE TABLE fifo_pnl_functions (name text PRIMARY KEY, template text NOT NULL);
INSERT INTO fifo_pnl_functions
SELECT name, replace(definition, $old$
         count(*),
         count(*) FILTER (WHERE s.is_matched),
         count(*) FILTER (WHERE s.is_win),
         count(*) FILTER (WHERE s.is_loss),
         round(100.0 * count(*) FILTER (WHERE s.is_win) / nullif(count(*) FILTER (WHERE s.is_matched), 0), 1),
$old$, $new$
         {sells}, {matched_sells}, {winning_sells}, {losing_sells}, {win_rate_pct},
$new$)
  FROM fifo_021_replaced WHERE name = 'fifo_trading_metrics';
DO $check$
BEGIN
  IF (SELECT template FROM fifo_pnl_functions WHERE name = 'fifo_trading_metrics') NOT LIKE '%{win_rate_pct}%' THEN
    RAISE EXCEPTION 'fifo_trading_metrics is not as migration 016 left it: its figures were not found';
  END IF;
END
$check$;

-- The figures of one view (or 'report'), in position order. The report reads them here.
CREATE FUNCTION fifo_pnl_figures(p_for text)
RETURNS TABLE (name text, sql_type text, expression text)
LANGUAGE sql STABLE AS $$
  SELECT f.name, format_type(f.sql_type, NULL), f.expression
    FROM fifo_pnl_figure_defs f
   WHERE NOT (p_for = ANY (f.left_out_of))
   ORDER BY f.position
$$;

-- p_sql with every {name} replaced by that figure's expression, cast to its type.
CREATE FUNCTION fifo_pnl_expand(p_sql text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  m text[];
  e text;
  r text := p_sql;
BEGIN
  FOR m IN SELECT regexp_matches(p_sql, '\{([a-z][a-z0-9_]*)\}', 'g') LOOP
    SELECT format('CAST((%s) AS %s)', d.expression, format_type(d.sql_type, NULL)) INTO e
      FROM fifo_pnl_figure_defs d WHERE d.name = m[1];
    IF NOT FOUND THEN
      RAISE EXCEPTION 'fifo_pnl_expand: no PnL figure named % (fifo_pnl_figure_defs)', m[1] USING ERRCODE = 'undefined_column';
    END IF;
    r := replace(r, '{' || m[1] || '}', e);
  END LOOP;
  RETURN r;
END
$$;

-- (Re)creates every view of fifo_pnl_views from the figure rows, and fifo_pnl_functions.
-- A view keeps its columns where they are (CREATE OR REPLACE keeps its grants and the views
-- built on it); a figure new to it goes at the end. A view that lost a figure is made anew
-- (refused while other views are built on it).
CREATE FUNCTION fifo_pnl_regenerate_views() RETURNS void
LANGUAGE plpgsql AS $regen$
DECLARE
  v record;
  f record;
  x text;
  unknown text;
  names text[];
  items text[];
  existing text[];
  ordered text[];
BEGIN
  SELECT string_agg(DISTINCT c, ', ') INTO unknown
    FROM fifo_pnl_figure_defs d CROSS JOIN LATERAL unnest(d.left_out_of) c
   WHERE c <> 'report' AND c NOT IN (SELECT view_name FROM fifo_pnl_views);
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'fifo_pnl_figure_defs.left_out_of names no PnL view: %', unknown USING ERRCODE = 'undefined_table';
  END IF;

  FOR v IN SELECT * FROM fifo_pnl_views ORDER BY view_name LOOP
    names := '{}';
    items := '{}';
    FOREACH x IN ARRAY v.key_columns LOOP
      names := names || substring(x FROM '([a-z_][a-z0-9_]*)\s*$');
      items := items || x;
    END LOOP;
    FOR f IN SELECT * FROM fifo_pnl_figures(v.view_name) LOOP
      names := names || f.name;
      items := items || format('CAST((%s) AS %s) AS %I', f.expression,
                               CASE WHEN f.sql_type = 'bigint' AND v.counts_as IS NOT NULL THEN format_type(v.counts_as, NULL)
                                    ELSE f.sql_type END, f.name);
    END LOOP;
    FOREACH x IN ARRAY v.trailing_columns LOOP
      names := names || substring(x FROM '([a-z_][a-z0-9_]*)\s*$');
      items := items || fifo_pnl_expand(x);
    END LOOP;
    existing := ARRAY(SELECT a.attname::text FROM pg_attribute a
                       WHERE a.attrelid = to_regclass(v.view_name) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum);
    IF existing <@ names THEN
      ordered := ARRAY(SELECT items[array_position(names, e.n)] FROM unnest(existing) WITH ORDINALITY e(n, i) ORDER BY e.i)
              || ARRAY(SELECT items[i] FROM generate_subscripts(names, 1) i WHERE names[i] <> ALL (existing) ORDER BY i);
    ELSE
      EXECUTE format('DROP VIEW %I', v.view_name);
      ordered := items;
    END IF;
    EXECUTE format('CREATE OR REPLACE VIEW %I AS SELECT %s FROM v_sell_pnl GROUP BY %s',
                   v.view_name, array_to_string(ordered, ', '), v.group_by);
    EXECUTE format('GRANT SELECT ON %I TO fifo_reader, fifo_engine', v.view_name);
  END LOOP;

  -- functions built on the figures (fifo_trading_metrics)
  FOR f IN SELECT * FROM fifo_pnl_functions ORDER BY name LOOP
    EXECUTE fifo_pnl_expand(f.template);
  END LOOP;
END
$regen$;

SELECT fifo_apply_security();
SELECT fifo_pnl_regenerate_views();
GRANT SELECT ON fifo_pnl_figure_defs, fifo_pnl_views TO fifo_reader, fifo_engine;
GRANT EXECUTE ON FUNCTION fifo_pnl_figures(text) TO fifo_reader;

-- Down Migration
-- Every view and fifo_trading_metrics as 015, 016 and 018 left them (saved by the up). A view
-- that gained a figure since is made anew (a view's columns cannot be dropped in place).
DO $restore$
DECLARE
  r record;
BEGIN
  EXECUTE (SELECT definition FROM fifo_021_replaced WHERE name = 'fifo_trading_metrics');
  FOR r IN SELECT * FROM fifo_021_replaced WHERE name LIKE 'v\_%' LOOP
    BEGIN
      EXECUTE format('CREATE OR REPLACE VIEW %I AS %s', r.name, r.definition);
    EXCEPTION WHEN invalid_table_definition THEN
      EXECUTE format('DROP VIEW %I', r.name);
      EXECUTE format('CREATE VIEW %I AS %s', r.name, r.definition);
      EXECUTE format('GRANT SELECT ON %I TO fifo_reader, fifo_engine', r.name);
    END;
  END LOOP;
END
$restore$;
DROP FUNCTION fifo_pnl_regenerate_views();
DROP FUNCTION fifo_pnl_expand(text);
DROP FUNCTION fifo_pnl_figures(text);
DROP TABLE fifo_pnl_functions;
DROP TABLE fifo_pnl_views;
DROP TABLE fifo_pnl_figure_defs;
DROP TABLE fifo_021_replaced;
