/**
 * Privileges and the in-database entry points (issue 10): what each role is refused, with
 * its SQLSTATE, and the SQL entry points where PLV8 is missing. Every case holds on a server
 * with PLV8 too: the PLV8-missing cases put the stand-in in place inside a rolled-back
 * transaction, as migration 009 does where PLV8 is missing.
 */
import { loadGeneratedProcedures, quoteIdent } from '../../../packages/plv8/src/index.ts';
import { standInDdl } from '../../../packages/plv8/src/install.ts';
import type { Case, CaseContext, Cases, Outcome } from './context.ts';

export function cases({ t }: CaseContext): Cases {
  /** Runs `steps` in a transaction that is rolled back; the outcome of the last statement. */
  const rolledBack = (steps: () => string[]): Case => async (): Promise<Outcome> => {
    const c = t().client;
    await c.query('BEGIN');
    try {
      for (const sql of steps()) await c.query(sql);
      return { exit: '0', message: '' };
    } catch (e) {
      const err = e as Error & { code?: string };
      return { exit: err.code ?? '?', message: err.message };
    } finally {
      await c.query('ROLLBACK');
    }
  };
  const as = (role: string, sql: string) => rolledBack(() => [`SET LOCAL ROLE ${role}`, sql]);
  /** The situation of a database without PLV8: the procedure is a stand-in. */
  const withoutPlv8 = (sql: string) => rolledBack(() => {
    const searchPath = `${quoteIdent(t().schema)}, pg_temp`;
    return loadGeneratedProcedures().flatMap((p) => [
      `DROP FUNCTION IF EXISTS ${quoteIdent(p.name)}(${p.args.map(([, ty]) => ty).join(', ')})`, standInDdl(p, searchPath)]).concat(sql);
  });
  return {
    'sql-fifo-compute-without-plv8': withoutPlv8(`SELECT fifo_compute(1, '{}', 'full', NULL)`),
    // fifo_validate is SQL (migration 014) and works without PLV8: its own bad input instead
    'sql-fifo-validate-unknown-version': as('fifo_reader', `SELECT fifo_validate(999, 100)`),
    'sql-fifo-validate-negative-max-rows': as('fifo_reader', `SELECT fifo_validate(1, -1)`),
    'sql-fifo-run-without-plv8': withoutPlv8(`SELECT fifo_run(1, 'incremental')`),
    'sql-fifo-run-bad-mode': as('fifo_engine', `SELECT fifo_run(1, 'sideways')`),
    'priv-reader-runs-compute': as('fifo_reader', `SELECT fifo_compute(1, '{}', 'full', NULL)`),
    'priv-writer-runs-fifo-run': as('fifo_writer', `SELECT fifo_run(1, 'full')`),
    'priv-writer-marks-dirty': as('fifo_writer', `SELECT fifo_mark_dirty(ARRAY['SOL-USD'], ARRAY[now()], ARRAY[0::bigint])`),
    'priv-engine-applies-grants': as('fifo_engine', `SELECT fifo_apply_security()`),
    'priv-writer-disables-trigger': as('fifo_writer', `ALTER TABLE trade_records DISABLE TRIGGER USER`),
    'priv-writer-replica-mode': as('fifo_writer', `SET LOCAL session_replication_role = replica`),
    'priv-writer-becomes-superuser': as('fifo_writer', `ALTER ROLE fifo_writer SUPERUSER`),
    'priv-writer-forges-audit': as('fifo_writer',
      `INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time) VALUES ('INSERT', 'SOL-USD', 'x', now())`),
    'priv-engine-changes-fact': as('fifo_engine', `UPDATE trade_records SET price = 1`),
    'priv-reader-writes-review': as('fifo_reader', `UPDATE manual_review_queue SET status = 'ignored'`),
    'priv-reader-reads-audit': as('fifo_reader', `SELECT * FROM trade_records_audit`),
  };
}
