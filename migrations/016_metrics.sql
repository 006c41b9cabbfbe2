-- Up Migration
-- Issue 13: the trading and risk metrics, each defined once here and read by the views, the
-- CLI and `fifo report` (packages/cli/src/queries/metrics.ts). Built on v_sell_pnl (015): one
-- row per sell with its realized PnL (NULL when nothing of it was matched), its quote currency
-- and its win/loss flags. Every amount is in the symbol's quote currency and every figure is
-- per quote currency: nothing adds USD to BTC. Money stays exact numeric; the ratios (profit
-- factor, Sharpe) and means are numeric quotients (trailing zeros trimmed), rounded for display only.
--
-- The sells of a range are those of version p_version with p_from <= sell_time and
-- sell_time < p_to (sell_time <= p_to when p_to_inclusive), either bound NULL: open, and of
-- account p_account unless it is NULL; the same rule as the report's other figures. Days are calendar days of the sell in time zone p_tz.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- v_sell_pnl (015) gains its last column, the sell's account, NULL here: migration 018
-- (accounts) defines it, and the metrics below can already filter and group by it. Otherwise
-- the view is 015's, word for word.
CREATE OR REPLACE VIEW v_sell_pnl AS
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
       p.unmatched_size > 0                          AS has_unmatched,
       NULL::text                                    AS account      -- the sell's account: migration 018's
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

-- Per (dimension, key, quote): dimension 'symbol', 'source', 'trigger', 'day' (key
-- YYYY-MM-DD in p_tz), 'account' or 'total' (key NULL); a NULL key of source/trigger is an
-- untagged sell. p_account (NULL: every account) keeps the sells of one account, in every
-- function here.
--   win rate       winning sells / sells with a matched part, in %, 1 decimal (as v_pnl_totals)
--   average win    mean PnL of the winning sells (NULL: none); average loss likewise (negative)
--   profit factor  gross profit / -gross loss; NULL when there is no losing sell (undefined,
--                  never infinity); 0 when there are losses and no wins
--   expectancy     mean realized PnL per sell with a matched part (breakeven sells count)
--   largest win    the largest PnL of a sell (NULL: no win); largest loss the most negative
CREATE FUNCTION fifo_trading_metrics(p_version int, p_tz text DEFAULT 'UTC', p_from timestamptz DEFAULT NULL,
                                     p_to timestamptz DEFAULT NULL, p_to_inclusive boolean DEFAULT true,
                                     p_account text DEFAULT NULL)
RETURNS TABLE (dimension text, key text, quote text, sells bigint, matched_sells bigint, winning_sells bigint,
               losing_sells bigint, win_rate_pct numeric, realized_pnl numeric, gross_profit numeric, gross_loss numeric,
               avg_win numeric, avg_loss numeric, profit_factor numeric, expectancy numeric, largest_win numeric,
               largest_loss numeric)
LANGUAGE sql STABLE AS $$
  WITH s AS (
    SELECT t.symbol, t.source, t.trigger, t.account, t.quote, t.realized_pnl_usd AS pnl, t.is_matched, t.is_win, t.is_loss,
           to_char((t.sell_time AT TIME ZONE p_tz)::date, 'YYYY-MM-DD') AS day
      FROM v_sell_pnl t
     WHERE t.allocation_version = p_version
       AND (p_from IS NULL OR t.sell_time >= p_from)
       AND (p_to IS NULL OR t.sell_time < p_to OR (p_to_inclusive AND t.sell_time = p_to))
       AND (p_account IS NULL OR t.account = p_account)
       AND (now() AT TIME ZONE p_tz) IS NOT NULL  -- an unknown zone is an error even without sells
  )
  SELECT CASE WHEN grouping(s.symbol) = 0 THEN 'symbol' WHEN grouping(s.source) = 0 THEN 'source'
              WHEN grouping(s.trigger) = 0 THEN 'trigger' WHEN grouping(s.day) = 0 THEN 'day'
              WHEN grouping(s.account) = 0 THEN 'account' ELSE 'total' END,
         CASE WHEN grouping(s.symbol) = 0 THEN s.symbol WHEN grouping(s.source) = 0 THEN s.source
              WHEN grouping(s.trigger) = 0 THEN s.trigger WHEN grouping(s.day) = 0 THEN s.day
              WHEN grouping(s.account) = 0 THEN s.account END,
         s.quote,
         count(*),
         count(*) FILTER (WHERE s.is_matched),
         count(*) FILTER (WHERE s.is_win),
         count(*) FILTER (WHERE s.is_loss),
         round(100.0 * count(*) FILTER (WHERE s.is_win) / nullif(count(*) FILTER (WHERE s.is_matched), 0), 1),
         coalesce(sum(s.pnl), 0),
         coalesce(sum(s.pnl) FILTER (WHERE s.is_win), 0),
         coalesce(sum(s.pnl) FILTER (WHERE s.is_loss), 0),
         trim_scale(avg(s.pnl) FILTER (WHERE s.is_win)),
         trim_scale(avg(s.pnl) FILTER (WHERE s.is_loss)),
         trim_scale(coalesce(sum(s.pnl) FILTER (WHERE s.is_win), 0) / nullif(-sum(s.pnl) FILTER (WHERE s.is_loss), 0)),
         trim_scale(avg(s.pnl)),
         max(s.pnl) FILTER (WHERE s.is_win),
         min(s.pnl) FILTER (WHERE s.is_loss)
    FROM s
   GROUP BY GROUPING SETS ((s.quote), (s.quote, s.symbol), (s.quote, s.source), (s.quote, s.trigger), (s.quote, s.day),
                           (s.quote, s.account))
