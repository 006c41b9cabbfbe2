/**
 * Exchange fills from CSV to ledger facts.
 *
 * One fill is one fact. Its order_id is `<exchange order id>:<trade id>` when the file has
 * trade ids (Coinbase always does), else the exchange order id itself (then the file must
 * hold one row per order). Fills are not aggregated into one order fact: the size-weighted
 * price Σ(price×size)/Σsize of several fills rarely terminates (1 @ 100 and 2 @ 101 gives
 * 100.666…), so an aggregate would have to round its price and its cost basis would no longer
 * be what was paid; separate fills stay exact, and a fill arriving or corrected later is an
 * insert or an update of exactly one fact.
 *
 * The key is injective because ids may not contain the separator `:` (refused with the line):
 * order `a:b` trade `c` and order `a` trade `b:c` would both be `a:b:c`, and an order-level
 * `a:b` would be the fill `b` of order `a`. Ids without `:` keep the key they always had.
 */
import { normalizeHeader, parseCsv, type CsvTable } from './csv.ts';
import { charCount, MAX_ID_CHARS, parseDecimal, parseId, parseSide, parseSymbol, parseTimestamp, ValueError } from './values.ts';

export const FIELDS = ['order_id', 'trade_id', 'symbol', 'side', 'size', 'price', 'fee', 'time', 'trade_type', 'size_in_quote'] as const;
export type Field = (typeof FIELDS)[number];

/** Field → the column's index in the header. */
export type ColumnMap = Partial<Record<Field, number>>;

export interface Fill {
  line: number;
  /** trade_records.order_id: `order:trade` or the order id. */
  key: string;
  orderId: string;
  tradeId: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  size: string;
  price: string;
  fee: string;
  time: string;
}

export interface ParsedFills {
  fills: Fill[];
  /** Rows repeated verbatim in the file (same key, same values): read once. */
  duplicates: number;
  errors: string[];
  warnings: string[];
}

/** Coinbase Advanced Trade fills: the API's field names (ListFills) and the report's spaced ones. */
export const COINBASE_COLUMNS: Record<Field, { aliases: string[]; required: boolean }> = {
  trade_id: { aliases: ['trade_id'], required: true },
  order_id: { aliases: ['order_id'], required: true },
  symbol: { aliases: ['product_id', 'product'], required: true },
  side: { aliases: ['side'], required: true },
  time: { aliases: ['trade_time', 'time', 'created_at'], required: true },
  price: { aliases: ['price'], required: true },
  size: { aliases: ['size'], required: true },
  fee: { aliases: ['commission', 'fee'], required: true },
  trade_type: { aliases: ['trade_type'], required: false },
  size_in_quote: { aliases: ['size_in_quote'], required: false },
};

/** Finds the Coinbase columns in a header; the error names what is missing. */
export function coinbaseColumns(header: readonly string[]): ColumnMap {
  const norm = header.map(normalizeHeader);
  const map: ColumnMap = {};
  const missing: string[] = [];
  for (const f of FIELDS) {
    const spec = COINBASE_COLUMNS[f];
    const idx = norm.findIndex((h) => spec.aliases.includes(h));
    if (idx >= 0) map[f] = idx;
    else if (spec.required) missing.push(spec.aliases.join(' or '));
  }
  if (missing.length > 0) {
    throw new ValueError(`line 1: not a Coinbase fills header: missing column(s) ${missing.join(', ')} (found: ${header.join(', ')})`);
  }
  return map;
}

/** `--map order_id=Order No,symbol=Pair,...` (several --map flags add up) against a header. */
export function mappedColumns(specs: readonly string[], header: readonly string[]): ColumnMap {
  const map: ColumnMap = {};
  const norm = header.map(normalizeHeader);
  for (const spec of specs) {
    for (const part of spec.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq < 0) throw new ValueError(`--map ${JSON.stringify(part)}: expected field=Column`);
      const field = part.slice(0, eq).trim() as Field;
      const column = part.slice(eq + 1).trim();
      if (!(FIELDS as readonly string[]).includes(field)) {
        throw new ValueError(`--map ${JSON.stringify(part)}: unknown field ${JSON.stringify(field)} (fields: ${FIELDS.join(', ')})`);
      }
      const idx = header.indexOf(column) >= 0 ? header.indexOf(column) : norm.indexOf(normalizeHeader(column));
      if (idx < 0) throw new ValueError(`--map ${field}=${column}: the file has no column ${JSON.stringify(column)} (columns: ${header.join(', ')})`);
      map[field] = idx;
    }
  }
  const required: Field[] = ['order_id', 'symbol', 'side', 'size', 'price', 'time'];
  const missing = required.filter((f) => map[f] === undefined);
  if (missing.length > 0) throw new ValueError(`--map lacks ${missing.join(', ')} (required: ${required.join(', ')}; optional: trade_id, fee)`);
  return map;
}

