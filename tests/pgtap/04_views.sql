-- The views on a small hand-built ledger with hand-built allocations (FIFO, worked by hand).
--   SOL-USD: b1 buy 2 @ 100 fee 0.2; b2 buy 1 @ 110 fee 0.1; s1 sell 2.5 @ 120 fee 0.3
--     row 1: 2   of b1: buy fee 0.2,  sell fee 0.24, cost 200.2, proceeds 239.76, pnl 39.56
--     row 2: 0.5 of b2: buy fee 0.05, sell fee 0.06, cost 55.05, proceeds 59.94,  pnl 4.89
--   ETH-USD: s2 sell 1 @ 10 fee 0.01 with no buy: unmatched, proceeds 9.99
BEGIN;
SELECT plan(16);

INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger) VALUES
  ('b1', 'SOL-USD', 'buy',  2,   100, 0.2,  '2026-03-01 10:00Z', 'scalper', NULL),
  ('b2', 'SOL-USD', 'buy',  1,   110, 0.1,  '2026-03-01 11:00Z', 'scalper', NULL),
  ('s1', 'SOL-USD', 'sell', 2.5, 120, 0.3,  '2026-03-02 09:00Z', 'scalper', 'take_profit'),
  ('s2', 'ETH-USD', 'sell', 1,   10,  0.01, '2026-03-02 12:00Z', 'manual',  'stop_loss');
INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
    buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd) VALUES
  (1, 'SOL-USD', 's1', 1, 'b1', 2,   100, 120, '2026-03-01 10:00Z', '2026-03-02 09:00Z', 0.2,  0.24, 200.2, 239.76, 39.56),
  (1, 'SOL-USD', 's1', 2, 'b2', 0.5, 110, 120, '2026-03-01 11:00Z', '2026-03-02 09:00Z', 0.05, 0.06, 55.05, 59.94,  4.89),
  (1, 'ETH-USD', 's2', 1, NULL, 1,   NULL, 10, NULL, '2026-03-02 12:00Z', NULL, 0.01, NULL, 9.99, NULL);
INSERT INTO fifo_inventory_snapshot (allocation_version, symbol, method, watermark_time, watermark_side, watermark_order_id) VALUES
  (1, 'SOL-USD', 'fifo', '2026-03-02 09:00Z', 'sell', 's1'),
  (1, 'ETH-USD', 'fifo', '2026-03-02 12:00Z', 'sell', 's2');
INSERT INTO fifo_computation_log (allocation_version, mode, host, status, finished_at, trades_processed, allocations_written, unmatched_count)
VALUES (1, 'full', 'client', 'success', now(), 4, 3, 1);
INSERT INTO manual_review_queue (allocation_version, symbol, order_id, issue_type, item_key, severity, details)
VALUES (1, 'ETH-USD', 's2', 'unmatched_sell', 's2', 'critical', '{"requested": "1", "available": "0"}');
DELETE FROM fifo_dirty_symbols;

SELECT is_empty('SELECT * FROM v_allocation_discrepancies', 'a correct allocation has no discrepancies');

SELECT results_eq($$SELECT sell_order_id, sell_size, matched_size, unmatched_size, lots_used, proceeds_usd, cost_basis_usd,
                           realized_pnl_usd, sell_fee_usd, buy_fee_usd, source, trigger
                      FROM v_trade_pnl WHERE allocation_version = 1 ORDER BY sell_order_id$$,
  $$VALUES ('s1'::text, 2.5, 2.5, 0::numeric, 2::bigint, 299.70, 255.25, 44.45, 0.30, 0.25, 'scalper'::text, 'take_profit'::text),
           ('s2', 1, 0, 1, 0, NULL, NULL, NULL, 0.01, 0, 'manual', 'stop_loss')$$,
  'v_trade_pnl: one row per sell, realized PnL of the matched part');

SELECT results_eq($$SELECT symbol, sells, winning_sells, realized_pnl_usd, fees_usd, unmatched_sells, unmatched_size
                      FROM v_pnl_by_symbol WHERE allocation_version = 1 ORDER BY symbol$$,
  $$VALUES ('ETH-USD'::text, 1::bigint, 0::bigint, 0::numeric, 0.01, 1::bigint, 1::numeric),
           ('SOL-USD', 1, 1, 44.45, 0.55, 0, 0)$$,
  'v_pnl_by_symbol');

SELECT results_eq($$SELECT day, sells, realized_pnl_usd, fees_usd, cumulative_pnl_usd FROM v_daily_pnl WHERE allocation_version = 1$$,
  $$VALUES ('2026-03-02'::date, 2::numeric, 44.45, 0.56, 44.45)$$, 'v_daily_pnl by UTC day of the sell');

SELECT results_eq($$SELECT symbol, sell_order_id, unmatched_size, sell_size, unmatched_proceeds_usd, review_status FROM v_unmatched_sells$$,
  $$VALUES ('ETH-USD'::text, 's2'::text, 1::numeric, 1::numeric, 9.99, 'pending'::text)$$, 'v_unmatched_sells lists the unmatched remainder with its review');

