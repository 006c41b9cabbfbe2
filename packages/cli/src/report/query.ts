/**
 * The PnL report: its shape and its assembly from queries/pnl.ts, so without a date filter the
 * report equals the PnL views row for row. Amounts are in the quote currency of the symbol (the
 * part after the dash): every total and every group is per quote currency, and nothing adds
 * USD to BTC.
 */
import type pg from 'pg';
import { summarizeHealth, type HealthSummary } from '../health/assess.ts';
import { readHealth } from '../queries/health.ts';
import { dailyEquity, hasMarkedPositions, latestDataTime, openPositions, riskMetrics, tradingMetrics } from '../queries/metrics.ts';
import { pnlFigures, resolveRange, unmatchedSells, type Grouped } from '../queries/pnl.ts';
import { dirtySymbolCount, versionMethod } from '../queries/versions.ts';

export const GROUP_BY = ['symbol', 'day', 'source', 'trigger', 'account'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** A --from/--to bound: a date alone covers that whole day (in the report's --tz). */
export interface TimeBound {
  raw: string;
  time: Date;
  dateOnly: boolean;
}

export interface ReportRequest {
  version: number;
  from: TimeBound | null;
  to: TimeBound | null;
  by: GroupBy;
  /** The time zone of days (--tz; a name pg_timezone_names knows). */
  tz: string;
  /** Only the sells of this account (--account); absent or null: every account. */
  account?: string | null;
  /** Unmatched sells listed (newest first); the count covers them all. */
  unmatchedLimit?: number;
  /** Also read the daily and per-symbol series the HTML charts need. */
  withSeries?: boolean;
}

/**
 * The figures of migration 021's fifo_pnl_figure_defs that the code reads by name (the rows
 * and totals carry every figure of that table, these and any added since).
 */
export interface PnlFigures {
  sells: number;
  winning_sells: number;
  losing_sells: number;
  /** Sells with a matched part (those with a PnL): the win rate's denominator. */
  matched_sells: number;
  win_rate_pct: string | null;
  proceeds_usd: string;
  cost_basis_usd: string;
  realized_pnl_usd: string;
  fees_usd: string;
  unmatched_sells: number;
  unmatched_proceeds_usd: string;
  first_sell_time: string | null;
  last_sell_time: string | null;
}

/** Migration 016's trading metrics of a group (exact decimal text; NULL: undefined, e.g. no losing sell). */
export interface MetricFigures {
  gross_profit: string;
  gross_loss: string;
  avg_win: string | null;
  avg_loss: string | null;
  /** Gross profit / -gross loss; null when there is no losing sell (undefined, never infinity). */
  profit_factor: string | null;
  /** Mean realized PnL per sell with a matched part. */
  expectancy: string | null;
  largest_win: string | null;
  largest_loss: string | null;
}

export const METRIC_DIMENSIONS = ['symbol', 'source', 'trigger', 'day', 'account', 'total'] as const;

export interface MetricRow extends MetricFigures {
  dimension: (typeof METRIC_DIMENSIONS)[number];
  key: string | null;
  quote: string;
  sells: number;
  matched_sells: number;
  winning_sells: number;
  losing_sells: number;
  win_rate_pct: string | null;
  realized_pnl: string;
}

/** Migration 016's risk metrics of one quote currency over the daily realized PnL series (days in the report's tz). */
export interface RiskMetrics {
  quote: string;
  days: number;
  first_day: string;
  last_day: string;
  realized_pnl: string;
  mean_daily_pnl: string;
  stddev_daily_pnl: string | null;
  /** mean / sample stddev of daily realized PnL × √365; null with < 2 days or a zero stddev. */
  sharpe_ratio: string | null;
  max_drawdown: string;
  peak_day: string | null;
  trough_day: string | null;
  longest_drawdown_days: number;
  current_drawdown: string;
}

/** One calendar day of the equity curve (cumulative realized PnL) of a quote currency. */
export interface EquityPoint {
  quote: string;
  day: string;
  sells: number;
  realized_pnl: string;
  cumulative_pnl: string;
  peak_pnl: string;
  drawdown: string;
}

/** A position open at the report's time, marked to market (migration 017); price null: value unknown. */
export interface OpenPosition {
  symbol: string;
  quote: string;
  quantity: string;
  cost_basis: string;
  price: string | null;
  price_time: string | null;
  price_source: string | null;
  market_value: string | null;
  unrealized_pnl: string | null;
  oldest_lot_time: string;
  oldest_lot_age_days: string;
  price_age_hours: string | null;
}

/** A price older than this at the report's time is called stale. */
export const STALE_PRICE_HOURS = 24;

export type RiskFigures = Omit<RiskMetrics, 'quote' | 'realized_pnl'>;

/** The totals of one quote currency: figures, metrics and (when it has sells) the risk metrics. */
export interface QuoteTotals extends PnlFigures, MetricFigures, Partial<RiskFigures> {
  quote: string;
}

export interface BreakdownRow extends PnlFigures, MetricFigures {
  /** The group: a symbol, a day in --tz (YYYY-MM-DD), a source or a trigger (null: untagged). */
  key: string | null;
  /** The quote currency of the group's amounts: groups are per (key, quote). */
  quote: string;
  /** Base units; meaningful per symbol only. */
  unmatched_size: string;
  /** --by day only: running total of realized PnL over the selected days, per quote currency. */
  cumulative_pnl_usd?: string;
}

export interface UnmatchedSellRow {
  symbol: string;
  sell_order_id: string;
  sell_time: string;
  sell_price: string;
  sell_size: string | null;
  unmatched_size: string;
  unmatched_proceeds_usd: string;
  review_id: string | null;
  review_status: string;
}

export interface ReportData {
  version: number;
  method: string;
  by: GroupBy;
  tz: string;
  /** --account: only this account's sells; null: every account. */
  account: string | null;
  from: string | null;
  to: string | null;
  generated_at: string;
  /** The instant open positions are valued at: the end of the range, else the latest fill or market price. */
  positions_at: string;
  /** Symbols of this version waiting for a recompute: the figures may lag the ledger. */
  dirty_symbols: number;
  /** One entry per quote currency with sells in the range, in quote order; none when no sells. */
  totals: QuoteTotals[];
  rows: BreakdownRow[];
  unmatched: UnmatchedSellRow[];
  /** Trading metrics by symbol, source and trigger (every dimension but day and total). */
  metrics: MetricRow[];
  /** One entry per quote currency with sells in the range. */
  risk: RiskMetrics[];
  /** The daily equity curve per quote currency. */
  equity: EquityPoint[];
  /** Open positions marked to market; null when not available (positions_unavailable says why). */
  positions: OpenPosition[] | null;
  positions_unavailable: string | null;
  /** What the FIFO health section says (v_allocation_health). */
  health: HealthSummary;
  /** HTML only (withSeries): per UTC day and per symbol over the same range. */
  daily?: BreakdownRow[];
  symbols?: BreakdownRow[];
}

const METRIC_KEYS = ['gross_profit', 'gross_loss', 'avg_win', 'avg_loss', 'profit_factor', 'expectancy', 'largest_win', 'largest_loss'] as const;

function metricFigures(m: MetricRow | undefined): MetricFigures {
  const none: MetricFigures = { gross_profit: '0', gross_loss: '0', avg_win: null, avg_loss: null, profit_factor: null, expectancy: null, largest_win: null, largest_loss: null };
  return m ? Object.fromEntries(METRIC_KEYS.map((k) => [k, m[k]])) as unknown as MetricFigures : none;
}

const groupKey = (dimension: string, key: string | null, quote: string) => JSON.stringify([dimension, key, quote]);

function rowsOf(all: readonly Grouped[], by: GroupBy, metrics: ReadonlyMap<string, MetricRow>): BreakdownRow[] {
  return all.filter((r) => r.grp === by).map(({ grp: _grp, cumulative_pnl_usd, ...r }) => {
    const row = { ...r, ...metricFigures(metrics.get(groupKey(by, r.key, r.quote))) };
    return by === 'day' ? { ...row, cumulative_pnl_usd } : row;
  });
}

export async function buildReport(client: pg.Client, req: ReportRequest): Promise<ReportData> {
  const method = await versionMethod(client, req.version);
  const range = await resolveRange(client, req);
  const groupings: GroupBy[] = req.withSeries ? [...new Set<GroupBy>([req.by, 'day', 'symbol'])] : [req.by];
  const all = await pnlFigures(client, range, groupings);
  const metricRows = await tradingMetrics(client, range);
  const metricByKey = new Map(metricRows.map((m) => [groupKey(m.dimension, m.key, m.quote), m]));
  const risk = await riskMetrics(client, range);
  const riskOf = (q: string): Partial<RiskFigures> => {
    const r = risk.find((x) => x.quote === q);
    if (!r) return {};
    const { quote: _q, realized_pnl: _p, ...rest } = r;
    return rest;
  };
  const totals: QuoteTotals[] = all.filter((r) => r.grp === 'total')
    .map(({ grp: _grp, key: _key, unmatched_size: _size, cumulative_pnl_usd: _cum, ...t }) =>
      ({ ...t, ...metricFigures(metricByKey.get(groupKey('total', null, t.quote))), ...riskOf(t.quote) }));
  const rows = rowsOf(all, req.by, metricByKey);
  const unmatched = await unmatchedSells(client, range, req.unmatchedLimit ?? 20);
  const dirtySymbols = await dirtySymbolCount(client, req.version);
  const generatedAt = new Date().toISOString();
  const marked = await hasMarkedPositions(client);
  // as of the end of the range, else of the latest fill or price: the same report twice is the same
  const positionsAt = range.to ?? (marked ? await latestDataTime(client) : null) ?? generatedAt;
  const account = req.account ?? null;
  const positions = marked && account === null ? await openPositions(client, req.version, positionsAt) : null;
  const positionsUnavailable = !marked ? 'the schema predates migration 017 (run `fifo migrate up`)'
    : account !== null ? 'the marked positions are not split by account (they cover every account)' : null;
  const healthRow = await readHealth(client, req.version);
  const data: ReportData = {
    version: req.version,
    method,
    by: req.by,
    tz: req.tz,
    account,
    from: req.from?.raw ?? null,
    to: req.to?.raw ?? null,
    generated_at: generatedAt,
    positions_at: positionsAt,
    dirty_symbols: dirtySymbols,
    totals,
    rows,
    unmatched,
    metrics: metricRows.filter((m) => m.dimension !== 'day' && m.dimension !== 'total'),
    risk,
    equity: await dailyEquity(client, range),
    positions,
    positions_unavailable: positionsUnavailable,
    health: summarizeHealth(healthRow ?? {}),
  };
  if (req.withSeries) {
    data.daily = rowsOf(all, 'day', metricByKey);
    data.symbols = rowsOf(all, 'symbol', metricByKey);
  }
  return data;
}

/** Unmatched sells in the range over every quote currency (a count of sells, not an amount). */
export function unmatchedSellCount(d: Pick<ReportData, 'totals'>): number {
  return d.totals.reduce((n, t) => n + t.unmatched_sells, 0);
}
