-- Up Migration
-- What users read (docs/CONTRACT.md §4). Everything the CLI prints comes from these views,
-- so SQL reports and `pnpm fifo ...` always show the same numbers.

-- Processing order of a trade (docs/CONTRACT.md §5.1): time, buys before sells, order id in C collation
-- (code-unit order, the same as the engine's compare).
CREATE FUNCTION fifo_side_rank(side text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE side WHEN 'buy' THEN 0 ELSE 1 END;

-- One row per sell: its realized PnL (matched part) and what stayed unmatched.
CREATE VIEW v_trade_pnl AS
SELECT a.allocation_version,
       a.symbol,
       a.sell_order_id,
       min(a.sell_time)                                              AS sell_time,
       min(a.sell_price)                                             AS sell_price,
       sum(a.allocated_size)                                         AS sell_size,
       coalesce(sum(a.allocated_size) FILTER (WHERE a.buy_order_id IS NOT NULL), 0) AS matched_size,
       coalesce(sum(a.allocated_size) FILTER (WHERE a.buy_order_id IS NULL), 0)     AS unmatched_size,
       count(a.buy_order_id)                                         AS lots_used,
       sum(a.proceeds_usd) FILTER (WHERE a.buy_order_id IS NOT NULL) AS proceeds_usd,
       sum(a.cost_basis_usd)                                         AS cost_basis_usd,
       sum(a.pnl_usd)                                                AS realized_pnl_usd,
       sum(a.sell_fee_usd)                                           AS sell_fee_usd,
       coalesce(sum(a.buy_fee_usd), 0)                               AS buy_fee_usd,
       min(a.buy_time)                                               AS first_buy_time,
       max(a.buy_time)                                               AS last_buy_time,
       t.source,
       t.trigger
  FROM fifo_allocations a
  LEFT JOIN trade_records t ON t.order_id = a.sell_order_id AND t.symbol = a.symbol
 GROUP BY a.allocation_version, a.symbol, a.sell_order_id, t.source, t.trigger;

CREATE VIEW v_pnl_by_symbol AS
SELECT allocation_version,
       symbol,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE realized_pnl_usd > 0)          AS winning_sells,
       count(*) FILTER (WHERE realized_pnl_usd < 0)          AS losing_sells,
       sum(matched_size)                                     AS matched_size,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(sell_fee_usd) + sum(buy_fee_usd)                  AS fees_usd,
       count(*) FILTER (WHERE unmatched_size > 0)            AS unmatched_sells,
       sum(unmatched_size)                                   AS unmatched_size,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time
  FROM v_trade_pnl
 GROUP BY allocation_version, symbol;

-- Daily realized PnL by the UTC date of the sell.
CREATE VIEW v_daily_pnl_by_symbol AS
SELECT allocation_version,
       (sell_time AT TIME ZONE 'UTC')::date                  AS day,
       symbol,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE realized_pnl_usd > 0)          AS winning_sells,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(sell_fee_usd) + sum(buy_fee_usd)                  AS fees_usd,
       count(*) FILTER (WHERE unmatched_size > 0)            AS unmatched_sells
  FROM v_trade_pnl
 GROUP BY allocation_version, (sell_time AT TIME ZONE 'UTC')::date, symbol;

CREATE VIEW v_daily_pnl AS
SELECT allocation_version,
       day,
       sum(sells)                                            AS sells,
       sum(winning_sells)                                    AS winning_sells,
       sum(proceeds_usd)                                     AS proceeds_usd,
       sum(cost_basis_usd)                                   AS cost_basis_usd,
       sum(realized_pnl_usd)                                 AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       sum(unmatched_sells)                                  AS unmatched_sells,
       sum(sum(realized_pnl_usd)) OVER (PARTITION BY allocation_version ORDER BY day) AS cumulative_pnl_usd
  FROM v_daily_pnl_by_symbol
 GROUP BY allocation_version, day;

