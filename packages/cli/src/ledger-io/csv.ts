/**
 * CSV in and out (RFC 4180: quoted fields, "" escapes, CRLF or LF, a leading BOM). Every
 * record keeps the file line it starts on, so errors can name it.
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  header: string[];
  records: CsvRecord[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

/** Parses CSV text into records; blank lines are skipped. Throws CsvSyntaxError on a broken quote. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const start = line;
    const cells: string[] = [];
    let cell = '';
    let quotedCell = false;
    for (;;) {
      if (i >= n) {
        cells.push(cell);
        break;
      }
      const c = s[i]!;
      if (c === '"' && cell === '' && !quotedCell) {
        // a quoted field
        quotedCell = true;
        i++;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(start, 'a quoted field is not closed');
          const q = s[i]!;
          if (q === '"') {
            if (s[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (q === '\n') line++;
          cell += q;
          i++;
        }
        const next = s[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new CsvSyntaxError(line, `unexpected ${JSON.stringify(next)} after a closing quote`);
        }
        continue;
      }
      if (c === ',') {
        cells.push(cell);
        cell = '';
        quotedCell = false;
        i++;
        continue;
      }
      if (c === '\r' || c === '\n') {
        cells.push(cell);
        i += c === '\r' && s[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      }
      if (c === '"') throw new CsvSyntaxError(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
      cell += c;
      i++;
    }
    if (cells.length === 1 && !quotedCell && cells[0]!.trim() === '') continue;
    out.push({ line: start, cells });
  }
  return out;
}

/** Header plus records; a record with more or fewer cells than the header is an error. */
export function parseCsv(text: string): CsvTable {
  const records = parseCsvRecords(text);
  const first = records.shift();
  if (!first) throw new CsvSyntaxError(1, 'the file is empty (a header line is expected)');
  const header = first.cells.map((h) => h.trim());
  for (const r of records) {
    if (r.cells.length !== header.length) {
      throw new CsvSyntaxError(r.line, `${r.cells.length} field(s), the header has ${header.length}`);
    }
  }
  return { header, records };
}

/** A header name made comparable: lower case, spaces/dashes/dots as underscores. */
export function normalizeHeader(h: string): string {
  return h.trim().toLowerCase().replace(/[\s\-.]+/g, '_');
}

function quote(v: string): string {
  return /[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(text).join(' ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Rows as CSV text (header first, CRLF-free LF lines, a trailing newline). */
export function toCsv(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const lines = [columns.map(quote).join(',')];
  for (const r of rows) lines.push(columns.map((c) => quote(text(r[c]))).join(','));
  return `${lines.join('\n')}\n`;
}
