/**
 * The PnL report: its shape and its assembly from queries/pnl.ts, so without a date filter the
 * report equals the PnL views row for row. Amounts are in the quote currency of the symbol (the
 * part after the dash): every total and every group is per quote currency, and nothing adds
 * USD to BTC.
 */
import type pg from 'pg';
import { pnlFigures, unmatchedSells, type Grouped } from '../queries/pnl.ts';
import { dirtySymbolCount, versionMethod } from '../queries/versions.ts';

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

function rowsOf(all: readonly Grouped[], by: GroupBy): BreakdownRow[] {
  return all.filter((r) => r.grp === by).map(({ grp: _grp, cumulative_pnl_usd, ...r }) =>
    (by === 'day' ? { ...r, cumulative_pnl_usd } : r));
}

export async function buildReport(client: pg.Client, req: ReportRequest): Promise<ReportData> {
  const method = await versionMethod(client, req.version);
  const groupings: GroupBy[] = req.withSeries ? [...new Set<GroupBy>([req.by, 'day', 'symbol'])] : [req.by];
  const all = await pnlFigures(client, req, groupings);
  const totals: QuoteTotals[] = all.filter((r) => r.grp === 'total')
    .map(({ grp: _grp, key: _key, unmatched_size: _size, cumulative_pnl_usd: _cum, ...t }) => t);
  const rows = rowsOf(all, req.by);
  const unmatched = await unmatchedSells(client, req, req.unmatchedLimit ?? 20);
  const dirtySymbols = await dirtySymbolCount(client, req.version);
  const data: ReportData = {
    version: req.version,
    method,
    by: req.by,
    from: req.from?.raw ?? null,
    to: req.to?.raw ?? null,
    generated_at: new Date().toISOString(),
    dirty_symbols: dirtySymbols,
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
