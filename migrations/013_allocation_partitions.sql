-- Up Migration
-- Issue 11: fifo_allocations is partitioned by allocation version, one partition per version
-- (created with the version, dropped with it), so a full recompute can build a version's rows
-- apart and swap them in, and no row pays a foreign-key check: a row of a version that has no
-- partition cannot be inserted at all. The PK, the CHECKs and the partial unmatched index stay;
-- the buy and sell_time indexes go (no reader goes through them: per-symbol and per-sell reads
-- use the PK, the reports scan and filter sell_time after grouping). The rows move over as they are.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- The partition that holds a version's rows.
-- Functions that run with the owner's rights pin this schema with pg_temp last (searched
-- first when not listed, a caller's temporary objects would shadow the tables): FROM CURRENT
-- captures the path set here.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

CREATE FUNCTION fifo_allocation_partition(p_version int) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'fifo_allocations_v' || p_version;

-- The views reading fifo_allocations, to be re-planned against the new table below. CREATE OR
-- REPLACE keeps each view itself (its grants, owner, comments and the views built on it).
CREATE TEMP TABLE fifo_013_views ON COMMIT DROP AS
SELECT DISTINCT c.oid::regclass::text AS name, pg_get_viewdef(c.oid) AS def, c.reloptions
  FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class c ON c.oid = w.ev_class
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.refobjid = 'fifo_allocations'::regclass AND c.relkind = 'v';

DROP INDEX fifo_allocations_buy_idx;
DROP INDEX fifo_allocations_sell_time_idx;
ALTER TABLE fifo_allocations RENAME TO fifo_allocations_pre013;
ALTER INDEX fifo_allocations_pkey RENAME TO fifo_allocations_pre013_pkey;
ALTER INDEX fifo_allocations_unmatched_idx RENAME TO fifo_allocations_pre013_unmatched_idx;

CREATE TABLE fifo_allocations (
  allocation_version  int NOT NULL,                             -- the partition key (fifo_allocation_versions)
  symbol              text NOT NULL,
  sell_order_id       text NOT NULL,
  allocation_seq      int NOT NULL CHECK (allocation_seq > 0),  -- consumption order within the sell
  buy_order_id        text,                                     -- NULL: unmatched remainder
  allocated_size      numeric NOT NULL CHECK (allocated_size > 0),
  buy_price           numeric,
  sell_price          numeric NOT NULL,
  buy_time            timestamptz,
  sell_time           timestamptz NOT NULL,
  buy_fee_usd         numeric,
  sell_fee_usd        numeric NOT NULL,
  cost_basis_usd      numeric,
  proceeds_usd        numeric NOT NULL,
  pnl_usd             numeric,
  allocation_time     timestamptz NOT NULL DEFAULT now(),
  computation_id      bigint,
  PRIMARY KEY (allocation_version, symbol, sell_order_id, allocation_seq),
  CONSTRAINT fifo_allocations_matched_or_unmatched CHECK (
    (buy_order_id IS NULL AND buy_price IS NULL AND buy_time IS NULL
       AND buy_fee_usd IS NULL AND cost_basis_usd IS NULL AND pnl_usd IS NULL)
    OR (buy_order_id IS NOT NULL AND buy_price IS NOT NULL AND buy_time IS NOT NULL
       AND buy_fee_usd IS NOT NULL AND cost_basis_usd IS NOT NULL AND pnl_usd IS NOT NULL))
) PARTITION BY LIST (allocation_version);
CREATE INDEX fifo_allocations_unmatched_idx ON fifo_allocations (allocation_version, symbol)
  WHERE buy_order_id IS NULL;

-- A version's partition comes and goes with the version (its row is the guard the foreign
-- key was); the key of a version cannot change, as the other tables' foreign keys require.
CREATE FUNCTION fifo_version_partition() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF fifo_allocations FOR VALUES IN (%s)',
                   fifo_allocation_partition(NEW.allocation_version), NEW.allocation_version);
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('DROP TABLE IF EXISTS %I', fifo_allocation_partition(OLD.allocation_version));
  ELSIF NEW.allocation_version IS DISTINCT FROM OLD.allocation_version THEN
    RAISE EXCEPTION 'allocation version % cannot be renumbered (create a new version instead)', OLD.allocation_version
      USING ERRCODE = 'feature_not_supported';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER fifo_allocation_versions_partition AFTER INSERT OR DELETE ON fifo_allocation_versions
  FOR EACH ROW EXECUTE FUNCTION fifo_version_partition();
