-- Up Migration
-- PnL by strategy (source) and by exit reason (trigger), and per-version totals, for the
-- users' SQL reports; `fifo report` aggregates v_trade_pnl with the same formulas as these
-- views and v_pnl_by_symbol, so SQL and the CLI show the same numbers.
-- win_rate_pct: winning sells over sells with a matched part (fully unmatched sells have no PnL).

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

-- One row per version that has allocations. Unmatched proceeds: what the unmatched parts
-- sold for (fees deducted), which no cost basis offsets yet.
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

-- Down Migration
DROP VIEW IF EXISTS v_pnl_totals;
DROP VIEW IF EXISTS v_pnl_by_trigger;
DROP VIEW IF EXISTS v_pnl_by_source;
