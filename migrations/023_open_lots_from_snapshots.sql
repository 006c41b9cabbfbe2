-- Up Migration
-- fifo_open_lots_at (017) read from history for every symbol: each buy's consumption summed
-- over all its allocations (5 s for 1M allocations), which the long_held_lot refresh after a
-- full recompute, and every marked-positions read, paid. A symbol whose last computation is
-- current (not dirty) and covers p_at (its watermark at or before p_at) has exactly the open
-- lots of its inventory snapshot, the engine's own state: those are read from there (their fee
-- used still summed from their allocations, an exact decimal). Other symbols and earlier times
-- read history as before. Same rows, same values.

SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

CREATE TABLE fifo_023_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_023_replaced
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.oid IN ('fifo_open_lots_at(int, timestamptz, text[])'::regprocedure,
                 'fifo_refresh_long_held_lots(int, text[], timestamptz, bigint)'::regprocedure);

-- The symbols of p_symbols (NULL: all) whose open lots at p_at are their snapshot's.
CREATE FUNCTION fifo_snapshot_current_at(p_version int, p_at timestamptz, p_symbols text[])
RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT ARRAY(
    SELECT n.symbol FROM fifo_inventory_snapshot n
     WHERE n.allocation_version = p_version AND n.symbol = ANY (p_symbols) AND n.watermark_time <= p_at
       AND NOT EXISTS (SELECT 1 FROM fifo_dirty_symbols d WHERE d.allocation_version = p_version AND d.symbol = n.symbol))
$$;

-- What the long_held_lot rule needs of the open lots (no fees): sizes and times only.
CREATE FUNCTION fifo_open_lot_sizes_at(p_version int, p_at timestamptz, p_symbols text[] DEFAULT NULL)
RETURNS TABLE (symbol text, buy_order_id text, buy_time timestamptz, remaining_size numeric)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  syms constant text[] := coalesce(p_symbols, ARRAY(SELECT l.s FROM fifo_ledger_symbols() l(s)));
  current_syms text[];
  history_syms text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM fifo_allocation_versions v WHERE v.allocation_version = p_version) THEN
    RETURN;
  END IF;
  current_syms := fifo_snapshot_current_at(p_version, p_at, syms);
  history_syms := ARRAY(SELECT s FROM unnest(syms) s EXCEPT SELECT s FROM unnest(current_syms) s);
  RETURN QUERY
  SELECT s.lot_symbol, s.lot_id, fifo_utc(b.order_time), s.remaining
    FROM (SELECT n.symbol AS lot_symbol, l ->> 'orderId' AS lot_id, sum((l ->> 'remaining')::numeric) AS remaining
            FROM fifo_inventory_snapshot n CROSS JOIN LATERAL jsonb_array_elements(n.open_lots) l
           WHERE n.allocation_version = p_version AND n.symbol = ANY (current_syms)
           GROUP BY n.symbol, l ->> 'orderId') s
    JOIN trade_records b ON b.order_id = s.lot_id AND b.symbol = s.lot_symbol
  UNION ALL
  SELECT b.symbol, b.order_id, fifo_utc(b.order_time), b.size::numeric - coalesce(c.consumed, 0)
    FROM trade_records b
    LEFT JOIN (SELECT a.symbol AS lot_symbol, a.buy_order_id AS lot_id, sum(a.allocated_size) AS consumed
                 FROM fifo_allocations a
                WHERE a.allocation_version = p_version AND a.symbol = ANY (history_syms) AND a.buy_order_id IS NOT NULL
                  AND a.sell_time <= p_at
                GROUP BY a.symbol, a.buy_order_id) c
           ON c.lot_symbol = b.symbol AND c.lot_id = b.order_id
   WHERE b.symbol = ANY (history_syms) AND b.side = 'buy' AND fifo_utc(b.order_time) <= p_at
     AND b.size::numeric > coalesce(c.consumed, 0);
END $$;