CREATE TRIGGER fifo_allocation_versions_renumber BEFORE UPDATE OF allocation_version ON fifo_allocation_versions
  FOR EACH ROW EXECUTE FUNCTION fifo_version_partition();

DO $partitions$
DECLARE v int;
BEGIN
  FOR v IN SELECT allocation_version FROM fifo_allocation_versions ORDER BY 1 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF fifo_allocations FOR VALUES IN (%s)', fifo_allocation_partition(v), v);
  END LOOP;
END
$partitions$;

INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
    buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
    allocation_time, computation_id)
SELECT allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
       buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
       allocation_time, computation_id
  FROM fifo_allocations_pre013;

DO $views$
DECLARE v record;
BEGIN
  FOR v IN SELECT * FROM pg_temp.fifo_013_views ORDER BY name LOOP
    EXECUTE format('CREATE OR REPLACE VIEW %s%s AS %s', v.name,
                   CASE WHEN v.reloptions IS NULL THEN '' ELSE format(' WITH (%s)', array_to_string(v.reloptions, ', ')) END,
                   v.def);
  END LOOP;
END
$views$;
DROP TABLE fifo_allocations_pre013;
DROP TABLE pg_temp.fifo_013_views;
ANALYZE fifo_allocations;


-- A full recompute of a whole version (fifo compute --force, fifo_run(v, 'full')) writes into
-- a stage table of its own, unindexed, and stages the snapshots and review items with it; the
-- swap then replaces the version's partition and applies them in one short transaction, so
-- readers see the old rows or the new, and nothing is deleted row by row. From begin to swap
-- the rebuild holds the version's rebuild lock, which every other fifo_compute call shares
-- (functions/compute.ts), so nothing live changes under it. What a dead run leaves (a stage,
-- staged rows) is dropped by the next rebuild or run (fifo_rebuild_cleanup).
CREATE TABLE fifo_rebuild_symbols (
  computation_id      bigint NOT NULL,
  allocation_version  int NOT NULL,
  symbol              text NOT NULL,
  method              text NOT NULL,
  open_lots           jsonb NOT NULL,
  watermark_time      timestamptz,            -- NULL: the symbol's trades are gone (no snapshot)
  watermark_side      text,
  watermark_order_id  text,
  trades_processed    bigint NOT NULL,
  last_audit_id       bigint NOT NULL,
  PRIMARY KEY (computation_id, symbol)
);
CREATE TABLE fifo_rebuild_reviews (
  computation_id      bigint NOT NULL,
  allocation_version  int NOT NULL,
  symbol              text NOT NULL,
  order_id            text NOT NULL,
  severity            text NOT NULL,
  details             jsonb NOT NULL,
  PRIMARY KEY (computation_id, symbol, order_id)
);
GRANT SELECT, INSERT, DELETE ON fifo_rebuild_symbols, fifo_rebuild_reviews TO fifo_engine;

CREATE FUNCTION fifo_rebuild_stage(p_version int, p_computation_id bigint) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'fifo_allocations_v' || p_version || '_stage_' || p_computation_id;

CREATE FUNCTION fifo_rebuild_lock_key(p_version int) RETURNS bigint LANGUAGE sql IMMUTABLE
RETURN hashtextextended('fifo-ledger-rebuild:' || p_version, 0);

-- Stages and staged rows of runs no longer running.
CREATE FUNCTION fifo_rebuild_cleanup() RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  r record;
  n int := 0;
BEGIN
  FOR r IN
    SELECT c.relname, substring(c.relname FROM '_stage_([0-9]+)$')::bigint AS cid FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND NOT c.relispartition
       AND c.relname ~ '^fifo_allocations_v[0-9]+_stage_[0-9]+$'
  LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM fifo_computation_log l WHERE l.computation_id = r.cid AND l.status = 'running');
    EXECUTE format('DROP TABLE %I', r.relname);
    n := n + 1;
  END LOOP;
  DELETE FROM fifo_rebuild_symbols s
   WHERE NOT EXISTS (SELECT 1 FROM fifo_computation_log l WHERE l.computation_id = s.computation_id AND l.status = 'running');
  DELETE FROM fifo_rebuild_reviews s
   WHERE NOT EXISTS (SELECT 1 FROM fifo_computation_log l WHERE l.computation_id = s.computation_id AND l.status = 'running');
  RETURN n;
END $$;

