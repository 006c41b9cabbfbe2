/**
 * Exchange balances (e.g. from the accounts endpoint) for `fifo reconcile`: one row per asset
 * (SOL) or per symbol (SOL-USD), its total balance, and the moment it was read; optionally per
 * account (an `account` column, or `--account NAME` for the whole file).
 */
import { normalizeHeader, type CsvTable } from './csv.ts';
import { parseAsset, parseDecimal, parseId, parseSymbol, parseTimestamp, ValueError } from './values.ts';

export interface Balance {
  line: number;
  /** The base asset (SOL). */
  asset: string;
  /** Set when the row names one symbol; otherwise every symbol whose base is the asset. */
  symbol: string | null;
  balance: string;
  /** ISO text with offset. */
  asOf: string;
  /** The account the balance is of (issue 14); null: the symbol's lots whatever their account. */
  account: string | null;
}

const ASSET = ['asset', 'currency', 'coin'];
const SYMBOL = ['symbol', 'product_id', 'product'];
const BALANCE = ['balance', 'total', 'total_balance', 'amount'];
const AS_OF = ['as_of', 'asof', 'time', 'timestamp', 'updated_at'];
const ACCOUNT = ['account', 'wallet', 'portfolio'];

function parseAccount(raw: string): string {
  const v = parseId(raw);
  if (v !== raw) throw new ValueError('has a space at either end');
  return v;
}

export function readBalances(t: CsvTable, opts: { asOf: string | null; assumeUtc?: boolean; account?: string | null }): { balances: Balance[]; errors: string[] } {
  const norm = t.header.map(normalizeHeader);
  const find = (names: string[]) => norm.findIndex((h) => names.includes(h));
  const iAsset = find(ASSET);
  const iSymbol = find(SYMBOL);
  const iBalance = find(BALANCE);
  const iAsOf = find(AS_OF);
  const iAccount = find(ACCOUNT);
  const missing: string[] = [];
  if (iAsset < 0 && iSymbol < 0) missing.push(`asset (or ${[...ASSET.slice(1), ...SYMBOL].join(', ')})`);
  if (iBalance < 0) missing.push(`balance (or ${BALANCE.slice(1).join(', ')})`);
  if (iAsOf < 0 && opts.asOf === null) missing.push(`as_of (or ${AS_OF.slice(1).join(', ')}, or pass --as-of T)`);
  if (missing.length > 0) throw new ValueError(`line 1: missing column(s) ${missing.join('; ')} (found: ${t.header.join(', ')})`);
  if (iAsOf >= 0 && opts.asOf !== null) throw new ValueError(`--as-of: the file has its own ${JSON.stringify(t.header[iAsOf])} column`);
  const fileAccount = opts.account ?? null;
  if (iAccount >= 0 && fileAccount !== null) throw new ValueError(`--account: the file has its own ${JSON.stringify(t.header[iAccount])} column`);

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
    const account = iAccount >= 0 ? take(iAccount, 'account', parseAccount) : fileAccount;
    if (bad.length > 0 || !asset || symbol === undefined || balance === undefined || asOf === undefined || account === undefined) {
      errors.push(...bad);
      continue;
    }
    const key = `${symbol ?? asset}@${asOf}${account === null ? '' : ` in ${account}`}`;
    const dup = seen.get(key);
    if (dup !== undefined) {
      errors.push(`line ${r.line}: ${symbol ?? asset} at ${asOf} is also on line ${dup}`);
      continue;
    }
    seen.set(key, r.line);
    balances.push({ line: r.line, asset, symbol, balance, asOf, account });
  }
  return { balances, errors };
}
