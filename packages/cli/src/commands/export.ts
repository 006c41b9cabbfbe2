import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { toCsv } from '../format/csv-write.ts';
import { FORM_8949_COLUMNS, taxLots } from '../ledger-io/form8949.ts';
import { allocationVersion } from './args.ts';
import { versionInfo } from './diff.ts';

export const exportUsage = 'usage: fifo export lots --year Y [--version N] [--out FILE] [--tz ZONE] [--allow-stale]';

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CliError(`--out ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
}

export async function exportCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      year: { type: 'string' },
      version: { type: 'string' },
      out: { type: 'string' },
      tz: { type: 'string' },
      'allow-stale': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [what, ...extra] = positionals;
  if (what !== 'lots') throw new CliError(`${what === undefined ? 'missing what to export' : `cannot export ${JSON.stringify(what)}`}: lots\n${exportUsage}`);
  if (extra.length > 0) throw new CliError(`unexpected argument ${JSON.stringify(extra[0])}\n${exportUsage}`);
  if (values.year === undefined) throw new CliError(`--year Y is required (the tax year: sells dated in it)\n${exportUsage}`);
  if (!/^\d{4}$/.test(values.year) || Number(values.year) < 1970) throw new CliError(`--year must be a four-digit year such as 2025, got ${JSON.stringify(values.year)}`);
  const year = Number(values.year);
  const version = allocationVersion(values.version);
  const tz = values.tz ?? 'UTC';
  if (values.out !== undefined && values.out.trim() === '') throw new CliError('--out must name a file');

  const client = await connect(databaseUrl());
  try {
    const { rows: zone } = await client.query('SELECT 1 FROM pg_timezone_names WHERE name = $1', [tz]);
    if (zone.length === 0) throw new CliError(`--tz ${JSON.stringify(tz)}: not a time zone name such as UTC or America/New_York`);
    const v = await versionInfo(client, '--version', version);
    const behind = Number(v.dirty_symbols) + Number(v.stale_symbols);
    if (behind > 0) {
      const msg = `version ${version} is behind the ledger (${v.dirty_symbols} dirty, ${v.stale_symbols} stale symbol(s))`;
      if (!values['allow-stale']) {
        console.error(`fifo: ${msg}: a tax export must reflect every fill; run \`fifo compute --version ${version}\` first (or pass --allow-stale)`);
        return EXIT_CHECKS_FAILED;
      }
      console.error(`fifo: warning: ${msg}; exporting anyway (--allow-stale)`);
    }
    const { rows, totals } = await taxLots(client, version, year, tz);
    const csv = toCsv(rows as unknown as Record<string, unknown>[], FORM_8949_COLUMNS);
    if (values.out !== undefined) writeAtomically(values.out, csv);
    else process.stdout.write(csv);

    // the summary goes where it does not mix with the CSV
    const say = values.out !== undefined ? console.log : console.error;
    say(`${year} (${tz}), version ${version} (${v.method}): ${rows.length} lot row(s)${values.out !== undefined ? ` written to ${values.out}` : ''}`);
    if (totals.length > 0) say(table(totals as unknown as Record<string, unknown>[]));
    const unknown = totals.filter((t) => t.term === 'unknown');
    if (unknown.length > 0) {
      const n = unknown.reduce((k, t) => k + Number(t.rows), 0);
      console.error(`fifo: warning: ${n} row(s) are UNMATCHED sells with an unknown cost basis (proceeds ${unknown.map((t) => `${t.proceeds} ${t.quote}`).join(', ')}); ` +
        'resolve them (fifo review list --type unmatched_sell) before filing');
    }
    const foreign = new Set(rows.filter((r) => r.note.includes('not USD')).map((r) => r.symbol));
    if (foreign.size > 0) console.error(`fifo: warning: ${[...foreign].join(', ')}: amounts are in the quote currency, not USD`);
    return EXIT_OK;
  } finally {
    await client.end();
  }
}
