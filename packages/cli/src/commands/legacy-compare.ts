import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { toCsv } from '../format/csv-write.ts';
import { roundDecimal } from '../format/decimal.ts';
import { adoptionState, LEGACY_SELL_COLUMNS, legacySells, legacySummary, type LegacyFilter } from '../queries/legacy.ts';
import { versionInfo } from '../queries/versions.ts';
import { onFlags } from './domain-errors.ts';
import { warnIfStale } from './warnings.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

export async function legacyCompareCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('legacy-compare', args));
}

export async function run({ values }: ParsedCommand<'legacy-compare'>): Promise<number> {
  if (values.json && values.format !== undefined && values.format !== 'json') throw new CliError('--json and --format exclude each other');
  const format = values.json ? 'json' : (values.format ?? 'table');
  const { sort, version, symbol: symbols } = values;
  // the terminal shows the worst rows; csv and json carry every row unless --limit says otherwise
  const limit = values.limit ?? (format === 'table' ? 25 : null);
  // by default only the sells that differ; --all includes those that agree
  const differing = !values.all;

  const client = await connect(databaseUrl());
  try {
    const adoption = await adoptionState(client);
    if (!adoption.adopted) {
      throw new CliError('this database was not adopted from a legacy trade_records (fifo_adoption is empty): there is no legacy PnL to compare');
    }
    if (adoption.legacy_sells === '0') throw new CliError('the adopted trade_records had no sells: there is no legacy PnL to compare');
    const v = await onFlags(versionInfo(client, version), { no_such_version: '--version', version_not_computed: '--version' });
    warnIfStale(v);

    const filter: LegacyFilter = { version, symbols, sort, differing, limit };
    const sells = await legacySells(client, filter);

    if (format === 'csv') {
      process.stdout.write(toCsv(sells, LEGACY_SELL_COLUMNS));
      return EXIT_OK;
    }
    const { counts, quotes, bySymbol } = await legacySummary(client, filter);
    const totals = { ...counts, quotes };

    if (format === 'json') {
      console.log(JSON.stringify({ version: v.allocation_version, method: v.method, totals, symbols: bySymbol, sells }));
      return EXIT_OK;
    }
    const tt = totals;
    const verdicts = (tt.verdicts ?? {}) as Record<string, string>;
    const count = (k: string) => Number(verdicts[k] ?? 0);
    console.log(`legacy stored PnL vs version ${version} (${v.method}) over ${tt.sells} adopted sell(s)`);
    const c = (x: unknown) => roundDecimal(x as string | null);
    const money = (r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).map(([k, x]) => [k, k.endsWith('_usd') ? c(x) : x]));
    for (const q of quotes) {
      console.log(`  in ${q.quote}: legacy PnL ${c(q.legacy_pnl_usd) ?? 'none'}, new PnL ${c(q.new_pnl_usd ?? '0')} (difference ${c(q.pnl_difference_usd)}); gross discrepancy ${c(q.gross_discrepancy_usd)}`);
    }
    console.log(`  ${tt.sells_differing} sell(s) differ: ${count('factor_10x_or_more')} off by 10x or more, ${count('sign_flip')} sign flip(s), ` +
      `${count('different')} otherwise different, ${count('partly_unmatched')} partly unmatched, ` +
      `${count('unmatched_now')} unmatched now (the bot matched a buy the ledger does not have or has used up), ` +
      `${count('unmatched_both')} unmatched by both (the bot never matched it either), ` +
      `${count('legacy_missing')} without legacy PnL, ${count('not_computed')} not computed; ${tt.parents_differing} not matched to their legacy parent_id`);
    console.log('\nper symbol (largest gross discrepancy first):');
    console.log(table(bySymbol.map(money)));
    const first = { discrepancy: 'largest discrepancy', factor: 'largest error factor', age: 'largest age gap between the legacy parent and the new match' }[sort];
    console.log(`\nper sell (${first} first${limit !== null ? `, at most ${limit}; --limit N, --format csv for all` : ''}):`);
    console.log(table(sells.map((s) => ({ ...money(s), new_buy_order_ids: (s.new_buy_order_ids as string[] | null)?.join(' ') ?? '' })), [
      'symbol', 'sell_order_id', 'sell_time', 'verdict', 'legacy_pnl_usd', 'new_pnl_usd', 'discrepancy_usd', 'error_factor',
      'legacy_parent_id', 'legacy_parent_time', 'legacy_parent_age_days', 'new_buy_order_ids', 'new_buy_time', 'new_buy_age_days', 'age_gap_days', 'what_happened']));
    console.log('(ages in days at the sell; new_buy_time: the oldest lot the new allocation uses; age_gap_days = legacy age - new age)');
    console.log('(amounts in the quote currency of each symbol, totals per quote currency; rounded to cents here; --json and --format csv have them exact)');
    return EXIT_OK;
  } finally {
    await client.end();
  }
}
