/**
 * Test database helpers, pg-boss style: every test suite gets its own schema, migrated
 * from scratch, and drops it afterwards. Tests run against a real PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../packages/cli/src/db/migrate.ts';

export function baseUrl(): string {
  return inject('databaseUrl');
}

/** The URL of `base` with every session's search_path set to `schema`. */
export function urlWithSchema(base: string, schema: string): string {
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export interface TestSchema {
  schema: string;
  /** Connection URL whose sessions work inside the schema (give it to the CLI as DATABASE_URL). */
  url: string;
  client: pg.Client;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  migrate(direction: 'up' | 'down', opts?: { count?: number; dropFacts?: boolean }): Promise<string[]>;
  drop(): Promise<void>;
}

/**
 * A fresh schema. `migrated: true` (default) applies every migration; `before` runs SQL in
 * the empty schema first (e.g. a legacy trade_records to adopt).
 */
export async function createTestSchema(opts: { migrated?: boolean; before?: string; prefix?: string } = {}): Promise<TestSchema> {
  const base = baseUrl();
  const schema = `${opts.prefix ?? 't'}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = urlWithSchema(base, schema);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  if (opts.before) await client.query(opts.before);
  // One query at a time on the suite's client, also when a test starts several at once: pg
  // deprecates queueing on a busy client (and prints a warning into the test output).
  let last: Promise<unknown> = Promise.resolve();
  const t: TestSchema = {
    schema,
    url,
    client,
    query: (sql, params) => {
      const run = last.then(() => client.query(sql, params)).then((r) => r.rows);
      last = run.catch(() => {});
      return run;
    },
    migrate: (direction, o = {}) => migrate({ url, direction, schema, count: o.count, dropFacts: o.dropFacts }),
    drop: async () => {
      await client.end().catch(() => {});
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      await a.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await a.end();
    },
  };
  if (opts.migrated ?? true) await t.migrate('up');
  return t;
}
