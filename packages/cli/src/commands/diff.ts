import { parseArgs } from 'node:util';
import type pg from 'pg';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { positiveInt } from './args.ts';
import { parseSymbols } from './symbols.ts';
import { roundDecimal } from '../ledger-io/values.ts';

export const diffUsage = 'usage: fifo diff --from V1 --to V2 [--symbol S ...] [--limit N] [--json]';

interface VersionInfo {
  allocation_version: number;
  method: string;
  description: string | null;
  allocations: string;
  dirty_symbols: string;
  stale_symbols: string;
}

/** The version, its method and whether its allocations are current; exit 2 when it does not exist or was never computed. */
export async function versionInfo(client: pg.Client, flag: string, version: number): Promise<VersionInfo> {
  const { rows } = await client.query<VersionInfo>(
    `SELECT v.allocation_version, v.method, v.description, h.allocations_total::text AS allocations,
            h.dirty_symbols::text AS dirty_symbols, h.stale_symbols::text AS stale_symbols
       FROM fifo_allocation_versions v JOIN v_allocation_health h USING (allocation_version)
      WHERE v.allocation_version = $1`, [version]);
  const v = rows[0];
  if (!v) throw new CliError(`${flag} ${version}: no such allocation version (see fifo_allocation_versions)`);
  if (v.allocations === '0') {
    const { rows: snap } = await client.query('SELECT 1 FROM fifo_inventory_snapshot WHERE allocation_version = $1 LIMIT 1', [version]);
    if (snap.length === 0) throw new CliError(`${flag} ${version}: version ${version} has not been computed (fifo compute --version ${version})`);
  }
  return v;
}

export function warnIfStale(v: VersionInfo): void {
  const n = Number(v.dirty_symbols) + Number(v.stale_symbols);
  if (n > 0) {
    console.error(`fifo: warning: version ${v.allocation_version} is behind the ledger (${v.dirty_symbols} dirty, ${v.stale_symbols} stale symbol(s)); fifo compute --version ${v.allocation_version} brings it up to date`);
  }
}

