-- Up Migration
-- One definition of a run's lifecycle in fifo_computation_log, for the CLI's runner and for
-- fifo_run (pg_cron): start (dead runs abandoned, their leftover stages dropped, the run logged)
-- and finish (status and figures from the symbols' outcomes, the error text of failed ones).

-- Runs left `running` by a session that is gone (killed, crashed) are abandoned.
CREATE FUNCTION fifo_run_log_abandon_dead() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  n int;
BEGIN
  UPDATE fifo_computation_log l SET status = 'abandoned', finished_at = clock_timestamp(),
         error = 'runner session ended before the run finished'
   WHERE status = 'running'
     AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = (l.runner ->> 'backend_pid')::int);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- p_symbols: what was asked for (NULL: every symbol); p_runner: who runs it (the backend pid is added).
CREATE FUNCTION fifo_run_log_start(p_version int, p_mode text, p_symbols text[], p_host text, p_runner jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  run_id bigint;
BEGIN
  PERFORM fifo_run_log_abandon_dead();
  PERFORM fifo_rebuild_cleanup();
  INSERT INTO fifo_computation_log (allocation_version, mode, symbols, host, runner)
  VALUES (p_version, p_mode, p_symbols, p_host, coalesce(p_runner, '{}') || jsonb_build_object('backend_pid', pg_backend_pid()))
  RETURNING computation_id INTO run_id;
  RETURN run_id;
END $$;

-- p_outcomes: fifo_compute's `symbols` (one object a symbol: symbol, status ok|failed, trades,
-- allocations, unmatched, error); p_fatal: why the run stopped, if it did. The figures count the
-- symbols computed; the error names the first 20 failed ones. Returns what it logged.
CREATE FUNCTION fifo_run_log_finish(p_computation_id bigint, p_outcomes jsonb, p_fatal text)
RETURNS TABLE(status text, trades_processed bigint, allocations_written bigint, unmatched_count bigint,
              symbols_computed int, symbols_failed int)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  UPDATE fifo_computation_log l
     SET status = CASE WHEN p_fatal IS NOT NULL OR f.failed > 0 THEN 'failed' ELSE 'success' END,
         finished_at = clock_timestamp(),
         trades_processed = f.trades, allocations_written = f.allocations, unmatched_count = f.unmatched,
         symbols_computed = f.computed, symbols_failed = f.failed,
         error = coalesce(p_fatal, f.errors)
    FROM (SELECT coalesce(sum((o ->> 'trades')::bigint) FILTER (WHERE o ->> 'status' = 'ok'), 0)::bigint AS trades,
                 coalesce(sum((o ->> 'allocations')::bigint) FILTER (WHERE o ->> 'status' = 'ok'), 0)::bigint AS allocations,
                 coalesce(sum((o ->> 'unmatched')::bigint) FILTER (WHERE o ->> 'status' = 'ok'), 0)::bigint AS unmatched,
                 (count(*) FILTER (WHERE o ->> 'status' = 'ok'))::int AS computed,
                 (count(*) FILTER (WHERE o ->> 'status' <> 'ok'))::int AS failed,
                 (SELECT string_agg(e.line, E'\n' ORDER BY e.n)
                    FROM (SELECT (x.o ->> 'symbol') || ': ' || coalesce(x.o ->> 'error', 'no reason given') AS line, x.n
                            FROM jsonb_array_elements(coalesce(p_outcomes, '[]')) WITH ORDINALITY x(o, n)
                           WHERE x.o ->> 'status' <> 'ok' ORDER BY x.n LIMIT 20) e)
                 || CASE WHEN count(*) FILTER (WHERE o ->> 'status' <> 'ok') > 20
                         THEN E'\n... and ' || (count(*) FILTER (WHERE o ->> 'status' <> 'ok') - 20) || ' more' ELSE '' END AS errors
            FROM jsonb_array_elements(coalesce(p_outcomes, '[]')) o) f
   WHERE l.computation_id = p_computation_id
  RETURNING l.status, l.trades_processed, l.allocations_written, l.unmatched_count, l.symbols_computed, l.symbols_failed;
END $$;

