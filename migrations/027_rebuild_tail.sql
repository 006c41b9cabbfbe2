-- Up Migration
-- The tail of a full recompute (013's rebuild, patched by 018 and 022).
--  * The swap clears the dirty markers the rebuild consumed in one statement that locks them in
--    fifo_mark_dirty's order (symbol, C) and skips a marker another transaction holds. It
--    locked them in its join's order: a ledger write holding one marker in an open transaction
--    and then marking one the swap held made a deadlock, and a long write held the swap, with
--    the partition's exclusive lock, until the swap's lock_timeout failed the whole rebuild. A
--    marker held by an uncommitted write stands for a change the rebuild cannot have read: it
--    stays (that write moves it on; if the write rolls back, its symbol is only computed again).
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

-- What this migration replaces, as it was: the down puts it back (018's pattern).
CREATE TABLE fifo_027_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_027_replaced
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.oid IN ('fifo_rebuild_swap(int, bigint)'::regprocedure);

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
BEGIN
  EXECUTE fifo_027_patch((SELECT definition FROM fifo_027_replaced WHERE name = 'fifo_rebuild_swap(integer,bigint)'),
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
SELECT fifo_apply_security();