-- Makes the run's stage (the caller must be allowed to write allocations) and takes the
-- version's rebuild lock: for the session (the runner, over many transactions) or this transaction.
CREATE FUNCTION fifo_rebuild_begin(p_version int, p_computation_id bigint, p_session_lock boolean) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  actor constant text := coalesce(nullif(current_setting('role'), 'none'), session_user);
  stage constant text := fifo_rebuild_stage(p_version, p_computation_id);
BEGIN
  IF NOT has_table_privilege(actor, 'fifo_allocations', 'INSERT') THEN
    RAISE EXCEPTION 'fifo_rebuild_begin: % may not write fifo_allocations', actor USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM fifo_computation_log WHERE computation_id = p_computation_id
                    AND allocation_version = p_version AND status = 'running') THEN
    RAISE EXCEPTION 'fifo_rebuild_begin: run % of version % is not running', p_computation_id, p_version
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_session_lock THEN
    PERFORM pg_advisory_lock(fifo_rebuild_lock_key(p_version));
  ELSE
    PERFORM pg_advisory_xact_lock(fifo_rebuild_lock_key(p_version));
  END IF;
  PERFORM fifo_rebuild_cleanup();
  EXECUTE format('CREATE TABLE %I (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (autovacuum_enabled = off)', stage);
  EXECUTE format('GRANT SELECT, INSERT ON %I TO fifo_engine', stage);
  IF actor <> current_user THEN
    EXECUTE format('GRANT SELECT, INSERT ON %I TO %I', stage, actor);
  END IF;
  RETURN stage;
END $$;

-- After the last batch: the rows the rebuild did not compute (a symbol that failed, a batch
-- that rolled back) come over from the live partition, then the keys, CHECK and statistics.
CREATE FUNCTION fifo_rebuild_finish(p_version int, p_computation_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  stage constant text := fifo_rebuild_stage(p_version, p_computation_id);
BEGIN
  IF to_regclass(quote_ident(stage)) IS NULL THEN
    RAISE EXCEPTION 'fifo_rebuild_finish: no stage % for run %', stage, p_computation_id USING ERRCODE = 'undefined_table';
  END IF;
  EXECUTE format($q$INSERT INTO %I (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
      buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
      allocation_time, computation_id)
    SELECT allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
           buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
           allocation_time, computation_id
      FROM fifo_allocations a
     WHERE a.allocation_version = $1
       AND NOT EXISTS (SELECT 1 FROM fifo_rebuild_symbols s WHERE s.computation_id = $2 AND s.symbol = a.symbol)$q$, stage)
    USING p_version, p_computation_id;
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (allocation_version, symbol, sell_order_id, allocation_seq)',
                 stage, stage || '_pkey');
  EXECUTE format('CREATE INDEX %I ON %I (allocation_version, symbol) WHERE buy_order_id IS NULL', stage || '_unmatched', stage);
  -- lets ATTACH skip its scan of the rows
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (allocation_version IS NOT NULL AND allocation_version = %s)',
                 stage, stage || '_version', p_version);
  EXECUTE format('ANALYZE %I', stage);
END $$;

