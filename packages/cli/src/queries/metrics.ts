/**
 * The trading and risk metrics of migration 016 (fifo_trading_metrics, fifo_daily_realized_pnl,
 * fifo_risk_metrics) and the open positions marked to market of migration 017
 * (fifo_open_positions_marked), over a report's range. The SQL functions hold the definitions
 * (fifo_trading_metrics' counts and win rate are the figure rows of migration 021, as in the
 * PnL views and queries/pnl.ts); this module only calls them and reads numerics as exact decimal text.
 */
import type pg from 'pg';
import type { EquityPoint, MetricRow, OpenPosition, RiskMetrics } from '../report/query.ts';
import { rangeParams, type ResolvedRange } from './pnl.ts';
import { utcIso } from './sql.ts';

const ARGS = '$1::int, $2::text, $3::timestamptz, $4::timestamptz, $5::boolean, $6::text';

/** Per dimension (symbol, source, trigger, day, account, total), key and quote currency. */
export async function tradingMetrics(client: pg.Client, r: ResolvedRange): Promise<MetricRow[]> {
  const { rows } = await client.query<MetricRow>(
    `SELECT m.dimension, m.key, m.quote, m.sells::int, m.matched_sells::int, m.winning_sells::int, m.losing_sells::int,
            m.win_rate_pct::text, m.realized_pnl::text, m.gross_profit::text, m.gross_loss::text, m.avg_win::text,
            m.avg_loss::text, m.profit_factor::text, m.expectancy::text, m.largest_win::text, m.largest_loss::text
       FROM fifo_trading_metrics(${ARGS}) m
      ORDER BY m.dimension, m.quote COLLATE "C", m.key COLLATE "C" NULLS LAST`, rangeParams(r));
  return rows;
}

/** One row per quote currency with sells in the range. */
export async function riskMetrics(client: pg.Client, r: ResolvedRange): Promise<RiskMetrics[]> {
  const { rows } = await client.query<RiskMetrics>(
    `SELECT m.quote, m.days::int, to_char(m.first_day, 'YYYY-MM-DD') AS first_day, to_char(m.last_day, 'YYYY-MM-DD') AS last_day,
            m.realized_pnl::text, m.mean_daily_pnl::text, m.stddev_daily_pnl::text, m.sharpe_ratio::text, m.max_drawdown::text,
            to_char(m.peak_day, 'YYYY-MM-DD') AS peak_day, to_char(m.trough_day, 'YYYY-MM-DD') AS trough_day,
            m.longest_drawdown_days::int, m.current_drawdown::text
       FROM fifo_risk_metrics(${ARGS}) m ORDER BY m.quote COLLATE "C"`, rangeParams(r));
  return rows;
}

/** Every calendar day from the first to the last sell of each quote currency. */
export async function dailyEquity(client: pg.Client, r: ResolvedRange): Promise<EquityPoint[]> {
  const { rows } = await client.query<EquityPoint>(
    `SELECT m.quote, to_char(m.day, 'YYYY-MM-DD') AS day, m.sells::int, m.realized_pnl::text, m.cumulative_pnl::text,
            m.peak_pnl::text, m.drawdown::text
       FROM fifo_daily_realized_pnl(${ARGS}) m ORDER BY m.quote COLLATE "C", m.day`, rangeParams(r));
  return rows;
}

/** Whether the schema has migration 017's positions (a database migrated before it has not). */
export async function hasMarkedPositions(client: pg.Client): Promise<boolean> {
  const { rows: [x] } = await client.query<{ ok: boolean }>(
    `SELECT to_regprocedure('fifo_open_positions_marked(int, timestamptz)') IS NOT NULL AS ok`);
  return x!.ok;
}

/** The latest instant the database knows of: its latest fill or market price (null: neither). */
export async function latestDataTime(client: pg.Client): Promise<string | null> {
  const { rows: [x] } = await client.query<{ t: Date | null }>(
    `SELECT greatest((SELECT max(fifo_utc(order_time)) FROM trade_records), (SELECT max(price_time) FROM market_prices)) AS t`);
  return x!.t?.toISOString() ?? null;
}

/** Open positions at `at`, marked at the latest price at or before it (NULL price: unknown value). */
export async function openPositions(client: pg.Client, version: number, at: string): Promise<OpenPosition[]> {
  const { rows } = await client.query<OpenPosition>(
    `SELECT p.symbol, p.quote, p.quantity::text, p.cost_basis::text, p.price::text, ${utcIso('p.price_time')} AS price_time,
            p.price_source, p.market_value::text, p.unrealized_pnl::text, ${utcIso('p.oldest_lot_time')} AS oldest_lot_time,
            round(extract(epoch FROM p.oldest_lot_age) / 86400, 2)::text AS oldest_lot_age_days,
            round(extract(epoch FROM p.price_age) / 3600, 2)::text AS price_age_hours
       FROM fifo_open_positions_marked($1, $2::timestamptz) p
      ORDER BY p.quote COLLATE "C", p.symbol COLLATE "C"`, [version, at]);
  return rows;
}