CREATE VIEW v_unmatched_sells AS
SELECT a.allocation_version,
       a.symbol,
       a.sell_order_id,
       a.sell_time,
       a.sell_price,
       a.allocated_size                 AS unmatched_size,
       t.size                           AS sell_size,
       a.proceeds_usd                   AS unmatched_proceeds_usd,
       q.review_id,
       coalesce(q.status, 'pending')    AS review_status
  FROM fifo_allocations a
  LEFT JOIN trade_records t ON t.order_id = a.sell_order_id AND t.symbol = a.symbol
  LEFT JOIN manual_review_queue q
         ON q.allocation_version = a.allocation_version AND q.symbol = a.symbol
        AND q.issue_type = 'unmatched_sell' AND q.item_key = a.sell_order_id
 WHERE a.buy_order_id IS NULL;

-- Remaining inventory per buy: the buy's size less what the version's allocations consumed.
CREATE VIEW v_open_lots AS
SELECT v.allocation_version,
       b.symbol,
       b.order_id                                   AS buy_order_id,
       b.order_time                                 AS buy_time,
       b.price                                      AS buy_price,
       b.size                                       AS buy_size,
       coalesce(c.consumed, 0)                      AS consumed_size,
       b.size - coalesce(c.consumed, 0)             AS remaining_size,
       b.total_fees_usd - coalesce(c.fee_used, 0)   AS remaining_fee_usd,
       b.price * (b.size - coalesce(c.consumed, 0)) + b.total_fees_usd - coalesce(c.fee_used, 0)
                                                    AS remaining_cost_basis_usd,
       b.source,
       b.trigger
  FROM fifo_allocation_versions v
 CROSS JOIN trade_records b
  LEFT JOIN (SELECT allocation_version, symbol, buy_order_id,
                    sum(allocated_size) AS consumed, sum(buy_fee_usd) AS fee_used
               FROM fifo_allocations WHERE buy_order_id IS NOT NULL
              GROUP BY allocation_version, symbol, buy_order_id) c
         ON c.allocation_version = v.allocation_version AND c.symbol = b.symbol AND c.buy_order_id = b.order_id
 WHERE b.side = 'buy' AND b.size > coalesce(c.consumed, 0);

-- Every invariant of docs/CONTRACT.md §6.1 as a row source; empty when healthy. Fee shares are checked
-- without division (numeric division rounds): |share × size − fee × allocated| ≤ 1e-18 × size.
CREATE VIEW v_allocation_discrepancies AS
WITH facts AS (
  SELECT order_id, symbol, side, size::numeric AS size, price::numeric AS price,
         total_fees_usd::numeric AS fee, order_time::timestamptz AS order_time
    FROM trade_records
), alloc AS (
  SELECT a.*, s.side AS sell_side, s.size AS sell_fact_size, s.price AS sell_fact_price, s.fee AS sell_fact_fee,
         s.order_time AS sell_fact_time, b.side AS buy_side, b.size AS buy_fact_size, b.price AS buy_fact_price,
         b.fee AS buy_fact_fee, b.order_time AS buy_fact_time
    FROM fifo_allocations a
    LEFT JOIN facts s ON s.order_id = a.sell_order_id AND s.symbol = a.symbol
    LEFT JOIN facts b ON b.order_id = a.buy_order_id AND b.symbol = a.symbol
), per_sell AS (
  SELECT allocation_version, symbol, sell_order_id, sum(allocated_size) AS allocated,
         sum(sell_fee_usd) AS fee_shares, min(sell_fact_size) AS size, min(sell_fact_fee) AS fee
    FROM alloc GROUP BY allocation_version, symbol, sell_order_id
), per_buy AS (
  SELECT allocation_version, symbol, buy_order_id, sum(allocated_size) AS allocated,
         sum(buy_fee_usd) AS fee_shares, min(buy_fact_size) AS size, min(buy_fact_fee) AS fee
    FROM alloc WHERE buy_order_id IS NOT NULL GROUP BY allocation_version, symbol, buy_order_id
)
-- sells the version has processed (up to its watermark) must be allocated in full
SELECT sn.allocation_version, f.symbol, f.order_id, 'sell_not_fully_allocated'::text AS check_name,
       f.size::text AS expected, coalesce(ps.allocated, 0)::text AS actual,
       'sum of allocated_size over the sell''s rows must equal its size'::text AS details
  FROM fifo_inventory_snapshot sn
  JOIN facts f ON f.symbol = sn.symbol AND f.side = 'sell'
   AND (f.order_time, fifo_side_rank(f.side), f.order_id COLLATE "C")
       <= (sn.watermark_time, fifo_side_rank(sn.watermark_side), sn.watermark_order_id COLLATE "C")
  LEFT JOIN per_sell ps ON ps.allocation_version = sn.allocation_version AND ps.symbol = f.symbol
                       AND ps.sell_order_id = f.order_id
 WHERE ps.allocated IS DISTINCT FROM f.size