-- When computations judge long_held_lot items (017): now, unless the session says otherwise
-- (`SET fifo.long_held_as_of = '…'`, e.g. PGOPTIONS for a report as of a past day, or a test).
CREATE FUNCTION fifo_long_held_as_of() RETURNS timestamptz LANGUAGE sql STABLE
RETURN coalesce(nullif(current_setting('fifo.long_held_as_of', true), '')::timestamptz, now());

-- fifo_run as it was (013): the down puts it back (018's pattern)
CREATE TABLE fifo_019_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_019_replaced
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.oid = 'fifo_run(int, text)'::regprocedure;

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
  compute_mode text := p_mode;
BEGIN
  IF p_mode IS NULL OR p_mode NOT IN ('full', 'incremental') THEN
    RAISE EXCEPTION 'fifo_run: p_mode must be full or incremental, got %', coalesce(p_mode, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = to_regprocedure('fifo_compute(int, text[], text, bigint)')
                    AND obj_description(p.oid, 'pg_proc') IS DISTINCT FROM 'fifo-ledger stand-in: PLV8 is not installed') THEN
    PERFORM fifo_plv8_missing('fifo_run', 'the PLV8 procedure fifo_compute');
  END IF;
  -- incremental: what changed or was never computed; full: everything
  SELECT array_agg(symbol) INTO symbols FROM (
    SELECT symbol FROM fifo_dirty_symbols WHERE allocation_version = p_version AND p_mode = 'incremental'
    UNION SELECT l.symbol FROM fifo_ledger_symbols() l(symbol) WHERE p_mode = 'full'
    UNION SELECT DISTINCT t.symbol FROM trade_transfers t WHERE p_mode = 'full'  -- a symbol only moved (018)
    UNION SELECT symbol FROM fifo_inventory_snapshot WHERE allocation_version = p_version AND p_mode = 'full') x;
  run_id := fifo_run_log_start(p_version, p_mode, NULL, 'plv8', jsonb_build_object('scheduler', 'fifo_run'));
  -- full: the version's rows are built apart and swapped in at the end of this transaction (013)
  IF p_mode = 'full' THEN
    PERFORM fifo_rebuild_begin(p_version, run_id, false);
    compute_mode := 'rebuild';
  END IF;
  FOR r IN
    SELECT u.symbol, coalesce(c.trades, 0) AS trades
      FROM unnest(coalesce(symbols, '{}')) u(symbol)
      LEFT JOIN (SELECT t.symbol, count(*) AS trades FROM trade_records t
                  WHERE t.symbol = ANY (symbols) GROUP BY t.symbol) c ON c.symbol = u.symbol
     ORDER BY u.symbol COLLATE "C"
  LOOP
    IF cardinality(batch) > 0 AND n + r.trades > batch_trades THEN
      part := fifo_compute(p_version, batch, compute_mode, run_id);
      result := fifo_run_merge(result, part);
      batch := '{}';
      n := 0;
    END IF;
    batch := batch || r.symbol;
    n := n + r.trades;
  END LOOP;
  IF cardinality(batch) > 0 OR result IS NULL THEN
    result := fifo_run_merge(result, fifo_compute(p_version, batch, compute_mode, run_id));
  END IF;
  IF p_mode = 'full' THEN
    PERFORM fifo_rebuild_finish(p_version, run_id);
    PERFORM fifo_rebuild_swap(p_version, run_id);
    -- the rebuilt rows are live: long_held_lot items follow them (017; an incremental batch
    -- refreshes its own symbols inside fifo_compute)
    PERFORM fifo_refresh_long_held_lots(p_version, NULL, fifo_long_held_as_of(), run_id);
  END IF;
  PERFORM fifo_run_log_finish(run_id, result -> 'symbols', NULL);
  RETURN result || jsonb_build_object('computationId', run_id, 'mode', p_mode);
END $$;

SELECT fifo_apply_security();

-- Down Migration
-- fifo_run as 013 made it
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
DO $restore$
BEGIN
  EXECUTE (SELECT definition FROM fifo_019_replaced WHERE name = 'fifo_run(integer,text)');
END
$restore$;
DROP TABLE fifo_019_replaced;

DROP FUNCTION fifo_run_log_finish(bigint, jsonb, text);
DROP FUNCTION fifo_run_log_start(int, text, text[], text, jsonb);
DROP FUNCTION fifo_run_log_abandon_dead();
DROP FUNCTION fifo_long_held_as_of();
