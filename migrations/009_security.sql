-- Up Migration
-- Security (issue 10): every function of the schema resolves names in the schema and only
-- then in pg_temp, nothing is executable by PUBLIC, the role grants are re-applied whenever
-- functions are (re)installed, a view lists where the ledger and its audit trail disagree,
-- fifo_run computes in bounded batches, and without PLV8 the procedures exist as stand-ins
-- that say what to do instead of "function does not exist".
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- The error every in-database entry point raises when PLV8 is missing (one message, one hint).
CREATE FUNCTION fifo_plv8_missing(p_caller text, p_needs text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% needs %, which is not installed in this database', p_caller, p_needs
    USING ERRCODE = 'undefined_function',
          HINT = 'Without PLV8, schedule the runner instead: pnpm fifo compute --incremental, pnpm fifo validate (README, "Watching and scheduling").';
END $$;

-- Stand-ins for the PLV8 procedures (signatures of packages/plv8/generated/procedures.json).
-- installProcedures() replaces them when PLV8 is there and keeps them in step with the bundle
-- when it is not; the comment marks them (--host auto looks for language plv8, not a name).
DO $stand_ins$
DECLARE
  s record;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_language WHERE lanname = 'plv8') THEN RETURN; END IF;
  FOR s IN SELECT * FROM (VALUES
      ('fifo_compute', 'allocation_version int, symbols text[], mode text, computation_id bigint', 'int, text[], text, bigint'),
      ('fifo_validate', 'allocation_version int, max_rows int', 'int, int')) v(name, args, types)
  LOOP
    CONTINUE WHEN to_regprocedure(format('%I(%s)', s.name, s.types)) IS NOT NULL;
    EXECUTE format($f$CREATE FUNCTION %I(%s) RETURNS jsonb LANGUAGE plpgsql AS $body$
      BEGIN PERFORM fifo_plv8_missing(%L, 'PLV8'); RETURN NULL; END $body$$f$, s.name, s.args, s.name);
    EXECUTE format('COMMENT ON FUNCTION %I(%s) IS %L', s.name, s.types, 'fifo-ledger stand-in: PLV8 is not installed');
  END LOOP;
END
$stand_ins$;