UNION ALL
SELECT ps.allocation_version, ps.symbol, ps.sell_order_id, 'sell_allocated_size_mismatch',
       ps.size::text, ps.allocated::text, 'allocations of a sell sum to more or less than its size'
  FROM per_sell ps WHERE ps.size IS NOT NULL AND ps.allocated <> ps.size
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'sell_fee_shares_sum',
       fee::text, fee_shares::text, 'sell_fee_usd over the sell''s rows must sum exactly to its fee'
  FROM per_sell WHERE size IS NOT NULL AND allocated = size AND fee_shares <> fee
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'buy_over_allocated',
       size::text, allocated::text, 'sum of allocated_size over a buy must not exceed its size'
  FROM per_buy WHERE size IS NOT NULL AND allocated > size
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'buy_fee_shares_sum',
       fee::text, fee_shares::text, 'buy_fee_usd over a fully consumed buy''s rows must sum exactly to its fee'
  FROM per_buy WHERE size IS NOT NULL AND allocated = size AND fee_shares <> fee
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'allocation_references_missing_sell',
       'a sell of ' || symbol, coalesce(sell_side, 'no trade'), 'sell_order_id must name a sell of the same symbol'
  FROM alloc WHERE sell_side IS DISTINCT FROM 'sell'
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'allocation_references_missing_buy',
       'a buy of ' || symbol, coalesce(buy_side, 'no trade'), 'buy_order_id must name a buy of the same symbol'
  FROM alloc WHERE buy_order_id IS NOT NULL AND buy_side IS DISTINCT FROM 'buy'
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'buy_used_before_its_time',
       buy_fact_time::text, sell_fact_time::text, 'buy ' || buy_order_id || ' executed after the sell it covers'
  FROM alloc WHERE buy_fact_time > sell_fact_time
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_pnl_formula',
       (proceeds_usd - cost_basis_usd)::text, pnl_usd::text, 'pnl_usd must equal proceeds_usd - cost_basis_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE buy_order_id IS NOT NULL AND pnl_usd <> proceeds_usd - cost_basis_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_cost_basis_formula',
       (buy_price * allocated_size + buy_fee_usd)::text, cost_basis_usd::text,
       'cost_basis_usd must equal buy_price * allocated_size + buy_fee_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE buy_order_id IS NOT NULL AND cost_basis_usd <> buy_price * allocated_size + buy_fee_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_proceeds_formula',
       (sell_price * allocated_size - sell_fee_usd)::text, proceeds_usd::text,
       'proceeds_usd must equal sell_price * allocated_size - sell_fee_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE proceeds_usd <> sell_price * allocated_size - sell_fee_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_copied_facts',
       format('sell %s @ %s, buy %s @ %s', sell_fact_time, sell_fact_price, buy_fact_time, buy_fact_price),
       format('sell %s @ %s, buy %s @ %s', sell_time, sell_price, buy_time, buy_price),
       'prices and times on the row must equal the facts (row ' || allocation_seq || ')'
  FROM alloc
 WHERE sell_side = 'sell' AND (sell_price <> sell_fact_price OR sell_time <> sell_fact_time
    OR (buy_side = 'buy' AND (buy_price <> buy_fact_price OR buy_time <> buy_fact_time)))
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_sell_fee_share',
       (sell_fact_fee * allocated_size / sell_fact_size)::text, sell_fee_usd::text,
       'sell_fee_usd must be fee * allocated_size / size within 1e-18 (row ' || allocation_seq || ')'
  FROM alloc
 WHERE sell_side = 'sell' AND abs(sell_fee_usd * sell_fact_size - sell_fact_fee * allocated_size) > 1e-18 * sell_fact_size
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_buy_fee_share',
       (buy_fact_fee * allocated_size / buy_fact_size)::text, buy_fee_usd::text,
       'buy_fee_usd must be fee * allocated_size / size of buy ' || buy_order_id || ' within 1e-18 (row ' || allocation_seq || ')'
  FROM alloc
 WHERE buy_side = 'buy' AND abs(buy_fee_usd * buy_fact_size - buy_fact_fee * allocated_size) > 1e-18 * buy_fact_size
