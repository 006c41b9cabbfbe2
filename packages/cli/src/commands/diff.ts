import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';
import { roundDecimal } from '../format/decimal.ts';
import { diffVersions } from '../queries/diff.ts';
import { versionInfo, type VersionInfo } from '../queries/versions.ts';
import { onFlags } from './domain-errors.ts';
import { warnIfStale } from './warnings.ts';

export async function diffCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('diff', args));
}

export async function run({ values }: ParsedCommand<'diff'>): Promise<number> {
  const { from, to, symbol: symbols, limit } = values;
  if (from === to) throw new CliError(`--from and --to are both ${from}: compare two different versions`);

  const client = await connect(databaseUrl());
  try {
    const vf = await onFlags(versionInfo(client, from), { no_such_version: '--from', version_not_computed: '--from' });
    const vt = await onFlags(versionInfo(client, to), { no_such_version: '--to', version_not_computed: '--to' });
    warnIfStale(vf);
    warnIfStale(vt);
    const { bySymbol, quotes, bySell } = await diffVersions(client, { from, to, symbols, limit });
    const totals = {
      sells_differing: quotes.reduce((n, q) => n + Number(q.sells_differing), 0),
      symbols_differing: quotes.reduce((n, q) => n + Number(q.symbols_differing), 0),
      quotes,
    };
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
