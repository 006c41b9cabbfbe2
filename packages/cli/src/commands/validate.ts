import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { versionMethod } from '../queries/versions.ts';
import { onFlags } from './domain-errors.ts';
import { EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

interface ValidateSummary {
  ok: boolean;
  count: number;
  byCheck: Record<string, number>;
  discrepancies: Record<string, unknown>[];
}

export async function validateCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('validate', args));
}

export async function run({ values }: ParsedCommand<'validate'>): Promise<number> {
  const { version, limit } = values;
  const url = databaseUrl();
  const client = await connect(url);
  try {
    await onFlags(versionMethod(client, version), { no_such_version: '--version' });
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
