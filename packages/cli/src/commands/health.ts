import { parseArgs } from 'node:util';
import type pg from 'pg';
import { connect } from '../db/connect.ts';
import { record } from '../format.ts';
import { allocationVersion } from './args.ts';

export async function readHealth(client: pg.Client, version: number): Promise<Record<string, unknown> | undefined> {
  const { rows } = await client.query('SELECT * FROM v_allocation_health WHERE allocation_version = $1', [version]);
  return rows[0];
}

export async function healthCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { version: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const version = allocationVersion(values.version);
  const client = await connect();
  try {
    const row = await readHealth(client, version);
    if (!row) {
      console.error(`allocation version ${version} does not exist (see fifo_allocation_versions)`);
      return 2;
    }
    console.log(values.json ? JSON.stringify(row) : record(row));
    return 0;
  } finally {
    await client.end();
  }
}
