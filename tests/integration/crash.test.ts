/**
 * Crash safety: the runner is killed with SIGKILL at random points of a compute, many times,
 * while a reader watches. No reader ever sees a symbol with allocations from two runs or half
 * a run; the dead runs are marked abandoned by the next start; the last run ends equal to a
 * clean recompute.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedger, prng } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const root = resolve(import.meta.dirname, '../..');
const KILLS = Number(process.env.FIFO_CRASH_KILLS ?? 12);

describe('a runner killed with SIGKILL', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    await insertTrades(t.client, generateLedger({ trades: 12_000, symbols: 40, seed: 5, oversellRate: 0.005 }));
  });
  afterAll(() => t.drop());

  /**
   * What a reader must never see: a symbol mixing runs, or a symbol whose sells are only
   * partly allocated (half a run). Light enough to poll while runs are killed.
   */
  async function torn(): Promise<unknown[]> {
    return t.query(`
      SELECT symbol, 'mixed runs' AS problem FROM fifo_allocations WHERE allocation_version = 1
       GROUP BY symbol HAVING count(DISTINCT computation_id) > 1
      UNION ALL
      SELECT s.symbol, 'half a run' FROM (
          SELECT symbol, count(*) AS sells FROM trade_records WHERE side = 'sell' GROUP BY symbol) s
        JOIN (SELECT symbol, count(DISTINCT sell_order_id) AS sells FROM fifo_allocations
               WHERE allocation_version = 1 GROUP BY symbol) a USING (symbol)
       WHERE a.sells <> s.sells`);
  }

  it(`leaves nothing torn after ${KILLS} kills at random points, and the next run is correct`, async () => {
    const rand = prng(99);
    let readerSawTorn: unknown[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const bad = await torn();
        if (bad.length > 0 && readerSawTorn.length === 0) readerSawTorn = bad;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    let killedMidRun = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'packages/cli/src/main.ts'), 'compute', '--force', '--batch-trades', '1500'], {
        cwd: root, env: { ...process.env, DATABASE_URL: t.url }, stdio: 'ignore',
      });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      // wait for the run to start (its log row), then kill it somewhere inside
      const [{ id: before }] = (await t.query<{ id: number }>(`SELECT coalesce(max(computation_id), 0)::int AS id FROM fifo_computation_log`)) as [{ id: number }];
      for (let w = 0; w < 400; w++) {
        const [{ id }] = (await t.query<{ id: number }>(`SELECT coalesce(max(computation_id), 0)::int AS id FROM fifo_computation_log`)) as [{ id: number }];
        if (id > before || child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 1200)));
      const code = child.exitCode;
      child.kill('SIGKILL');
      if (code === null) killedMidRun += 1;
      await exited;
    }
    reading = false;
    await reader;
    expect(readerSawTorn).toEqual([]);
    expect(killedMidRun).toBeGreaterThan(KILLS / 2);

    // the next start marks the dead runs abandoned, then computes correctly
    const last = await runFifo(['compute', '--force'], { DATABASE_URL: t.url });
    expect(last.code).toBe(0);
    const statuses = await t.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM fifo_computation_log GROUP BY status ORDER BY status`);
    expect(statuses.find((s) => s.status === 'running')).toBeUndefined();
    // every killed run that had logged itself is abandoned (one killed after finishing, or
    // before logging, leaves success or nothing): never a run stuck `running`, never `failed`
    expect(statuses.map((s) => s.status).filter((s) => s !== 'success' && s !== 'abandoned')).toEqual([]);
    expect(statuses.find((s) => s.status === 'abandoned')?.n ?? 0).toBeGreaterThanOrEqual(Math.ceil(killedMidRun / 2));
    expect(await torn()).toEqual([]);
    expect(await t.query(`SELECT * FROM v_allocation_discrepancies`)).toEqual([]);

    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'fifo')`);
    expect((await runFifo(['compute', '--version', '2'], { DATABASE_URL: t.url })).code).toBe(0);
    const [a, b] = [await allocationChecksum(t, 1), await allocationChecksum(t, 2)];
    expect(a).toEqual(b);
  });
});
