import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import type { HostChoice } from '../compute/sessions.ts';
import { requireVersion } from '../db/versions.ts';
import { CliError, EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { allocationVersion, positiveInt } from './args.ts';

interface ValidateSummary {
  ok: boolean;
  count: number;
  byCheck: Record<string, number>;
  discrepancies: Record<string, unknown>[];
}

export async function validateCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { version: { type: 'string' }, host: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const version = allocationVersion(values.version);
  const host = (values.host ?? 'auto') as HostChoice;
  if (!['auto', 'plv8', 'client'].includes(host)) throw new CliError(`--host must be auto, plv8 or client, got ${JSON.stringify(values.host)}`);
  const limit = values.limit === undefined ? 100 : positiveInt('--limit', values.limit);
  const url = databaseUrl();
  const client = await connect(url);
  try {
    await requireVersion(client, version);
    // fifo_validate is SQL (migration 014): no engine, so no procedure host, in either host
    const { rows } = await client.query<{ r: ValidateSummary }>('SELECT fifo_validate($1, $2) AS r', [version, limit]);
    const r = rows[0]?.r as ValidateSummary;
    if (values.json) {
      console.log(JSON.stringify(r));
    } else if (r.ok) {
      console.log(`version ${version}: every invariant holds`);
    } else {
      console.log(`version ${version}: ${r.count} invariant violation(s)`);
      console.log(table(Object.entries(r.byCheck).map(([check, n]) => ({ check, violations: n }))));
      console.log();
      console.log(table(r.discrepancies, ['check_name', 'symbol', 'order_id', 'expected', 'actual', 'details']));
      if (r.count > r.discrepancies.length) console.log(`(first ${r.discrepancies.length} of ${r.count}; --limit N for more)`);
    }
    return r.ok ? EXIT_OK : EXIT_CHECKS_FAILED;
  } finally {
    await client.end();
  }
}
