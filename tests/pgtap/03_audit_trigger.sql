-- Every insert, correction and delete of a fact is audited and marks its symbol dirty
-- from the earliest affected order_time; the audit trail is append-only.
BEGIN;
SELECT plan(14);

INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'hifo');
INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
  ('b1', 'SOL-USD', 'buy', 2, 100, 0.2, '2026-01-10 10:00Z'),
  ('s1', 'SOL-USD', 'sell', 1, 120, 0.1, '2026-01-12 10:00Z'),
  ('e1', 'ETH-USD', 'buy', 1, 3000, 0, '2026-01-11 10:00Z');

SELECT results_eq($$SELECT operation, order_id, new_fact->>'size' FROM trade_records_audit ORDER BY audit_id$$,
  $$VALUES ('INSERT', 'b1', '2'), ('INSERT', 's1', '1'), ('INSERT', 'e1', '1')$$, 'inserts are audited with the new fact');
SELECT results_eq($$SELECT allocation_version, symbol, dirty_from FROM fifo_dirty_symbols ORDER BY 1, 2$$,
  $$VALUES (1, 'ETH-USD', '2026-01-11 10:00Z'::timestamptz), (1, 'SOL-USD', '2026-01-10 10:00Z'),
           (2, 'ETH-USD', '2026-01-11 10:00Z'), (2, 'SOL-USD', '2026-01-10 10:00Z')$$,
  'inserts mark each symbol dirty for every version from its earliest order_time');

-- a computation consumed the dirty markers
DELETE FROM fifo_dirty_symbols;

-- a correction back-dates a sell: dirty from the earlier of old and new times
UPDATE trade_records SET order_time = '2026-01-11 09:00Z', size = 1.5 WHERE order_id = 's1';
SELECT results_eq($$SELECT operation, old_fact->>'size', new_fact->>'size', affected_time FROM trade_records_audit WHERE order_id = 's1' AND operation = 'UPDATE'$$,
  $$VALUES ('UPDATE', '1', '1.5', '2026-01-11 09:00Z'::timestamptz)$$, 'a correction is audited with old and new facts');
SELECT results_eq($$SELECT symbol, dirty_from FROM fifo_dirty_symbols WHERE allocation_version = 1$$,
  $$VALUES ('SOL-USD', '2026-01-11 09:00Z'::timestamptz)$$, 'a correction marks its symbol dirty from the earliest affected time');

-- an update that changes nothing factual is not audited
UPDATE trade_records SET size = size WHERE order_id = 'b1';
SELECT is((SELECT count(*) FROM trade_records_audit WHERE operation = 'UPDATE')::int, 1, 'a no-op update is not a fact change');

-- a later change cannot move dirty_from forward
UPDATE trade_records SET price = 121 WHERE order_id = 's1';
SELECT is((SELECT dirty_from FROM fifo_dirty_symbols WHERE allocation_version = 1 AND symbol = 'SOL-USD'),
  '2026-01-11 09:00Z'::timestamptz, 'dirty_from keeps the earliest time');

-- moving a fact to another symbol dirties both
DELETE FROM fifo_dirty_symbols;
UPDATE trade_records SET symbol = 'ETH-USD' WHERE order_id = 's1';
SELECT results_eq($$SELECT symbol FROM fifo_dirty_symbols WHERE allocation_version = 1 ORDER BY 1$$,
  $$VALUES ('ETH-USD'), ('SOL-USD')$$, 'a fact moved across symbols dirties both');

DELETE FROM fifo_dirty_symbols;
DELETE FROM trade_records WHERE order_id = 'b1';
SELECT results_eq($$SELECT operation, old_fact->>'order_id', new_fact FROM trade_records_audit WHERE operation = 'DELETE'$$,
  $$VALUES ('DELETE', 'b1', NULL::jsonb)$$, 'a delete is audited with the old fact');
SELECT results_eq($$SELECT symbol, dirty_from FROM fifo_dirty_symbols WHERE allocation_version = 1$$,
  $$VALUES ('SOL-USD', '2026-01-10 10:00Z'::timestamptz)$$, 'a delete marks the symbol dirty from the deleted fact''s time');

SELECT is((SELECT count(DISTINCT changed_by) FROM trade_records_audit)::int, 1, 'the audit records who changed the fact');

SELECT throws_like($$UPDATE trade_records_audit SET symbol = 'X-Y'$$, '%append-only%', 'audit rows cannot be updated');
SELECT throws_like($$DELETE FROM trade_records_audit$$, '%append-only%', 'audit rows cannot be deleted');
SELECT throws_like($$TRUNCATE trade_records_audit$$, '%append-only%', 'the audit trail cannot be truncated');

-- bulk: one statement of many rows is audited row by row
INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
SELECT 'bulk' || i, 'BTC-USD', 'buy', 1, 50000, '2026-02-01'::timestamptz + i * interval '1 minute' FROM generate_series(1, 1000) i;
SELECT is((SELECT count(*) FROM trade_records_audit WHERE symbol = 'BTC-USD')::int, 1000, 'a bulk insert is audited per fact');

SELECT * FROM finish();
ROLLBACK;
