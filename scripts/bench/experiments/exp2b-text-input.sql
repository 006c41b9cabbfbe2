-- Issue 11, experiment 2b: what the text input functions cost inside any text-based write
-- (COPY text, JSON, arrays): the same 996,859 rows INSERT ... SELECT into an unindexed table,
-- (a) as values, (b) the 10 numeric columns through text, (c) numerics and both times through
-- text (ISO 8601 with Z, as the engine emits them). psql -f, \timing; run 3 times.
\timing on
DROP TABLE IF EXISTS w2; CREATE TABLE w2 (LIKE fifo_allocations INCLUDING DEFAULTS);
SET TimeZone = 'UTC';
-- precomputed text copy of the source (untimed for the comparison)
DROP TABLE IF EXISTS exp_src_text;
CREATE TABLE exp_src_text AS SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size::text a, buy_price::text b,
  sell_price::text c, to_char(buy_time, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') bt, to_char(sell_time, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') st,
  buy_fee_usd::text d, sell_fee_usd::text e, cost_basis_usd::text f, proceeds_usd::text g, pnl_usd::text h, buy_time, sell_time FROM exp_src;
\echo (a) values
INSERT INTO w2 (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd)
SELECT 2, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd FROM exp_src;
TRUNCATE w2;
\echo (b) numerics from text
INSERT INTO w2 (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd)
SELECT 2, symbol, sell_order_id, allocation_seq, buy_order_id, a::numeric, b::numeric, c::numeric, buy_time, sell_time, d::numeric, e::numeric, f::numeric, g::numeric, h::numeric FROM exp_src_text;
TRUNCATE w2;
\echo (c) numerics and times from text
INSERT INTO w2 (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd)
SELECT 2, symbol, sell_order_id, allocation_seq, buy_order_id, a::numeric, b::numeric, c::numeric, bt::timestamptz, st::timestamptz, d::numeric, e::numeric, f::numeric, g::numeric, h::numeric FROM exp_src_text;
TRUNCATE w2;
\echo (d) values again
INSERT INTO w2 (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd)
SELECT 2, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd FROM exp_src;
DROP TABLE w2; DROP TABLE exp_src_text;
