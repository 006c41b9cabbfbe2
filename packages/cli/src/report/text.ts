/** The report as terminal text, CSV and JSON; totals one per quote currency. */
import { table } from '../format.ts';
import { csvLines } from '../format/csv-write.ts';
import { roundDecimal } from '../format/decimal.ts';
import { unmatchedSellCount, type BreakdownRow, type QuoteTotals, type ReportData } from './query.ts';

const cents = (s: string | null | undefined): string => (s === null || s === undefined ? '' : roundDecimal(s, 2));

export function rangeText(d: Pick<ReportData, 'from' | 'to'>): string {
  if (d.from && d.to) return `sells from ${d.from} to ${d.to}`;
  if (d.from) return `sells from ${d.from}`;
  if (d.to) return `sells up to ${d.to}`;
  return 'all sells';
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
  ];
  const w = Math.max(...rows.map((r) => r[1].length));
  return [`totals in ${t.quote}`, ...rows.map(([k, v, note]) => `${k.padEnd(16)}${v.padStart(w)}${note ? `   (${note})` : ''}`)].join('\n');
}

/** One block per quote currency: amounts in different currencies are never added. */
function allTotals(d: ReportData): string {
  return d.totals.length === 0 ? 'no sells in this range' : d.totals.map(totalsLines).join('\n\n');
}

function breakdownTable(d: ReportData): string {
  const rows = d.rows.map((r) => ({
    [d.by]: keyLabel(r.key),
    quote: r.quote,
    sells: r.sells,
    won: r.winning_sells,
    lost: r.losing_sells,
    'win %': r.win_rate_pct ?? '',
    proceeds: cents(r.proceeds_usd),
    'cost basis': cents(r.cost_basis_usd),
    'realized PnL': cents(r.realized_pnl_usd),
    ...(d.by === 'day' ? { cumulative: cents(r.cumulative_pnl_usd) } : {}),
    fees: cents(r.fees_usd),
    unmatched: r.unmatched_sells,
    ...(d.by === 'symbol' ? { 'unmatched size': r.unmatched_size } : {}),
  }));
  return table(rows);
}

export function renderText(d: ReportData): string {
  const out = [
    `PnL report — allocation version ${d.version} (${d.method}), ${rangeText(d)} (UTC)`,
    'amounts in the quote currency of each symbol (after the dash), totals per quote currency; rounded to 0.01 (--format csv or json for exact values)',
    '',
    allTotals(d),
    '',
    `by ${d.by}`,
    breakdownTable(d),
  ];
  const unmatched = unmatchedSellCount(d);
  if (unmatched > 0) {
    out.push('', `unmatched sells (${unmatched}${d.unmatched.length < unmatched ? `, newest ${d.unmatched.length}` : ''}; see fifo review)`);
    out.push(table(d.unmatched.map((u) => ({
      symbol: u.symbol, sell: u.sell_order_id, time: u.sell_time, 'unmatched size': u.unmatched_size,
      'of size': u.sell_size ?? '', proceeds: cents(u.unmatched_proceeds_usd), review: u.review_status,
    }))));
  }
  return out.join('\n');
}

// ---- CSV (format/csv-write.ts: the CLI's one writer)

const FIGURE_COLUMNS = [
  'sells', 'winning_sells', 'losing_sells', 'matched_sells', 'win_rate_pct', 'proceeds_usd', 'cost_basis_usd',
  'realized_pnl_usd', 'fees_usd', 'unmatched_sells', 'unmatched_proceeds_usd', 'first_sell_time', 'last_sell_time',
] as const;

/** One `group` row per (breakdown key, quote), then one `total` row per quote currency; values exact. */
export function renderCsv(d: ReportData): string {
  const extra = d.by === 'day' ? ['cumulative_pnl_usd'] : [];
  const header = ['row_type', d.by, 'quote', ...FIGURE_COLUMNS, 'unmatched_size', ...extra];
  const group = (r: BreakdownRow) => ['group', r.key, r.quote, ...FIGURE_COLUMNS.map((c) => r[c]), r.unmatched_size,
    ...(d.by === 'day' ? [r.cumulative_pnl_usd] : [])];
  const total = (t: QuoteTotals) => ['total', '', t.quote, ...FIGURE_COLUMNS.map((c) => t[c]), '', ...extra.map(() => '')];
  return csvLines([header, ...d.rows.map(group), ...d.totals.map(total)]);
}

export function renderJson(d: ReportData): string {
  const { daily: _daily, symbols: _symbols, ...rest } = d;
  return `${JSON.stringify(rest, null, 2)}\n`;
}
