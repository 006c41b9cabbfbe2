/**
 * The PnL report's numbers, read from the views: per-sell rows of v_trade_pnl aggregated
 * with the formulas of v_pnl_by_symbol / v_daily_pnl / v_pnl_by_source / v_pnl_by_trigger /
 * v_pnl_totals (migrations 003, 006, 011), so without a date filter the report equals those
 * views row for row. Every sum is done in SQL; money stays decimal text. Amounts are in the
 * quote currency of the symbol (the part after the dash): every total and every group is
 * per quote currency, and nothing adds USD to BTC.
 */
import type pg from 'pg';
import { CliError } from '../errors.ts';

export const GROUP_BY = ['symbol', 'day', 'source', 'trigger'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** A --from/--to bound: a date alone covers that whole UTC day. */
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
  /** Unmatched sells listed (newest first); the count covers them all. */
  unmatchedLimit?: number;
  /** Also read the daily and per-symbol series the HTML charts need. */
  withSeries?: boolean;
}

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

/** The totals of one quote currency. */
export interface QuoteTotals extends PnlFigures {
  quote: string;
}

export interface BreakdownRow extends PnlFigures {
  /** The group: a symbol, a UTC day (YYYY-MM-DD), a source or a trigger (null: untagged). */
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
  from: string | null;
  to: string | null;
  generated_at: string;
  /** Symbols of this version waiting for a recompute: the figures may lag the ledger. */
  dirty_symbols: number;
  /** One entry per quote currency with sells in the range, in quote order; none when no sells. */
  totals: QuoteTotals[];
  rows: BreakdownRow[];
  unmatched: UnmatchedSellRow[];
  /** HTML only (withSeries): per UTC day and per symbol over the same range. */
  daily?: BreakdownRow[];
  symbols?: BreakdownRow[];
}

const iso = (col: string) =>
  `regexp_replace(to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '\\.?0+Z$', 'Z')`;

/** The same aggregates as v_pnl_by_symbol and friends, over the filtered sells `s`. */
const FIGURES = `
       count(*)::int                                                   AS sells,
       (count(*) FILTER (WHERE s.realized_pnl_usd > 0))::int           AS winning_sells,
       (count(*) FILTER (WHERE s.realized_pnl_usd < 0))::int           AS losing_sells,
       count(s.realized_pnl_usd)::int                                  AS matched_sells,
       round(100.0 * count(*) FILTER (WHERE s.realized_pnl_usd > 0) / nullif(count(s.realized_pnl_usd), 0), 1)::text AS win_rate_pct,
       coalesce(sum(s.proceeds_usd), 0)::text                          AS proceeds_usd,
       coalesce(sum(s.cost_basis_usd), 0)::text                        AS cost_basis_usd,
       coalesce(sum(s.realized_pnl_usd), 0)::text                      AS realized_pnl_usd,
       coalesce(sum(s.sell_fee_usd) + sum(s.buy_fee_usd), 0)::text     AS fees_usd,
       (count(*) FILTER (WHERE s.unmatched_size > 0))::int             AS unmatched_sells,
       coalesce(sum(s.unmatched_proceeds_usd), 0)::text                AS unmatched_proceeds_usd,
       ${iso('min(s.sell_time)')}                                      AS first_sell_time,
       ${iso('max(s.sell_time)')}                                      AS last_sell_time`;

/** Sells of version $1 in [$2, $3) — or [$2, $3] when $4 is false — with their unmatched proceeds. */
const SELLS = `
  SELECT t.*, u.unmatched_proceeds_usd
    FROM v_trade_pnl t
    LEFT JOIN (SELECT symbol, sell_order_id, sum(unmatched_proceeds_usd) AS unmatched_proceeds_usd
                 FROM v_unmatched_sells WHERE allocation_version = $1 GROUP BY symbol, sell_order_id) u
      ON u.symbol = t.symbol AND u.sell_order_id = t.sell_order_id
   WHERE t.allocation_version = $1
     AND ($2::timestamptz IS NULL OR t.sell_time >= $2::timestamptz)
     AND ($3::timestamptz IS NULL OR t.sell_time < $3::timestamptz OR (NOT $4::boolean AND t.sell_time = $3::timestamptz))`;

/** The quote currency of a symbol BASE-QUOTE (the ledger's rule): as in v_tax_lots and migration 011. */
const QUOTE = `split_part(s.symbol, '-', 2)`;

const KEY: Record<GroupBy, string> = {
  symbol: 's.symbol',
  day: `to_char((s.sell_time AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')`,
  source: 's.source',
  trigger: 's.trigger',
};

function boundParams(req: Pick<ReportRequest, 'version' | 'from' | 'to'>): unknown[] {
  const to = req.to === null ? null
    : req.to.dateOnly ? new Date(req.to.time.getTime() + 86_400_000).toISOString() : req.to.time.toISOString();
  return [req.version, req.from?.time.toISOString() ?? null, to, req.to?.dateOnly ?? true];
}

