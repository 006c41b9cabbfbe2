/**
 * The one CSV writer of the CLI (report, export lots, legacy-compare): LF line ends, a header
 * line first, a trailing newline; a field is quoted ("" for a quote) when it holds a comma,
 * quote, CR or LF, or starts or ends with white space.
 *
 * Spreadsheet formula injection (OWASP "CSV injection"): a cell starting with = + - @, tab or
 * CR is prefixed with a single quote and quoted, so a spreadsheet shows it as text instead of
 * running it — except a plain decimal number such as -12.50, which stays a number.
 */

const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell's text: '' for null, ISO for a Date, space-joined for an array, JSON for an object. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(cellText).join(' ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One field, neutralised and quoted as needed. */
export function csvField(v: unknown): string {
  let s = cellText(v);
  const neutralise = FORMULA_START.test(s) && !PLAIN_NUMBER.test(s);
  if (neutralise) s = `'${s}`;
  return neutralise || /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Rows of cells as CSV text. */
export function csvLines(rows: readonly (readonly unknown[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** Records as CSV text under a header of `columns`. */
export function toCsv(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  return csvLines([columns, ...rows.map((r) => columns.map((c) => r[c]))]);
}
