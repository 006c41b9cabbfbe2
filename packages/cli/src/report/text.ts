/** The report as terminal text, CSV and JSON; totals one per quote currency. */
import { table } from '../format.ts';
import { csvLines } from '../format/csv-write.ts';
import { roundDecimal } from '../format/decimal.ts';
import { renderHealthSummary } from '../health/assess.ts';
import { columnsFor, METRIC_COLUMNS, valueOf, type FigureColumn } from './columns.ts';
import { profitFactor, ratio, sharpeNote } from './decimal.ts';
import { STALE_PRICE_HOURS, unmatchedSellCount, type BreakdownRow, type MetricRow, type OpenPosition, type QuoteTotals, type ReportData } from './query.ts';

const cents = (s: string | null | undefined): string => (s === null || s === undefined ? '' : roundDecimal(s, 2));

export function rangeText(d: Pick<ReportData, 'from' | 'to'> & { account?: string | null }): string {
  const of = d.account ? ` of account ${JSON.stringify(d.account)}` : '';
  if (d.from && d.to) return `sells${of} from ${d.from} to ${d.to}`;
  if (d.from) return `sells${of} from ${d.from}`;
  if (d.to) return `sells${of} up to ${d.to}`;
  return d.account ? `all sells${of}` : 'all sells';
}

export function keyLabel(key: string | null): string {
  return key ?? '(none)';
}

function totalsLines(t: QuoteTotals): string {
  const rows: Array<[string, string, string?]> = [
    ['realized PnL', cents(t.realized_pnl_usd)],
    ['proceeds', cents(t.proceeds_usd), 'matched parts, net of sell fees'],
    ['cost basis', cents(t.cost_basis_usd), 'including buy fees'],
    ['fees paid', cents(t.fees_usd)],
    ['sells', String(t.sells), `${t.winning_sells} won, ${t.losing_sells} lost, ${t.sells - t.matched_sells} fully unmatched`],
    ['win rate', t.win_rate_pct === null ? 'n/a' : `${t.win_rate_pct} %`, 'winning sells / sells with a matched part'],
    ['unmatched sells', String(t.unmatched_sells), `proceeds ${cents(t.unmatched_proceeds_usd)} with no cost basis`],
    ['profit factor', profitFactor(t.profit_factor, t.losing_sells), 'gross profit / gross loss'],
    ['expectancy', cents(t.expectancy) || 'n/a', 'mean realized PnL per sell with a matched part'],
    ['avg win / loss', `${cents(t.avg_win) || 'n/a'} / ${cents(t.avg_loss) || 'n/a'}`],
    ['largest win / loss', `${cents(t.largest_win) || 'n/a'} / ${cents(t.largest_loss) || 'n/a'}`],
    ['sharpe ratio', ratio(t.sharpe_ratio), sharpeNote(t.days, t.sharpe_ratio)],
    ['max drawdown', cents(t.max_drawdown), t.peak_day ? `peak ${t.peak_day}, trough ${t.trough_day}` : 'never below a previous peak'],
    ['longest drawdown', `${t.longest_drawdown_days ?? 0} day(s)`, 'consecutive days closing below a previous peak'],
  ];
  const w = Math.max(...rows.map((r) => r[1].length));
  return [`totals in ${t.quote}`, ...rows.map(([k, v, note]) => `${k.padEnd(16)}${v.padStart(w)}${note ? `   (${note})` : ''}`)].join('\n');
}

/** One block per quote currency: amounts in different currencies are never added. */
function allTotals(d: ReportData): string {
  return d.totals.length === 0 ? 'no sells in this range' : d.totals.map(totalsLines).join('\n\n');
}

/** A metrics table (by symbol, source or trigger): one row per (key, quote). */
export function metricsTable(rows: readonly MetricRow[], label: string): string {
  return table(rows.map((r) => ({
    [label]: keyLabel(r.key),
    ...Object.fromEntries(METRIC_COLUMNS.map((c) => [c.label,
      c.shown === 'money' ? cents(r[c.key] as string | null) || (r[c.key] === null ? 'n/a' : '')
        : c.shown === 'ratio' ? ratio(r[c.key] as string | null) : c.shown === 'pct' ? (r[c.key] as string | null) ?? 'n/a' : r[c.key]])),
  })));
}

/** Metric rows of one dimension, best realized PnL first for symbols (the leaderboard). */
export function metricsOf(d: ReportData, dimension: MetricRow['dimension']): MetricRow[] {
  const rows = d.metrics.filter((m) => m.dimension === dimension);
  if (dimension !== 'symbol') return rows;
  return [...rows].sort((a, b) => (a.quote < b.quote ? -1 : a.quote > b.quote ? 1 : signedCompare(b.realized_pnl, a.realized_pnl)));
}

