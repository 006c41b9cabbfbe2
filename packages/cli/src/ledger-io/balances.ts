/**
 * Exchange balances (e.g. from the accounts endpoint) for `fifo reconcile`: one row per asset
 * (SOL) or per symbol (SOL-USD), its total balance, and the moment it was read.
 */
import { normalizeHeader, type CsvTable } from './csv.ts';
import { parseAsset, parseDecimal, parseSymbol, parseTimestamp, ValueError } from './values.ts';

export interface Balance {
  line: number;
  /** The base asset (SOL). */
  asset: string;
  /** Set when the row names one symbol; otherwise every symbol whose base is the asset. */
  symbol: string | null;
  balance: string;
  /** ISO text with offset. */
  asOf: string;
}

const ASSET = ['asset', 'currency', 'coin'];
const SYMBOL = ['symbol', 'product_id', 'product'];
const BALANCE = ['balance', 'total', 'total_balance', 'amount'];
const AS_OF = ['as_of', 'asof', 'time', 'timestamp', 'updated_at'];

export function readBalances(t: CsvTable, opts: { asOf: string | null; assumeUtc?: boolean }): { balances: Balance[]; errors: string[] } {
  const norm = t.header.map(normalizeHeader);
  const find = (names: string[]) => norm.findIndex((h) => names.includes(h));
  const iAsset = find(ASSET);
  const iSymbol = find(SYMBOL);
  const iBalance = find(BALANCE);
  const iAsOf = find(AS_OF);
  const missing: string[] = [];
  if (iAsset < 0 && iSymbol < 0) missing.push(`asset (or ${[...ASSET.slice(1), ...SYMBOL].join(', ')})`);
  if (iBalance < 0) missing.push(`balance (or ${BALANCE.slice(1).join(', ')})`);
  if (iAsOf < 0 && opts.asOf === null) missing.push(`as_of (or ${AS_OF.slice(1).join(', ')}, or pass --as-of T)`);
  if (missing.length > 0) throw new ValueError(`line 1: missing column(s) ${missing.join('; ')} (found: ${t.header.join(', ')})`);
  if (iAsOf >= 0 && opts.asOf !== null) throw new ValueError(`--as-of: the file has its own ${JSON.stringify(t.header[iAsOf])} column`);

  const errors: string[] = [];
  const balances: Balance[] = [];
  const seen = new Map<string, number>();
  for (const r of t.records) {
    const bad: string[] = [];
    const take = <T>(i: number, what: string, parse: (raw: string) => T): T | undefined => {
      try {
        return parse(r.cells[i]!);
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        bad.push(`line ${r.line}, column ${JSON.stringify(t.header[i])}: ${what} ${e.message}`);
        return undefined;
      }
    };
    const symbolCell = iSymbol >= 0 ? r.cells[iSymbol]!.trim() : '';
    const symbol = symbolCell !== '' ? take(iSymbol, 'symbol', parseSymbol) : null;
    const asset = symbol ? symbol.split('-')[0]! : iAsset >= 0 ? take(iAsset, 'asset', parseAsset) : undefined;
    if (symbol === null && iAsset < 0) bad.push(`line ${r.line}: no symbol`);
    const balance = take(iBalance, 'balance', (raw) => parseDecimal(raw, { allowZero: true }));
    const asOf = iAsOf >= 0 ? take(iAsOf, 'as-of time', (raw) => parseTimestamp(raw, { assumeUtc: opts.assumeUtc })) : opts.asOf!;
    if (bad.length > 0 || !asset || symbol === undefined || balance === undefined || asOf === undefined) {
      errors.push(...bad);
      continue;
    }
    const key = `${symbol ?? asset}@${asOf}`;
    const dup = seen.get(key);
    if (dup !== undefined) {
      errors.push(`line ${r.line}: ${symbol ?? asset} at ${asOf} is also on line ${dup}`);
      continue;
    }
    seen.set(key, r.line);
    balances.push({ line: r.line, asset, symbol, balance, asOf });
  }
  return { balances, errors };
}
