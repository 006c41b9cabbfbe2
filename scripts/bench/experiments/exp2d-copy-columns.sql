-- Issue 11, experiment 2d: server-side COPY (text) of the 996,859 rows from a file into an
-- unindexed table: all 15 columns, vs. 12 columns with cost_basis/proceeds/pnl as STORED
-- generated columns computed from the others (the expressions the baselines use), vs.
-- COPY BINARY of all columns (what a binary encoder in the client would buy).
-- Files under /tmp (the server runs on this host). psql -f; run twice.
\timing on
SET TimeZone = 'UTC';
COPY (SELECT 2, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time,
             buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd FROM exp_src) TO '/tmp/exp2d-all.copy';
COPY (SELECT 2, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time,
             buy_fee_usd, sell_fee_usd FROM exp_src) TO '/tmp/exp2d-12.copy';
COPY (SELECT 2, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time,
             buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd FROM exp_src) TO '/tmp/exp2d-all.bin' WITH (FORMAT binary);
DROP TABLE IF EXISTS c_all, c_gen, c_bin;
CREATE TABLE c_all (LIKE fifo_allocations INCLUDING DEFAULTS);
CREATE TABLE c_bin (LIKE fifo_allocations INCLUDING DEFAULTS);
CREATE TABLE c_gen (allocation_version int NOT NULL, symbol text NOT NULL, sell_order_id text NOT NULL, allocation_seq int NOT NULL,
  buy_order_id text, allocated_size numeric NOT NULL, buy_price numeric, sell_price numeric NOT NULL, buy_time timestamptz,
  sell_time timestamptz NOT NULL, buy_fee_usd numeric, sell_fee_usd numeric NOT NULL,
  cost_basis_usd numeric GENERATED ALWAYS AS (buy_price * allocated_size + buy_fee_usd) STORED,
  proceeds_usd numeric GENERATED ALWAYS AS (sell_price * allocated_size - sell_fee_usd) STORED,
  pnl_usd numeric GENERATED ALWAYS AS ((sell_price * allocated_size - sell_fee_usd) - (buy_price * allocated_size + buy_fee_usd)) STORED,
  allocation_time timestamptz NOT NULL DEFAULT now(), computation_id bigint);
\echo == text, 15 columns
COPY c_all (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd) FROM '/tmp/exp2d-all.copy';
\echo == text, 12 columns + 3 generated
COPY c_gen (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd) FROM '/tmp/exp2d-12.copy';
\echo == binary, 15 columns
COPY c_bin (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd) FROM '/tmp/exp2d-all.bin' WITH (FORMAT binary);
\echo == check: generated columns equal the engine rows (0 expected)
SELECT count(*) AS differing FROM c_gen g JOIN exp_src s USING (symbol, sell_order_id, allocation_seq)
 WHERE g.cost_basis_usd IS DISTINCT FROM s.cost_basis_usd OR g.proceeds_usd <> s.proceeds_usd OR g.pnl_usd IS DISTINCT FROM s.pnl_usd;
DROP TABLE c_all, c_gen, c_bin;
