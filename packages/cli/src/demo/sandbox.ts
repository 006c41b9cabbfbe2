/**
 * The demo's sandbox: the database fifo_demo on the embedded server, or a schema of the
 * DATABASE_URL database, dropped and created again with a comment naming it the demo's. A
 * database or schema of that name without the comment is never dropped (DomainError
 * sandbox_not_ours).
 */
import pg from 'pg';
import { DomainError } from '../domain-error.ts';

export const DEMO = 'fifo_demo';
const MARK = 'fifo demo sandbox: dropped and recreated by `fifo demo`';

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function adminQuery<T extends pg.QueryResultRow>(url: string, fn: (c: pg.Client) => Promise<T[] | void>): Promise<T[] | void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Drops and recreates database fifo_demo on the embedded server; returns its URL. */
export async function recreateDemoDatabase(serverUrl: string): Promise<string> {
  const admin = serverUrl.replace(/\/[^/?]*(\?.*)?$/, '/postgres');
  await adminQuery(admin, async (c) => {
    const { rows } = await c.query<{ note: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`, [DEMO]);
    if (rows[0] && rows[0].note !== MARK) {
      throw new DomainError('sandbox_not_ours', `database ${DEMO} exists and was not created by \`fifo demo\`; the demo will not drop it (rename or drop it yourself)`);
    }
    await c.query(`DROP DATABASE IF EXISTS ${DEMO} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DEMO}`);
    await c.query(`COMMENT ON DATABASE ${DEMO} IS '${MARK.replaceAll("'", "''")}'`);
  });
  return serverUrl.replace(/\/[^/?]*(\?.*)?$/, `/${DEMO}`);
}

/** Drops and recreates the demo schema in the DATABASE_URL database; returns a URL using it. */
export async function recreateDemoSchema(url: string, schema: string): Promise<string> {
  await adminQuery(url, async (c) => {
    const { rows } = await c.query<{ note: string | null }>(
      `SELECT obj_description(oid, 'pg_namespace') AS note FROM pg_namespace WHERE nspname = $1`, [schema]);
    if (rows[0] && rows[0].note !== MARK) {
      throw new DomainError('sandbox_not_ours', 'the schema exists and was not created by `fifo demo`; the demo will not drop it', schema);
    }
    await c.query(`SET client_min_messages = warning`);
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(`COMMENT ON SCHEMA ${schema} IS '${MARK.replaceAll("'", "''")}'`);
  });
  return withSearchPath(url, schema);
}