-- The swap, in the caller's (short) transaction: the stage becomes the version's partition,
-- and the staged snapshots, review items and consumed dirty markers apply with it.
CREATE FUNCTION fifo_rebuild_swap(p_version int, p_computation_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  stage constant text := fifo_rebuild_stage(p_version, p_computation_id);
  part constant text := fifo_allocation_partition(p_version);
BEGIN
  -- DETACH waits for every reader of fifo_allocations: wait a while, not forever (till the transaction ends)
  PERFORM set_config('lock_timeout', '10s', true);
  IF to_regclass(quote_ident(stage)) IS NULL THEN
    RAISE EXCEPTION 'fifo_rebuild_swap: no stage % for run %', stage, p_computation_id USING ERRCODE = 'undefined_table';
  END IF;
  EXECUTE format('ALTER TABLE fifo_allocations DETACH PARTITION %I', part);
  EXECUTE format('DROP TABLE %I', part);
  EXECUTE format('ALTER TABLE %I RENAME TO %I', stage, part);
  EXECUTE format('ALTER INDEX %I RENAME TO %I', stage || '_pkey', part || '_pkey');
  EXECUTE format('ALTER INDEX %I RENAME TO %I', stage || '_unmatched', part || '_allocation_version_symbol_idx');
  EXECUTE format('ALTER TABLE fifo_allocations ATTACH PARTITION %I FOR VALUES IN (%s)', part, p_version);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, stage || '_version');
  EXECUTE format('REVOKE ALL ON %I FROM fifo_engine', part);
  EXECUTE format('ALTER TABLE %I RESET (autovacuum_enabled)', part);

  DELETE FROM fifo_inventory_snapshot s USING fifo_rebuild_symbols r
   WHERE r.computation_id = p_computation_id AND s.allocation_version = p_version AND s.symbol = r.symbol
     AND r.watermark_time IS NULL;
  INSERT INTO fifo_inventory_snapshot AS s (allocation_version, symbol, method, open_lots, open_lot_count, open_size,
      watermark_time, watermark_side, watermark_order_id, trades_processed, last_audit_id, computation_id, computed_at)
  SELECT p_version, r.symbol, r.method, r.open_lots, jsonb_array_length(r.open_lots),
         (SELECT coalesce(sum((l ->> 'remaining')::numeric), 0) FROM jsonb_array_elements(r.open_lots) l),
         r.watermark_time, r.watermark_side, r.watermark_order_id, r.trades_processed, r.last_audit_id, p_computation_id, now()
    FROM fifo_rebuild_symbols r
   WHERE r.computation_id = p_computation_id AND r.watermark_time IS NOT NULL
  ON CONFLICT (allocation_version, symbol) DO UPDATE SET
     method = excluded.method, open_lots = excluded.open_lots, open_lot_count = excluded.open_lot_count,
     open_size = excluded.open_size, watermark_time = excluded.watermark_time,
     watermark_side = excluded.watermark_side, watermark_order_id = excluded.watermark_order_id,
     trades_processed = excluded.trades_processed, last_audit_id = excluded.last_audit_id,
     computation_id = excluded.computation_id, computed_at = excluded.computed_at;

  -- as functions/compute.ts writes them: never a duplicate, a closed item never reopened
  INSERT INTO manual_review_queue AS q (allocation_version, symbol, order_id, issue_type, item_key, severity, details, computation_id)
  SELECT p_version, r.symbol, r.order_id, 'unmatched_sell', r.order_id, r.severity, r.details, p_computation_id
    FROM fifo_rebuild_reviews r WHERE r.computation_id = p_computation_id
  ON CONFLICT (allocation_version, symbol, issue_type, item_key) DO UPDATE
     SET details = excluded.details, severity = excluded.severity, updated_at = now(), computation_id = excluded.computation_id
   WHERE q.status = 'pending';
  UPDATE manual_review_queue q
     SET status = 'resolved', resolved_at = now(), updated_at = now(), resolved_by = 'fifo_compute',
         resolution_note = 'matched by a later computation', computation_id = p_computation_id
   WHERE q.allocation_version = p_version AND q.issue_type = 'unmatched_sell' AND q.status = 'pending'
     AND q.symbol IN (SELECT r.symbol FROM fifo_rebuild_symbols r WHERE r.computation_id = p_computation_id)
     AND NOT EXISTS (SELECT 1 FROM fifo_allocations a
                      WHERE a.allocation_version = q.allocation_version AND a.symbol = q.symbol
                        AND a.sell_order_id = q.item_key AND a.buy_order_id IS NULL);
  -- a change that arrived after the rebuild read its symbol keeps its marker
  DELETE FROM fifo_dirty_symbols d USING fifo_rebuild_symbols r
   WHERE r.computation_id = p_computation_id AND d.allocation_version = p_version AND d.symbol = r.symbol
     AND d.last_audit_id <= r.last_audit_id;
  DELETE FROM fifo_rebuild_symbols WHERE computation_id = p_computation_id;
  DELETE FROM fifo_rebuild_reviews WHERE computation_id = p_computation_id;
END $$;

