import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { applyFills, type ApplyResult } from '../ledger-io/apply.ts';
import { CsvEncodingError, CsvSyntaxError, decodeCsvBytes, parseCsv, type CsvTable } from '../ledger-io/csv.ts';
import { coinbaseColumns, mappedColumns, readFills, type ColumnMap } from '../ledger-io/fills.ts';
import { ValueError } from '../ledger-io/values.ts';

export const importUsage = `usage: fifo import coinbase FILE.csv [--utc] [--source TAG] [--dry-run] [--json]
       fifo import csv FILE.csv --map order_id=COL,symbol=COL,side=COL,size=COL,price=COL,time=COL[,fee=COL][,trade_id=COL]
                              [--utc] [--source TAG] [--dry-run] [--json]`;

const MAX_LISTED_ERRORS = 50;

/** The file as CSV; an unreadable or malformed file is an input error naming it. */
export function readCsvFile(file: string): CsvTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return parseCsv(decodeCsvBytes(bytes));
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new CliError(`${file} ${e.message}; nothing imported`);
    if (e instanceof CsvEncodingError) throw new CliError(`${file} ${e.message}; nothing imported`);
    throw e;
  }
}

export async function importCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      map: { type: 'string', multiple: true },
      utc: { type: 'boolean' },
      source: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [format, file, ...extra] = positionals;
  if (format !== 'coinbase' && format !== 'csv') {
    throw new CliError(`${format === undefined ? 'missing format' : `unknown format ${JSON.stringify(format)}`}: coinbase or csv\n${importUsage}`);
  }
  if (!file) throw new CliError(`missing FILE\n${importUsage}`);
  if (extra.length > 0) throw new CliError(`unexpected argument ${JSON.stringify(extra[0])}\n${importUsage}`);
  if (format === 'coinbase' && values.map) throw new CliError('--map is for `fifo import csv`; the Coinbase columns are known');
  if (format === 'csv' && !values.map) throw new CliError(`fifo import csv needs --map\n${importUsage}`);
  const source = values.source ?? (format === 'coinbase' ? 'coinbase-import' : 'csv-import');
  if (source.trim() === '' || source.length > 100) throw new CliError(`--source must be a non-blank tag of at most 100 characters`);

  const table = readCsvFile(file);
  let map: ColumnMap;
  try {
    map = format === 'coinbase' ? coinbaseColumns(table.header) : mappedColumns(values.map ?? [], table.header);
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(`${file}: ${e.message}; nothing imported`);
    throw e;
  }
  const parsed = readFills(table, map, { assumeUtc: values.utc ?? false });
  if (parsed.errors.length > 0) {
    const listed = parsed.errors.slice(0, MAX_LISTED_ERRORS).map((e) => `  ${file} ${e}`).join('\n');
    const more = parsed.errors.length > MAX_LISTED_ERRORS ? `\n  ... and ${parsed.errors.length - MAX_LISTED_ERRORS} more` : '';
    throw new CliError(`${file}: ${parsed.errors.length} problem(s); nothing imported\n${listed}${more}`);
  }
  for (const w of parsed.warnings) console.error(`fifo: warning: ${file}: ${w}`);

  const client = await connect(databaseUrl());
  let r: ApplyResult;
  try {
    await client.query('BEGIN');
    try {
      r = await applyFills(client, parsed.fills, source);
      await client.query(values['dry-run'] ? 'ROLLBACK' : 'COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  } finally {
    await client.end();
  }

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
