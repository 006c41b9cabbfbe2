/** The report as terminal text, CSV and JSON; totals one per quote currency. */
import { table } from '../format.ts';
import { csvLines } from '../format/csv-write.ts';
import { roundDecimal } from '../format/decimal.ts';
import { columnsFor, type FigureColumn } from './columns.ts';
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

function textCell(r: BreakdownRow, c: FigureColumn): string | number {
  const v = r[c.key];
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

/** One `group` row per (breakdown key, quote), then one `total` row per quote currency; values exact. */
export function renderCsv(d: ReportData): string {
  const cols = columnsFor('csv', d.by);
  const header = ['row_type', d.by, ...cols.map((c) => c.key)];
  const group = (r: BreakdownRow) => ['group', r.key, ...cols.map((c) => r[c.key])];
  const total = (t: QuoteTotals) => ['total', '', ...cols.map((c) => (c.total ? t[c.key as keyof QuoteTotals] : ''))];
  return csvLines([header, ...d.rows.map(group), ...d.totals.map(total)]);
}

export function renderJson(d: ReportData): string {
  const { daily: _daily, symbols: _symbols, ...rest } = d;
  return `${JSON.stringify(rest, null, 2)}\n`;
}