/** Compares decimal strings exactly (no float). */
function signedCompare(a: string, b: string): number {
  const [ia, fa = ''] = a.replace('-', '').split('.');
  const [ib, fb = ''] = b.replace('-', '').split('.');
  const na = a.startsWith('-') && /[1-9]/.test(a);
  const nb = b.startsWith('-') && /[1-9]/.test(b);
  if (na !== nb) return na ? -1 : 1;
  const w = Math.max(fa.length, fb.length);
  const x = BigInt(ia! + fa.padEnd(w, '0'));
  const y = BigInt(ib! + fb.padEnd(w, '0'));
  const c = x === y ? 0 : x < y ? -1 : 1;
  return na ? -c : c;
}

export const isStale = (p: OpenPosition): boolean => p.price_age_hours !== null && Number(p.price_age_hours) > STALE_PRICE_HOURS;

function positionsTable(d: ReportData): string {
  if (d.positions === null) return `open positions: not available: ${d.positions_unavailable ?? ''}`;
  const head = `open positions at ${d.positions_at} (marked at the latest price at or before; unknown: no price)`;
  if (d.positions.length === 0) return `${head}\n(none)`;
  return `${head}\n${table(d.positions.map((p) => ({
    symbol: p.symbol, quote: p.quote, quantity: p.quantity, 'cost basis': cents(p.cost_basis),
    price: p.price ?? 'unknown', 'market value': p.market_value === null ? 'unknown' : cents(p.market_value),
    unrealized: p.unrealized_pnl === null ? 'unknown' : cents(p.unrealized_pnl),
    'price age': p.price_age_hours === null ? '' : `${p.price_age_hours} h${isStale(p) ? ' STALE' : ''}`,
    'oldest lot': `${p.oldest_lot_age_days} d`,
  })))}`;
}

function textCell(r: BreakdownRow, c: FigureColumn): string | number {
  const v = valueOf(r, c);
  if (c.shown === 'money') return cents(v as string | undefined);
  if (c.shown === 'pct') return (v as string | null) ?? '';
  return v as string | number;
}

function breakdownTable(d: ReportData): string {
  const cols = columnsFor('text', d.by);
  return table(d.rows.map((r) => ({ [d.by]: keyLabel(r.key), ...Object.fromEntries(cols.map((c) => [c.text!, textCell(r, c)])) })));
}

export function renderText(d: ReportData): string {
  const out = [
    `PnL report — allocation version ${d.version} (${d.method}), ${rangeText(d)} (days in ${d.tz})`,
    'amounts in the quote currency of each symbol (after the dash), totals per quote currency; rounded to 0.01 (--format csv or json for exact values)',
    '',
    allTotals(d),
    '',
    `by ${d.by}`,
    breakdownTable(d),
  ];
  for (const [dim, label] of [['trigger', 'trigger'], ['source', 'source'], ['symbol', 'symbol']] as const) {
    const rows = metricsOf(d, dim);
    if (rows.length === 0) continue;
    out.push('', dim === 'symbol' ? 'trading metrics by symbol (leaderboard, best realized PnL first)' : `trading metrics by ${dim}`, metricsTable(rows, label));
  }
  out.push('', positionsTable(d));
  const unmatched = unmatchedSellCount(d);
  if (unmatched > 0) {
    out.push('', `unmatched sells (${unmatched}${d.unmatched.length < unmatched ? `, newest ${d.unmatched.length}` : ''}; see fifo review)`);
    out.push(table(d.unmatched.map((u) => ({
      symbol: u.symbol, sell: u.sell_order_id, time: u.sell_time, 'unmatched size': u.unmatched_size,
      'of size': u.sell_size ?? '', proceeds: cents(u.unmatched_proceeds_usd), review: u.review_status,
    }))));
  }
  out.push('', 'FIFO health', renderHealthSummary(d.health));
  return out.join('\n');
}

// ---- CSV (format/csv-write.ts: the CLI's one writer)

/** One `group` row per (breakdown key, quote), then one `total` row per quote currency; values exact. */
export function renderCsv(d: ReportData): string {
  const cols = columnsFor('csv', d.by);
  const header = ['row_type', d.by, ...cols.map((c) => c.key)];
  const group = (r: BreakdownRow) => ['group', r.key, ...cols.map((c) => valueOf(r, c))];
  const total = (t: QuoteTotals) => ['total', '', ...cols.map((c) => (c.total ? valueOf(t, c) : ''))];
  return csvLines([header, ...d.rows.map(group), ...d.totals.map(total)]);
}

export function renderJson(d: ReportData): string {
  const { daily: _daily, symbols: _symbols, ...rest } = d;
  return `${JSON.stringify(rest, null, 2)}\n`;
}
