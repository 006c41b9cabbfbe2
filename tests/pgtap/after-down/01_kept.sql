-- After `migrate down` on an adopted database: the ledger stays, with its rows and columns.
BEGIN;
SELECT plan(5);
SELECT has_table('trade_records');
SELECT is((SELECT count(*) FROM trade_records)::int, 4, 'every row is still there');
SELECT has_column('trade_records', 'pnl_usd');
SELECT is((SELECT pnl_usd FROM trade_records WHERE order_id = 's2'), 299.2, 'legacy values untouched');
SELECT hasnt_table('fifo_allocations');
SELECT * FROM finish();
ROLLBACK;