/** The separator of `<order id>:<trade id>`; no id may contain it. */
export const KEY_SEPARATOR = ':';

function parseKeyPart(raw: string): string {
  const v = parseId(raw);
  if (v.includes(KEY_SEPARATOR)) {
    throw new ValueError(`${JSON.stringify(raw)} contains ":", the separator of the ledger key <order id>:<trade id> (ids with ":" would make keys ambiguous)`);
  }
  return v;
}

export interface ReadOptions {
  assumeUtc?: boolean;
}

/** Every row of the table as a fill; every bad value is an error naming its line and column. */
export function readFills(table: CsvTable, map: ColumnMap, opts: ReadOptions = {}): ParsedFills {
  const errors: string[] = [];
  const warnings: string[] = [];
  const fills: Fill[] = [];
  const byKey = new Map<string, Fill>();
  const byOrder = new Map<string, Fill>();
  let duplicates = 0;
  const col = (f: Field) => (map[f] === undefined ? '' : table.header[map[f]!]!);
  if (map.fee === undefined) warnings.push('no fee column: every fee is 0');

  for (const rec of table.records) {
    const get = (f: Field) => (map[f] === undefined ? undefined : rec.cells[map[f]!]!);
    const bad: string[] = [];
    const take = <T>(f: Field, parse: (raw: string) => T): T | undefined => {
      const raw = get(f);
      if (raw === undefined) return undefined;
      try {
        return parse(raw);
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        bad.push(`line ${rec.line}, column ${JSON.stringify(col(f))}: ${f.replace('_', ' ')} ${e.message}`);
        return undefined;
      }
    };
    const tradeType = get('trade_type')?.trim().toUpperCase();
    if (tradeType !== undefined && tradeType !== '' && tradeType !== 'FILL') {
      bad.push(`line ${rec.line}, column ${JSON.stringify(col('trade_type'))}: trade type ${JSON.stringify(get('trade_type'))} is not supported (only FILL; correct or remove the row)`);
    }
    const inQuote = get('size_in_quote')?.trim().toLowerCase();
    if (inQuote === 'true' || inQuote === '1' || inQuote === 'yes') {
      bad.push(`line ${rec.line}, column ${JSON.stringify(col('size_in_quote'))}: the size is in the quote currency; the ledger needs the base size (not derived: size / price does not divide exactly)`);
    }
    const orderId = take('order_id', parseKeyPart);
    const tradeId = map.trade_id === undefined ? null : take('trade_id', parseKeyPart);
    const symbol = take('symbol', parseSymbol);
    const side = take('side', parseSide);
    const size = take('size', (r) => parseDecimal(r));
    const price = take('price', (r) => parseDecimal(r));
    const fee = map.fee === undefined ? '0' : take('fee', (r) => parseDecimal(r.trim() === '' ? '0' : r, { allowZero: true }));
    const time = take('time', (r) => parseTimestamp(r, opts));
    if (bad.length > 0 || !orderId || tradeId === undefined || !symbol || !side || !size || !price || !fee || !time) {
      errors.push(...bad);
      continue;
    }
    const key = tradeId === null ? orderId : `${orderId}${KEY_SEPARATOR}${tradeId}`;
    if (charCount(key) > MAX_ID_CHARS) {
      errors.push(`line ${rec.line}, columns ${JSON.stringify(col('order_id'))} and ${JSON.stringify(col('trade_id'))}: the key order id:trade id is too long: ${charCount(key)} characters, the ledger holds at most ${MAX_ID_CHARS}`);
      continue;
    }
    const fill: Fill = { line: rec.line, key, orderId, tradeId, symbol, side, size, price, fee, time };
    const seen = byKey.get(fill.key);
    if (seen) {
      const same = seen.symbol === fill.symbol && seen.side === fill.side && seen.size === fill.size &&
        seen.price === fill.price && seen.fee === fill.fee && seen.time === fill.time;
      if (same) {
        duplicates++;
        continue;
      }
      errors.push(tradeId === null
        ? `line ${rec.line}: order ${orderId} is also on line ${seen.line} with other values (one row per order, or map trade_id to import fills)`
        : `line ${rec.line}: trade ${tradeId} of order ${orderId} is also on line ${seen.line} with other values`);
      continue;
    }
    const other = byOrder.get(orderId);
    if (other && (other.symbol !== fill.symbol || other.side !== fill.side)) {
      errors.push(`line ${rec.line}: order ${orderId} is a ${fill.side} of ${fill.symbol} here but a ${other.side} of ${other.symbol} on line ${other.line}`);
      continue;
    }
    byKey.set(fill.key, fill);
    if (!other) byOrder.set(orderId, fill);
    fills.push(fill);
  }
  return { fills, duplicates, errors, warnings };
}

export { parseCsv };
