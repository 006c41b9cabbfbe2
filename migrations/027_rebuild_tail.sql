-- Up Migration
-- The tail of a full recompute (013's rebuild, patched by 018 and 022).
--  * The swap clears the dirty markers the rebuild consumed in one statement that locks them in
--    fifo_mark_dirty's order (symbol, C) and skips a marker another transaction holds. It
--    locked them in its join's order: a ledger write holding one marker in an open transaction
--    and then marking one the swap held made a deadlock, and a long write held the swap, with
--    the partition's exclusive lock, until the swap's lock_timeout failed the whole rebuild. A
--    marker held by an uncommitted write stands for a change the rebuild cannot have read: it
--    stays (that write moves it on; if the write rolls back, its symbol is only computed again).
--  * The stage is made with the version CHECK and the partial unmatched index, checked and
--    indexed row by row as the batches write (unmeasurable per row), so the finish no longer
--    scans the rows for them. The finish's carry-over (the rows of symbols the rebuild did not
--    compute) finds the live partition's symbols through its key, a probe per symbol, instead
--    of reading all its rows: 1M rows of 1,000 symbols, 11-204 ms instead of 0.28-2.9 s; the
--    CHECK and the index took 0.10-0.18 and 0.09-0.23 s. The finish of a 1M-trade rebuild:
--    1.2-2.0 s instead of 2.4-2.8 s (docs/BENCHMARKS.md, "Rebuild tail (migration 027)").
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

-- What this migration replaces, as it was: the down puts it back (018's pattern).
CREATE TABLE fifo_027_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_027_replaced
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.oid IN ('fifo_rebuild_swap(int, bigint)'::regprocedure, 'fifo_rebuild_begin(int, bigint, boolean)'::regprocedure,
                 'fifo_rebuild_finish(int, bigint)'::regprocedure);

-- The stage's unmatched index (not named after the stage: what matches the stage's name is the table).
CREATE FUNCTION fifo_rebuild_stage_unmatched(p_version int, p_computation_id bigint) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'fifo_unmatched_v' || p_version || '_stage_' || p_computation_id;

-- What lets ATTACH skip its scan of the stage's rows, and the index the partitioned index needs
-- of it: made by the begin on the empty stage; the finish makes them for a stage begun before
-- this migration.
CREATE FUNCTION fifo_rebuild_stage_checks(p_version int, p_computation_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  stage constant text := fifo_rebuild_stage(p_version, p_computation_id);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(quote_ident(stage)) AND conname = stage || '_version') THEN
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (allocation_version IS NOT NULL AND allocation_version = %s)',
                   stage, stage || '_version', p_version);
  END IF;
  IF to_regclass(quote_ident(fifo_rebuild_stage_unmatched(p_version, p_computation_id))) IS NULL THEN
    EXECUTE format('CREATE INDEX %I ON %I (allocation_version, symbol) WHERE buy_order_id IS NULL',
                   fifo_rebuild_stage_unmatched(p_version, p_computation_id), stage);
  END IF;
END $$;

