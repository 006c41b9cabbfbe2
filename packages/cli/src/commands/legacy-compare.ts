import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { toCsv } from '../format/csv-write.ts';
import { roundDecimal } from '../ledger-io/values.ts';
import { allocationVersion, positiveInt } from './args.ts';
import { versionInfo, warnIfStale } from './diff.ts';
import { parseSymbols } from './symbols.ts';

export const legacyCompareUsage =
  'usage: fifo legacy-compare [--version N] [--symbol S ...] [--sort discrepancy|factor] [--limit N] [--all] [--json | --format table|csv]';

const SELL_COLUMNS = [
  'symbol', 'sell_order_id', 'sell_time', 'verdict', 'legacy_pnl_usd', 'new_pnl_usd', 'pnl_difference_usd',
  'discrepancy_usd', 'error_factor', 'sign_flipped', 'legacy_parent_id', 'new_buy_order_ids', 'parent_differs',
  'legacy_cost_basis_usd', 'new_cost_basis_usd', 'legacy_proceeds_usd', 'new_proceeds_usd',
  'sell_size', 'matched_size', 'unmatched_size', 'legacy_pnl_column',
];

export async function legacyCompareCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      version: { type: 'string' },
      symbol: { type: 'string', multiple: true },
      sort: { type: 'string' },
      limit: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      format: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new CliError(`unexpected argument ${JSON.stringify(positionals[0])}\n${legacyCompareUsage}`);
  const format = values.json ? 'json' : (values.format ?? 'table');
  if (values.json && values.format !== undefined && values.format !== 'json') throw new CliError('--json and --format exclude each other');
  if (!['table', 'csv', 'json'].includes(format)) throw new CliError(`--format must be table, csv or json, got ${JSON.stringify(values.format)}`);
  const sort = values.sort ?? 'discrepancy';
  if (sort !== 'discrepancy' && sort !== 'factor') throw new CliError(`--sort must be discrepancy or factor, got ${JSON.stringify(values.sort)}`);
  const version = allocationVersion(values.version);
  const symbols = parseSymbols(values.symbol);
  // the terminal shows the worst rows; csv and json carry every row unless --limit says otherwise
  const limit = values.limit !== undefined ? positiveInt('--limit', values.limit) : format === 'table' ? 25 : null;
  // by default only the sells that differ; --all includes those that agree
  const differing = !values.all;

  const client = await connect(databaseUrl());
  try {
    const { rows: [adoption] } = await client.query<{ adopted: boolean; legacy_sells: string }>(
      `SELECT EXISTS (SELECT 1 FROM fifo_adoption) AS adopted,
              (SELECT count(*) FROM trade_records_legacy_snapshot WHERE lower(side) = 'sell')::text AS legacy_sells`);
    if (!adoption!.adopted) {
      throw new CliError('this database was not adopted from a legacy trade_records (fifo_adoption is empty): there is no legacy PnL to compare');
    }
    if (adoption!.legacy_sells === '0') throw new CliError('the adopted trade_records had no sells: there is no legacy PnL to compare');
    const v = await versionInfo(client, '--version', version);
    warnIfStale(v);

    const where = `allocation_version = $1 AND ($2::text[] IS NULL OR symbol = ANY ($2::text[]))`;
    const order = sort === 'factor'
      ? `coalesce(error_factor, CASE WHEN verdict = 'factor_10x_or_more' THEN 'Infinity'::numeric END) DESC NULLS LAST, discrepancy_usd DESC`
      : `discrepancy_usd DESC, error_factor DESC NULLS FIRST`;
    const { rows: sells } = await client.query(
      `SELECT ${SELL_COLUMNS.join(', ')} FROM v_legacy_comparison
        WHERE ${where} ${differing ? `AND verdict NOT IN ('same', 'rounding')` : ''}
        ORDER BY ${order}, sell_time, sell_order_id COLLATE "C"
        ${limit === null ? '' : `LIMIT ${limit}`}`, [version, symbols]);

    if (format === 'csv') {
      process.stdout.write(toCsv(sells, SELL_COLUMNS));
      return EXIT_OK;
    }
    // counts over every sell; amounts per quote currency (the part of the symbol after the dash)
    const { rows: [counts] } = await client.query(
      `SELECT count(*) AS sells,
              count(*) FILTER (WHERE verdict NOT IN ('same', 'rounding')) AS sells_differing,
              count(*) FILTER (WHERE parent_differs) AS parents_differing,
              (SELECT jsonb_object_agg(verdict, n) FROM (SELECT verdict, count(*) AS n FROM v_legacy_comparison
                                                          WHERE ${where} GROUP BY verdict) c) AS verdicts
         FROM v_legacy_comparison WHERE ${where}`, [version, symbols]);
    const { rows: quotes } = await client.query(
      `SELECT split_part(symbol, '-', 2) AS quote, count(*) AS sells,
              sum(legacy_pnl_usd) AS legacy_pnl_usd, sum(new_pnl_usd) AS new_pnl_usd,
              coalesce(sum(new_pnl_usd), 0) - coalesce(sum(legacy_pnl_usd), 0) AS pnl_difference_usd,
              sum(discrepancy_usd) AS gross_discrepancy_usd
         FROM v_legacy_comparison WHERE ${where}
        GROUP BY 1 ORDER BY split_part(symbol, '-', 2) COLLATE "C"`, [version, symbols]);
    const totals = { ...counts!, quotes };
    const { rows: bySymbol } = await client.query(
      `SELECT symbol, sells, legacy_pnl_usd, new_pnl_usd, pnl_difference_usd, gross_discrepancy_usd, worst_discrepancy_usd,
              sells_differing, sells_off_10x_or_more, sign_flips, parents_differing, unmatched_now, not_computed
         FROM v_legacy_comparison_by_symbol WHERE ${where}
        ORDER BY gross_discrepancy_usd DESC, symbol COLLATE "C"
        ${limit === null ? '' : `LIMIT ${limit}`}`, [version, symbols]);

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
      `${count('different')} otherwise different, ${count('partly_unmatched')} partly unmatched, ${count('unmatched_now')} unmatched now, ` +
      `${count('legacy_missing')} without legacy PnL, ${count('not_computed')} not computed; ${tt.parents_differing} not matched to their legacy parent_id`);
    console.log('\nper symbol (largest gross discrepancy first):');
    console.log(table(bySymbol.map(money)));
    console.log(`\nper sell (${sort === 'factor' ? 'largest error factor' : 'largest discrepancy'} first${limit !== null ? `, at most ${limit}; --limit N, --format csv for all` : ''}):`);
    console.log(table(sells.map((s) => ({ ...money(s), new_buy_order_ids: (s.new_buy_order_ids as string[] | null)?.join(' ') ?? '' })), [
      'symbol', 'sell_order_id', 'sell_time', 'verdict', 'legacy_pnl_usd', 'new_pnl_usd', 'discrepancy_usd', 'error_factor', 'legacy_parent_id', 'new_buy_order_ids']));
    console.log('(amounts in the quote currency of each symbol, totals per quote currency; rounded to cents here; --json and --format csv have them exact)');
    return EXIT_OK;
  } finally {
    await client.end();
  }
}
