-- Up Migration
-- Roles (cluster-wide, NOLOGIN: grant them to your login roles):
--   fifo_writer  inserts and corrects facts (trade_records) — nothing computed, no audit edits
--   fifo_reader  reads the views only
--   fifo_engine  computes: reads facts, writes the computed tables, runs the procedures
-- The ledger trigger runs as its owner (SECURITY DEFINER, fixed search_path), so a writer's
-- change is audited without the writer holding any right on the audit trail, which nobody
-- can update, delete or truncate (001).
DO $roles$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['fifo_writer', 'fifo_reader', 'fifo_engine'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$roles$;

DO $grants$
DECLARE
  s constant text := current_schema();
  v text;
  f text;
BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO fifo_writer, fifo_reader, fifo_engine', s);

  -- writer: the facts, nothing else
  GRANT SELECT, INSERT, UPDATE, DELETE ON trade_records TO fifo_writer;

  -- reader and engine: every view
  FOR v IN SELECT viewname FROM pg_views WHERE schemaname = s AND viewname LIKE 'v\_%' LOOP
    EXECUTE format('GRANT SELECT ON %I TO fifo_reader, fifo_engine', v);
  END LOOP;

  -- engine: reads facts and their audit, owns the computed data
  GRANT SELECT ON trade_records, trade_records_audit, trade_records_legacy_snapshot, fifo_allocation_versions TO fifo_engine;
  GRANT SELECT, INSERT, UPDATE, DELETE ON fifo_allocations, fifo_inventory_snapshot, manual_review_queue,
    fifo_dirty_symbols, fifo_computation_log TO fifo_engine;
  IF to_regclass('fifo_adoption') IS NOT NULL THEN GRANT SELECT ON fifo_adoption TO fifo_engine; END IF;

  -- functions: nobody by default; the engine executes the computing ones
  EXECUTE format('REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA %I FROM PUBLIC', s);
  FOR f IN SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = s::regnamespace LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO fifo_engine', f);
  END LOOP;
  -- views call these on behalf of whoever reads them
  FOR f IN SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.pronamespace = s::regnamespace
              AND p.proname IN ('fifo_side_rank', 'fifo_try_numeric', 'fifo_diff_by_sell', 'fifo_diff_by_symbol', 'fifo_open_position')
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO fifo_reader', f);
  END LOOP;
END
$grants$;

-- The ledger trigger and the dirty markers act as their owner, with a pinned search_path:
-- this schema, then pg_temp last (searched first when not listed, a caller's temporary
-- objects would shadow the tables). FROM CURRENT captures the path set here.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
ALTER FUNCTION fifo_record_fact_changes() SECURITY DEFINER SET search_path FROM CURRENT;
ALTER FUNCTION fifo_mark_dirty(text[], timestamptz[], bigint[]) SECURITY DEFINER SET search_path FROM CURRENT;
ALTER FUNCTION fifo_mark_new_version_dirty() SECURITY DEFINER SET search_path FROM CURRENT;
ALTER FUNCTION fifo_run(int, text) SET search_path FROM CURRENT;
ALTER FUNCTION fifo_ledger_symbols() SET search_path FROM CURRENT;

-- Down Migration
ALTER FUNCTION fifo_record_fact_changes() SECURITY INVOKER RESET search_path;
ALTER FUNCTION fifo_mark_dirty(text[], timestamptz[], bigint[]) SECURITY INVOKER RESET search_path;
ALTER FUNCTION fifo_mark_new_version_dirty() SECURITY INVOKER RESET search_path;
ALTER FUNCTION fifo_run(int, text) RESET search_path;
ALTER FUNCTION fifo_ledger_symbols() RESET search_path;
DO $revoke$
DECLARE s constant text := current_schema();
BEGIN
  -- the roles are cluster-wide and may serve other schemas: only this schema's grants go
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM fifo_writer, fifo_reader, fifo_engine', s);
  EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM fifo_writer, fifo_reader, fifo_engine', s);
  EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO PUBLIC', s);
  EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM fifo_writer, fifo_reader, fifo_engine', s);
END
$revoke$;
