import type pg from 'pg';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { applyFills, type ApplyResult } from '../ledger-io/apply.ts';
import { openCsvFile } from '../ledger-io/csv-file.ts';
import { checkFills, checkingFills, HeaderError, uncheckedFills, type CheckedFills, type ColumnMap } from '../ledger-io/fills.ts';
import { IMPORT_FORMATS } from '../ledger-io/formats.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';
import { ValueError } from '../ledger-io/values.ts';
import { onFlagsSync } from './domain-errors.ts';
import { importPrices } from './import-prices.ts';

const MAX_LISTED_ERRORS = 50;

export async function importCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('import', args));
}

export async function run({ action: format, values, args: { file } }: ParsedCommand<'import'>): Promise<number> {
  if (format === 'prices') {
    return importPrices({ file, source: values.source, utc: values.utc ?? false, dryRun: values['dry-run'] ?? false, json: values.json ?? false });
  }
  const spec = IMPORT_FORMATS[format]!;
  const source = values.source ?? spec.defaultSource;

  const table = onFlagsSync(() => openCsvFile(file));
  let map: ColumnMap;
  try {
    map = spec.columns(table.header, values.map ?? []);
  } catch (e) {
    if (e instanceof ValueError) {
      const detail = e instanceof HeaderError ? e.detail(file).map((l) => `\n  ${l}`).join('') : '';
      throw new CliError(`${file}: ${e.message}; nothing imported${detail}`);
    }
    throw e;
  }
  const opts = { assumeUtc: values.utc ?? false };
  const refuse = (parsed: CheckedFills) => {
    const listed = parsed.errors.slice(0, MAX_LISTED_ERRORS).map((e) => `  ${file} ${e}`).join('\n');
    const more = parsed.errors.length > MAX_LISTED_ERRORS ? `\n  ... and ${parsed.errors.length - MAX_LISTED_ERRORS} more` : '';
    return new CliError(`${file}: ${parsed.errors.length} problem(s); nothing imported\n${listed}${more}`);
  };

  // The file's own problems come first, whatever the database answers (or if it cannot be reached).
  const fileFirst = (e: unknown): unknown => {
    if (e instanceof CliError) return e;
    const checked = checkFills(table, map, opts);
    return checked.errors.length > 0 ? refuse(checked) : e;
  };
  let client: pg.Client;
  try {
    client = await connect(databaseUrl());
  } catch (e) {
    throw fileFirst(e);
  }
  // The file is checked while it is written (one pass over it, overlapped with the server's
  // work); a problem anywhere fails the write and the transaction is rolled back.
  let parsed = uncheckedFills(table, map);
  const fills = function* () {
    parsed = uncheckedFills(table, map);
    yield* checkingFills(table, map, opts, parsed);
    if (parsed.errors.length > 0) throw refuse(parsed);
  };
  let r: ApplyResult;
  try {
    await client.query('BEGIN');
    try {
      r = await applyFills(client, fills, source, values.account);
      await client.query(values['dry-run'] ? 'ROLLBACK' : 'COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw fileFirst(e);
    }
  } finally {
    await client.end();
  }
  for (const w of parsed.warnings) console.error(`fifo: warning: ${file}: ${w}`);

  if (values.json) {
    console.log(JSON.stringify({ file, dryRun: values['dry-run'] ?? false, duplicatesInFile: parsed.duplicates, ...r }));
  } else {
    const verb = values['dry-run'] ? 'would be' : '';
    console.log(`${file}: ${r.read} fill(s)${parsed.duplicates ? ` (+${parsed.duplicates} repeated row(s) read once)` : ''}: ` +
      `${r.inserted} ${verb ? 'to insert' : 'inserted'}, ${r.updated.length} ${verb ? 'to update' : 'updated'}, ` +
      `${r.unchanged} unchanged, ${r.skipped.length} skipped${values['dry-run'] ? ' (dry run: nothing written)' : ''}`);
    for (const u of r.updated.slice(0, 20)) console.log(`  corrected line ${u.line} ${u.key}: ${u.before} -> ${u.after}`);
    if (r.updated.length > 20) console.log(`  ... and ${r.updated.length - 20} more corrections`);
    if (r.symbols.length > 0 && !values['dry-run']) {
      console.log(`changed symbol(s): ${r.symbols.join(', ')} — run \`fifo compute\` (or let \`fifo watch\` do it)`);
    }
  }
  for (const s of r.skipped.slice(0, 20)) console.error(`fifo: warning: ${file} line ${s.line}: skipped ${s.key}: ${s.reason}`);
  if (r.skipped.length > 20) console.error(`fifo: warning: ... and ${r.skipped.length - 20} more skipped`);
  return EXIT_OK;
}