SELECT results_eq($$SELECT buy_order_id, remaining_size, remaining_fee_usd, remaining_cost_basis_usd FROM v_open_lots WHERE allocation_version = 1$$,
  $$VALUES ('b2'::text, 0.5, 0.05, 55.05)$$, 'v_open_lots: what the buys have left');

SELECT results_eq($$SELECT allocations_total, unmatched_sells, symbols_in_ledger, dirty_symbols, stale_symbols, last_run_status, pending_reviews
                      FROM v_allocation_health WHERE allocation_version = 1$$,
  $$VALUES (3::bigint, 1::bigint, 2::bigint, 0::bigint, 0::bigint, 'success'::text, 1::bigint)$$, 'v_allocation_health');

-- Each invariant violation surfaces as a row naming the check. pg_temp.after() applies a
-- change, reads a query, and rolls the change back (a savepoint would roll back pgTAP's
-- own counters too).
CREATE FUNCTION pg_temp.after(change text, q text) RETURNS text[] LANGUAGE plpgsql AS $fn$
DECLARE r text[];
BEGIN
  BEGIN
    EXECUTE change;
    EXECUTE 'SELECT coalesce(array_agg(x ORDER BY x), ''{}'') FROM (' || q || ') s(x)' INTO r;
    RAISE EXCEPTION USING ERRCODE = 'P0100', MESSAGE = 'undo';
  EXCEPTION WHEN SQLSTATE 'P0100' THEN NULL;
  END;
  RETURN r;
END $fn$;

SELECT is(pg_temp.after($$UPDATE fifo_allocations SET pnl_usd = 40 WHERE sell_order_id = 's1' AND allocation_seq = 1$$,
  $$SELECT order_id || ' ' || check_name FROM v_allocation_discrepancies$$),
  ARRAY['s1 row_pnl_formula'], 'a wrong pnl is a discrepancy');
SELECT is(pg_temp.after($$UPDATE fifo_allocations SET buy_fee_usd = 0.06, cost_basis_usd = 55.06, pnl_usd = 4.88 WHERE sell_order_id = 's1' AND allocation_seq = 2$$,
  $$SELECT check_name FROM v_allocation_discrepancies$$),
  ARRAY['row_buy_fee_share'], 'a wrong buy fee share is a discrepancy');
SELECT is(pg_temp.after($$UPDATE fifo_allocations SET allocated_size = 1.5, cost_basis_usd = 150.2, buy_fee_usd = 0.2, proceeds_usd = 179.82, sell_fee_usd = 0.18, pnl_usd = 29.62
                          WHERE sell_order_id = 's1' AND allocation_seq = 1$$,
  $$SELECT check_name FROM v_allocation_discrepancies$$),
  ARRAY['row_buy_fee_share', 'sell_allocated_size_mismatch', 'sell_not_fully_allocated'], 'a sell allocated short is a discrepancy');
SELECT ok('buy_over_allocated' = ANY (pg_temp.after(
  $$UPDATE fifo_allocations SET allocated_size = 3, buy_fee_usd = 0.3, cost_basis_usd = 300.3, sell_fee_usd = 0.36, proceeds_usd = 359.64, pnl_usd = 59.34
     WHERE sell_order_id = 's1' AND allocation_seq = 1$$,
  $$SELECT check_name FROM v_allocation_discrepancies$$)), 'a buy consumed beyond its size is a discrepancy');
SELECT ok('buy_used_before_its_time' = ANY (pg_temp.after($$UPDATE trade_records SET order_time = '2026-03-03Z' WHERE order_id = 'b2'$$,
  $$SELECT check_name FROM v_allocation_discrepancies$$)), 'a buy matched before its time is a discrepancy');
SELECT ok('allocation_references_missing_buy' = ANY (pg_temp.after($$DELETE FROM trade_records WHERE order_id = 'b1'$$,
  $$SELECT check_name FROM v_allocation_discrepancies$$)), 'an allocation of a deleted buy is a discrepancy');
SELECT is(pg_temp.after($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('s0', 'SOL-USD', 'sell', 1, 90, '2026-03-01 12:00Z')$$,
  $$SELECT order_id || ' ' || check_name FROM v_allocation_discrepancies UNION ALL SELECT 'dirty ' || dirty_symbols FROM v_allocation_health WHERE allocation_version = 1$$),
  ARRAY['dirty 1', 's0 sell_not_fully_allocated'], 'a sell before the watermark without allocations is a discrepancy, and its symbol is dirty');
SELECT is(pg_temp.after($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('s9', 'SOL-USD', 'sell', 0.1, 90, '2026-03-05Z')$$,
  $$SELECT order_id || ' ' || check_name FROM v_allocation_discrepancies UNION ALL SELECT 'stale ' || stale_symbols FROM v_allocation_health WHERE allocation_version = 1$$),
  ARRAY['stale 1'], 'a sell after the watermark is pending (symbol stale), not a discrepancy');
SELECT is_empty('SELECT * FROM v_allocation_discrepancies', 'every change above was undone');

SELECT * FROM finish();
ROLLBACK;
