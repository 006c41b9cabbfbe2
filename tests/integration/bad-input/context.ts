/**
 * What a bad-input case can use: the CLI, a SQL statement on the suite's schema, a scratch
 * file. Each file in this folder exports `cases(ctx)`; bad-input.test.ts merges them and
 * checks them against the table in docs/BAD-INPUT.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFifo } from '../../helpers/cli.ts';
import type { TestSchema } from '../../helpers/db.ts';

export interface Outcome { exit: string; message: string }
export type Case = () => Promise<Outcome>;
export type Cases = Record<string, Case>;

export interface CaseContext {
  /** The suite's schema (migrated, holding one buy `keep-1` of SOL-USD). */
  t(): TestSchema;
  /** A scratch directory for files. */
  dir(): string;
  cli(args: string[], env?: Record<string, string>): Case;
  sql(statement: string): Case;
  file(name: string, text: string | Buffer): string;
  /** INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES … */
  insert(values: string): Case;
}

export function caseContext(t: () => TestSchema, dir: () => string): CaseContext {
  const sql = (statement: string): Case => async () => {
    try {
      await t().query(statement);
      return { exit: '0', message: '' };
    } catch (e) {
      const err = e as Error & { code?: string };
      return { exit: err.code ?? '?', message: err.message };
    }
  };
  return {
    t,
    dir,
    cli: (args, env = {}) => async () => {
      const r = await runFifo(args, { DATABASE_URL: t().url, ...env });
      return { exit: String(r.code), message: r.stderr };
    },
    sql,
    file: (name, text) => {
      const p = join(dir(), name);
      writeFileSync(p, text);
      return p;
    },
    insert: (values) =>
      sql(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES ${values}`),
  };
}
