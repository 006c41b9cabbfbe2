import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { renderHtml } from '../report/html.ts';
import { buildReport, GROUP_BY, type GroupBy, type ReportData, type TimeBound } from '../report/query.ts';
import { renderCsv, renderJson, renderText } from '../report/text.ts';
import { allocationVersion, parseTimeFlag, positiveInt } from './args.ts';

export const reportUsage =
  'usage: fifo report [--version N] [--from D] [--to D] [--by symbol|day|source|trigger] [--format table|csv|json|html] [--out FILE] [--unmatched-limit N]';

export const FORMATS = ['table', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof FORMATS)[number];

function timeBound(name: string, raw: string | undefined): TimeBound | null {
  if (raw === undefined) return null;
  return parseTimeFlag(name, raw);
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new CliError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}\n${reportUsage}`);
  }
  return raw as T;
}

export function renderReport(data: ReportData, format: ReportFormat): string {
  switch (format) {
    case 'table': return `${renderText(data)}\n`;
    case 'csv': return renderCsv(data);
    case 'json': return renderJson(data);
    case 'html': return renderHtml(data);
  }
}

/** Where a report goes; refuses a directory before anything is read or written. */
export function checkOutPath(raw: string): string {
  const path = resolve(raw);
  try {
    if (statSync(path).isDirectory()) throw new CliError(`--out ${JSON.stringify(raw)} is a directory; give a file name`);
  } catch (e) {
    if (e instanceof CliError) throw e;
  }
  return path;
}

/** Whole file or nothing: written beside the target, then renamed over it. */
export function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export async function reportCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      version: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      by: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      'unmatched-limit': { type: 'string' },
    },
    strict: true,
  });
  const version = allocationVersion(values.version);
  const from = timeBound('--from', values.from);
  const to = timeBound('--to', values.to);
  if (from && to && to.time < from.time) {
    throw new CliError(`--to ${values.to} is before --from ${values.from}`);
  }
  const by = oneOf<GroupBy>('--by', values.by, GROUP_BY, 'symbol');
  const format = oneOf<ReportFormat>('--format', values.format, FORMATS, 'table');
  const unmatchedLimit = values['unmatched-limit'] === undefined ? 20 : positiveInt('--unmatched-limit', values['unmatched-limit']);
  if (values.out === '') throw new CliError('--out must name a file');
  const out = values.out !== undefined ? checkOutPath(values.out)
    : format === 'html' ? checkOutPath(`out/report-v${version}.html`) : null;

  const client = await connect();
  let data: ReportData;
  try {
    data = await buildReport(client, { version, from, to, by, unmatchedLimit, withSeries: format === 'html' });
  } finally {
    await client.end();
  }
  if (data.dirty_symbols > 0) {
    console.error(`note: ${data.dirty_symbols} symbol(s) changed since the last computation; run \`fifo compute\` — figures may lag the ledger`);
  }
  const text = renderReport(data, format);
  if (out) {
    writeAtomically(out, text);
    console.log(out);
  } else {
    process.stdout.write(text);
  }
  return EXIT_OK;
}