-- An earlier definition with a piece of text replaced; refuses when the piece is not there.
CREATE FUNCTION fifo_027_patch(def text, old text, new text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF position(old IN def) = 0 THEN
    RAISE EXCEPTION 'migration 027: the definition it changes does not contain %', old;
  END IF;
  RETURN replace(def, old, new);
END $$;

DO $patch$
DECLARE
  nl constant text := chr(10);
  d text;
BEGIN
  d := fifo_027_patch((SELECT definition FROM fifo_027_replaced WHERE name = 'fifo_rebuild_swap(integer,bigint)'),
    '''ALTER INDEX %I RENAME TO %I'', stage || ''_unmatched'',',
    '''ALTER INDEX %I RENAME TO %I'', fifo_rebuild_stage_unmatched(p_version, p_computation_id),');
  EXECUTE fifo_027_patch(d,
    '  -- a change that arrived after the rebuild read its symbol keeps its marker' || nl ||
    '  DELETE FROM fifo_dirty_symbols d USING fifo_rebuild_symbols r' || nl ||
    '   WHERE r.computation_id = p_computation_id AND d.allocation_version = p_version AND d.symbol = r.symbol' || nl ||
    '     AND d.last_audit_id <= r.last_audit_id;',
    '  -- a change that arrived after the rebuild read its symbol keeps its marker, and so does one' || nl ||
    '  -- being written (held by its uncommitted write): locked in fifo_mark_dirty''s order, never waited for' || nl ||
    '  DELETE FROM fifo_dirty_symbols d' || nl ||
    '   USING (SELECT m.symbol FROM fifo_dirty_symbols m JOIN fifo_rebuild_symbols r ON r.symbol = m.symbol' || nl ||
    '           WHERE r.computation_id = p_computation_id AND m.allocation_version = p_version' || nl ||
    '             AND m.last_audit_id <= r.last_audit_id' || nl ||
    '           ORDER BY m.symbol COLLATE "C" FOR UPDATE OF m SKIP LOCKED) l' || nl ||
    '   WHERE d.allocation_version = p_version AND d.symbol = l.symbol;');

  d := (SELECT definition FROM fifo_027_replaced WHERE name = 'fifo_rebuild_begin(integer,bigint,boolean)');
  EXECUTE fifo_027_patch(d,
    '  EXECUTE format(''CREATE TABLE %I (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (autovacuum_enabled = off)'', stage);' || nl,
    '  EXECUTE format(''CREATE TABLE %I (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (autovacuum_enabled = off)'', stage);' || nl ||
    '  PERFORM fifo_rebuild_stage_checks(p_version, p_computation_id);' || nl);

  d := (SELECT definition FROM fifo_027_replaced WHERE name = 'fifo_rebuild_finish(integer,bigint)');
  d := fifo_027_patch(d, '  stage constant text := fifo_rebuild_stage(p_version, p_computation_id);' || nl,
    '  stage constant text := fifo_rebuild_stage(p_version, p_computation_id);' || nl ||
    '  jit_was constant text := current_setting(''jit'');' || nl);
  d := fifo_027_patch(d, '    USING p_version, p_computation_id;' || nl,
    '    USING p_version, p_computation_id;' || nl ||
    '  PERFORM set_config(''jit'', jit_was, true);' || nl);
  d := fifo_027_patch(d, '  EXECUTE format($q$INSERT INTO %I (allocation_version,',
    '  -- its estimate (a hundred symbols of a thousand rows) is above jit_above_cost: it compiled for' || nl ||
    '  -- 30-260 ms a statement that takes 15-25 (as 026 does for its statements)' || nl ||
    '  PERFORM set_config(''jit'', ''off'', true);' || nl ||
    '  EXECUTE format($q$WITH RECURSIVE live(sym) AS (' || nl ||
    '      (SELECT p.symbol FROM fifo_allocations p WHERE p.allocation_version = $1 ORDER BY p.symbol LIMIT 1)' || nl ||
    '      UNION ALL' || nl ||
    '      SELECT (SELECT p.symbol FROM fifo_allocations p WHERE p.allocation_version = $1 AND p.symbol > live.sym' || nl ||
    '               ORDER BY p.symbol LIMIT 1)' || nl ||
    '        FROM live WHERE live.sym IS NOT NULL),' || nl ||
    '    -- apart: the planner, taking few rows for the run''s symbols, can put their anti-join above the rows'' scan' || nl ||
    '    missing AS MATERIALIZED (' || nl ||
    '      SELECT live.sym FROM live' || nl ||
    '       WHERE live.sym IS NOT NULL' || nl ||
    '         AND NOT EXISTS (SELECT 1 FROM fifo_rebuild_symbols s WHERE s.computation_id = $2 AND s.symbol = live.sym))' || nl ||
    '    INSERT INTO %I (allocation_version,');
  d := fifo_027_patch(d,
    '      FROM fifo_allocations a' || nl ||
    '     WHERE a.allocation_version = $1' || nl ||
    '       AND NOT EXISTS (SELECT 1 FROM fifo_rebuild_symbols s WHERE s.computation_id = $2 AND s.symbol = a.symbol)$q$, stage)',
    '      FROM missing CROSS JOIN LATERAL (SELECT * FROM fifo_allocations p' || nl ||
    '                                        WHERE p.allocation_version = $1 AND p.symbol = missing.sym OFFSET 0) a$q$, stage)');
  EXECUTE fifo_027_patch(d,
    '  EXECUTE format(''CREATE INDEX %I ON %I (allocation_version, symbol) WHERE buy_order_id IS NULL'', stage || ''_unmatched'', stage);' || nl ||
    '  -- lets ATTACH skip its scan of the rows' || nl ||
    '  EXECUTE format(''ALTER TABLE %I ADD CONSTRAINT %I CHECK (allocation_version IS NOT NULL AND allocation_version = %s)'',' || nl ||
    '                 stage, stage || ''_version'', p_version);' || nl,
    '  PERFORM fifo_rebuild_stage_checks(p_version, p_computation_id);' || nl);
END
$patch$;
DROP FUNCTION fifo_027_patch(text, text, text);

SELECT fifo_apply_security();

-- Down Migration
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
DO $restore$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM fifo_027_replaced LOOP
    EXECUTE r.definition;
  END LOOP;
END
$restore$;
DROP TABLE fifo_027_replaced;
DROP FUNCTION fifo_rebuild_stage_checks(int, bigint);
DROP FUNCTION fifo_rebuild_stage_unmatched(int, bigint);
SELECT fifo_apply_security();
