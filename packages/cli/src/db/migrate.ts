/** Applies the numbered SQL migrations in migrations/ with node-pg-migrate. */
import pg from 'pg';
import type { RunnerOption } from 'node-pg-migrate';
import { installProcedures } from '@fifo-ledger/plv8/install';
import { migrationsDir } from '../paths.ts';

export const MIGRATIONS_TABLE = 'fifo_migrations';

export interface MigrateOptions {
  url: string;
  direction: 'up' | 'down';
  /** Migrations to run; default: all pending (up) or all applied (down). */
  count?: number;
  /** Schema to migrate (default: public). Tests give each suite its own. */
  schema?: string;
  /** `migrate down` drops a non-empty trade_records/audit trail only when this is set. */
  dropFacts?: boolean;
  log?: (msg: string) => void;
}

export async function migrate(opts: MigrateOptions): Promise<string[]> {
  const client = new pg.Client({ connectionString: opts.url });
  const notices: string[] = [];
  client.on('notice', (n) => {
    notices.push(n.message ?? '');
    opts.log?.(`NOTICE: ${n.message}`);
  });
  await client.connect();
  try {
    if (opts.dropFacts) await client.query(`SET fifo.allow_drop_facts = on`);
    const schema = opts.schema ?? 'public';
    // node-pg-migrate's own chatter (file lists, SQL dumps on error) is left out: the
    // caller reports errors, and only the per-migration lines are worth showing.
    const say = (m: string) => {
      if (m.startsWith('### MIGRATION')) opts.log?.(m.replace(/^### MIGRATION (\S+) \((\w+)\) ###$/, '$1 ($2)'));
    };
    const options: RunnerOption = {
      dbClient: client,
      dir: migrationsDir,
      direction: opts.direction,
      count: opts.count ?? Infinity,
      migrationsTable: MIGRATIONS_TABLE,
      schema,
      createSchema: schema !== 'public',
      checkOrder: true,
      singleTransaction: true,
      verbose: false,
      logger: { debug: () => {}, info: say, warn: say, error: say },
    };
    const { runner, PG_MIGRATE_LOCK_ID } = await import('node-pg-migrate'); // loaded only by the commands that migrate
    // node-pg-migrate only tries its database-wide lock and fails at once when another
    // migration (of any schema) holds it: wait for it instead, and keep it over the install
    // and grants below (advisory locks nest within a session).
    await client.query('SELECT pg_advisory_lock($1::bigint)', [String(PG_MIGRATE_LOCK_ID)]);
    const ran = await runner(options);
    if (opts.direction === 'up') {
      // Migration 004 installs the PLV8 functions once; later bundles are installed here. Then
      // the pins and grants of 009 cover whatever the migrations and the install created, in
      // the same transaction, so no function is ever visible unpinned or executable by PUBLIC.
      await client.query(`SET search_path TO "${schema.replaceAll('"', '""')}"`);
      await client.query('BEGIN');
      try {
        const r = await installProcedures(client);
        const { rows } = await client.query(`SELECT to_regprocedure('fifo_apply_security()') IS NOT NULL AS ok`);
        if (!r.securityApplied && rows[0]?.ok === true) await client.query('SELECT fifo_apply_security()');
        await client.query('COMMIT');
        if (r.action === 'installed') opts.log?.(`PLV8 procedures installed: ${r.created.join(', ')}`);
        if (r.standIns.created.length > 0) opts.log?.(`PLV8 is not installed: stand-ins for ${r.standIns.created.join(', ')}`);
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    }
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [String(PG_MIGRATE_LOCK_ID)]);
    return ran.map((m) => m.name);
  } finally {
    await client.end();
  }
}
