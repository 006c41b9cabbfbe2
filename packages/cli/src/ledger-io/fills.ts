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
import { normalizeHeader, parseCsv } from './csv.ts';
import { charCount, MAX_ID_CHARS, parseDecimal, parseId, parseSide, parseSymbol, parseTimestamp, ValueError } from './values.ts';

export const FIELDS = ['order_id', 'trade_id', 'symbol', 'side', 'size', 'price', 'fee', 'time', 'trade_type', 'size_in_quote', 'size_unit', 'quote_unit'] as const;
export type Field = (typeof FIELDS)[number];

/** Field → the column's index in the header. */
export type ColumnMap = Partial<Record<Field, number>> & {
  /**
   * The file has no order ids and its trade ids number the trades of one product's book
   * (Coinbase Exchange): the key is `<product>:<trade id>`, and one "order" holds both sides.
   */
  readonly tradeIdPerProduct?: boolean;
};

/** A known file layout: for each field the header names it may have, and whether it must be there. */
export interface HeaderLayout {
  /** Its name in messages (`Coinbase Advanced Trade fills`). */
  label: string;
  /** Header names as the exchange writes them; compared case-insensitively, spaces = underscores. */
  columns: Partial<Record<Field, { aliases: readonly string[]; required: boolean }>>;
  tradeIdPerProduct?: boolean;
}

/** The columns of `layout` in a header (names compared as normalizeHeader makes them), or the required ones it lacks. */
export function layoutColumns(layout: HeaderLayout, header: readonly string[]): { map: ColumnMap } | { missing: string[] } {
  const norm = header.map(normalizeHeader);
  const map: Partial<Record<Field, number>> = {};
  const missing: string[] = [];
  for (const f of FIELDS) {
    const spec = layout.columns[f];
    if (!spec) continue;
    const idx = norm.findIndex((h) => spec.aliases.some((a) => normalizeHeader(a) === h));
    if (idx >= 0) map[f] = idx;
    else if (spec.required) missing.push(spec.aliases.join(' or '));
  }
  if (missing.length > 0) return { missing };
  return { map: layout.tradeIdPerProduct ? { ...map, tradeIdPerProduct: true } : map };
}

/** A header no known layout reads: the message's first line, then `detail(file)` lines (what was tried, what would read it). */
export class HeaderError extends ValueError {
  constructor(
    message: string,
    readonly detail: (file: string) => string[],
  ) {
    super(message);
  }
}

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

/** The fields `import csv --map` must name. */
export const MAP_REQUIRED: readonly Field[] = ['order_id', 'symbol', 'side', 'size', 'price', 'time'];

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
  const missing = MAP_REQUIRED.filter((f) => map[f] === undefined);
  if (missing.length > 0) throw new ValueError(`--map lacks ${missing.join(', ')} (required: ${MAP_REQUIRED.join(', ')}; optional: trade_id, fee)`);
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

/** Records to read fills from (a CsvIndex: cells decoded on demand). */
export interface FillRecords {
  readonly header: readonly string[];
  readonly count: number;
  line(i: number): number;
  cells(i: number): string[];
  /** What is wrong with record `i` as a CSV record (a wrong field count), listed with the value problems. */
  problem?(i: number): string | undefined;
}

export interface CheckedFills {
  /** Rows repeated verbatim in the file (same key, same values): read once. */
  duplicates: number;
  errors: string[];
  warnings: string[];
  /** keep[i] = 1: record i is a fill to import (0: repeated row or bad). */
  keep: Uint8Array;
  /** How many records are kept. */
  fills: number;
}

const positive = (r: string) => parseDecimal(r);
const feeValue = (r: string) => parseDecimal(r.trim() === '' ? '0' : r, { allowZero: true });

/** Reads records as fills; the column lookups are done once, not per record. */
class RecordReader {
  private readonly names: Partial<Record<Field, string>> = {};
  private readonly time: (raw: string) => string;

  constructor(
    private readonly src: FillRecords,
    private readonly map: ColumnMap,
    opts: ReadOptions,
  ) {
    for (const f of FIELDS) if (map[f] !== undefined) this.names[f] = JSON.stringify(src.header[map[f]!]!);
    this.time = (r) => parseTimestamp(r, opts);
  }

  private take<T>(f: Field, cells: string[], line: number, bad: string[], parse: (raw: string) => T): T | undefined {
    const at = this.map[f];
    if (at === undefined) return undefined;
    try {
      return parse(cells[at]!);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      bad.push(`line ${line}, column ${this.names[f]}: ${f.replace('_', ' ')} ${e.message}`);
      return undefined;
    }
  }

