-- A version created after the facts starts with every symbol dirty, so its first run
-- computes everything; fifo_ledger_symbols lists the ledger's symbols.
BEGIN;
SELECT plan(3);
INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
  ('a', 'AAA-USD', 'buy', 1, 1, '2026-01-01Z'), ('b', 'BBB-USD', 'buy', 1, 1, '2026-01-01Z');
DELETE FROM fifo_dirty_symbols;
SELECT results_eq('SELECT s FROM fifo_ledger_symbols() s', $$VALUES ('AAA-USD'::text), ('BBB-USD')$$, 'fifo_ledger_symbols');
INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (3, 'lifo');
SELECT results_eq($$SELECT allocation_version, symbol, dirty_from FROM fifo_dirty_symbols ORDER BY symbol$$,
  $$VALUES (3, 'AAA-USD'::text, '-infinity'::timestamptz), (3, 'BBB-USD', '-infinity')$$,
  'a new version marks every ledger symbol dirty');
SELECT throws_like($$INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (4, 'random')$$,
  '%fifo_allocation_versions_method_check%', 'only fifo, lifo and hifo');
SELECT * FROM finish();
ROLLBACK;
