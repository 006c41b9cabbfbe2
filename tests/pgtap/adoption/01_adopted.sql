-- After `migrate up` on a database whose trade_records had legacy columns and rows.
BEGIN;
SELECT plan(12);
SELECT is((SELECT count(*) FROM trade_records)::int, 4, 'every legacy row is kept');
SELECT has_column('trade_records', c) FROM unnest(ARRAY['parent_id','pnl_usd','realized_profit','remaining_size',
  'cost_basis_usd','sale_proceeds_usd','net_sale_proceeds_usd']) c;
SELECT results_eq($$SELECT order_id, legacy->>'parent_id', (legacy->>'pnl_usd')::numeric FROM trade_records_legacy_snapshot ORDER BY order_id$$,
  $$VALUES ('b1'::text, NULL::text, NULL::numeric), ('b2', NULL, NULL), ('s1', 'b1', 98.9), ('s2', 'b1', 299.2)$$,
  'the legacy computed values are snapshotted');
SELECT is((SELECT legacy_rows FROM fifo_adoption), 4::bigint, 'the adoption is recorded');
SELECT col_not_null('trade_records', 'total_fees_usd', 'a nullable legacy fee column without NULLs gets the contract NOT NULL');
SELECT col_default_is('trade_records', 'total_fees_usd', '0', 'and keeps its default 0');
SELECT * FROM finish();
ROLLBACK;