-- A rebuild that stops: its stage and staged rows go; the live partition was never touched.
CREATE FUNCTION fifo_rebuild_abort(p_version int, p_computation_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS %I', fifo_rebuild_stage(p_version, p_computation_id));
  DELETE FROM fifo_rebuild_symbols WHERE computation_id = p_computation_id;
  DELETE FROM fifo_rebuild_reviews WHERE computation_id = p_computation_id;
END $$;

-- fifo_run (009): a full run rebuilds the version and swaps it in, in its own transaction.
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
  RETURN result || jsonb_build_object('computationId', run_id, 'mode', p_mode);
END $$;



-- Down Migration
-- fifo_run as 009 made it
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

DROP FUNCTION IF EXISTS fifo_rebuild_abort(int, bigint);
DROP FUNCTION IF EXISTS fifo_rebuild_swap(int, bigint);
DROP FUNCTION IF EXISTS fifo_rebuild_finish(int, bigint);
DROP FUNCTION IF EXISTS fifo_rebuild_begin(int, bigint, boolean);
DROP FUNCTION IF EXISTS fifo_rebuild_cleanup();
DROP FUNCTION IF EXISTS fifo_rebuild_lock_key(int);
DROP FUNCTION IF EXISTS fifo_rebuild_stage(int, bigint);
DROP TABLE IF EXISTS fifo_rebuild_reviews;
DROP TABLE IF EXISTS fifo_rebuild_symbols;
CREATE TEMP TABLE fifo_013_views ON COMMIT DROP AS
SELECT DISTINCT c.oid::regclass::text AS name, pg_get_viewdef(c.oid) AS def, c.reloptions
  FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class c ON c.oid = w.ev_class
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.refobjid = 'fifo_allocations'::regclass AND c.relkind = 'v';
DROP TRIGGER IF EXISTS fifo_allocation_versions_partition ON fifo_allocation_versions;
DROP TRIGGER IF EXISTS fifo_allocation_versions_renumber ON fifo_allocation_versions;
DROP FUNCTION IF EXISTS fifo_version_partition();
ALTER TABLE fifo_allocations RENAME TO fifo_allocations_post013;
ALTER INDEX fifo_allocations_pkey RENAME TO fifo_allocations_post013_pkey;
ALTER INDEX fifo_allocations_unmatched_idx RENAME TO fifo_allocations_post013_unmatched_idx;
-- as 002 created it
CREATE TABLE fifo_allocations (
  allocation_version  int NOT NULL REFERENCES fifo_allocation_versions ON DELETE CASCADE,
  symbol              text NOT NULL,
  sell_order_id       text NOT NULL,
  allocation_seq      int NOT NULL CHECK (allocation_seq > 0),  -- consumption order within the sell
  buy_order_id        text,                                     -- NULL: unmatched remainder
  allocated_size      numeric NOT NULL CHECK (allocated_size > 0),
  buy_price           numeric,
  sell_price          numeric NOT NULL,
  buy_time            timestamptz,
  sell_time           timestamptz NOT NULL,
  buy_fee_usd         numeric,
  sell_fee_usd        numeric NOT NULL,
  cost_basis_usd      numeric,
  proceeds_usd        numeric NOT NULL,
  pnl_usd             numeric,
  allocation_time     timestamptz NOT NULL DEFAULT now(),
  computation_id      bigint,
  PRIMARY KEY (allocation_version, symbol, sell_order_id, allocation_seq),
  CONSTRAINT fifo_allocations_matched_or_unmatched CHECK (
    (buy_order_id IS NULL AND buy_price IS NULL AND buy_time IS NULL
       AND buy_fee_usd IS NULL AND cost_basis_usd IS NULL AND pnl_usd IS NULL)
    OR (buy_order_id IS NOT NULL AND buy_price IS NOT NULL AND buy_time IS NOT NULL
       AND buy_fee_usd IS NOT NULL AND cost_basis_usd IS NOT NULL AND pnl_usd IS NOT NULL))
);
INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
    buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
    allocation_time, computation_id)
SELECT allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
       buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
       allocation_time, computation_id
  FROM fifo_allocations_post013;
CREATE INDEX fifo_allocations_buy_idx ON fifo_allocations (allocation_version, symbol, buy_order_id)
  WHERE buy_order_id IS NOT NULL;
CREATE INDEX fifo_allocations_unmatched_idx ON fifo_allocations (allocation_version, symbol)
  WHERE buy_order_id IS NULL;
CREATE INDEX fifo_allocations_sell_time_idx ON fifo_allocations (allocation_version, sell_time);
DO $views$
DECLARE v record;
BEGIN
  FOR v IN SELECT * FROM pg_temp.fifo_013_views ORDER BY name LOOP
    EXECUTE format('CREATE OR REPLACE VIEW %s%s AS %s', v.name,
                   CASE WHEN v.reloptions IS NULL THEN '' ELSE format(' WITH (%s)', array_to_string(v.reloptions, ', ')) END,
                   v.def);
  END LOOP;
END
$views$;
DROP TABLE fifo_allocations_post013;
DROP TABLE pg_temp.fifo_013_views;
DROP FUNCTION IF EXISTS fifo_allocation_partition(int);
-- `migrate up` re-applies the grants after it runs; a down leaves the table of 002 with them too
SELECT fifo_apply_security();
