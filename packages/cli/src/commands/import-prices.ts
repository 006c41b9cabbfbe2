/**
 * `fifo import prices FILE.csv`: market prices into market_prices, idempotently. The file is
 * checked whole first (exit 2 listing every problem, nothing written); then one transaction
 * inserts new (symbol, price_time, source) keys and updates changed prices, reporting each
 * update; importing the same file again changes nothing and says so.
 */
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { readCsvFile } from '../ledger-io/csv-file.ts';
import { readPrices } from '../ledger-io/prices.ts';
import { ValueError } from '../ledger-io/values.ts';
import { symbolsNotInLedger, upsertPrices, type PriceImport } from '../queries/prices.ts';
import { onFlagsSync } from './domain-errors.ts';

const MAX_LISTED_ERRORS = 50;
export const DEFAULT_PRICE_SOURCE = 'csv-import';

export interface PriceImportOptions {
  file: string;
  source: string | undefined;
  utc: boolean;
  dryRun: boolean;
  json: boolean;
}

export async function importPrices(o: PriceImportOptions): Promise<number> {
  const table = onFlagsSync(() => readCsvFile(o.file));
  let parsed: ReturnType<typeof readPrices>;
  try {
    parsed = readPrices(table, { defaultSource: o.source ?? DEFAULT_PRICE_SOURCE, assumeUtc: o.utc });
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(`${o.file}: ${e.message}; nothing imported`);
    throw e;
  }
  if (parsed.errors.length > 0) {
    const listed = parsed.errors.slice(0, MAX_LISTED_ERRORS).map((e) => `  ${o.file} ${e}`).join('\n');
    const more = parsed.errors.length > MAX_LISTED_ERRORS ? `\n  ... and ${parsed.errors.length - MAX_LISTED_ERRORS} more` : '';
    throw new CliError(`${o.file}: ${parsed.errors.length} problem(s); nothing imported\n${listed}${more}`);
  }

  const client = await connect(databaseUrl());
  let r: PriceImport;
  let unknown: string[];
  try {
    await client.query('BEGIN');
    try {
      r = await upsertPrices(client, parsed.prices);
      unknown = await symbolsNotInLedger(client, parsed.prices.map((p) => p.symbol));
      await client.query(o.dryRun ? 'ROLLBACK' : 'COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  } finally {
    await client.end();
  }

  // kept all the same (the fills may come later), but a misspelt symbol would never value anything
  if (unknown.length > 0) {
    console.error(`fifo: warning: ${o.file}: the ledger holds no fill of ${unknown.slice(0, 20).join(', ')}${unknown.length > 20 ? `, ... (${unknown.length})` : ''}; their prices are kept (check the spelling)`);
  }
  if (o.json) {
    console.log(JSON.stringify({ file: o.file, dryRun: o.dryRun, ...r, symbolsNotInLedger: unknown }));
    return EXIT_OK;
  }
  const would = o.dryRun;
  const nothing = r.inserted === 0 && r.updated.length === 0;
  console.log(`${o.file}: ${r.read} price(s): ${r.inserted} ${would ? 'to insert' : 'inserted'}, ` +
    `${r.updated.length} ${would ? 'to update' : 'updated'}, ${r.unchanged} unchanged` +
    (would ? ' (dry run: nothing written)' : nothing ? ' — nothing changed' : ''));
  for (const u of r.updated.slice(0, 20)) {
    console.log(`  ${would ? 'would change' : 'changed'} line ${u.line} ${u.symbol} at ${u.time} (${u.source}): ${u.before} -> ${u.after}`);
  }
  if (r.updated.length > 20) console.log(`  ... and ${r.updated.length - 20} more changes`);
  return EXIT_OK;
}