UNION ALL
-- facts breaking the ledger's rules: possible only in an adopted table's legacy rows
SELECT NULL::int, symbol, order_id, 'invalid_fact',
       'side buy|sell, 0 < size, 0 < price, 0 <= fee, at most 18 decimals',
       format('side %s, size %s, price %s, fee %s', side, size, price, fee),
       'legacy row violates the ledger rules; correct or delete it'
  FROM facts
 WHERE side IS DISTINCT FROM 'buy' AND side IS DISTINCT FROM 'sell'
    OR NOT (size > 0) OR NOT (price > 0) OR NOT (fee >= 0) OR size IS NULL OR price IS NULL OR fee IS NULL
    OR scale(size) > 18 OR scale(price) > 18 OR scale(fee) > 18;

-- Per version: is the computed data current and clean?
CREATE VIEW v_allocation_health AS
WITH ledger AS (
  SELECT symbol, max(order_time::timestamptz) AS last_trade_time FROM trade_records GROUP BY symbol
)
SELECT v.allocation_version,
       v.method,
       a.last_allocation_time,
       coalesce(a.allocations_last_hour, 0)   AS allocations_last_hour,
       coalesce(a.allocations_last_day, 0)    AS allocations_last_day,
       coalesce(a.allocations_total, 0)       AS allocations_total,
       coalesce(a.unmatched_sells, 0)         AS unmatched_sells,
       (SELECT count(*) FROM ledger)          AS symbols_in_ledger,
       (SELECT count(*) FROM fifo_dirty_symbols d
         WHERE d.allocation_version = v.allocation_version)                      AS dirty_symbols,
       (SELECT count(*) FROM ledger l
          LEFT JOIN fifo_inventory_snapshot s
                 ON s.allocation_version = v.allocation_version AND s.symbol = l.symbol
         WHERE s.watermark_time IS NULL OR l.last_trade_time > s.watermark_time) AS stale_symbols,
       (SELECT max(last_trade_time) FROM ledger)                                 AS last_trade_time,
       (SELECT max(changed_at) FROM trade_records_audit)                         AS ledger_changed_at,
       r.computation_id                        AS last_run_id,
       r.status                                AS last_run_status,
       r.mode                                  AS last_run_mode,
       r.started_at                            AS last_run_started_at,
       r.finished_at                           AS last_run_finished_at,
       r.error                                 AS last_run_error,
       (SELECT max(finished_at) FROM fifo_computation_log l
         WHERE l.allocation_version = v.allocation_version AND l.status = 'success') AS last_success_at,
       (SELECT count(*) FROM manual_review_queue q
         WHERE q.allocation_version = v.allocation_version AND q.status = 'pending') AS pending_reviews
  FROM fifo_allocation_versions v
  LEFT JOIN LATERAL (
    SELECT max(allocation_time) AS last_allocation_time,
           count(*) FILTER (WHERE allocation_time > now() - interval '1 hour') AS allocations_last_hour,
           count(*) FILTER (WHERE allocation_time > now() - interval '1 day')  AS allocations_last_day,
           count(*) AS allocations_total,
           count(*) FILTER (WHERE buy_order_id IS NULL) AS unmatched_sells
      FROM fifo_allocations x WHERE x.allocation_version = v.allocation_version) a ON true
  LEFT JOIN LATERAL (
    SELECT * FROM fifo_computation_log l
     WHERE l.allocation_version = v.allocation_version
     ORDER BY l.computation_id DESC LIMIT 1) r ON true;

-- Down Migration
DROP VIEW IF EXISTS v_allocation_health;
DROP VIEW IF EXISTS v_allocation_discrepancies;
DROP VIEW IF EXISTS v_open_lots;
DROP VIEW IF EXISTS v_unmatched_sells;
DROP VIEW IF EXISTS v_daily_pnl;
DROP VIEW IF EXISTS v_daily_pnl_by_symbol;
DROP VIEW IF EXISTS v_pnl_by_symbol;
DROP VIEW IF EXISTS v_trade_pnl;
DROP FUNCTION IF EXISTS fifo_side_rank(text);
