import pg from 'pg';
import { CliError } from '../errors.ts';
import { databaseUrl } from './cluster.ts';

/** Numerics and int8 stay strings (pg's default): exact, never a binary float. */
export async function connect(url: string = databaseUrl()): Promise<pg.Client> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`DATABASE_URL is not a valid URL: ${JSON.stringify(url)}`);
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new CliError(`DATABASE_URL must start with postgres:// or postgresql://, got ${JSON.stringify(parsed.protocol)}`);
  }
  const client = new pg.Client({ connectionString: url, application_name: 'fifo-ledger' });
  try {
    await client.connect();
  } catch (e) {
    const where = `${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname}`;
    const hint = process.env.DATABASE_URL ? '' : ' (start the embedded database with `pnpm fifo db start`)';
    throw new CliError(`cannot connect to ${where}: ${(e as Error).message}${hint}`);
  }
  return client;
}
