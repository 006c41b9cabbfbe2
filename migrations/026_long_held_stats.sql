-- Up Migration
-- The long_held_lot refresh (017, 022, 023) read every allocation row of each symbol it judged to
-- get the median holding time, built every open lot's details to compare them with its item, and
-- joined every open lot of a current snapshot to its buy in the ledger (a seq scan of the ledger
-- for all symbols): 1-2 s for all symbols of a 1M-row version, tens of ms for a 10-symbol batch.
-- Now:
--  * only a symbol with a lot open longer than its rule's minimum can have a lot flagged (the
--    threshold is never below the minimum): the others need no median at all (their pending
--    items are resolved as before);
--  * the median and count of a symbol's matched pieces are kept in fifo_long_held_stats, keyed
--    by the row version of the symbol's inventory snapshot: computations write a symbol's rows
--    and its snapshot together (in one subtransaction, or at the rebuild's swap), so a symbol
--    whose snapshot row is the same has the same rows. Any other snapshot row (recomputed,
--    rebuilt, deleted and made again) is a miss: the statistics are computed from the rows and
--    stored again, unless the rows only grew (a computation continued the symbol from its
--    snapshot): then the new pieces are merged into a window of sorted pieces kept around the
--    median. They cover all of the symbol's matched rows, so they serve a judgement as of p_at
--    only when no piece was sold after p_at (else the rows are read, as before);
--  * the facts a symbol's flagged lots share are built once per symbol; full details only for the
--    items written;
--  * an open lot of a current snapshot takes its buy time from the snapshot (the engine's lots
--    keep their buy's time, as UTC text to the microsecond) instead of a join to the ledger.
-- Same items raised, updated and resolved, with the same details.

SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

CREATE TABLE fifo_026_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_026_replaced
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.oid IN ('fifo_open_lot_sizes_at(int, timestamptz, text[])'::regprocedure,
                 'fifo_refresh_long_held_lots(int, text[], timestamptz, bigint)'::regprocedure);

-- A cache, never the truth: any row may be deleted at any time (it is computed again).
CREATE TABLE fifo_long_held_stats (
  allocation_version  int NOT NULL REFERENCES fifo_allocation_versions ON DELETE CASCADE,
  symbol              text NOT NULL,
  snapshot_row        text NOT NULL,         -- the snapshot row these rows belong to (fifo_snapshot_row)
  pieces              bigint NOT NULL,       -- matched allocation rows (buy_order_id set)
  median_held         interval,              -- percentile_cont(0.5) of sell_time - buy_time; NULL: no piece
  last_sell_time      timestamptz,           -- the latest sell_time of a piece; NULL: no piece
  -- to go on when rows are appended: the sorted pieces around the median (ranks lo, lo + 1, ...),
  -- the snapshot's watermark when taken, and one piece row as it was (its tuple)
  lo                  bigint NOT NULL DEFAULT 0,
  win                 interval[],
  wm_time             timestamptz,
  wm_side             text,
  wm_order_id         text,
  sentinel_ctid       tid,
  sentinel_xmin       text,
  computed_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (allocation_version, symbol)
);
COMMENT ON TABLE fifo_long_held_stats IS
  'fifo-ledger: the long_held_lot refresh''s cache of each symbol''s median holding time, valid while its snapshot row is (migration 026)';
REVOKE ALL ON fifo_long_held_stats FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON fifo_long_held_stats TO fifo_engine;
GRANT SELECT ON fifo_long_held_stats TO fifo_reader;

-- The version of a snapshot row: every write of it makes a new tuple (a new xmin or ctid, never
-- both reused while the old one can be seen); its audit position besides, for good measure.
CREATE FUNCTION fifo_snapshot_row(p_xmin xid, p_ctid tid, p_last_audit_id bigint) RETURNS text LANGUAGE sql IMMUTABLE
RETURN p_xmin::text || '/' || p_ctid::text || '/' || p_last_audit_id::text;

DO $patch$
DECLARE
  nl constant text := chr(10);
  d text := (SELECT definition FROM fifo_026_replaced WHERE name = 'fifo_open_lot_sizes_at(integer,timestamp with time zone,text[])');
  old_snap constant text :=
    '  SELECT s.lot_symbol, s.lot_id, fifo_utc(b.order_time), s.remaining' || nl ||
    '    FROM (SELECT n.symbol AS lot_symbol, l ->> ''orderId'' AS lot_id, sum((l ->> ''remaining'')::numeric) AS remaining' || nl ||
    '            FROM fifo_inventory_snapshot n CROSS JOIN LATERAL jsonb_array_elements(n.open_lots) l' || nl ||
    '           WHERE n.allocation_version = p_version AND n.symbol = ANY (current_syms)' || nl ||
    '           GROUP BY n.symbol, l ->> ''orderId'') s' || nl ||
    '    JOIN trade_records b ON b.order_id = s.lot_id AND b.symbol = s.lot_symbol' || nl;
  new_snap constant text :=
    '  -- a lot keeps its buy''s time (per_account: each account''s piece of it)' || nl ||
    '  SELECT n.symbol, l ->> ''orderId'', min((l ->> ''time'')::timestamptz), sum((l ->> ''remaining'')::numeric)' || nl ||
    '    FROM fifo_inventory_snapshot n CROSS JOIN LATERAL jsonb_array_elements(n.open_lots) l' || nl ||
    '   WHERE n.allocation_version = p_version AND n.symbol = ANY (current_syms)' || nl ||
    '   GROUP BY n.symbol, l ->> ''orderId''' || nl;
BEGIN
  IF position(old_snap IN d) = 0 THEN
    RAISE EXCEPTION 'migration 026: fifo_open_lot_sizes_at does not read the snapshots as expected';
  END IF;
  EXECUTE replace(d, old_snap, new_snap);
END
$patch$;

-- long_held_lot items for the version's symbols (NULL: every symbol), as of p_at (017's rule and
-- outcome, unchanged).
CREATE OR REPLACE FUNCTION fifo_refresh_long_held_lots(p_version int, p_symbols text[], p_at timestamptz DEFAULT now(),
                                                       p_computation_id bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  -- the symbols as one array before planning (as fifo_open_lots_at); NULL: every symbol of the
  -- ledger and every one with a pending item (its trades may be gone)
  syms constant text[] := coalesce(p_symbols, ARRAY(
    SELECT l.s FROM fifo_ledger_symbols() l(s)
    UNION SELECT q.symbol FROM manual_review_queue q
           WHERE q.allocation_version = p_version AND q.issue_type = 'long_held_lot' AND q.status = 'pending'));
  lot_symbol text[];
  lot_id     text[];
  lot_time   timestamptz[];
  lot_size   numeric[];
  need       text[];   -- symbols with a lot open longer than their minimum: only these can flag one
  stale      text[];   -- of those, the ones without valid statistics in fifo_long_held_stats
  st_symbol  text[];
  st_median  interval[];
  st_pieces  bigint[];
  kept       text[];   -- of those, the ones whose kept statistics went on with their new rows
  half_window constant int := 100;  -- sorted pieces kept on either side of the median
  more_symbol text[];
  more_median interval[];
  more_pieces bigint[];
  result jsonb;
  jit_was constant text := current_setting('jit');
BEGIN
  -- No JIT: the statements are small, or one aggregate JIT does not speed up, and the estimates
  -- of the look-ups past a watermark (a third of a symbol) would have it compile for seconds.
  -- (Not a SET clause: every function's settings are its search_path alone, 009.)
  PERFORM set_config('jit', 'off', true);
  SELECT array_agg(l.symbol), array_agg(l.buy_order_id), array_agg(l.buy_time), array_agg(l.remaining_size)
    INTO lot_symbol, lot_id, lot_time, lot_size
    FROM fifo_open_lot_sizes_at(p_version, p_at, syms) l;

  need := ARRAY(
    SELECT o.symbol
      FROM (SELECT u.symbol, min(u.buy_time) AS oldest FROM unnest(lot_symbol, lot_time) u(symbol, buy_time) GROUP BY u.symbol) o
      JOIN LATERAL (SELECT x.min_held FROM fifo_long_held_rules x
                     WHERE x.symbol IN (o.symbol, '*') ORDER BY (x.symbol = '*') LIMIT 1) r ON true
     WHERE p_at - o.oldest > r.min_held);

  -- statistics still valid: the snapshot row they were taken with, no piece sold after p_at
  -- (a symbol without pieces is kept too: it flags nothing, and is not read again)
  -- (joined on the symbol alone, then compared: an estimate of the match would be one row, and a
  -- plan on it quadratic in the symbols)
  SELECT array_agg(x.symbol), array_agg(x.median_held), array_agg(x.pieces)
    INTO st_symbol, st_median, st_pieces
    FROM (SELECT s.symbol, s.median_held, s.pieces, s.last_sell_time, s.snapshot_row,
                 fifo_snapshot_row(n.xmin, n.ctid, n.last_audit_id) AS current_row
            FROM unnest(need) u(symbol)
            JOIN fifo_inventory_snapshot n ON n.allocation_version = p_version AND n.symbol = u.symbol
            JOIN fifo_long_held_stats s ON s.allocation_version = p_version AND s.symbol = u.symbol
          OFFSET 0) x
   WHERE x.snapshot_row = x.current_row AND (x.last_sell_time IS NULL OR x.last_sell_time <= p_at);
  stale := ARRAY(SELECT s FROM unnest(need) s EXCEPT SELECT s FROM unnest(st_symbol) s);

  IF cardinality(stale) > 0 THEN
    -- Rows that only grew: a computation either continues a symbol from its snapshot, appending
    -- the rows of the sells after the watermark, or rewrites all of its rows (functions/compute.ts).
    -- Kept statistics go on if one piece row of theirs is still the same tuple (`sentinel`) and
    -- the symbol is not dirty (its ledger is what was computed): the pieces of the sells after the
    -- watermark they were taken at are merged into the window of sorted pieces around the
    -- median; when the median leaves the window, they are taken from all the rows again.
    WITH c AS MATERIALIZED (
      SELECT x.* FROM (
        SELECT s.symbol, s.pieces, s.lo, s.win, s.last_sell_time, s.wm_time, s.wm_side, s.wm_order_id,
               s.sentinel_ctid, s.sentinel_xmin, fifo_snapshot_row(n.xmin, n.ctid, n.last_audit_id) AS snapshot_row,
               n.watermark_time, n.watermark_side, n.watermark_order_id
          FROM unnest(stale) u(symbol)
          JOIN fifo_long_held_stats s ON s.allocation_version = p_version AND s.symbol = u.symbol
          JOIN fifo_inventory_snapshot n ON n.allocation_version = p_version AND n.symbol = u.symbol
        OFFSET 0) x
       WHERE x.pieces > 0 AND x.win IS NOT NULL AND x.wm_time IS NOT NULL AND x.watermark_time IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM fifo_dirty_symbols d WHERE d.allocation_version = p_version AND d.symbol = x.symbol)
         AND EXISTS (SELECT 1 FROM fifo_allocations a
                      WHERE a.allocation_version = p_version AND a.ctid = x.sentinel_ctid AND a.symbol = x.symbol
                        AND a.xmin::text = x.sentinel_xmin)
    ), grown AS (
      -- sells after the watermark in processing order: later, or at its time after a buy (or a
      -- transfer) or after the sell it names in code-point order (docs/CONTRACT.md)
      SELECT c.symbol, a.sell_time - a.buy_time AS held, a.sell_time
        FROM c
        -- per symbol, from its watermark on through the ledger's (symbol, order_time) index, then
        -- each sell's rows by key (OFFSET 0: not flattened into joins that read the whole symbol)
        CROSS JOIN LATERAL (SELECT t.order_id FROM trade_records t
                             WHERE t.symbol = c.symbol AND fifo_utc(t.order_time) >= c.wm_time AND t.side = 'sell'
                               AND (fifo_utc(t.order_time) > c.wm_time OR c.wm_side <> 'sell'
                                    OR t.order_id COLLATE "C" > c.wm_order_id COLLATE "C")
                            OFFSET 0) t
        CROSS JOIN LATERAL (SELECT a.sell_time, a.buy_time FROM fifo_allocations a
                             WHERE a.allocation_version = p_version AND a.symbol = c.symbol AND a.sell_order_id = t.order_id
                               AND a.buy_order_id IS NOT NULL
                            OFFSET 0) a
    ), m AS MATERIALIZED (  -- each window merged once
      SELECT c.symbol, c.snapshot_row, c.watermark_time, c.watermark_side, c.watermark_order_id,
             c.pieces + g.k AS pieces, c.lo + g.below AS lo, greatest(c.last_sell_time, g.last_sell_time) AS last_sell_time,
             CASE WHEN g.inside = 0 THEN c.win
                  ELSE ARRAY(SELECT z.v FROM (SELECT w.v FROM unnest(c.win) w(v)
                                              UNION ALL
                                              SELECT x.held FROM grown x
                                               WHERE x.symbol = c.symbol AND x.held >= c.win[1] AND x.held <= c.win[cardinality(c.win)]) z
                              ORDER BY z.v) END AS win
        FROM c
        CROSS JOIN LATERAL (SELECT count(*) AS k, count(*) FILTER (WHERE x.held < c.win[1]) AS below,
                                   count(*) FILTER (WHERE x.held >= c.win[1] AND x.held <= c.win[cardinality(c.win)]) AS inside,
                                   max(x.sell_time) AS last_sell_time
                              FROM grown x WHERE x.symbol = c.symbol) g
    ), ok AS (
      -- the median's ranks, 0-based within the window
      SELECT m.*, (m.pieces - 1) / 2 - m.lo AS i1, m.pieces / 2 - m.lo AS i2
        FROM m
    ), w AS (
      UPDATE fifo_long_held_stats s
         SET snapshot_row = ok.snapshot_row, pieces = ok.pieces, last_sell_time = ok.last_sell_time,
             median_held = CASE WHEN ok.i1 = ok.i2 THEN ok.win[ok.i1 + 1]
                                ELSE (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v)
                                        FROM unnest(ARRAY[ok.win[ok.i1 + 1], ok.win[ok.i2 + 1]]) v) END,
             lo = ok.lo + greatest(0, ok.i1 - half_window),
             win = ok.win[greatest(1, ok.i1 + 1 - half_window) : least(cardinality(ok.win), ok.i2 + 1 + half_window)],
             wm_time = ok.watermark_time, wm_side = ok.watermark_side, wm_order_id = ok.watermark_order_id,
             computed_at = now()
        FROM ok
       WHERE s.allocation_version = p_version AND s.symbol = ok.symbol AND ok.i1 >= 0 AND ok.i2 < cardinality(ok.win)
      RETURNING s.symbol, s.median_held, s.pieces, s.last_sell_time
    )
    SELECT array_agg(w.symbol), array_agg(w.symbol) FILTER (WHERE w.last_sell_time <= p_at),
           array_agg(w.median_held) FILTER (WHERE w.last_sell_time <= p_at), array_agg(w.pieces) FILTER (WHERE w.last_sell_time <= p_at)
      INTO kept, more_symbol, more_median, more_pieces
      FROM w;
    st_symbol := coalesce(st_symbol, '{}') || coalesce(more_symbol, '{}');
    st_median := coalesce(st_median, '{}') || coalesce(more_median, '{}');
    st_pieces := coalesce(st_pieces, '{}') || coalesce(more_pieces, '{}');
    stale := ARRAY(SELECT s FROM unnest(stale) s EXCEPT SELECT s FROM unnest(kept) s);
  END IF;

  IF cardinality(stale) > 0 THEN
    -- from all the rows, with the snapshot row read in the same statement (so they belong
    -- together); kept for a symbol that has a snapshot
    WITH f AS (
      SELECT a.symbol, array_agg(a.sell_time - a.buy_time ORDER BY a.sell_time - a.buy_time) AS held,
             max(a.sell_time) AS last_sell_time, min(a.ctid) AS sentinel_ctid
        -- a join, not `= ANY (stale)`: a seq scan testing each row against many symbols is quadratic
        FROM unnest(stale) u(symbol)
        JOIN fifo_allocations a ON a.allocation_version = p_version AND a.symbol = u.symbol
       WHERE a.buy_order_id IS NOT NULL
       GROUP BY a.symbol
    ), k AS (
      SELECT u.symbol, coalesce(cardinality(f.held), 0) AS pieces, f.last_sell_time,
             CASE WHEN r.i1 = r.i2 THEN f.held[r.i1 + 1]
                  ELSE (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(ARRAY[f.held[r.i1 + 1], f.held[r.i2 + 1]]) v)
             END AS median_held,
             greatest(0, r.i1 - half_window) AS lo,
             f.held[greatest(1, r.i1 + 1 - half_window) : least(cardinality(f.held), r.i2 + 1 + half_window)] AS win,
             f.sentinel_ctid,
             (SELECT a.xmin::text FROM fifo_allocations a WHERE a.allocation_version = p_version AND a.ctid = f.sentinel_ctid) AS sentinel_xmin,
             fifo_snapshot_row(n.xmin, n.ctid, n.last_audit_id) AS snapshot_row,
             n.watermark_time, n.watermark_side, n.watermark_order_id
        FROM unnest(stale) u(symbol)
        LEFT JOIN f ON f.symbol = u.symbol
        CROSS JOIN LATERAL (SELECT (cardinality(f.held) - 1) / 2 AS i1, cardinality(f.held) / 2 AS i2) r
        LEFT JOIN fifo_inventory_snapshot n ON n.allocation_version = p_version AND n.symbol = u.symbol
    ), w AS (
      INSERT INTO fifo_long_held_stats AS s (allocation_version, symbol, snapshot_row, pieces, median_held, last_sell_time,
                                             lo, win, wm_time, wm_side, wm_order_id, sentinel_ctid, sentinel_xmin)
      SELECT p_version, k.symbol, k.snapshot_row, k.pieces, k.median_held, k.last_sell_time,
             k.lo, k.win, k.watermark_time, k.watermark_side, k.watermark_order_id, k.sentinel_ctid, k.sentinel_xmin
        FROM k WHERE k.snapshot_row IS NOT NULL
       ORDER BY k.symbol COLLATE "C"
      ON CONFLICT (allocation_version, symbol) DO UPDATE
         SET snapshot_row = excluded.snapshot_row, pieces = excluded.pieces, median_held = excluded.median_held,
             last_sell_time = excluded.last_sell_time, lo = excluded.lo, win = excluded.win, wm_time = excluded.wm_time,
             wm_side = excluded.wm_side, wm_order_id = excluded.wm_order_id, sentinel_ctid = excluded.sentinel_ctid,
             sentinel_xmin = excluded.sentinel_xmin, computed_at = now()
    )
    SELECT array_agg(k.symbol), array_agg(k.median_held), array_agg(k.pieces)
      INTO more_symbol, more_median, more_pieces
      FROM k WHERE k.last_sell_time IS NULL OR k.last_sell_time <= p_at;
    st_symbol := coalesce(st_symbol, '{}') || coalesce(more_symbol, '{}');
    st_median := coalesce(st_median, '{}') || coalesce(more_median, '{}');
    st_pieces := coalesce(st_pieces, '{}') || coalesce(more_pieces, '{}');
  END IF;

  -- a piece sold after p_at: as of p_at, the pieces sold by then (017's statistics, not kept)
  stale := ARRAY(SELECT s FROM unnest(need) s EXCEPT SELECT s FROM unnest(st_symbol) s);
  IF cardinality(stale) > 0 THEN
    SELECT array_agg(g.symbol), array_agg(g.median_held), array_agg(g.pieces)
      INTO more_symbol, more_median, more_pieces
      FROM (SELECT a.symbol, percentile_cont(0.5) WITHIN GROUP (ORDER BY a.sell_time - a.buy_time) AS median_held,
                   count(*) AS pieces
              FROM unnest(stale) u(symbol)
              JOIN fifo_allocations a ON a.allocation_version = p_version AND a.symbol = u.symbol
             WHERE a.buy_order_id IS NOT NULL AND a.sell_time <= p_at
             GROUP BY a.symbol) g;
    st_symbol := coalesce(st_symbol, '{}') || coalesce(more_symbol, '{}');
    st_median := coalesce(st_median, '{}') || coalesce(more_median, '{}');
    st_pieces := coalesce(st_pieces, '{}') || coalesce(more_pieces, '{}');
  END IF;

  WITH open_lots AS (
    SELECT * FROM unnest(lot_symbol, lot_id, lot_time, lot_size) u(symbol, buy_order_id, buy_time, remaining_size)
  ), ruled AS MATERIALIZED (
    -- what every flagged lot of a symbol says alike, once per symbol (amounts as text: exact decimals, never JSON floats)
    SELECT u.symbol, t.threshold,
           jsonb_build_object(
             'median_held', justify_hours(u.median_held)::text,
             'median_days', round((extract(epoch FROM u.median_held) / 86400)::numeric, 2)::text,
             'matched_pieces', u.pieces, 'median_multiple', r.median_multiple::text, 'min_held', r.min_held::text,
             'threshold', justify_hours(t.threshold)::text,
             'threshold_days', round((extract(epoch FROM t.threshold) / 86400)::numeric, 2)::text) AS facts
      FROM unnest(st_symbol, st_median, st_pieces) u(symbol, median_held, pieces)
      -- no matched piece: no usual holding period, nothing flagged (017)
      JOIN LATERAL (SELECT x.median_multiple, x.min_held FROM fifo_long_held_rules x
                     WHERE x.symbol IN (u.symbol, '*') ORDER BY (x.symbol = '*') LIMIT 1) r ON true
     CROSS JOIN LATERAL (SELECT greatest(u.median_held * r.median_multiple::float8, r.min_held) AS threshold) t
     WHERE u.pieces > 0
  ), lots AS (
    -- `facts` of a flagged lot: the details less the time held (as_of, held, held_days)
    SELECT l.symbol, l.buy_order_id, l.buy_time,
           CASE WHEN p_at - l.buy_time > r.threshold
                THEN r.facts || jsonb_build_object('buy_time', l.buy_time, 'remaining_size', trim_scale(l.remaining_size)::text)
           END AS facts
      FROM open_lots l
      LEFT JOIN ruled r ON r.symbol = l.symbol
  ), decided AS (
    -- Per key, the queue's item (one at most: its key is unique) against the open lot (one at
    -- most). A full join, which is a hash or merge join, never a nested loop over the lots (the
    -- quadratic plan 017 grouped one stream to avoid). An item is rewritten only when its facts
    -- changed (compared as jsonb, not as text: the same, every value being a string but
    -- matched_pieces, a count), computed for the keys with both a pending item and a flagged lot.
    SELECT coalesce(l.symbol, q.symbol) AS symbol, coalesce(l.buy_order_id, q.item_key) AS buy_order_id,
           CASE WHEN q.status = 'pending' THEN q.review_id END AS pending_id,
           coalesce(q.status <> 'pending', false)           AS closed,
           l.buy_order_id IS NOT NULL                       AS still_open,
           CASE WHEN q.status = 'pending' THEN q.details END AS pending_details,
           l.facts                                          AS facts_json,
           l.buy_time
      FROM lots l
      FULL JOIN (SELECT q.symbol, q.item_key, q.review_id, q.status, q.details FROM manual_review_queue q
                  WHERE q.allocation_version = p_version AND q.issue_type = 'long_held_lot' AND q.symbol = ANY (syms)) q
             ON q.symbol = l.symbol AND q.item_key = l.buy_order_id
  ), up AS (
    -- new items, and pending ones whose facts changed; a closed item is never reopened (and
    -- fifo_review_raise keeps it so if one closes meanwhile)
    SELECT r.inserted FROM fifo_review_raise(p_version, (
      SELECT jsonb_agg(jsonb_build_object('symbol', d.symbol, 'issue_type', 'long_held_lot', 'item_key', d.buy_order_id,
                                          'order_id', d.buy_order_id, 'severity', 'low',
                                          'details', d.facts_json || jsonb_build_object(
                                            'as_of', p_at, 'held', justify_hours(p_at - d.buy_time)::text,
                                            'held_days', round((extract(epoch FROM p_at - d.buy_time) / 86400)::numeric, 2)::text)))
        FROM decided d
       WHERE d.facts_json IS NOT NULL AND NOT d.closed AND (d.pending_id IS NULL OR d.pending_details - ARRAY['as_of', 'held', 'held_days'] IS DISTINCT FROM d.facts_json)),
      p_computation_id) r
  ), gone AS (
    -- pending items no longer flagged: disjoint from the rows `up` touches
    UPDATE manual_review_queue q
       SET status = 'resolved', resolved_at = now(), updated_at = now(), resolved_by = 'fifo_compute',
           resolution_note = CASE WHEN d.still_open THEN 'no longer held longer than the long_held_lot rule'
                                  ELSE 'the lot is closed (sold, or its buy is gone)' END,
           computation_id = coalesce(p_computation_id, q.computation_id)
      FROM decided d
     WHERE d.pending_id IS NOT NULL AND d.facts_json IS NULL AND q.review_id = d.pending_id AND q.symbol = d.symbol
    RETURNING 1
  )
  SELECT jsonb_build_object('raised', (SELECT count(*) FROM up WHERE inserted),
                            'updated', (SELECT count(*) FROM up WHERE NOT inserted),
                            'resolved', (SELECT count(*) FROM gone))
    INTO result;
  PERFORM set_config('jit', jit_was, true);
  RETURN result;
END $$;

SELECT fifo_apply_security();

-- Down Migration
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
DO $restore$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM fifo_026_replaced LOOP
    EXECUTE r.definition;
  END LOOP;
END
$restore$;
DROP TABLE fifo_026_replaced;
DROP FUNCTION fifo_snapshot_row(xid, tid, bigint);
DROP TABLE fifo_long_held_stats;
SELECT fifo_apply_security();