CREATE OR REPLACE FUNCTION fifo_open_lots_at(p_version int, p_at timestamptz, p_symbols text[] DEFAULT NULL)
RETURNS TABLE (symbol text, buy_order_id text, buy_time timestamptz, buy_price numeric, buy_size numeric,
               remaining_size numeric, remaining_fee_usd numeric, cost_basis numeric)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  syms constant text[] := coalesce(p_symbols, ARRAY(SELECT l.s FROM fifo_ledger_symbols() l(s)));
  current_syms text[];
  history_syms text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM fifo_allocation_versions v WHERE v.allocation_version = p_version) THEN
    RETURN;
  END IF;
  current_syms := fifo_snapshot_current_at(p_version, p_at, syms);
  history_syms := ARRAY(SELECT s FROM unnest(syms) s EXCEPT SELECT s FROM unnest(current_syms) s);
  RETURN QUERY
  WITH snap AS (  -- per_account: one piece per account of a lot, summed
    SELECT n.symbol AS lot_symbol, l ->> 'orderId' AS lot_id, sum((l ->> 'remaining')::numeric) AS remaining
      FROM fifo_inventory_snapshot n CROSS JOIN LATERAL jsonb_array_elements(n.open_lots) l
     WHERE n.allocation_version = p_version AND n.symbol = ANY (current_syms)
     GROUP BY n.symbol, l ->> 'orderId'
  ), fee AS (
    SELECT a.symbol AS lot_symbol, a.buy_order_id AS lot_id, sum(a.buy_fee_usd) AS fee_used
      FROM fifo_allocations a
      JOIN snap s ON s.lot_symbol = a.symbol AND s.lot_id = a.buy_order_id
     WHERE a.allocation_version = p_version AND a.symbol = ANY (current_syms)
     GROUP BY a.symbol, a.buy_order_id
  )
  SELECT b.symbol, b.order_id, fifo_utc(b.order_time), b.price::numeric, b.size::numeric,
         s.remaining,
         b.total_fees_usd::numeric - coalesce(f.fee_used, 0),
         b.price::numeric * s.remaining + b.total_fees_usd::numeric - coalesce(f.fee_used, 0)
    FROM snap s
    JOIN trade_records b ON b.order_id = s.lot_id AND b.symbol = s.lot_symbol
    LEFT JOIN fee f ON f.lot_symbol = s.lot_symbol AND f.lot_id = s.lot_id
  UNION ALL
  SELECT b.symbol, b.order_id, fifo_utc(b.order_time), b.price::numeric, b.size::numeric,
         b.size::numeric - coalesce(c.consumed, 0),
         b.total_fees_usd::numeric - coalesce(c.fee_used, 0),
         b.price::numeric * (b.size::numeric - coalesce(c.consumed, 0)) + b.total_fees_usd::numeric - coalesce(c.fee_used, 0)
    FROM trade_records b
    LEFT JOIN (SELECT a.symbol AS lot_symbol, a.buy_order_id AS lot_id, sum(a.allocated_size) AS consumed,
                      sum(a.buy_fee_usd) AS fee_used
                 FROM fifo_allocations a
                WHERE a.allocation_version = p_version AND a.symbol = ANY (history_syms) AND a.buy_order_id IS NOT NULL
                  AND a.sell_time <= p_at
                GROUP BY a.symbol, a.buy_order_id) c
           ON c.lot_symbol = b.symbol AND c.lot_id = b.order_id
   WHERE b.symbol = ANY (history_syms) AND b.side = 'buy' AND fifo_utc(b.order_time) <= p_at
     AND b.size::numeric > coalesce(c.consumed, 0);
END $$;

-- the long_held_lot refresh reads the sizes only
DO $patch$
DECLARE
  d text := (SELECT definition FROM fifo_023_replaced
              WHERE name = 'fifo_refresh_long_held_lots(integer,text[],timestamp with time zone,bigint)');
BEGIN
  IF position('FROM fifo_open_lots_at(p_version, p_at, syms) l' IN d) = 0 THEN
    RAISE EXCEPTION 'migration 023: fifo_refresh_long_held_lots does not read fifo_open_lots_at as expected';
  END IF;
  EXECUTE replace(d, 'FROM fifo_open_lots_at(p_version, p_at, syms) l', 'FROM fifo_open_lot_sizes_at(p_version, p_at, syms) l');
END
$patch$;

SELECT fifo_apply_security();
-- read-only, called by fifo_open_lots_at, which the reader runs (017's marked positions)
GRANT EXECUTE ON FUNCTION fifo_snapshot_current_at(int, timestamptz, text[]), fifo_open_lot_sizes_at(int, timestamptz, text[])
  TO fifo_reader;

-- Down Migration
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
DO $restore$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM fifo_023_replaced LOOP
    EXECUTE r.definition;
  END LOOP;
END
$restore$;
DROP TABLE fifo_023_replaced;
DROP FUNCTION fifo_open_lot_sizes_at(int, timestamptz, text[]);
DROP FUNCTION fifo_snapshot_current_at(int, timestamptz, text[]);
SELECT fifo_apply_security();
