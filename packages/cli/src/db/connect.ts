import pg from 'pg';
import { CliError } from '../errors.ts';
import { databaseUrl } from './cluster.ts';

/**
 * What every session of the CLI runs first. TimeZone UTC: a `timestamp without time zone`
 * column of an adopted ledger and offset-less literals then mean UTC, as everywhere else,
 * whatever the server's or the login's default zone.
 */
export const SESSION_SQL: readonly string[] = [`SET TimeZone = 'UTC'`];

/** A new client of `url`, connected, with SESSION_SQL applied. */
export async function openSession(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  try {
    for (const sql of SESSION_SQL) await client.query(sql);
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
  return client;
}

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
  try {
    return await openSession(url, 'fifo-ledger');
  } catch (e) {
    const where = `${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname}`;
    const hint = process.env.DATABASE_URL ? '' : ' (start the embedded database with `pnpm fifo db start`)';
    throw new CliError(`cannot connect to ${where}: ${(e as Error).message}${hint}`);
  }
}
