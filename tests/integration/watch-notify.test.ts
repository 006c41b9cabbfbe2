/**
 * Anyone who can log in may `NOTIFY fifo_ledger`: `watch` treats a payload as a hint only.
 * Junk (text, huge payloads, symbols with nothing dirty, 10,000 made-up names) writes no run
 * and leaves the watcher up; a failed run is logged with its symbol and reason.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatch, type Watcher } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { until } from '../helpers/wait.ts';


describe('fifo watch and untrusted notifications', () => {
  let t: TestSchema;
  let child: ChildProcess;
  let watcher: Watcher;
  let lastRunBefore = 0;

  beforeAll(async () => {
    t = await createTestSchema();
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('old-1', 'OLD-USD', 'buy', 1, 10, '2025-01-01Z')`);
    // OLD-USD computed before the watcher starts: nothing is dirty when it does
    const { runFifo } = await import('../helpers/cli.ts');
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
    lastRunBefore = Number((await t.query<{ id: string }>(`SELECT max(computation_id)::text AS id FROM fifo_computation_log`))[0]!.id);
    watcher = await startWatch(t.url, 50);
    child = watcher.child;
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await t.drop();
  });

  const runs = () => t.query<{ symbols: string[] | null; symbols_computed: number; status: string }>(
    `SELECT symbols, symbols_computed, status FROM fifo_computation_log WHERE computation_id > $1 ORDER BY computation_id`, [lastRunBefore]);

  it('writes no run for junk notifications and stays up', async () => {
    await t.query(`NOTIFY fifo_ledger`);
    await t.query(`NOTIFY fifo_ledger, 'hello; DROP TABLE trade_records; --'`);
    await t.query(`SELECT pg_notify('fifo_ledger', repeat('A', 7999))`);
    await t.query(`SELECT pg_notify('fifo_ledger', 'OLD-USD')`); // a real symbol, nothing dirty
    await t.query(`SELECT pg_notify('fifo_ledger', 'NOPE-USD')`);
    await t.query(`SELECT pg_notify('fifo_ledger', 'X' || i || '-USD') FROM generate_series(1, 10000) i`);
    // a real change after the junk: once it is allocated, the junk before it has been seen
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
                     ('r1', 'REAL-USD', 'buy', 2, 10, '2025-02-01Z'), ('r2', 'REAL-USD', 'sell', 1, 12, '2025-02-02Z')`);
    await until('the real sell to be allocated', async () =>
      (await t.query(`SELECT 1 FROM fifo_allocations WHERE sell_order_id = 'r2'`)).length > 0);
    expect(child.exitCode).toBe(null);
    const r = await runs();
    expect(r.length).toBeGreaterThanOrEqual(1);
    for (const run of r) {
      expect(run.status).toBe('success');
      expect(run.symbols_computed).toBeGreaterThan(0); // no empty run
      expect(run.symbols ?? ['REAL-USD']).toEqual(['REAL-USD']);
    }
    expect(watcher.stderr()).not.toMatch(/0 symbol\(s\)/);
    expect(watcher.stderr()).not.toMatch(/NOPE-USD|X1-USD|hello/);
  });

  it('logs a failed run with the symbol and the reason', async () => {
    const before = (await runs()).length;
    await t.query(`ALTER TABLE trade_records DROP CONSTRAINT trade_records_side_must_be_buy_or_sell;
                   UPDATE trade_records SET side = 'hold' WHERE order_id = 'r2';
                   ALTER TABLE trade_records ADD CONSTRAINT trade_records_side_must_be_buy_or_sell CHECK (side IN ('buy', 'sell')) NOT VALID`);
    await until('the failure to be logged', async () => /REAL-USD failed: .*r2/.test(watcher.stderr()));
    expect(watcher.stderr()).toMatch(/run \d+: failed, /);
    expect(watcher.stderr()).toMatch(/run \d+: REAL-USD failed: .*side/);
    expect((await runs()).length).toBe(before + 1);
    expect(child.exitCode).toBe(null);
  });
});