export async function diffCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      symbol: { type: 'string', multiple: true },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new CliError(`unexpected argument ${JSON.stringify(positionals[0])}\n${diffUsage}`);
  if (values.from === undefined || values.to === undefined) throw new CliError(`--from and --to are required\n${diffUsage}`);
  const from = positiveInt('--from', values.from);
  const to = positiveInt('--to', values.to);
  if (from === to) throw new CliError(`--from and --to are both ${from}: compare two different versions`);
  const symbols = parseSymbols(values.symbol);
  const limit = values.limit === undefined ? 50 : positiveInt('--limit', values.limit);

  const client = await connect(databaseUrl());
  try {
    const vf = await versionInfo(client, '--from', from);
    const vt = await versionInfo(client, '--to', to);
    warnIfStale(vf);
    warnIfStale(vt);
    const { rows: bySymbol } = await client.query(
      `SELECT * FROM fifo_diff_by_symbol($1, $2)
        WHERE $3::text[] IS NULL OR symbol = ANY ($3::text[])
        ORDER BY abs(pnl_difference_usd) DESC, abs(cost_basis_difference_usd) DESC, sells_differing DESC, symbol COLLATE "C"`,
      [from, to, symbols]);
    // per quote currency (the part of the symbol after the dash): USD is never added to BTC
    const { rows: quotes } = await client.query(
      `SELECT split_part(symbol, '-', 2) AS quote,
              sum(from_pnl_usd) AS from_pnl_usd, sum(to_pnl_usd) AS to_pnl_usd,
              coalesce(sum(to_pnl_usd), 0) - coalesce(sum(from_pnl_usd), 0) AS pnl_difference_usd,
              sum(from_cost_basis_usd) AS from_cost_basis_usd, sum(to_cost_basis_usd) AS to_cost_basis_usd,
              coalesce(sum(sells_differing), 0) AS sells_differing,
              count(*) FILTER (WHERE sells_differing > 0 OR pnl_difference_usd <> 0) AS symbols_differing
         FROM fifo_diff_by_symbol($1, $2) WHERE $3::text[] IS NULL OR symbol = ANY ($3::text[])
        GROUP BY 1 ORDER BY split_part(symbol, '-', 2) COLLATE "C"`,
      [from, to, symbols]);
    const totals = {
      sells_differing: quotes.reduce((n, q) => n + Number(q.sells_differing), 0),
      symbols_differing: quotes.reduce((n, q) => n + Number(q.symbols_differing), 0),
      quotes,
    };
    const { rows: bySell } = await client.query(
      `SELECT * FROM fifo_diff_by_sell($1, $2)
        WHERE $3::text[] IS NULL OR symbol = ANY ($3::text[])
        ORDER BY abs(pnl_difference_usd) DESC, abs(cost_basis_difference_usd) DESC, sell_time, sell_order_id COLLATE "C"
        LIMIT $4`,
      [from, to, symbols, limit]);
    const head = (v: VersionInfo) => ({ version: v.allocation_version, method: v.method, description: v.description });
    if (values.json) {
      console.log(JSON.stringify({ from: head(vf), to: head(vt), totals, symbols: bySymbol, sells: bySell }));
      return EXIT_OK;
    }
    const t = totals;
    console.log(`version ${from} (${vf.method}) -> version ${to} (${vt.method})${symbols ? ` for ${symbols.join(', ')}` : ''}`);
    const c = (x: unknown) => roundDecimal((x as string | null) ?? '0');
    for (const q of quotes) {
      console.log(`  in ${q.quote}:`);
      console.log(`    realized PnL  ${c(q.from_pnl_usd)} -> ${c(q.to_pnl_usd)} (difference ${c(q.pnl_difference_usd)})`);
      console.log(`    cost basis    ${c(q.from_cost_basis_usd)} -> ${c(q.to_cost_basis_usd)}`);
    }
    console.log(`  ${t.sells_differing} sell(s) differ in ${t.symbols_differing} symbol(s)`);
    if (t.sells_differing === 0 && t.symbols_differing === 0) return EXIT_OK;
    console.log('\nper symbol (largest PnL difference first):');
    const money = (r: Record<string, unknown>, keys: string[]) =>
      ({ ...r, ...Object.fromEntries(keys.map((k) => [k, roundDecimal(r[k] as string | null)])) });
    const symbolMoney = ['from_pnl_usd', 'to_pnl_usd', 'pnl_difference_usd', 'cost_basis_difference_usd'];
    console.log(table(bySymbol.filter((r) => Number(r.sells_differing) > 0 || r.pnl_difference_usd !== '0').map((r) => money(r, symbolMoney)), [
      'symbol', 'from_pnl_usd', 'to_pnl_usd', 'pnl_difference_usd', 'cost_basis_difference_usd', 'from_unmatched_size', 'to_unmatched_size', 'sells_differing']));
    console.log(`\nper sell (largest PnL difference first${Number(t.sells_differing) > bySell.length ? `, first ${bySell.length} of ${t.sells_differing}; --limit N` : ''}):`);
    // lots as "buy size" when few, else their count (--json has them all)
    const lots = (l: unknown) => {
      const a = (l as string[] | null) ?? [];
      return a.length <= 2 ? a.join('; ') : `${a.length} lots`;
    };
    console.log(table(bySell.map((r) => ({ ...money(r, symbolMoney), from_lots: lots(r.from_lots), to_lots: lots(r.to_lots) })),
      ['symbol', 'sell_order_id', 'sell_time', 'from_pnl_usd', 'to_pnl_usd', 'pnl_difference_usd', 'cost_basis_difference_usd', 'from_lots', 'to_lots']));
    console.log('(amounts in the quote currency of each symbol; rounded to cents here; --json has them exact)');
    return EXIT_OK;
  } finally {
    await client.end();
  }
}
