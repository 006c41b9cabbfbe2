/** The report as terminal text, CSV (RFC 4180) and JSON. */
import { table } from '../format.ts';
import { roundDecimal } from './decimal.ts';
import type { BreakdownRow, PnlFigures, ReportData } from './query.ts';

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

function totalsLines(t: PnlFigures): string {
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
  return rows.map(([k, v, note]) => `${k.padEnd(16)}${v.padStart(w)}${note ? `   (${note})` : ''}`).join('\n');
}

function breakdownTable(d: ReportData): string {
  const rows = d.rows.map((r) => ({
    [d.by]: keyLabel(r.key),
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
    'amounts in the quote currency, rounded to 0.01 (--format csv or json for exact values)',
    '',
    totalsLines(d.totals),
    '',
    `by ${d.by}`,
    breakdownTable(d),
  ];
  if (d.totals.unmatched_sells > 0) {
    out.push('', `unmatched sells (${d.totals.unmatched_sells}${d.unmatched.length < d.totals.unmatched_sells ? `, newest ${d.unmatched.length}` : ''}; see fifo review)`);
    out.push(table(d.unmatched.map((u) => ({
      symbol: u.symbol, sell: u.sell_order_id, time: u.sell_time, 'unmatched size': u.unmatched_size,
      'of size': u.sell_size ?? '', proceeds: cents(u.unmatched_proceeds_usd), review: u.review_status,
    }))));
  }
  return out.join('\n');
}

// ---- CSV (RFC 4180: CRLF line ends; fields with comma, quote, CR or LF quoted, quotes doubled)

export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvLines(rows: readonly (readonly unknown[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

const FIGURE_COLUMNS = [
  'sells', 'winning_sells', 'losing_sells', 'matched_sells', 'win_rate_pct', 'proceeds_usd', 'cost_basis_usd',
  'realized_pnl_usd', 'fees_usd', 'unmatched_sells', 'unmatched_proceeds_usd', 'first_sell_time', 'last_sell_time',
] as const;

/** One `group` row per breakdown key, then one `total` row; values exact. */
export function renderCsv(d: ReportData): string {
  const extra = d.by === 'day' ? ['cumulative_pnl_usd'] : [];
  const header = ['row_type', d.by, ...FIGURE_COLUMNS, 'unmatched_size', ...extra];
  const group = (r: BreakdownRow) => ['group', r.key, ...FIGURE_COLUMNS.map((c) => r[c]), r.unmatched_size,
    ...(d.by === 'day' ? [r.cumulative_pnl_usd] : [])];
  const total = ['total', '', ...FIGURE_COLUMNS.map((c) => d.totals[c]), '', ...extra.map(() => '')];
  return csvLines([header, ...d.rows.map(group), total]);
}

export function renderJson(d: ReportData): string {
  const { daily: _daily, symbols: _symbols, ...rest } = d;
  return `${JSON.stringify(rest, null, 2)}\n`;
}
