import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { toCsv } from '../format/csv-write.ts';
import { FORM_8949_COLUMNS, taxLots } from '../ledger-io/form8949.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';
import { isTimeZoneName } from '../queries/time-zones.ts';
import { behindText, symbolsBehind, versionInfo } from '../queries/versions.ts';
import { writeAtomically } from '../format/write-atomically.ts';
import { onFlags, onFlagsSync } from './domain-errors.ts';

export async function exportCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('export', args));
}

export async function run({ values }: ParsedCommand<'export'>): Promise<number> {
  const { year, version, tz } = values;

  const client = await connect(databaseUrl());
  try {
    if (!(await isTimeZoneName(client, tz))) throw new CliError(`--tz ${JSON.stringify(tz)}: not a time zone name such as UTC or America/New_York`);
    const v = await onFlags(versionInfo(client, version), { no_such_version: '--version', version_not_computed: '--version' });
    if (symbolsBehind(v) > 0) {
      const msg = behindText(v);
      if (!values['allow-stale']) {
        console.error(`fifo: ${msg}: a tax export must reflect every fill; run \`fifo compute --version ${version}\` first (or pass --allow-stale)`);
        return EXIT_CHECKS_FAILED;
      }
      console.error(`fifo: warning: ${msg}; exporting anyway (--allow-stale)`);
    }
    const { rows, totals } = await taxLots(client, version, year, tz, values.account ?? null);
    const csv = toCsv(rows as unknown as Record<string, unknown>[], FORM_8949_COLUMNS);
    if (values.out !== undefined) onFlagsSync(() => writeAtomically(values.out!, csv), { write_failed: '--out' });
    else process.stdout.write(csv);

    // the summary goes where it does not mix with the CSV
    const say = values.out !== undefined ? console.log : console.error;
    const of = values.account === undefined ? '' : ` of account ${values.account}`;
    say(`${year} (${tz}), version ${version} (${v.method}): ${rows.length} lot row(s)${of}${values.out !== undefined ? ` written to ${values.out}` : ''}`);
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
