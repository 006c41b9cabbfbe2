/** Plain-text rendering of query rows for the terminal. */
import { formatColumn } from './format/columns.ts';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `{${v.map(cell).join(',')}}`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * Rows as an aligned table. Every command's table goes through here, so one rule holds for all:
 * a column of numbers is right-aligned with one number of decimals (decimal points line up, no
 * `7.5` above `7.500`), a column of times has one width of fractional seconds (format/columns.ts).
 */
export function table(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = columns ?? Object.keys(rows[0]!);
  const shown = cols.map((c) => formatColumn(rows.map((r) => cell(r[c]))));
  const widths = cols.map((c, i) => Math.max(c.length, ...shown[i]!.cells.map((v) => v.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (shown[i]!.right ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cols), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((_, r) => line(shown.map((s) => s.cells[r]!)))].join('\n');
}

/** One record as `key: value` lines (for wide single-row views such as health). */
export function record(row: Record<string, unknown>): string {
  const keys = Object.keys(row);
  const w = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(w)}  ${cell(row[k])}`).join('\n');
}
