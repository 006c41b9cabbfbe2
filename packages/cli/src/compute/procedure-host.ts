/**
 * Where the procedures run: inside PostgreSQL (PLV8 functions installed by the migrations)
 * or in the Node PLV8 host over a connection. Either way one transaction per batch.
 */
import pg from 'pg';
import { openSession } from '../db/connect.ts';

export type HostKind = 'plv8' | 'client';

export interface ProcedureSession {
  readonly kind: HostKind;
  /** Runs one procedure in its own transaction; commits on success, rolls back on throw. */
  callInTransaction(name: string, args: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Whether the PLV8 procedures are installed in the database. */
export async function plv8ProceduresInstalled(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query(
    `SELECT 1 FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
      WHERE p.proname = 'fifo_compute' AND l.lanname = 'plv8'
        AND p.pronamespace = ANY (current_schemas(false)::regnamespace[])`);
  return rows.length > 0;
}

/** The in-database host: `SELECT <procedure>($1, ...)` in a transaction. */
export async function openPlv8Session(url: string, sessionSql: readonly string[] = []): Promise<ProcedureSession> {
  const client = await openSession(url, 'fifo-ledger compute');
  for (const sql of sessionSql) await client.query(sql);
  return {
    kind: 'plv8',
    async callInTransaction(name, args) {
      await client.query('BEGIN');
      try {
        const placeholders = args.map((_, i) => `$${i + 1}`).join(', ');
        const { rows } = await client.query(`SELECT ${name}(${placeholders}) AS result`, args);
        await client.query('COMMIT');
        return rows[0]?.result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    close: () => client.end(),
  };
}
