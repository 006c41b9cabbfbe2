/**
 * `fifo watch` runs while trades are inserted: the allocations catch up, a dropped
 * connection is survived, and SIGTERM stops it cleanly.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { startWatch, type Watcher } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { sleep, until } from '../helpers/wait.ts';


describe('fifo watch', () => {
  let t: TestSchema;
  let child: ChildProcess;
  let watcher: Watcher;

  beforeAll(async () => {
    t = await createTestSchema();
    watcher = await startWatch(t.url, 100);
    child = watcher.child;
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await t.drop();
  });

  /** Allocations are current: every sell allocated, nothing dirty, nothing stale, no violation. */
  async function caughtUp(): Promise<boolean> {
    const [h] = await t.query<{ dirty: number; stale: number }>(
      `SELECT dirty_symbols::int AS dirty, stale_symbols::int AS stale FROM v_allocation_health WHERE allocation_version = 1`);
    if (h!.dirty !== 0 || h!.stale !== 0) return false;
    const missing = await t.query(
      `SELECT 1 FROM trade_records s WHERE s.side = 'sell' AND NOT EXISTS
         (SELECT 1 FROM fifo_allocations a WHERE a.allocation_version = 1 AND a.sell_order_id = s.order_id) LIMIT 1`);
    return missing.length === 0;
  }

  it('catches up with trades inserted while it runs, bursts and back-dated fills included', async () => {
    const ledger = generateLedger({ trades: 3_000, symbols: 12, seed: 11, oversellRate: 0.01 });
    // ten bursts, in several transactions each, while the watcher works
    for (let i = 0; i < 10; i++) {
      await insertTrades(t.client, ledger.slice(i * 300, i * 300 + 150));
      await insertTrades(t.client, ledger.slice(i * 300 + 150, (i + 1) * 300));
      await sleep(50);
    }
    // a back-dated fill and a correction of an old one
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('late-1', 'SOL-USD', 'buy', 3, 10, '2025-06-01Z')`);
    await t.query(`UPDATE trade_records SET size = size * 0.5 WHERE order_id = (
                     SELECT order_id FROM trade_records WHERE side = 'buy' AND symbol = 'BTC-USD' ORDER BY order_time LIMIT 1)`);
    await until('allocations to catch up', caughtUp);
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'fifo')`);
    const { runFifo } = await import('../helpers/cli.ts');
    expect((await runFifo(['compute', '--version', '2', '--force'], { DATABASE_URL: t.url })).code).toBe(0);
    const diff = await t.query(
      `(SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, pnl_usd FROM fifo_allocations WHERE allocation_version = 1
        EXCEPT SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, pnl_usd FROM fifo_allocations WHERE allocation_version = 2)
       UNION ALL
       (SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, pnl_usd FROM fifo_allocations WHERE allocation_version = 2
        EXCEPT SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, pnl_usd FROM fifo_allocations WHERE allocation_version = 1)`);
    expect(diff).toEqual([]);
    const runs = await t.query<{ mode: string; status: string }>(`SELECT DISTINCT mode, status FROM fifo_computation_log WHERE allocation_version = 1`);
    expect(runs).toEqual([{ mode: 'incremental', status: 'success' }]);
  });

  it('survives a dropped connection', async () => {
    await t.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = 'fifo-ledger watch' AND pid <> pg_backend_pid()
                      AND query LIKE 'LISTEN%'`);
    const before = (watcher.stderr().match(/listening for ledger changes/g) ?? []).length;
    await until('the watcher to listen again', async () => (watcher.stderr().match(/listening for ledger changes/g) ?? []).length > before);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('after-drop', 'SOL-USD', 'sell', 1, 20, '2031-01-01Z')`);
    await until('the new sell to be allocated', async () =>
      (await t.query(`SELECT 1 FROM fifo_allocations WHERE sell_order_id = 'after-drop'`)).length > 0);
  });

  it('stops cleanly on SIGTERM, leaving no run half-written', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(watcher.stderr()).toMatch(/stopped/);
    expect(await t.query(`SELECT computation_id FROM fifo_computation_log WHERE status <> 'success'`)).toEqual([]);
  });
});