  /** A unit column (size unit, price/fee/total unit) must name `want`; the amounts are not converted. */
  private unit(f: 'size_unit' | 'quote_unit', cells: string[], line: number, bad: string[], want: string, what: string): void {
    const at = this.map[f];
    if (at === undefined) return;
    const raw = cells[at]!;
    if (raw.trim().toUpperCase() !== want) {
      bad.push(`line ${line}, column ${this.names[f]}: ${f.replace('_', ' ')} ${JSON.stringify(raw)} is not ${want}, ${what}`);
    }
  }

  /** Record `i` as a fill, or the problems of its cells (each naming its line and column). */
  read(i: number): { fill?: Fill; bad: string[] } {
    const { map, names } = this;
    const ragged = this.src.problem?.(i);
    if (ragged !== undefined) return { bad: [ragged] };
    const cells = this.src.cells(i);
    const line = this.src.line(i);
    const bad: string[] = [];
    const rawType = map.trade_type === undefined ? undefined : cells[map.trade_type]!;
    const tradeType = rawType?.trim().toUpperCase();
    if (tradeType !== undefined && tradeType !== '' && tradeType !== 'FILL') {
      bad.push(`line ${line}, column ${names.trade_type}: trade type ${JSON.stringify(rawType)} is not supported (only FILL; correct or remove the row)`);
    }
    const inQuote = map.size_in_quote === undefined ? undefined : cells[map.size_in_quote]!.trim().toLowerCase();
    if (inQuote === 'true' || inQuote === '1' || inQuote === 'yes') {
      bad.push(`line ${line}, column ${names.size_in_quote}: the size is in the quote currency; the ledger needs the base size (not derived: size / price does not divide exactly)`);
    }
    const ownOrderId = map.tradeIdPerProduct ? undefined : this.take('order_id', cells, line, bad, parseKeyPart);
    const tradeId = map.trade_id === undefined ? null : this.take('trade_id', cells, line, bad, parseKeyPart);
    const symbol = this.take('symbol', cells, line, bad, parseSymbol);
    const orderId = map.tradeIdPerProduct ? symbol : ownOrderId;
    if (symbol) {
      const [base, quote] = symbol.split('-') as [string, string];
      this.unit('size_unit', cells, line, bad, base, `the base currency of ${symbol} (the ledger holds sizes in the base currency)`);
      this.unit('quote_unit', cells, line, bad, quote, `the quote currency of ${symbol}`);
    }
    const side = this.take('side', cells, line, bad, parseSide);
    const size = this.take('size', cells, line, bad, positive);
    const price = this.take('price', cells, line, bad, positive);
    const fee = map.fee === undefined ? '0' : this.take('fee', cells, line, bad, feeValue);
    const time = this.take('time', cells, line, bad, this.time);
    if (bad.length > 0 || !orderId || tradeId === undefined || !symbol || !side || !size || !price || !fee || !time) return { bad };
    const key = tradeId === null ? orderId : `${orderId}${KEY_SEPARATOR}${tradeId}`;
    if (key.length > MAX_ID_CHARS && charCount(key) > MAX_ID_CHARS) {
      return { bad: [`line ${line}, columns ${names.order_id ?? '""'} and ${names.trade_id ?? '""'}: the key order id:trade id is too long: ${charCount(key)} characters, the ledger holds at most ${MAX_ID_CHARS}`] };
    }
    return { fill: { line, key, orderId, tradeId, symbol, side, size, price, fee, time }, bad };
  }
}

/**
 * Record numbers by a string of the record (its key, its order id) in two typed arrays, open
 * addressing on a 32-bit hash: ~8 bytes a record where a Map of the strings held ~100. The
 * strings are not kept; a slot with the same hash is confirmed by reading its record again.
 */
class RecordsBy {
  private hashes: Int32Array;
  private records: Int32Array;
  private size = 0;

