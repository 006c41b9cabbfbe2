/**
 * Market prices from a CSV file for `fifo import prices`: header `symbol,price_time,price`
 * and optionally `source`, one price per row. Checked whole in one pass: every bad record is
 * listed with its line and column, and a key (symbol, time, source) given twice is an error
 * naming both lines. The rules are market_prices' (migration 017): a BASE-QUOTE symbol, a
 * plain decimal price > 0 (at most 18 decimal places, at most 1e15), an ISO-8601 time in the
 * ledger's range, a source tag of 1 to 100 characters without control characters.
 */
import { normalizeHeader, type CsvTable } from './csv.ts';
import { parseDecimal, parseIsoTime, parseSymbol, ValueError } from './values.ts';

export interface MarketPrice {
  line: number;
  symbol: string;
  /** ISO text with offset, for PostgreSQL. */
  time: string;
  price: string;
  source: string;
}

const COLUMNS = {
  symbol: ['symbol', 'product_id', 'product'],
  price_time: ['price_time', 'time', 'timestamp'],
  price: ['price'],
  source: ['source'],
} as const;
type Column = keyof typeof COLUMNS;
const REQUIRED: readonly Column[] = ['symbol', 'price_time', 'price'];
export const PRICE_COLUMNS_TEXT = 'symbol, price_time, price[, source]';

/** A source tag: what market_prices_source_must_be_a_tag accepts. */
export function parseSource(raw: string): string {
  const v = raw.trim();
  if (v === '') throw new ValueError('is empty');
  if ([...v].length > 100) throw new ValueError(`${JSON.stringify(raw)} is longer than 100 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F-\u009F]/.test(v)) throw new ValueError(`${JSON.stringify(raw)} contains a control character`);
  return v;
}

/** Column indexes of the header; a ValueError names what is missing, repeated or unknown. */
function priceColumns(header: readonly string[]): Partial<Record<Column, number>> {
  const found: Partial<Record<Column, number>> = {};
  const problems: string[] = [];
  header.forEach((h, i) => {
    const n = normalizeHeader(h);
    const col = (Object.keys(COLUMNS) as Column[]).find((c) => (COLUMNS[c] as readonly string[]).includes(n));
    if (!col) problems.push(`unknown column ${JSON.stringify(h)}`);
    else if (found[col] !== undefined) problems.push(`column ${JSON.stringify(h)} repeats ${JSON.stringify(header[found[col]!])}`);
    else found[col] = i;
  });
  const missing = REQUIRED.filter((c) => found[c] === undefined);
  if (missing.length > 0) problems.unshift(`missing column(s) ${missing.join(', ')}`);
  if (problems.length > 0) {
    throw new ValueError(`line 1: ${problems.join('; ')} (the columns are ${PRICE_COLUMNS_TEXT}; found: ${header.join(', ')})`);
  }
  return found;
}

/** The key of a time: the instant to the microsecond (PostgreSQL's resolution). */
function instantKey(text: string, ms: number): string {
  const frac = /\.(\d+)/.exec(text)?.[1] ?? '';
  return `${ms}.${frac.slice(3, 6).padEnd(3, '0')}`;
}

export function readPrices(t: CsvTable, opts: { defaultSource: string; assumeUtc?: boolean }): { prices: MarketPrice[]; errors: string[] } {
  const col = priceColumns(t.header);
  const errors: string[] = [];
  const prices: MarketPrice[] = [];
  const seen = new Map<string, number>();
  for (const r of t.records) {
    const bad: string[] = [];
    const take = <T>(c: Column, what: string, parse: (raw: string) => T): T | undefined => {
      const i = col[c]!;
      try {
        return parse(r.cells[i]!);
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        bad.push(`line ${r.line}, column ${JSON.stringify(t.header[i])}: ${what} ${e.message}`);
        return undefined;
      }
    };
    const symbol = take('symbol', 'symbol', parseSymbol);
    const time = take('price_time', 'time', (raw) => {
      const v = parseIsoTime(raw, { assumeUtc: opts.assumeUtc });
      if (/[1-9]/.test((/\.(\d+)/.exec(v.text)?.[1] ?? '').slice(6))) {
        throw new ValueError(`${JSON.stringify(raw)} is finer than a microsecond`);
      }
      return v;
    });
    const price = take('price', 'price', (raw) => parseDecimal(raw));
    const sourceCell = col.source === undefined ? '' : r.cells[col.source]!;
    const source = sourceCell.trim() === '' ? opts.defaultSource : take('source', 'source', parseSource);
    if (bad.length > 0 || symbol === undefined || time === undefined || price === undefined || source === undefined) {
      errors.push(...bad);
      continue;
    }
    const key = `${symbol}\u0000${instantKey(time.text, time.ms)}\u0000${source}`;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push(`line ${r.line}: ${symbol} at ${time.text} from ${JSON.stringify(source)} is also on line ${first} (one price per symbol, time and source)`);
      continue;
    }
    seen.set(key, r.line);
    prices.push({ line: r.line, symbol, time: time.text, price, source });
  }
  return { prices, errors };
}
