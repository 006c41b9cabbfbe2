-- The data contract (docs/CONTRACT.md §2-§4): every table, column, key, constraint and view.
BEGIN;
SELECT plan(102);

SELECT has_table('trade_records');
SELECT columns_are('trade_records', ARRAY['order_id','symbol','side','size','price','total_fees_usd','order_time','source','trigger','account']);
SELECT col_is_pk('trade_records', 'order_id');
SELECT col_type_is('trade_records', 'order_id', 'text');
SELECT col_type_is('trade_records', 'size', 'numeric');
SELECT col_type_is('trade_records', 'price', 'numeric');
SELECT col_type_is('trade_records', 'total_fees_usd', 'numeric');
SELECT col_type_is('trade_records', 'order_time', 'timestamp with time zone');
SELECT col_not_null('trade_records', c) FROM unnest(ARRAY['symbol','side','size','price','total_fees_usd','order_time']) c;
SELECT col_is_null('trade_records', 'source');
SELECT col_is_null('trade_records', 'trigger');
SELECT col_default_is('trade_records', 'total_fees_usd', '0');
SELECT has_check('trade_records');
SELECT ok(EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'trade_records'::regclass AND conname = c), 'constraint ' || c)
  FROM unnest(ARRAY['trade_records_side_must_be_buy_or_sell','trade_records_size_must_be_positive',
    'trade_records_size_at_most_18_decimals','trade_records_price_must_be_positive',
    'trade_records_total_fees_usd_must_not_be_negative','trade_records_symbol_must_be_base_dash_quote']) c;
SELECT has_index('trade_records', 'trade_records_symbol_time_idx', ARRAY['symbol','order_time','order_id']);
SELECT has_trigger('trade_records', t) FROM unnest(ARRAY['trade_records_audit_insert','trade_records_audit_update',
  'trade_records_audit_delete','trade_records_order_id_immutable']) t;

SELECT has_table('trade_records_audit');
SELECT columns_are('trade_records_audit', ARRAY['audit_id','operation','symbol','order_id','affected_time','old_fact','new_fact','changed_at','changed_by','txid']);
SELECT has_trigger('trade_records_audit', 'trade_records_audit_no_update_delete');
SELECT has_trigger('trade_records_audit', 'trade_records_audit_no_truncate');

SELECT has_table('fifo_allocation_versions');
SELECT col_is_pk('fifo_allocation_versions', 'allocation_version');
SELECT col_default_is('fifo_allocation_versions', 'method', 'fifo');
SELECT results_eq('SELECT allocation_version, method FROM fifo_allocation_versions',
  $$VALUES (1, 'fifo'::text)$$, 'version 1 = fifo is seeded');

SELECT has_table('fifo_allocations');
SELECT has_column('fifo_allocations', c) FROM unnest(ARRAY['allocation_version','symbol','sell_order_id','buy_order_id',
  'allocated_size','buy_price','sell_price','buy_time','sell_time','buy_fee_usd','sell_fee_usd','cost_basis_usd',
  'proceeds_usd','pnl_usd','allocation_time']) c;
SELECT col_is_pk('fifo_allocations', ARRAY['allocation_version','symbol','sell_order_id','allocation_seq']);
SELECT col_is_null('fifo_allocations', 'buy_order_id');
-- issue 11 (013): one partition per version instead of a per-row foreign key; no buy/sell_time index
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'fifo_allocations'::regclass), 'p',
  'fifo_allocations is partitioned (by allocation version)');
SELECT throws_ok($$INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, allocated_size,
    sell_price, sell_time, sell_fee_usd, proceeds_usd) VALUES (99, 'X', 's', 1, 1, 1, now(), 0, 1)$$, '23514', NULL,
  'a row of a version that does not exist has no partition and is refused');
SELECT hasnt_index('fifo_allocations', 'fifo_allocations_buy_idx');
SELECT has_index('fifo_allocations', 'fifo_allocations_unmatched_idx');
SELECT hasnt_index('fifo_allocations', 'fifo_allocations_sell_time_idx');

SELECT has_table('fifo_computation_log');
SELECT has_column('fifo_computation_log', c) FROM unnest(ARRAY['allocation_version','mode','symbols','host','started_at',
  'finished_at','status','trades_processed','allocations_written','unmatched_count','duration','error']) c;

SELECT has_table('fifo_inventory_snapshot');
SELECT col_is_pk('fifo_inventory_snapshot', ARRAY['allocation_version','symbol']);
SELECT has_column('fifo_inventory_snapshot', 'open_lots');
SELECT has_column('fifo_inventory_snapshot', 'watermark_time');

SELECT has_table('manual_review_queue');
SELECT has_column('manual_review_queue', c) FROM unnest(ARRAY['allocation_version','symbol','order_id','issue_type',
  'severity','status','details','created_at','resolved_at','resolution_note']) c;
SELECT col_type_is('manual_review_queue', 'details', 'jsonb');
SELECT col_default_is('manual_review_queue', 'status', 'pending');
SELECT col_is_pk('manual_review_queue', ARRAY['review_id','symbol']);

SELECT has_table('fifo_dirty_symbols');
SELECT col_is_pk('fifo_dirty_symbols', ARRAY['allocation_version','symbol']);

SELECT has_view(v) FROM unnest(ARRAY['v_allocation_health','v_unmatched_sells','v_pnl_by_symbol',
  'v_allocation_discrepancies','v_trade_pnl','v_daily_pnl','v_daily_pnl_by_symbol','v_open_lots']) v;

-- Scale-out: every key of a per-symbol table includes symbol (docs/CONTRACT.md §8.3).
SELECT is_empty($$
  SELECT c.conrelid::regclass::text || '.' || c.conname
    FROM pg_constraint c
   WHERE c.contype IN ('p', 'u')
     AND c.conrelid::regclass::text IN ('fifo_allocations', 'fifo_inventory_snapshot', 'manual_review_queue', 'fifo_dirty_symbols')
     AND NOT EXISTS (SELECT 1 FROM unnest(c.conkey) k JOIN pg_attribute a
                      ON a.attrelid = c.conrelid AND a.attnum = k WHERE a.attname = 'symbol')$$,
  'every unique key of the computed tables includes symbol');

SELECT * FROM finish();
ROLLBACK;