  constructor(
    expected: number,
    private readonly valueOf: (record: number) => string,
  ) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.hashes = new Int32Array(cap);
    this.records = new Int32Array(cap).fill(-1);
  }

  private static hash(v: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v.charCodeAt(i), 0x01000193);
    return h | 0;
  }

  /** The first record added under `v`, or -1. */
  get(v: string): number {
    const h = RecordsBy.hash(v);
    const mask = this.records.length - 1;
    for (let i = h & mask; this.records[i] !== -1; i = (i + 1) & mask) {
      if (this.hashes[i] === h && this.valueOf(this.records[i]!) === v) return this.records[i]!;
    }
    return -1;
  }

  /** Adds `record` under `v` (not yet present). */
  add(v: string, record: number): void {
    if ((this.size + 1) * 2 > this.records.length) this.grow();
    this.put(RecordsBy.hash(v), record);
    this.size++;
  }

  private put(h: number, record: number): void {
    const mask = this.records.length - 1;
    let i = h & mask;
    while (this.records[i] !== -1) i = (i + 1) & mask;
    this.hashes[i] = h;
    this.records[i] = record;
  }

  private grow(): void {
    const { hashes, records } = this;
    this.hashes = new Int32Array(records.length * 2);
    this.records = new Int32Array(records.length * 2).fill(-1);
    for (let i = 0; i < records.length; i++) if (records[i] !== -1) this.put(hashes[i]!, records[i]!);
  }
}

/** A CheckedFills before the first record is checked. */
export function uncheckedFills(src: FillRecords, map: ColumnMap): CheckedFills {
  return { duplicates: 0, errors: [], warnings: map.fee === undefined ? ['no fee column: every fee is 0'] : [], keep: new Uint8Array(src.count), fills: 0 };
}

/**
 * Checks every record; every bad value is an error naming its line and column. Keeps only
 * record numbers per key and order (not the fills): a record seen again is re-read.
 * Yields each fill to import as soon as it is checked, until the first error (the checking
 * goes on, to name every problem); `into` holds the outcome once the generator is done.
 */
export function* checkingFills(src: FillRecords, map: ColumnMap, opts: ReadOptions, into: CheckedFills): Generator<Fill> {
  const { errors, keep } = into;
  const reader = new RecordReader(src, map, opts);
  const byKey = new RecordsBy(src.count, (i) => reader.read(i).fill!.key);
  const byOrder = new RecordsBy(src.count, (i) => reader.read(i).fill!.orderId);

  for (let i = 0; i < src.count; i++) {
    const { fill, bad } = reader.read(i);
    if (!fill) {
      errors.push(...bad);
      continue;
    }
    const seenAt = byKey.get(fill.key);
    if (seenAt >= 0) {
      const seen = reader.read(seenAt).fill!;
      const same = seen.symbol === fill.symbol && seen.side === fill.side && seen.size === fill.size &&
        seen.price === fill.price && seen.fee === fill.fee && seen.time === fill.time;
      if (same) {
        into.duplicates++;
        continue;
      }
      errors.push(fill.tradeId === null
        ? `line ${fill.line}: order ${fill.orderId} is also on line ${seen.line} with other values (one row per order, or map trade_id to import fills)`
        : `line ${fill.line}: trade ${fill.tradeId} of ${map.tradeIdPerProduct ? '' : 'order '}${fill.orderId} is also on line ${seen.line} with other values`);
      continue;
    }
    // the "order" of a per-product trade id is the product's book: both sides, by design
    const otherAt = map.tradeIdPerProduct ? -1 : byOrder.get(fill.orderId);
    const other = otherAt < 0 ? undefined : reader.read(otherAt).fill!;
    if (other && (other.symbol !== fill.symbol || other.side !== fill.side)) {
      errors.push(`line ${fill.line}: order ${fill.orderId} is a ${fill.side} of ${fill.symbol} here but a ${other.side} of ${other.symbol} on line ${other.line}`);
      continue;
    }
    byKey.add(fill.key, i);
    if (!other && !map.tradeIdPerProduct) byOrder.add(fill.orderId, i);
    keep[i] = 1;
    into.fills++;
    if (errors.length === 0) yield fill;
  }
}

/** checkingFills to the end. */
export function checkFills(src: FillRecords, map: ColumnMap, opts: ReadOptions = {}): CheckedFills {
  const into = uncheckedFills(src, map);
  for (const _ of checkingFills(src, map, opts, into));
  return into;
}

/** The kept records of a checkFills pass, read again one at a time. */
export function* keptFills(src: FillRecords, map: ColumnMap, keep: Uint8Array, opts: ReadOptions = {}): Generator<Fill> {
  const reader = new RecordReader(src, map, opts);
  for (let i = 0; i < src.count; i++) if (keep[i]) yield reader.read(i).fill!;
}

export { parseCsv };
