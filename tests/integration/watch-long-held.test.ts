/**
 * `fifo watch` judges long_held_lot items on a timer (at start, then every
 * --long-held-every-ms), not in each incremental run: its runs skip the refresh, which reads a
 * symbol's whole history, and a lot becomes long held by time passing, with no trade to wake a run.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatch } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { until } from '../helpers/wait.ts';

describe('fifo watch and long_held_lot', () => {
  let t: TestSchema;
  let child: ChildProcess;
  let log: () => string;
  const item = async () => (await t.query<{ status: string; computation_id: string | null; resolution_note: string | null }>(
    `SELECT status, computation_id::text, resolution_note FROM manual_review_queue
      WHERE issue_type = 'long_held_lot' AND symbol = 'SOL-USD' AND item_key = 'b2'`))[0];

  beforeAll(async () => {
    t = await createTestSchema();
    // matched pieces of 12 h (median 12 h; threshold max(10 × 12 h, 7 days) = 7 days); b2 open since 2025-01-05
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('b1', 'SOL-USD', 'buy',  1, 10, 0, '2025-01-01 00:00Z'),
      ('s1', 'SOL-USD', 'sell', 1, 11, 0, '2025-01-01 12:00Z'),
      ('b2', 'SOL-USD', 'buy',  1, 10, 0, '2025-01-05 00:00Z')`);
    const w = await startWatch(t.url, 50, ['--long-held-every-ms', '300']);
    child = w.child;
    log = w.stderr;
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await t.drop();
  });

  it('raises an item from its timed pass, not from the runs (no run id on it)', async () => {
    await until('the long_held_lot item', async () => (await item())?.status === 'pending');
    expect((await item())!.computation_id).toBeNull();
    expect(log()).toMatch(/long_held_lot: 1 raised/);
  });

  it('resolves it at a later pass once a sell closed the lot', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
                   VALUES ('s2', 'SOL-USD', 'sell', 1, 12, 0, '2025-01-06 00:00Z')`);
    await until('the item resolved', async () => (await item())?.status === 'resolved');
    expect((await item())!.resolution_note).toMatch(/closed/);
    child.kill('SIGTERM');
    await until('the watcher to stop', async () => child.exitCode !== null);
    expect(child.exitCode).toBe(0);
  });
});
