-- Up Migration
-- Issue 12: the PnL figures are defined once. v_sell_pnl is one row per (version, sell) with
-- every per-sell figure the totals are made of (quote, UTC day, fees, unmatched proceeds,
-- matched / win / loss / unmatched flags); v_trade_pnl, the totals views and `fifo report`
-- (packages/cli/src/queries/pnl.ts) only count and add its columns. Every view keeps its
-- name, columns, column types and meaning.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

CREATE VIEW v_sell_pnl AS
SELECT p.allocation_version, p.symbol, p.sell_order_id, p.sell_time, p.sell_price, p.sell_size,
       p.matched_size, p.unmatched_size, p.lots_used, p.proceeds_usd, p.cost_basis_usd, p.realized_pnl_usd,
       p.sell_fee_usd, p.buy_fee_usd, p.first_buy_time, p.last_buy_time, p.source, p.trigger,
       split_part(p.symbol, '-', 2)                  AS quote,       -- the currency of every amount
       (p.sell_time AT TIME ZONE 'UTC')::date        AS day,
       p.sell_fee_usd + p.buy_fee_usd                AS fees_usd,
       p.unmatched_proceeds_usd,                                     -- NULL: nothing unmatched
       p.realized_pnl_usd IS NOT NULL                AS is_matched,  -- has a matched part (a PnL)
       coalesce(p.realized_pnl_usd > 0, false)       AS is_win,
       coalesce(p.realized_pnl_usd < 0, false)       AS is_loss,
       p.unmatched_size > 0                          AS has_unmatched
  FROM (SELECT a.allocation_version,
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
               t.trigger,
               sum(a.proceeds_usd) FILTER (WHERE a.buy_order_id IS NULL)     AS unmatched_proceeds_usd
          FROM fifo_allocations a
          LEFT JOIN trade_records t ON t.order_id = a.sell_order_id AND t.symbol = a.symbol
         GROUP BY a.allocation_version, a.symbol, a.sell_order_id, t.source, t.trigger) p;

CREATE OR REPLACE VIEW v_trade_pnl AS
SELECT allocation_version, symbol, sell_order_id, sell_time, sell_price, sell_size, matched_size, unmatched_size,
       lots_used, proceeds_usd, cost_basis_usd, realized_pnl_usd, sell_fee_usd, buy_fee_usd, first_buy_time,
       last_buy_time, source, trigger
  FROM v_sell_pnl;

CREATE OR REPLACE VIEW v_pnl_by_symbol AS
SELECT allocation_version,
       symbol,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE is_win)                        AS winning_sells,
       count(*) FILTER (WHERE is_loss)                       AS losing_sells,
       sum(matched_size)                                     AS matched_size,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       count(*) FILTER (WHERE has_unmatched)                 AS unmatched_sells,
       sum(unmatched_size)                                   AS unmatched_size,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time,
       quote
  FROM v_sell_pnl
 GROUP BY allocation_version, symbol, quote;

CREATE OR REPLACE VIEW v_daily_pnl_by_symbol AS
SELECT allocation_version,
       day,
       symbol,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE is_win)                        AS winning_sells,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       count(*) FILTER (WHERE has_unmatched)                 AS unmatched_sells
  FROM v_sell_pnl
 GROUP BY allocation_version, day, symbol;

-- the counts stay numeric, as the sums over v_daily_pnl_by_symbol made them
CREATE OR REPLACE VIEW v_daily_pnl AS
SELECT allocation_version,
       day,
       count(*)::numeric                                     AS sells,
       (count(*) FILTER (WHERE is_win))::numeric             AS winning_sells,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       (count(*) FILTER (WHERE has_unmatched))::numeric      AS unmatched_sells,
       sum(coalesce(sum(realized_pnl_usd), 0)) OVER (PARTITION BY allocation_version, quote ORDER BY day) AS cumulative_pnl_usd,
       quote
  FROM v_sell_pnl
 GROUP BY allocation_version, day, quote;

CREATE OR REPLACE VIEW v_pnl_by_source AS
SELECT allocation_version,
       source,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE is_win)                        AS winning_sells,
       count(*) FILTER (WHERE is_loss)                       AS losing_sells,
       round(100.0 * count(*) FILTER (WHERE is_win) / nullif(count(*) FILTER (WHERE is_matched), 0), 1) AS win_rate_pct,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       count(*) FILTER (WHERE has_unmatched)                 AS unmatched_sells,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time,
       quote
  FROM v_sell_pnl
 GROUP BY allocation_version, source, quote;

CREATE OR REPLACE VIEW v_pnl_by_trigger AS
SELECT allocation_version,
       trigger,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE is_win)                        AS winning_sells,
       count(*) FILTER (WHERE is_loss)                       AS losing_sells,
       round(100.0 * count(*) FILTER (WHERE is_win) / nullif(count(*) FILTER (WHERE is_matched), 0), 1) AS win_rate_pct,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       count(*) FILTER (WHERE has_unmatched)                 AS unmatched_sells,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time,
       quote
  FROM v_sell_pnl
 GROUP BY allocation_version, trigger, quote;

