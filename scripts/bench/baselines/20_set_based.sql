-- Baseline 2: set-based FIFO over cumulative quantity ranges, in its fast sort-based form.
-- Per symbol, buy k covers [B_{k-1}, B_k) of the running sum of buy sizes and sell j covers
-- [S_{j-1}, S_j) of the running sum of sell sizes (window sums, in processing order). Split
-- the axis at every buy and sell endpoint; each piece (lo, pos] lies in exactly one buy range
-- and one sell range, and is one allocation row. Only equi-joins on (symbol, ordinal): no
-- range join. Exact only when no sell ever exceeds the inventory (the bench ledger): it
-- matches by quantity, not by time, so an oversell would take a later buy.
-- work_mem is raised for the statement (the sorts and hashes stay in memory), as a user
-- tuning this query would. Returns the number of rows written under allocation version `v`.
CREATE OR REPLACE FUNCTION bench_fifo_set_based(v int) RETURNS bigint
LANGUAGE plpgsql SET work_mem = '512MB' AS $fn$
DECLARE
  n bigint;
BEGIN
  INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id,
      allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd,
      cost_basis_usd, proceeds_usd, pnl_usd)
  WITH buys AS (       -- buy k covers (hi - size, hi] of the running sum of buy sizes
    SELECT symbol, order_id, size, price, total_fees_usd AS fee, order_time,
           sum(size) OVER w AS hi, row_number() OVER w AS k
      FROM trade_records WHERE side = 'buy'
    WINDOW w AS (PARTITION BY symbol ORDER BY order_time, order_id COLLATE "C" ROWS UNBOUNDED PRECEDING)
  ), sells AS (        -- sell j covers (hi - size, hi] of the running sum of sell sizes
    SELECT symbol, order_id, size, price, total_fees_usd AS fee, order_time,
           sum(size) OVER w AS hi, row_number() OVER w AS k
      FROM trade_records WHERE side = 'sell'
    WINDOW w AS (PARTITION BY symbol ORDER BY order_time, order_id COLLATE "C" ROWS UNBOUNDED PRECEDING)
  ), points AS (       -- the axis split at every buy and sell endpoint
    SELECT symbol, pos, sum(nb) AS nb, sum(ns) AS ns
      FROM (SELECT symbol, hi AS pos, 1 AS nb, 0 AS ns FROM buys
            UNION ALL SELECT symbol, hi, 0, 1 FROM sells) e
     GROUP BY symbol, pos
  ), pieces AS (       -- (lo, pos] lies in buy bk and sell sj: one more than the endpoints before pos
    SELECT symbol, pos, lag(pos, 1, 0::numeric) OVER p AS lo,
           (sum(nb) OVER p - nb + 1)::bigint AS bk, (sum(ns) OVER p - ns + 1)::bigint AS sj
      FROM points
    WINDOW p AS (PARTITION BY symbol ORDER BY pos ROWS UNBOUNDED PRECEDING)
  ), numbered AS (     -- allocation_seq: the piece's place within its sell
    SELECT *, row_number() OVER (PARTITION BY symbol, sj ORDER BY pos) AS seq FROM pieces
  )
  SELECT v, g.symbol, s.order_id, g.seq, b.order_id,
         x.qty, b.price, s.price, b.order_time, s.order_time, x.bfee, x.sfee,
         b.price * x.qty + x.bfee,
         s.price * x.qty - x.sfee,
         (s.price * x.qty - x.sfee) - (b.price * x.qty + x.bfee)
    FROM numbered g
    JOIN sells s ON s.symbol = g.symbol AND s.k = g.sj
    JOIN buys b ON b.symbol = g.symbol AND b.k = g.bk
   CROSS JOIN LATERAL (SELECT
         g.pos - g.lo AS qty,
         -- cumulative rounding along the buy's consumption and along the sell's rows, in
         -- closed form: the cumulative amount at the piece's end minus that at its start
         bench_round_share(b.fee, g.pos - (b.hi - b.size), b.size)
           - bench_round_share(b.fee, g.lo - (b.hi - b.size), b.size) AS bfee,
         bench_round_share(s.fee, g.pos - (s.hi - s.size), s.size)
           - bench_round_share(s.fee, g.lo - (s.hi - s.size), s.size) AS sfee) x;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$fn$;
