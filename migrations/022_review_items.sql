-- Up Migration
-- One way to raise review items, for every computation that raises them: fifo_compute's
-- unmatched sells and transfers (functions/compute.ts), the rebuild's swap (013, 018), the
-- long_held_lot refresh (017) and reconcile's ledger drift (packages/cli/src/queries/reviews.ts).
-- An item is keyed by (version, symbol, issue type, key); raising it again refreshes a pending
-- item and never duplicates it; a resolved or ignored item is never reopened.

SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

-- p_items: [{symbol, issue_type, item_key, order_id, severity, details}, ...]. Returns the rows it
-- wrote (new or refreshed pending items), with whether each is new.
CREATE FUNCTION fifo_review_raise(p_version int, p_items jsonb, p_computation_id bigint DEFAULT NULL)
RETURNS TABLE (symbol text, issue_type text, item_key text, review_id bigint, inserted boolean)
LANGUAGE sql AS $$
  INSERT INTO manual_review_queue AS q (allocation_version, symbol, order_id, issue_type, item_key, severity, details, computation_id)
  SELECT p_version, i.symbol, i.order_id, i.issue_type, i.item_key, i.severity, i.details, p_computation_id
    FROM jsonb_to_recordset(coalesce(p_items, '[]')) AS i(symbol text, issue_type text, item_key text, order_id text, severity text, details jsonb)
  ON CONFLICT (allocation_version, symbol, issue_type, item_key) DO UPDATE
     SET details = excluded.details, severity = excluded.severity, updated_at = now(),
         computation_id = coalesce(excluded.computation_id, q.computation_id)
   WHERE q.status = 'pending'
  RETURNING q.symbol, q.issue_type, q.item_key, q.review_id, (q.xmax = 0)
$$;

-- What this migration replaces, as it was: the down puts it back (018's pattern).
CREATE TABLE fifo_022_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_022_replaced
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.oid IN ('fifo_rebuild_swap(int, bigint)'::regprocedure,
                 'fifo_refresh_long_held_lots(int, text[], timestamptz, bigint)'::regprocedure);

DO $patch$
DECLARE
  nl constant text := chr(10);
  d text;
  swap_old constant text :=
    '  INSERT INTO manual_review_queue AS q (allocation_version, symbol, order_id, issue_type, item_key, severity, details, computation_id)' || nl ||
    '  SELECT p_version, r.symbol, r.order_id, r.issue_type, r.order_id, r.severity, r.details, p_computation_id' || nl ||
    '    FROM fifo_rebuild_reviews r WHERE r.computation_id = p_computation_id' || nl ||
    '  ON CONFLICT (allocation_version, symbol, issue_type, item_key) DO UPDATE' || nl ||
    '     SET details = excluded.details, severity = excluded.severity, updated_at = now(), computation_id = excluded.computation_id' || nl ||
    '   WHERE q.status = ''pending'';';
  swap_new constant text :=
    '  PERFORM fifo_review_raise(p_version, (' || nl ||
    '    SELECT jsonb_agg(jsonb_build_object(''symbol'', r.symbol, ''issue_type'', r.issue_type, ''item_key'', r.order_id,' || nl ||
    '                                        ''order_id'', r.order_id, ''severity'', r.severity, ''details'', r.details))' || nl ||
    '      FROM fifo_rebuild_reviews r WHERE r.computation_id = p_computation_id), p_computation_id);';
  held_old constant text :=
    '    INSERT INTO manual_review_queue AS q (allocation_version, symbol, order_id, issue_type, item_key, severity, details, computation_id)' || nl ||
    '    SELECT p_version, d.symbol, d.buy_order_id, ''long_held_lot'', d.buy_order_id, ''low'', d.details, p_computation_id' || nl ||
    '      FROM decided d' || nl ||
    '     WHERE d.details IS NOT NULL AND NOT d.closed AND (d.pending_id IS NULL OR d.pending_facts IS DISTINCT FROM d.flagged_facts)' || nl ||
    '    ON CONFLICT (allocation_version, symbol, issue_type, item_key) DO UPDATE' || nl ||
    '       SET details = excluded.details, severity = excluded.severity, updated_at = now(),' || nl ||
    '           computation_id = coalesce(excluded.computation_id, q.computation_id)' || nl ||
    '     WHERE q.status = ''pending''' || nl ||
    '    RETURNING (q.xmax = 0) AS inserted';
  held_new constant text :=
    '    SELECT r.inserted FROM fifo_review_raise(p_version, (' || nl ||
    '      SELECT jsonb_agg(jsonb_build_object(''symbol'', d.symbol, ''issue_type'', ''long_held_lot'', ''item_key'', d.buy_order_id,' || nl ||
    '                                          ''order_id'', d.buy_order_id, ''severity'', ''low'', ''details'', d.details))' || nl ||
    '        FROM decided d' || nl ||
    '       WHERE d.details IS NOT NULL AND NOT d.closed AND (d.pending_id IS NULL OR d.pending_facts IS DISTINCT FROM d.flagged_facts)),' || nl ||
    '      p_computation_id) r';
BEGIN
  d := (SELECT definition FROM fifo_022_replaced WHERE name = 'fifo_rebuild_swap(integer,bigint)');
  IF position(swap_old IN d) = 0 THEN RAISE EXCEPTION 'migration 022: fifo_rebuild_swap does not hold the upsert it replaces'; END IF;
  EXECUTE replace(d, swap_old, swap_new);
  d := (SELECT definition FROM fifo_022_replaced WHERE name = 'fifo_refresh_long_held_lots(integer,text[],timestamp with time zone,bigint)');
  IF position(held_old IN d) = 0 THEN RAISE EXCEPTION 'migration 022: fifo_refresh_long_held_lots does not hold the upsert it replaces'; END IF;
  EXECUTE replace(d, held_old, held_new);
END
$patch$;

SELECT fifo_apply_security();

-- Down Migration
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
DO $restore$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM fifo_022_replaced LOOP
    EXECUTE r.definition;
  END LOOP;
END
$restore$;
DROP TABLE fifo_022_replaced;
DROP FUNCTION fifo_review_raise(int, jsonb, bigint);
SELECT fifo_apply_security();
