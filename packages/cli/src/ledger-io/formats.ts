/**
 * The import formats: `fifo import <format>` looks its format up here. A new exchange's file is
 * one entry: the layouts its header may have (tried in order), whether it takes --map, its
 * source tag. A header no layout reads is refused naming every layout tried and the
 * `fifo import csv --map` line that would read it.
 */
import { HeaderError, layoutColumns, MAP_REQUIRED, mappedColumns, type ColumnMap, type Field, type HeaderLayout } from './fills.ts';
import { normalizeHeader } from './csv.ts';

export interface ImportFormat {
  /** The name in messages (`the Coinbase columns are known`). */
  label: string;
  /** trade_records.source when --source is not given. */
  defaultSource: string;
  /** Whether the column map comes from the user (--map) or is known. */
  userMap: boolean;
  /** Field → column index for a file's header; throws ValueError naming what is missing. */
  columns(header: readonly string[], mapSpecs: readonly string[]): ColumnMap;
}

/**
 * Coinbase Advanced Trade fills: the API's field names (ListFills; the Exchange API's /fills has
 * the same ones with `product_id`, `created_at`, `fee`) and the report's spaced ones. Key
 * `<order id>:<trade id>`.
 */
export const COINBASE_ADVANCED: HeaderLayout = {
  label: 'Coinbase Advanced Trade fills',
  columns: {
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
  },
};

/**
 * The Coinbase Exchange (formerly Pro) fills report. It has no order id, and its trade ids
 * number the trades of each product's book (the Exchange API pages fills by trade id per
 * product), so the key is `<product>:<trade id>` (`BTC-USD:78098253`). The unit columns must
 * name the product's base (size) and quote (price, fee, total): nothing is converted.
 */
export const COINBASE_EXCHANGE_REPORT: HeaderLayout = {
  label: 'Coinbase Exchange (Pro) fills report',
  tradeIdPerProduct: true,
  columns: {
    trade_id: { aliases: ['trade id'], required: true },
    symbol: { aliases: ['product'], required: true },
    side: { aliases: ['side'], required: true },
    time: { aliases: ['created at'], required: true },
    size: { aliases: ['size'], required: true },
    size_unit: { aliases: ['size unit'], required: true },
    price: { aliases: ['price'], required: true },
    fee: { aliases: ['fee'], required: true },
    quote_unit: { aliases: ['price/fee/total unit'], required: true },
  },
};

/** Column names other exports use for each `--map` field, best guess first (for the suggested --map line). */
const LIKELY_NAMES: Partial<Record<Field, readonly string[]>> = {
  order_id: ['order_id', 'orderid', 'ordertxid', 'order_no', 'order_number', 'order'],
  trade_id: ['trade_id', 'tradeid', 'txid', 'fill_id', 'execution_id', 'exec_id', 'match_id', 'id'],
  symbol: ['product_id', 'product', 'symbol', 'pair', 'market', 'instrument', 'ticker'],
  side: ['side', 'type', 'direction', 'buy/sell'],
  size: ['size', 'amount', 'quantity', 'qty', 'vol', 'volume', 'filled_size', 'executed_qty'],
  price: ['price', 'rate', 'fill_price', 'avg_price', 'execution_price'],
  fee: ['commission', 'fee', 'fees', 'fee_amount'],
  time: ['trade_time', 'time', 'created_at', 'date', 'timestamp', 'datetime', 'date_time', 'executed_at', 'filled_at'],
};

const MAP_FIELDS = ['order_id', 'trade_id', 'symbol', 'side', 'size', 'price', 'fee', 'time'] as const satisfies readonly Field[];

function shellWord(v: string): string {
  return /^[A-Za-z0-9_=,./:+-]+$/.test(v) ? v : `'${v.replaceAll("'", `'\\''`)}'`;
}

/** The `fifo import csv` line that would read this header, guessing each column by its name. */
export function suggestedMap(header: readonly string[], file: string): string[] {
  const norm = header.map(normalizeHeader);
  const used = new Set<number>();
  const found: Partial<Record<Field, string>> = {};
  for (const f of MAP_FIELDS) {
    for (const name of LIKELY_NAMES[f] ?? []) {
      const idx = norm.findIndex((h, i) => h === name && !used.has(i));
      if (idx >= 0) {
        used.add(idx);
        found[f] = header[idx]!;
        break;
      }
    }
  }
  const notes: string[] = [];
  if (found.order_id === undefined && found.trade_id !== undefined) {
    // one fill a row and no order ids: the trade id is the key
    found.order_id = found.trade_id;
    delete found.trade_id;
    notes.push(`no order id column: the trade id ${JSON.stringify(found.order_id)} would be each fill's key`);
  }
  const unknown = MAP_REQUIRED.filter((f) => found[f] === undefined);
  const parts = MAP_FIELDS.filter((f) => found[f] !== undefined || unknown.includes(f)).map((f) => `${f}=${found[f] ?? 'COLUMN'}`);
  if (unknown.length > 0) notes.push(`no column looks like ${unknown.join(', ')}: replace COLUMN with the one that holds it`);
  if (found.fee === undefined) notes.push('no fee column: every fee would be 0');
  return [`to read it with your own column map: fifo import csv ${shellWord(file)} --map ${shellWord(parts.join(','))}`, ...notes.map((n) => `  (${n})`)];
}

/** The first layout that reads the header; otherwise a HeaderError naming each layout tried and what it lacks. */
function knownColumns(formatLabel: string, layouts: readonly HeaderLayout[], header: readonly string[]): ColumnMap {
  const tried: { layout: HeaderLayout; missing: string[] }[] = [];
  for (const layout of layouts) {
    const r = layoutColumns(layout, header);
    if ('map' in r) return r.map;
    tried.push({ layout, missing: r.missing });
  }
  const closest = tried.reduce((a, b) => (b.missing.length < a.missing.length ? b : a));
  return failHeader(formatLabel, closest.missing, tried, header);
}

function failHeader(formatLabel: string, missing: string[], tried: { layout: HeaderLayout; missing: string[] }[], header: readonly string[]): never {
  throw new HeaderError(
    `line 1: not a ${formatLabel} fills header: missing column(s) ${missing.join(', ')} (found: ${header.join(', ')})`,
    (file) => [
      `formats tried:`,
      ...tried.map((t) => `  ${t.layout.label}: missing ${t.missing.join(', ')}`),
      ...suggestedMap(header, file),
    ],
  );
}

const COINBASE_LAYOUTS = [COINBASE_ADVANCED, COINBASE_EXCHANGE_REPORT] as const;

export const IMPORT_FORMATS: Readonly<Record<string, ImportFormat>> = {
  coinbase: { label: 'Coinbase (Advanced Trade or Exchange)', defaultSource: 'coinbase-import', userMap: false, columns: (header) => knownColumns('Coinbase', COINBASE_LAYOUTS, header) },
  csv: { label: 'CSV', defaultSource: 'csv-import', userMap: true, columns: (header, specs) => mappedColumns(specs, header) },
};

export function importFormat(name: string | undefined): ImportFormat | undefined {
  return name !== undefined && Object.hasOwn(IMPORT_FORMATS, name) ? IMPORT_FORMATS[name] : undefined;
}
