-- Up Migration
-- fifo_run(): one logged computation run from SQL, for schedulers inside the database
-- (pg_cron) where the PLV8 procedures are installed. Without PLV8 it says what to do instead.
--
--   SELECT cron.schedule('fifo-incremental', '* * * * *', $$SELECT fifo_run(1, 'incremental')$$);

-- Distinct symbols of the ledger by a loose index scan (one index probe per symbol).
CREATE FUNCTION fifo_ledger_symbols() RETURNS SETOF text LANGUAGE sql STABLE AS $$
  WITH RECURSIVE s(symbol) AS (
    (SELECT symbol FROM trade_records ORDER BY symbol LIMIT 1)
    UNION ALL
    SELECT (SELECT t.symbol FROM trade_records t WHERE t.symbol > s.symbol ORDER BY t.symbol LIMIT 1)
      FROM s WHERE s.symbol IS NOT NULL)
  SELECT symbol FROM s WHERE symbol IS NOT NULL
$$;

-- "Needs computing" is exactly "dirty": every fact change marks its symbol for every
-- version (002), and a version created after the facts starts with all its symbols dirty.
CREATE FUNCTION fifo_mark_new_version_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO fifo_dirty_symbols (allocation_version, symbol, dirty_from, last_audit_id)
  SELECT NEW.allocation_version, l.symbol, '-infinity', 0 FROM fifo_ledger_symbols() l(symbol)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER fifo_allocation_versions_mark_dirty AFTER INSERT ON fifo_allocation_versions
  FOR EACH ROW EXECUTE FUNCTION fifo_mark_new_version_dirty();
-- and so do the symbols of an adopted ledger, whose facts predate the trigger
INSERT INTO fifo_dirty_symbols (allocation_version, symbol, dirty_from, last_audit_id)
SELECT v.allocation_version, l.symbol, '-infinity', 0
  FROM fifo_allocation_versions v CROSS JOIN fifo_ledger_symbols() l(symbol)
 WHERE NOT EXISTS (SELECT 1 FROM fifo_inventory_snapshot s WHERE s.allocation_version = v.allocation_version AND s.symbol = l.symbol)
ON CONFLICT DO NOTHING;

CREATE FUNCTION fifo_run(p_version int DEFAULT 1, p_mode text DEFAULT 'incremental') RETURNS jsonb
LANGUAGE plpgsql AS $$
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
  -- runs left running by a session that is gone
  UPDATE fifo_computation_log l SET status = 'abandoned', finished_at = clock_timestamp(),
         error = 'runner session ended before the run finished'
   WHERE status = 'running'
     AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = (l.runner ->> 'backend_pid')::int);
  -- incremental: what changed or was never computed; full: everything
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

-- Down Migration
DROP TRIGGER IF EXISTS fifo_allocation_versions_mark_dirty ON fifo_allocation_versions;
DROP FUNCTION IF EXISTS fifo_mark_new_version_dirty();
DROP FUNCTION IF EXISTS fifo_run(int, text);
DROP FUNCTION IF EXISTS fifo_ledger_symbols();
