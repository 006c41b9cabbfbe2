/**
 * `fifo versions list|add`: the allocation versions (docs/CONTRACT.md §3.1). A version is a
 * method (fifo, lifo, hifo) and a pooling of lots (universal: one pool per symbol; per_account:
 * one per account, transfers moving lots between them); computing it is `fifo compute --version N`.
 */
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import type { ParsedCommand } from '../cli/spec.ts';
import { addVersion, listVersions } from '../queries/versions.ts';
import { onFlags } from './domain-errors.ts';

export async function run(parsed: ParsedCommand<'versions'>): Promise<number> {
  const client = await connect(databaseUrl());
  try {
    if (parsed.action === 'add') {
      const v = parsed.values;
      const n = await onFlags(addVersion(client, {
        number: v.number ?? null, method: v.method, pooling: v.pooling, description: v.description ?? null,
      }), { version_exists: '--number' });
      if (v.json) console.log(JSON.stringify({ allocation_version: n, method: v.method, pooling: v.pooling }));
      else console.log(`version ${n} (${v.method}, ${v.pooling}) added: compute it with \`fifo compute --version ${n}\``);
      return EXIT_OK;
    }
    const rows = await listVersions(client);
    if (parsed.values.json) console.log(JSON.stringify(rows));
    else console.log(table(rows as unknown as Record<string, unknown>[]));
    return EXIT_OK;
  } finally {
    await client.end();
  }
}