type Grouped = BreakdownRow & { grp: GroupBy | 'total' };

/**
 * The totals and every requested grouping in one pass over the sells (GROUPING SETS): on a
 * large ledger the per-sell aggregation of v_trade_pnl is the cost, so it is paid once. The
 * quote currency is in every grouping set, so no row adds two currencies.
 */
async function aggregate(client: pg.Client, req: ReportRequest, groupings: readonly GroupBy[]): Promise<Grouped[]> {
  const keys = groupings.map((g) => `${KEY[g]} AS k_${g}`).join(', ');
  // which grouping set a row belongs to: the one whose key is not rolled up
  const grp = `CASE ${groupings.map((g) => `WHEN grouping(k_${g}) = 0 THEN '${g}'`).join(' ')} ELSE 'total' END`;
  const key = `CASE ${groupings.map((g) => `WHEN grouping(k_${g}) = 0 THEN k_${g}`).join(' ')} END`;
  const { rows } = await client.query<Grouped>(
    `WITH s AS (SELECT s.*, ${QUOTE} AS quote, ${keys} FROM (${SELLS}) s)
     SELECT ${grp} AS grp, ${key} AS key, s.quote, ${FIGURES},
            coalesce(sum(s.unmatched_size), 0)::text AS unmatched_size,
            (sum(coalesce(sum(s.realized_pnl_usd), 0)) OVER (PARTITION BY ${grp}, s.quote ORDER BY ${key} COLLATE "C"))::text AS cumulative_pnl_usd
       FROM s
      GROUP BY GROUPING SETS ((s.quote), ${groupings.map((g) => `(s.quote, k_${g})`).join(', ')})
      ORDER BY 1, s.quote COLLATE "C", ${key} COLLATE "C" NULLS LAST`,
    boundParams(req));
  return rows;
}

function rowsOf(all: readonly Grouped[], by: GroupBy): BreakdownRow[] {
  return all.filter((r) => r.grp === by).map(({ grp: _grp, cumulative_pnl_usd, ...r }) =>
    (by === 'day' ? { ...r, cumulative_pnl_usd } : r));
}

export async function buildReport(client: pg.Client, req: ReportRequest): Promise<ReportData> {
  const { rows: versions } = await client.query<{ method: string }>(
    'SELECT method FROM fifo_allocation_versions WHERE allocation_version = $1', [req.version]);
  const version = versions[0];
  if (!version) throw new CliError(`--version ${req.version}: no such allocation version (see fifo_allocation_versions)`);
  const params = boundParams(req);
  const groupings: GroupBy[] = req.withSeries ? [...new Set<GroupBy>([req.by, 'day', 'symbol'])] : [req.by];
  const all = await aggregate(client, req, groupings);
  const totals: QuoteTotals[] = all.filter((r) => r.grp === 'total')
    .map(({ grp: _grp, key: _key, unmatched_size: _size, cumulative_pnl_usd: _cum, ...t }) => t);
  const rows = rowsOf(all, req.by);
  const { rows: unmatched } = await client.query<UnmatchedSellRow>(
    `SELECT u.symbol, u.sell_order_id, ${iso('u.sell_time')} AS sell_time, u.sell_price::text, u.sell_size::text,
            u.unmatched_size::text, u.unmatched_proceeds_usd::text, u.review_id::text, u.review_status
       FROM v_unmatched_sells u
      WHERE u.allocation_version = $1
        AND ($2::timestamptz IS NULL OR u.sell_time >= $2::timestamptz)
        AND ($3::timestamptz IS NULL OR u.sell_time < $3::timestamptz OR (NOT $4::boolean AND u.sell_time = $3::timestamptz))
      ORDER BY u.sell_time DESC, u.symbol COLLATE "C", u.sell_order_id COLLATE "C"
      LIMIT $5`,
    [...params, req.unmatchedLimit ?? 20]);
  const { rows: [dirty] } = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM fifo_dirty_symbols WHERE allocation_version = $1', [req.version]);
  const data: ReportData = {
    version: req.version,
    method: version.method,
    by: req.by,
    from: req.from?.raw ?? null,
    to: req.to?.raw ?? null,
    generated_at: new Date().toISOString(),
    dirty_symbols: dirty?.n ?? 0,
    totals,
    rows,
    unmatched,
  };
  if (req.withSeries) {
    data.daily = rowsOf(all, 'day');
    data.symbols = rowsOf(all, 'symbol');
  }
  return data;
}

/** Unmatched sells in the range over every quote currency (a count of sells, not an amount). */
export function unmatchedSellCount(d: Pick<ReportData, 'totals'>): number {
  return d.totals.reduce((n, t) => n + t.unmatched_sells, 0);
}
