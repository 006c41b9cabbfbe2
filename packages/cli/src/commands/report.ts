import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { isTimeZoneName } from '../queries/time-zones.ts';
import { outputPath, writeAtomically } from '../format/write-atomically.ts';
import { buildReport, type ReportData } from '../report/query.ts';
import { renderReport } from '../report/render.ts';
import { onFlags, onFlagsSync } from './domain-errors.ts';
import { parseCommand } from '../cli/parse.ts';
import { REPORT_FORMATS, type ParsedCommand } from '../cli/spec.ts';

export const FORMATS = REPORT_FORMATS;
export type ReportFormat = (typeof FORMATS)[number];

export async function reportCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('report', args));
}

export async function run({ values }: ParsedCommand<'report'>): Promise<number> {
  const { version, by, format, tz, account, 'unmatched-limit': unmatchedLimit } = values;
  const from = values.from ?? null;
  const to = values.to ?? null;
  if (from && to && to.time < from.time) {
    throw new CliError(`--to ${to.raw} is before --from ${from.raw}`);
  }
  const mailTo = values['mail-to']?.flat() ?? [];
  if (format === 'eml' && mailTo.length === 0) {
    throw new CliError('--format eml needs --mail-to ADDR (the recipient; --to is the end of the range)');
  }
  if (format !== 'eml') {
    const stray = (['mail-to', 'mail-from', 'subject'] as const).find((f) => values[f] !== undefined);
    if (stray) throw new CliError(`--${stray} applies to --format eml only`);
  }
  const outFile = values.out ?? (format === 'html' ? `out/report-v${version}.html` : null);
  const out = outFile === null ? null : onFlagsSync(() => outputPath(outFile), { out_is_directory: '--out' });

  const client = await connect();
  let data: ReportData;
  try {
    if (!(await isTimeZoneName(client, tz))) throw new CliError(`--tz ${JSON.stringify(tz)}: not a time zone name such as UTC or America/New_York`);
    data = await onFlags(buildReport(client, { version, from, to, by, tz, account: account ?? null, unmatchedLimit, withSeries: format === 'html' || format === 'eml' }),
      { no_such_version: '--version' });
  } finally {
    await client.end();
  }
  if (data.dirty_symbols > 0) {
    console.error(`note: ${data.dirty_symbols} symbol(s) changed since the last computation; run \`fifo compute\` — figures may lag the ledger`);
  }
  const text = renderReport(data, format, format === 'eml' ? { to: mailTo, from: values['mail-from'], subject: values.subject } : undefined);
  if (out) {
    onFlagsSync(() => writeAtomically(out, text, { makeDirs: true }), { write_failed: '--out' });
    console.log(out);
  } else {
    process.stdout.write(text);
  }
  return EXIT_OK;
}
