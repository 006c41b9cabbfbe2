-- Up Migration
-- Totals per quote currency: amounts are in each symbol's quote currency (the part after the
-- dash), so a total over SOL-USD and SOL-BTC would add dollars to bitcoin. Every view that
-- sums across symbols groups by the quote too and names it in a new last column `quote`;
-- v_pnl_by_symbol gains the column for joining. The other columns keep their names and
-- meanings (one row per quote where there was one row before; v_daily_pnl's running total
-- runs per quote). `fifo report` aggregates v_trade_pnl with these same formulas.

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

-- One row per (version, quote currency) that has allocations.
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

-- CREATE OR REPLACE keeps the grants; stated here so this file says who reads the views.
GRANT SELECT ON v_pnl_by_symbol, v_daily_pnl, v_pnl_by_source, v_pnl_by_trigger, v_pnl_totals TO fifo_reader, fifo_engine;

-- Down Migration
-- The definitions of 003 and 006 (a column cannot be dropped by CREATE OR REPLACE).
DROP VIEW v_pnl_totals;
DROP VIEW v_pnl_by_trigger;
DROP VIEW v_pnl_by_source;
DROP VIEW v_daily_pnl;
DROP VIEW v_pnl_by_symbol;

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

CREATE VIEW v_pnl_by_source AS
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
       max(sell_time)                                        AS last_sell_time
  FROM v_trade_pnl
 GROUP BY allocation_version, source;

CREATE VIEW v_pnl_by_trigger AS
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
       max(sell_time)                                        AS last_sell_time
  FROM v_trade_pnl
 GROUP BY allocation_version, trigger;

CREATE VIEW v_pnl_totals AS
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
       max(sell_time)                                        AS last_sell_time
  FROM (SELECT t.*, u.unmatched_proceeds_usd
          FROM v_trade_pnl t
          LEFT JOIN (SELECT allocation_version, symbol, sell_order_id, sum(unmatched_proceeds_usd) AS unmatched_proceeds_usd
                       FROM v_unmatched_sells GROUP BY 1, 2, 3) u
            USING (allocation_version, symbol, sell_order_id)) p
 GROUP BY p.allocation_version;

GRANT SELECT ON v_pnl_by_symbol, v_daily_pnl, v_pnl_by_source, v_pnl_by_trigger, v_pnl_totals TO fifo_reader, fifo_engine;