$$;

-- The daily realized PnL series per quote currency: every calendar day (in p_tz) from the first
-- to the last day with a sell of that quote, 0 on a day without sells (a market that never
-- closes). cumulative_pnl is the running total at the day's close; peak_pnl the highest close so
-- far, the start (0, before the first day) included; drawdown = peak_pnl - cumulative_pnl >= 0.
CREATE FUNCTION fifo_daily_realized_pnl(p_version int, p_tz text DEFAULT 'UTC', p_from timestamptz DEFAULT NULL,
                                        p_to timestamptz DEFAULT NULL, p_to_inclusive boolean DEFAULT true,
                                        p_account text DEFAULT NULL)
RETURNS TABLE (quote text, day date, sells bigint, realized_pnl numeric, cumulative_pnl numeric, peak_pnl numeric,
               drawdown numeric)
LANGUAGE sql STABLE AS $$
  WITH d AS (
    SELECT t.quote, (t.sell_time AT TIME ZONE p_tz)::date AS day, count(*) AS sells,
           coalesce(sum(t.realized_pnl_usd), 0) AS pnl
      FROM v_sell_pnl t
     WHERE t.allocation_version = p_version
       AND (p_from IS NULL OR t.sell_time >= p_from)
       AND (p_to IS NULL OR t.sell_time < p_to OR (p_to_inclusive AND t.sell_time = p_to))
       AND (p_account IS NULL OR t.account = p_account)
       AND (now() AT TIME ZONE p_tz) IS NOT NULL  -- an unknown zone is an error even without sells
     GROUP BY 1, 2
  ), filled AS (
    SELECT c.quote, c.day, coalesce(d.sells, 0) AS sells, coalesce(d.pnl, 0) AS pnl
      FROM (SELECT x.quote, g::date AS day
              FROM (SELECT d.quote, min(d.day) AS first_day, max(d.day) AS last_day FROM d GROUP BY d.quote) x
             CROSS JOIN LATERAL generate_series(x.first_day, x.last_day, interval '1 day') g) c
      LEFT JOIN d ON d.quote = c.quote AND d.day = c.day
  ), cum AS (
    SELECT f.*, sum(f.pnl) OVER (PARTITION BY f.quote ORDER BY f.day) AS cumulative FROM filled f
  )
  SELECT c.quote, c.day, c.sells, c.pnl, c.cumulative,
         greatest(0, max(c.cumulative) OVER (PARTITION BY c.quote ORDER BY c.day)),
         greatest(0, max(c.cumulative) OVER (PARTITION BY c.quote ORDER BY c.day)) - c.cumulative
    FROM cum c
   ORDER BY c.quote, c.day
$$;

-- Per quote currency, over the daily series above:
--   sharpe_ratio   mean / sample standard deviation of the daily realized PnL × √365 (every
--                  calendar day counts: the market never closes); NULL with fewer than 2 days
--                  or a zero standard deviation. The daily PnL is an amount, not a return: the
--                  ratio is scale-free, a risk-free rate of 0 is implied.
--   max_drawdown   the largest fall of the cumulative realized PnL from a previous peak (the
--                  start, 0, included), in the quote currency; 0 when it never fell
--   peak_day       the day of that peak's close (the day before the first day when the peak is
--                  the start); trough_day the day of the lowest close after it (earliest on a
--                  tie); both NULL when max_drawdown is 0
--   longest_drawdown_days  the most consecutive days closing below the previous peak
--   current_drawdown       the drawdown at the last day's close
CREATE FUNCTION fifo_risk_metrics(p_version int, p_tz text DEFAULT 'UTC', p_from timestamptz DEFAULT NULL,
                                  p_to timestamptz DEFAULT NULL, p_to_inclusive boolean DEFAULT true,
                                  p_account text DEFAULT NULL)
RETURNS TABLE (quote text, days bigint, first_day date, last_day date, realized_pnl numeric, mean_daily_pnl numeric,
               stddev_daily_pnl numeric, sharpe_ratio numeric, max_drawdown numeric, peak_day date, trough_day date,
               longest_drawdown_days bigint, current_drawdown numeric)
