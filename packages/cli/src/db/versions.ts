import type pg from 'pg';
import { CliError } from '../errors.ts';

/** Exit 2 naming the flag when the allocation version does not exist. */
export async function requireVersion(client: pg.Client, version: number, flag = '--version'): Promise<void> {
  const { rows } = await client.query('SELECT 1 FROM fifo_allocation_versions WHERE allocation_version = $1', [version]);
  if (rows.length === 0) throw new CliError(`${flag} ${version}: no such allocation version (see fifo_allocation_versions)`);
}