-- Two fifo_compute results as one: outcomes concatenated, counts and timings summed.
CREATE FUNCTION fifo_run_merge(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE
RETURN CASE WHEN a IS NULL THEN b ELSE a || jsonb_build_object(
  'symbols', (a -> 'symbols') || (b -> 'symbols'),
  'tradesProcessed', (a ->> 'tradesProcessed')::bigint + (b ->> 'tradesProcessed')::bigint,
  'allocationsWritten', (a ->> 'allocationsWritten')::bigint + (b ->> 'allocationsWritten')::bigint,
  'unmatchedCount', (a ->> 'unmatchedCount')::bigint + (b ->> 'unmatchedCount')::bigint,
  'symbolsFailed', (a ->> 'symbolsFailed')::int + (b ->> 'symbolsFailed')::int,
  'timings', jsonb_build_object(
    'readMs', coalesce((a #>> '{timings,readMs}')::numeric, 0) + coalesce((b #>> '{timings,readMs}')::numeric, 0),
    'allocateMs', coalesce((a #>> '{timings,allocateMs}')::numeric, 0) + coalesce((b #>> '{timings,allocateMs}')::numeric, 0),
    'writeMs', coalesce((a #>> '{timings,writeMs}')::numeric, 0) + coalesce((b #>> '{timings,writeMs}')::numeric, 0)))
END;

-- fifo_run (005) with whole-symbol batches of about 25,000 trades per fifo_compute call, like
-- the runner: one call over every symbol exhausts PLV8's 256 MB isolate between 250k and 500k
-- trades. The batches share the run's transaction (a function cannot commit), so the
-- per-symbol advisory locks are held until it ends.
CREATE OR REPLACE FUNCTION fifo_run(p_version int DEFAULT 1, p_mode text DEFAULT 'incremental') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  batch_trades constant bigint := 25000;
  run_id  bigint;
  symbols text[];
  batch   text[] := '{}';
  n       bigint := 0;
  r       record;
  part    jsonb;
  result  jsonb;
BEGIN
  IF p_mode IS NULL OR p_mode NOT IN ('full', 'incremental') THEN
    RAISE EXCEPTION 'fifo_run: p_mode must be full or incremental, got %', coalesce(p_mode, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = to_regprocedure('fifo_compute(int, text[], text, bigint)')
                    AND obj_description(p.oid, 'pg_proc') IS DISTINCT FROM 'fifo-ledger stand-in: PLV8 is not installed') THEN
    PERFORM fifo_plv8_missing('fifo_run', 'the PLV8 procedure fifo_compute');
  END IF;
  -- runs left running by a session that is gone
  UPDATE fifo_computation_log l SET status = 'abandoned', finished_at = clock_timestamp(),
         error = 'runner session ended before the run finished'
   WHERE status = 'running'
     AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = (l.runner ->> 'backend_pid')::int);
  -- incremental: what changed or was never computed; full: everything
  SELECT array_agg(symbol) INTO symbols FROM (
    SELECT symbol FROM fifo_dirty_symbols WHERE allocation_version = p_version AND p_mode = 'incremental'
    UNION SELECT l.symbol FROM fifo_ledger_symbols() l(symbol) WHERE p_mode = 'full'
    UNION SELECT symbol FROM fifo_inventory_snapshot WHERE allocation_version = p_version AND p_mode = 'full') x;
  INSERT INTO fifo_computation_log (allocation_version, mode, symbols, host, runner)
  VALUES (p_version, p_mode, NULL, 'plv8', jsonb_build_object('backend_pid', pg_backend_pid(), 'scheduler', 'fifo_run'))
  RETURNING computation_id INTO run_id;
  FOR r IN
    SELECT u.symbol, coalesce(c.trades, 0) AS trades
      FROM unnest(coalesce(symbols, '{}')) u(symbol)
      LEFT JOIN (SELECT t.symbol, count(*) AS trades FROM trade_records t
                  WHERE t.symbol = ANY (symbols) GROUP BY t.symbol) c ON c.symbol = u.symbol
     ORDER BY u.symbol COLLATE "C"
  LOOP
    IF cardinality(batch) > 0 AND n + r.trades > batch_trades THEN
      part := fifo_compute(p_version, batch, p_mode, run_id);
      result := fifo_run_merge(result, part);
      batch := '{}';
      n := 0;
    END IF;
    batch := batch || r.symbol;
    n := n + r.trades;
  END LOOP;
  IF cardinality(batch) > 0 OR result IS NULL THEN
    result := fifo_run_merge(result, fifo_compute(p_version, batch, p_mode, run_id));
  END IF;
  UPDATE fifo_computation_log
     SET status = CASE WHEN (result ->> 'symbolsFailed')::int > 0 THEN 'failed' ELSE 'success' END,
         finished_at = clock_timestamp(),
         trades_processed = (result ->> 'tradesProcessed')::bigint,
         allocations_written = (result ->> 'allocationsWritten')::bigint,
         unmatched_count = (result ->> 'unmatchedCount')::bigint,
         symbols_computed = jsonb_array_length(result -> 'symbols') - (result ->> 'symbolsFailed')::int,
         symbols_failed = (result ->> 'symbolsFailed')::int,
         error = (SELECT string_agg(s ->> 'symbol' || ': ' || (s ->> 'error'), E'\n')
                    FROM jsonb_array_elements(result -> 'symbols') s WHERE s ->> 'status' = 'failed')
   WHERE computation_id = run_id;
  RETURN result || jsonb_build_object('computationId', run_id);
END $$;

-- Where the ledger disagrees with its audit trail: a change made with the ledger trigger off
-- (ALTER TABLE ... DISABLE TRIGGER, session_replication_role = replica: owner or superuser
-- only). Same columns as v_allocation_discrepancies. Facts of an adopted ledger that predate
-- the adoption (trade_records_legacy_snapshot) have no audit row by design. order_time is
-- compared as a time: the trail's jsonb renders it in the writer's TimeZone.
CREATE VIEW v_audit_trail_discrepancies AS
WITH latest AS (
  SELECT DISTINCT ON (a.order_id) a.audit_id, a.operation, a.symbol, a.order_id, a.new_fact
    FROM trade_records_audit a
   ORDER BY a.order_id, a.audit_id DESC
), facts AS (
  SELECT t.order_id, t.symbol, t.order_time::timestamptz AS order_time,
         fifo_fact_json(t.order_id, t.symbol, t.side, t.size::numeric, t.price::numeric, t.total_fees_usd::numeric,
                        t.order_time::timestamptz, t.source, t.trigger) AS fact
    FROM trade_records t
)
SELECT NULL::int AS allocation_version, f.symbol, f.order_id, 'fact_not_audited'::text AS check_name,
       'an INSERT or UPDATE row in trade_records_audit'::text AS expected, f.fact::text AS actual,
       'the fact was written with the ledger trigger disabled (owner or superuser)'::text AS details
  FROM facts f
 WHERE NOT EXISTS (SELECT 1 FROM latest l WHERE l.order_id = f.order_id)
   AND NOT EXISTS (SELECT 1 FROM trade_records_legacy_snapshot s WHERE s.order_id = f.order_id AND s.symbol = f.symbol)
UNION ALL
SELECT NULL::int, f.symbol, f.order_id, 'fact_differs_from_audit',
       coalesce(l.new_fact::text, 'deleted'), f.fact::text,
       format('the fact differs from its latest audit row %s (%s): changed with the ledger trigger disabled', l.audit_id, l.operation)
  FROM facts f JOIN latest l ON l.order_id = f.order_id
 WHERE l.new_fact IS NULL
    OR (l.new_fact - 'order_time') IS DISTINCT FROM (f.fact - 'order_time')
    OR (l.new_fact ->> 'order_time')::timestamptz IS DISTINCT FROM f.order_time
UNION ALL
SELECT NULL::int, l.symbol, l.order_id, 'audited_fact_missing',
       l.new_fact::text, 'no fact',
       format('audit row %s (%s) says the fact exists, the ledger lacks it: deleted with the ledger trigger disabled or truncated', l.audit_id, l.operation)
  FROM latest l
 WHERE l.operation IN ('INSERT', 'UPDATE')
   AND NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = l.order_id);

-- Pins, revokes and grants for everything in the schema, as its owner; idempotent. Run at the
-- end of this migration, by `migrate up` after every migration, and by installProcedures()
-- after (re)installing the procedures, so functions created later are covered too.
-- Functions with a SQL-standard body (BEGIN ATOMIC / RETURN) are not pinned: their names
-- were bound when they were created, search_path cannot change what they call, and a SET
-- clause would stop the planner from inlining them (13x slower per row in the views).
CREATE FUNCTION fifo_apply_security() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  s constant text := current_schema();
  pin constant text := format('search_path=%s, pg_temp', quote_ident(current_schema()));
  f record;
  rel text;
BEGIN
  IF s IS NULL OR s IN ('pg_catalog', 'information_schema') OR s LIKE 'pg\_temp%' THEN
    RAISE EXCEPTION 'fifo_apply_security: current schema % is not a fifo-ledger schema', coalesce(s, 'NULL');
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO fifo_writer, fifo_reader, fifo_engine', s);

  FOR f IN
    SELECT p.oid::regprocedure::text AS sig, p.proname::text AS name, p.prokind, p.prosqlbody IS NOT NULL AS bound,
           coalesce(pin = ANY (p.proconfig), false) AS pinned
      FROM pg_proc p
     WHERE p.pronamespace = s::regnamespace AND p.prokind IN ('f', 'p', 'w')
       AND p.proname LIKE 'fifo\_%'  -- ours only: the schema may be public, holding the user's own
       AND pg_has_role(p.proowner, 'USAGE')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    IF NOT f.bound AND NOT f.pinned THEN
      EXECUTE format('ALTER ROUTINE %s SET search_path = %I, pg_temp', f.sig, s);
    END IF;
    EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', f.sig);
    IF f.name <> 'fifo_apply_security' THEN
      EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO fifo_engine', f.sig);
    END IF;
  END LOOP;

  -- reader: the views and the read-only functions they (and the read-only commands) call
  FOR f IN
    SELECT DISTINCT p.oid::regprocedure::text AS sig
      FROM pg_proc p
     WHERE p.pronamespace = s::regnamespace AND pg_has_role(p.proowner, 'USAGE')
       AND (p.proname IN ('fifo_side_rank', 'fifo_try_numeric', 'fifo_fact_json', 'fifo_diff_by_sell',
                          'fifo_diff_by_symbol', 'fifo_open_position', 'fifo_ledger_symbols')
            OR EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class c ON c.oid = w.ev_class
                        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_proc'::regclass
                          AND d.refobjid = p.oid AND c.relnamespace = s::regnamespace))
       AND p.provolatile <> 'v'  -- a STABLE or IMMUTABLE function cannot write
  LOOP
    EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO fifo_reader', f.sig);
  END LOOP;

  FOR rel IN
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = s::regnamespace AND c.relkind IN ('v', 'm') AND c.relname LIKE 'v\_%'
       AND pg_has_role(c.relowner, 'USAGE')
       -- ours only: views that read this schema's fifo-ledger tables
       AND EXISTS (SELECT 1 FROM pg_rewrite w JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                     JOIN pg_class t ON t.oid = d.refobjid AND d.refclassid = 'pg_class'::regclass
                    WHERE w.ev_class = c.oid AND t.relnamespace = s::regnamespace
                      AND (t.relname IN ('trade_records', 'trade_records_audit', 'trade_records_legacy_snapshot')
                           OR t.relname LIKE 'fifo\_%'))
  LOOP
    EXECUTE format('GRANT SELECT ON %I.%I TO fifo_reader, fifo_engine', s, rel);
  END LOOP;

  FOR rel IN
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = s::regnamespace AND c.relkind IN ('r', 'p') AND pg_has_role(c.relowner, 'USAGE')
       AND c.relname IN ('trade_records', 'trade_records_audit', 'trade_records_legacy_snapshot', 'fifo_adoption',
                         'fifo_allocation_versions', 'fifo_allocations', 'fifo_inventory_snapshot', 'manual_review_queue',
                         'fifo_dirty_symbols', 'fifo_computation_log')
  LOOP
    -- writer: the facts, nothing else
    IF rel = 'trade_records' THEN
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO fifo_writer', s, rel);
    END IF;
    -- engine: reads facts and their audit, owns the computed data
    IF rel IN ('trade_records', 'trade_records_audit', 'trade_records_legacy_snapshot', 'fifo_adoption', 'fifo_allocation_versions') THEN
      EXECUTE format('GRANT SELECT ON %I.%I TO fifo_engine', s, rel);
    ELSE
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO fifo_engine', s, rel);
    END IF;
    -- reader: reads facts, computed data, the adoption and its legacy values (what report,
    -- health, review list, diff, export and legacy-compare read); not the audit trail (who
    -- changed what, when)
    IF rel <> 'trade_records_audit' THEN
      EXECUTE format('GRANT SELECT ON %I.%I TO fifo_reader', s, rel);
    END IF;
  END LOOP;
END $$;

SELECT fifo_apply_security();

-- Down Migration
-- Pins stay (008's down resets its own; each function goes with its migration) and so does
-- PUBLIC's missing execute right (008's down gives it back).
DROP VIEW IF EXISTS v_audit_trail_discrepancies;
DO $down$
DECLARE
  s constant text := current_schema();
  f text;
  rel text;
BEGIN
  FOR f IN SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.pronamespace = s::regnamespace
              AND obj_description(p.oid, 'pg_proc') = 'fifo-ledger stand-in: PLV8 is not installed'
  LOOP
    EXECUTE format('DROP FUNCTION %s', f);
  END LOOP;
  FOREACH rel IN ARRAY ARRAY['trade_records', 'trade_records_legacy_snapshot', 'fifo_adoption', 'fifo_allocation_versions', 'fifo_allocations', 'fifo_inventory_snapshot',
                             'manual_review_queue', 'fifo_dirty_symbols', 'fifo_computation_log'] LOOP
    IF to_regclass(rel) IS NOT NULL THEN EXECUTE format('REVOKE SELECT ON %I FROM fifo_reader', rel); END IF;
  END LOOP;
END
$down$;
DROP FUNCTION IF EXISTS fifo_apply_security();
-- fifo_run as 005 and 008 left it
CREATE OR REPLACE FUNCTION fifo_run(p_version int DEFAULT 1, p_mode text DEFAULT 'incremental') RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  run_id  bigint;
  symbols text[];
  result  jsonb;
BEGIN
  IF to_regprocedure('fifo_compute(int, text[], text, bigint)') IS NULL THEN
    RAISE EXCEPTION 'fifo_run needs the PLV8 procedure fifo_compute, which is not installed in this database'
      USING ERRCODE = 'undefined_function',
            HINT = 'Without PLV8, schedule the runner instead: pnpm fifo compute --incremental (README, "Scheduling").';
  END IF;
  IF p_mode NOT IN ('full', 'incremental') THEN
    RAISE EXCEPTION 'fifo_run: p_mode must be full or incremental, got %', p_mode USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE fifo_computation_log l SET status = 'abandoned', finished_at = clock_timestamp(),
         error = 'runner session ended before the run finished'
   WHERE status = 'running'
     AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = (l.runner ->> 'backend_pid')::int);
  SELECT array_agg(symbol ORDER BY symbol) INTO symbols FROM (
    SELECT symbol FROM fifo_dirty_symbols WHERE allocation_version = p_version AND p_mode = 'incremental'
    UNION SELECT l.symbol FROM fifo_ledger_symbols() l(symbol) WHERE p_mode = 'full'
    UNION SELECT symbol FROM fifo_inventory_snapshot WHERE allocation_version = p_version AND p_mode = 'full') x;
  INSERT INTO fifo_computation_log (allocation_version, mode, symbols, host, runner)
  VALUES (p_version, p_mode, NULL, 'plv8', jsonb_build_object('backend_pid', pg_backend_pid(), 'scheduler', 'fifo_run'))
  RETURNING computation_id INTO run_id;
  result := fifo_compute(p_version, coalesce(symbols, '{}'), p_mode, run_id);
  UPDATE fifo_computation_log
     SET status = CASE WHEN (result ->> 'symbolsFailed')::int > 0 THEN 'failed' ELSE 'success' END,
         finished_at = clock_timestamp(),
         trades_processed = (result ->> 'tradesProcessed')::bigint,
         allocations_written = (result ->> 'allocationsWritten')::bigint,
         unmatched_count = (result ->> 'unmatchedCount')::bigint,
         symbols_computed = jsonb_array_length(result -> 'symbols') - (result ->> 'symbolsFailed')::int,
         symbols_failed = (result ->> 'symbolsFailed')::int,
         error = (SELECT string_agg(s ->> 'symbol' || ': ' || (s ->> 'error'), E'\n')
                    FROM jsonb_array_elements(result -> 'symbols') s WHERE s ->> 'status' = 'failed')
   WHERE computation_id = run_id;
  RETURN result || jsonb_build_object('computationId', run_id);
END $$;
DROP FUNCTION IF EXISTS fifo_run_merge(jsonb, jsonb);
DROP FUNCTION IF EXISTS fifo_plv8_missing(text, text);