LANGUAGE sql STABLE AS $$
  WITH d AS (
    SELECT s.*,
           coalesce(max(s.day) FILTER (WHERE s.drawdown = 0) OVER (PARTITION BY s.quote ORDER BY s.day),
                    min(s.day) OVER (PARTITION BY s.quote) - 1) AS peak_of
      FROM fifo_daily_realized_pnl(p_version, p_tz, p_from, p_to, p_to_inclusive, p_account) s
  ), stats AS (
    SELECT d.quote, count(*) AS days, min(d.day) AS first_day, max(d.day) AS last_day, sum(d.realized_pnl) AS realized_pnl,
           avg(d.realized_pnl) AS mean, stddev_samp(d.realized_pnl) AS sd
      FROM d GROUP BY d.quote
  ), worst AS (
    SELECT DISTINCT ON (d.quote) d.quote, d.drawdown, d.peak_of, d.day
      FROM d WHERE d.drawdown > 0 ORDER BY d.quote, d.drawdown DESC, d.day
  ), spells AS (
    SELECT x.quote, max(x.n) AS longest
      FROM (SELECT d.quote, d.peak_of, count(*) AS n FROM d WHERE d.drawdown > 0 GROUP BY d.quote, d.peak_of) x
     GROUP BY x.quote
  )
  SELECT st.quote, st.days, st.first_day, st.last_day, st.realized_pnl, trim_scale(st.mean), trim_scale(st.sd),
         trim_scale(CASE WHEN st.days >= 2 AND st.sd > 0 THEN st.mean / st.sd * sqrt(365::numeric) END),
         coalesce(w.drawdown, 0), w.peak_of, w.day, coalesce(sp.longest, 0),
         (SELECT l.drawdown FROM d l WHERE l.quote = st.quote AND l.day = st.last_day)
    FROM stats st
    LEFT JOIN worst w ON w.quote = st.quote
    LEFT JOIN spells sp ON sp.quote = st.quote
   ORDER BY st.quote COLLATE "C"
$$;

-- The same over all sells of every version, days in UTC.
CREATE VIEW v_trading_metrics AS
SELECT v.allocation_version, m.*
  FROM fifo_allocation_versions v
 CROSS JOIN LATERAL fifo_trading_metrics(v.allocation_version) m;

CREATE VIEW v_daily_equity AS
SELECT v.allocation_version, m.*
  FROM fifo_allocation_versions v
 CROSS JOIN LATERAL fifo_daily_realized_pnl(v.allocation_version) m;

CREATE VIEW v_risk_metrics AS
SELECT v.allocation_version, m.*
  FROM fifo_allocation_versions v
 CROSS JOIN LATERAL fifo_risk_metrics(v.allocation_version) m;

-- Pinned and granted as fifo_apply_security() (009) does it, before anyone can call them:
-- read-only, so the reader too (fifo report is a read-only command).
DO $pin$
BEGIN
  EXECUTE format('ALTER FUNCTION fifo_trading_metrics(int, text, timestamptz, timestamptz, boolean, text) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION fifo_daily_realized_pnl(int, text, timestamptz, timestamptz, boolean, text) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION fifo_risk_metrics(int, text, timestamptz, timestamptz, boolean, text) SET search_path = %I, pg_temp', current_schema());
END
$pin$;
REVOKE ALL ON FUNCTION fifo_trading_metrics(int, text, timestamptz, timestamptz, boolean, text),
                       fifo_daily_realized_pnl(int, text, timestamptz, timestamptz, boolean, text),
                       fifo_risk_metrics(int, text, timestamptz, timestamptz, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fifo_trading_metrics(int, text, timestamptz, timestamptz, boolean, text),
                          fifo_daily_realized_pnl(int, text, timestamptz, timestamptz, boolean, text),
                          fifo_risk_metrics(int, text, timestamptz, timestamptz, boolean, text) TO fifo_reader, fifo_engine;
GRANT SELECT ON v_trading_metrics, v_daily_equity, v_risk_metrics TO fifo_reader, fifo_engine;
SELECT fifo_apply_security();

-- Down Migration
DROP VIEW IF EXISTS v_risk_metrics;
DROP VIEW IF EXISTS v_daily_equity;
DROP VIEW IF EXISTS v_trading_metrics;
DROP FUNCTION IF EXISTS fifo_risk_metrics(int, text, timestamptz, timestamptz, boolean, text);
DROP FUNCTION IF EXISTS fifo_daily_realized_pnl(int, text, timestamptz, timestamptz, boolean, text);
DROP FUNCTION IF EXISTS fifo_trading_metrics(int, text, timestamptz, timestamptz, boolean, text);
-- v_sell_pnl keeps its last column, empty (a view's column cannot be dropped in place, and
-- 015's views are built on it); 015's down drops the view anyway.
