/**
 * In-database scheduling with pg_cron, as far as it goes without PLV8: the job is
 * scheduled and listed, and fifo_run says what to do when the procedures are missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

describe('scheduling with pg_cron', () => {
  let t: TestSchema;
  let cron = false;
  beforeAll(async () => {
    t = await createTestSchema();
    const [r] = await t.query<{ preload: string; db: string | null }>(
      `SELECT current_setting('shared_preload_libraries') AS preload, current_setting('cron.database_name', true) AS db`);
    const [d] = await t.query<{ db: string }>('SELECT current_database() AS db');
    cron = r!.preload.includes('pg_cron') && r!.db === d!.db;
    if (cron) await t.query('CREATE EXTENSION IF NOT EXISTS pg_cron');
  });
  afterAll(() => t.drop());

  async function plv8Installed(): Promise<boolean> {
    return (await t.query(`SELECT 1 FROM pg_language WHERE lanname = 'plv8'`)).length > 0;
  }

  it('fifo_run explains what to do when the PLV8 procedures are not installed', async (ctx) => {
    if (await plv8Installed()) ctx.skip('this server has PLV8: fifo_run computes (next test)');
    await expect(t.query(`SELECT fifo_run(1, 'incremental')`)).rejects.toThrow(/needs the PLV8 procedure fifo_compute/);
    await expect(t.query(`SELECT fifo_run(1, 'sideways')`)).rejects.toThrow(/needs the PLV8 procedure|p_mode must be/);
  });

  it('fifo_run computes and logs a run where PLV8 is installed', async (ctx) => {
    if (!(await plv8Installed())) ctx.skip('this server has no PLV8: fifo_run cannot run the procedures in the database');
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
                   ('run-b1', 'RUN-USD', 'buy', 2, 10, '2025-01-01Z'), ('run-s1', 'RUN-USD', 'sell', 3, 12, '2025-01-02Z')`);
    const [r] = await t.query<{ result: { symbolsFailed: number; computationId: number } }>(`SELECT fifo_run(1, 'full') AS result`);
    expect(r!.result.symbolsFailed).toBe(0);
    expect(await t.query(`SELECT status FROM fifo_computation_log WHERE computation_id = $1`, [r!.result.computationId]))
      .toEqual([{ status: 'success' }]);
    expect(await t.query(`SELECT sell_order_id, buy_order_id, allocated_size::text AS size FROM fifo_allocations
                           WHERE symbol = 'RUN-USD' ORDER BY allocation_seq`)).toEqual([
      { sell_order_id: 'run-s1', buy_order_id: 'run-b1', size: '2' },
      { sell_order_id: 'run-s1', buy_order_id: null, size: '1' },
    ]);
  });

  it('schedules fifo_run every minute in the schema, and unschedules it', async (ctx) => {
    if (!cron) ctx.skip();
    const job = `fifo-incremental-${t.schema}`;
    const command = `SET search_path TO ${t.schema}; SELECT fifo_run(1, 'incremental')`;
    await t.query(`SELECT cron.schedule($1, '* * * * *', $2)`, [job, command]);
    expect(await t.query(`SELECT schedule, command, active FROM cron.job WHERE jobname = $1`, [job])).toEqual([
      { schedule: '* * * * *', command, active: true },
    ]);
    await t.query(`SELECT cron.unschedule($1)`, [job]);
    expect(await t.query(`SELECT 1 FROM cron.job WHERE jobname = $1`, [job])).toEqual([]);
  });

  it('lists the ledger symbols by a loose index scan', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   SELECT 'o' || i, (ARRAY['AAA-USD','BBB-USD','CCC-USD'])[1 + i % 3], 'buy', 1, 1, now() FROM generate_series(1, 300) i`);
    expect(await t.query(`SELECT s FROM fifo_ledger_symbols() s`)).toEqual([{ s: 'AAA-USD' }, { s: 'BBB-USD' }, { s: 'CCC-USD' }]);
  });
});
