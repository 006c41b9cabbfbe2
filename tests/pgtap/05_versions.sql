-- A version created after the facts starts with every symbol dirty, so its first run
-- computes everything; fifo_ledger_symbols lists the ledger's symbols.
BEGIN;
SELECT plan(7);
INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
  ('a', 'AAA-USD', 'buy', 1, 1, '2026-01-01Z'), ('b', 'BBB-USD', 'buy', 1, 1, '2026-01-01Z');
DELETE FROM fifo_dirty_symbols;
SELECT results_eq('SELECT s FROM fifo_ledger_symbols() s', $$VALUES ('AAA-USD'::text), ('BBB-USD')$$, 'fifo_ledger_symbols');
INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (3, 'lifo');
SELECT results_eq($$SELECT allocation_version, symbol, dirty_from FROM fifo_dirty_symbols ORDER BY symbol$$,
  $$VALUES (3, 'AAA-USD'::text, '-infinity'::timestamptz), (3, 'BBB-USD', '-infinity')$$,
  'a new version marks every ledger symbol dirty');
-- issue 11 (013): the version's partition comes and goes with it
SELECT has_table('fifo_allocations_v3', 'a new version gets its allocation partition');
INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, allocated_size, sell_price,
  sell_time, sell_fee_usd, proceeds_usd) VALUES (3, 'AAA-USD', 's', 1, 1, 1, now(), 0, 1);
SELECT throws_ok($$UPDATE fifo_allocation_versions SET allocation_version = 5 WHERE allocation_version = 3$$, '0A000', NULL,
  'a version cannot be renumbered');
DELETE FROM fifo_allocation_versions WHERE allocation_version = 3;
SELECT hasnt_table('fifo_allocations_v3', 'deleting a version drops its partition');
SELECT is((SELECT count(*)::int FROM fifo_allocations WHERE allocation_version = 3), 0, 'and its allocations with it');
SELECT throws_like($$INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (4, 'random')$$,
  '%fifo_allocation_versions_method_check%', 'only fifo, lifo and hifo');
SELECT * FROM finish();
ROLLBACK;