CREATE OR REPLACE VIEW v_pnl_totals AS
SELECT allocation_version,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE is_win)                        AS winning_sells,
       count(*) FILTER (WHERE is_loss)                       AS losing_sells,
       round(100.0 * count(*) FILTER (WHERE is_win) / nullif(count(*) FILTER (WHERE is_matched), 0), 1) AS win_rate_pct,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       count(*) FILTER (WHERE has_unmatched)                 AS unmatched_sells,
       coalesce(sum(unmatched_proceeds_usd), 0)              AS unmatched_proceeds_usd,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time,
       quote
  FROM v_sell_pnl
 GROUP BY allocation_version, quote;

-- CREATE OR REPLACE keeps the grants; stated here so this file says who reads the views.
GRANT SELECT ON v_sell_pnl, v_trade_pnl, v_pnl_by_symbol, v_daily_pnl_by_symbol, v_daily_pnl, v_pnl_by_source,
                v_pnl_by_trigger, v_pnl_totals TO fifo_reader, fifo_engine;

-- Down Migration
-- The definitions of 003 and 012 (as 013 re-planned them), then v_sell_pnl goes.
CREATE OR REPLACE VIEW v_trade_pnl AS
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

CREATE OR REPLACE VIEW v_pnl_by_symbol AS
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
       max(sell_time)                                        AS last_sell_time,
       split_part(symbol, '-', 2)                            AS quote
  FROM v_trade_pnl
 GROUP BY allocation_version, symbol;

CREATE OR REPLACE VIEW v_daily_pnl_by_symbol AS
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

CREATE OR REPLACE VIEW v_daily_pnl AS
SELECT allocation_version,
       day,
       sum(sells)                                            AS sells,
       sum(winning_sells)                                    AS winning_sells,
       sum(proceeds_usd)                                     AS proceeds_usd,
       sum(cost_basis_usd)                                   AS cost_basis_usd,
       sum(realized_pnl_usd)                                 AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       sum(unmatched_sells)                                  AS unmatched_sells,
       sum(sum(realized_pnl_usd)) OVER (PARTITION BY allocation_version, split_part(symbol, '-', 2) ORDER BY day) AS cumulative_pnl_usd,
       split_part(symbol, '-', 2)                            AS quote
  FROM v_daily_pnl_by_symbol
 GROUP BY allocation_version, day, split_part(symbol, '-', 2);

CREATE OR REPLACE VIEW v_pnl_by_source AS
SELECT allocation_version,
       source,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE realized_pnl_usd > 0)          AS winning_sells,
       count(*) FILTER (WHERE realized_pnl_usd < 0)          AS losing_sells,
       round(100.0 * count(*) FILTER (WHERE realized_pnl_usd > 0) / nullif(count(realized_pnl_usd), 0), 1) AS win_rate_pct,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(sell_fee_usd) + sum(buy_fee_usd)                  AS fees_usd,
       count(*) FILTER (WHERE unmatched_size > 0)            AS unmatched_sells,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time,
       split_part(symbol, '-', 2)                            AS quote
  FROM v_trade_pnl
 GROUP BY allocation_version, source, split_part(symbol, '-', 2);

CREATE OR REPLACE VIEW v_pnl_by_trigger AS
SELECT allocation_version,
       trigger,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE realized_pnl_usd > 0)          AS winning_sells,
       count(*) FILTER (WHERE realized_pnl_usd < 0)          AS losing_sells,
       round(100.0 * count(*) FILTER (WHERE realized_pnl_usd > 0) / nullif(count(realized_pnl_usd), 0), 1) AS win_rate_pct,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(sell_fee_usd) + sum(buy_fee_usd)                  AS fees_usd,
       count(*) FILTER (WHERE unmatched_size > 0)            AS unmatched_sells,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time,
       split_part(symbol, '-', 2)                            AS quote
  FROM v_trade_pnl
 GROUP BY allocation_version, trigger, split_part(symbol, '-', 2);

CREATE OR REPLACE VIEW v_pnl_totals AS
SELECT p.allocation_version,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE realized_pnl_usd > 0)          AS winning_sells,
       count(*) FILTER (WHERE realized_pnl_usd < 0)          AS losing_sells,
       round(100.0 * count(*) FILTER (WHERE realized_pnl_usd > 0) / nullif(count(realized_pnl_usd), 0), 1) AS win_rate_pct,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(sell_fee_usd) + sum(buy_fee_usd)                  AS fees_usd,
       count(*) FILTER (WHERE unmatched_size > 0)            AS unmatched_sells,
       coalesce(sum(unmatched_proceeds_usd), 0)              AS unmatched_proceeds_usd,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time,
       split_part(p.symbol, '-', 2)                          AS quote
  FROM (SELECT t.*, u.unmatched_proceeds_usd
          FROM v_trade_pnl t
          LEFT JOIN (SELECT allocation_version, symbol, sell_order_id, sum(unmatched_proceeds_usd) AS unmatched_proceeds_usd
                       FROM v_unmatched_sells GROUP BY 1, 2, 3) u
            USING (allocation_version, symbol, sell_order_id)) p
 GROUP BY p.allocation_version, split_part(p.symbol, '-', 2);

DROP VIEW v_sell_pnl;
