/**
 * Load: 500 trades/s for 60 s (bounded loop, loopback only) while `fifo watch` runs. No trade
 * lost, no duplicate allocation, and the final state equals a full recompute.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { runFifo, startWatch, type Watcher } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { sleep, until } from '../helpers/wait.ts';

const SECONDS = Number(process.env.FIFO_LOAD_SECONDS ?? 60);
const RATE = 500;
const TICK_MS = 100;

describe('ingest under load while watch runs', () => {
  let t: TestSchema;
  let child: ChildProcess;
  let watcher: Watcher;
  beforeAll(async () => {
    t = await createTestSchema();
    watcher = await startWatch(t.url, 200);
    child = watcher.child;
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await t.drop();
  });

  it(`keeps up with ${RATE} trades/s for ${SECONDS} s`, async () => {
    const total = RATE * SECONDS;
    const perTick = (RATE * TICK_MS) / 1000;
    const ledger = generateLedger({ trades: total, symbols: 50, seed: 21, oversellRate: 0.002, spacingSeconds: 5 })
      .sort((a, b) => (a.order_time < b.order_time ? -1 : a.order_time > b.order_time ? 1 : 0));
    const start = Date.now();
    for (let i = 0; i * perTick < total; i++) {
      await insertTrades(t.client, ledger.slice(i * perTick, (i + 1) * perTick));
      const behind = start + (i + 1) * TICK_MS - Date.now();
      if (behind > 0) await sleep(behind);
    }
    const ingestSeconds = (Date.now() - start) / 1000;
    expect(ingestSeconds).toBeLessThan(SECONDS * 1.5); // the loop itself kept the rate (bounded)

    await until('the watcher to catch up', async () => {
      const [h] = await t.query<{ dirty: number }>(`SELECT dirty_symbols::int AS dirty FROM v_allocation_health WHERE allocation_version = 1`);
      return h!.dirty === 0;
    }, 60_000);
    // no trade lost: every sell allocated in full; no duplicate: each (sell, lot) once
    expect(await t.query(`SELECT check_name, count(*)::int FROM v_allocation_discrepancies GROUP BY 1`)).toEqual([]);
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records`)).toEqual([{ n: total }]);
    expect(await t.query(`SELECT sell_order_id, buy_order_id FROM fifo_allocations WHERE allocation_version = 1
                           GROUP BY 1, 2 HAVING count(*) > 1`)).toEqual([]);
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'fifo')`);
    expect((await runFifo(['compute', '--version', '2'], { DATABASE_URL: t.url })).code).toBe(0);
    expect(await t.query(`
      SELECT count(*)::int AS n FROM (
        (SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_fee_usd, sell_fee_usd, pnl_usd FROM fifo_allocations WHERE allocation_version = 1
         EXCEPT ALL SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_fee_usd, sell_fee_usd, pnl_usd FROM fifo_allocations WHERE allocation_version = 2)
        UNION ALL
        (SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_fee_usd, sell_fee_usd, pnl_usd FROM fifo_allocations WHERE allocation_version = 2
         EXCEPT ALL SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_fee_usd, sell_fee_usd, pnl_usd FROM fifo_allocations WHERE allocation_version = 1)) d`))
      .toEqual([{ n: 0 }]);
    const runs = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM fifo_computation_log WHERE allocation_version = 1 AND status = 'success'`);
    expect(runs[0]!.n).toBeGreaterThan(SECONDS / 2); // it kept computing while trades arrived
  }, (SECONDS + 180) * 1000);
});
