/**
 * `--concurrency K` with the Node host: each session's host runs in a worker thread of its
 * own, so K procedure calls really run at the same time (in the main thread they would take
 * turns, the host's calls being synchronous), and the rows are those of one connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openClientSession, type ClientSession } from '../../packages/cli/src/compute/client-session.ts';
import type { CallInterval } from '../../packages/cli/src/compute/host-thread.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

/** Pairs of calls, one of each session, whose time intervals intersect. */
function overlapping(a: readonly CallInterval[], b: readonly CallInterval[]): number {
  let n = 0;
  for (const x of a) for (const y of b) if (x.startedAt < y.finishedAt && y.startedAt < x.finishedAt) n++;
  return n;
}

describe('--concurrency with the Node host', () => {
  let t: TestSchema;
  let one: { rows: number; md5: string };
  beforeAll(async () => {
    t = await createTestSchema();
    await insertTrades(t.client, generateLedger({ trades: 20_000, symbols: 40, seed: 11, oversellRate: 0.01 }));
    const s = await openClientSession(t.url);
    try {
      const r = await runCompute(t.client, s, { version: 1, symbols: null, force: true, batchTrades: 1_000 });
      expect(r.status).toBe('success');
      expect(s.placement).toBe('thread'); // a full recompute: in a thread with PLV8's heap limit
    } finally {
      await s.close();
    }
    one = await allocationChecksum(t);
    expect(one.rows).toBeGreaterThan(5_000);
    // the only session of the process, incremental (watch, cron): the main thread, no thread to start
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   SELECT 'late-' || symbol, symbol, 'buy', 1, 1, '2100-01-01Z' FROM (SELECT DISTINCT symbol FROM trade_records LIMIT 1) s`);
    const inc = await openClientSession(t.url);
    try {
      expect((await runCompute(t.client, inc, { version: 1, symbols: null, force: false, incremental: true })).status).toBe('success');
      expect(inc.placement).toBe('main');
    } finally {
      await inc.close();
    }
    await t.query(`DELETE FROM trade_records WHERE order_id LIKE 'late-%'`);
    const again = await openClientSession(t.url);
    try {
      expect((await runCompute(t.client, again, { version: 1, symbols: null, force: true, batchTrades: 1_000 })).status).toBe('success');
    } finally {
      await again.close();
    }
    expect(await allocationChecksum(t)).toEqual(one);
  }, 120_000);
  afterAll(() => t.drop());

  async function computeWith(sessions: ClientSession[]) {
    try {
      // warm-up: every host started, so the measured run is the calls alone
      await runCompute(t.client, sessions, { version: 1, symbols: null, force: true, batchTrades: 1_000 });
      const before = sessions.map((s) => s.calls.length);
      const r = await runCompute(t.client, sessions, { version: 1, symbols: null, force: true, batchTrades: 1_000 });
      return { r, calls: sessions.map((s, i) => s.calls.slice(before[i])) };
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  }

  it('two sessions run their hosts in threads, at the same time, and write the rows of one connection', async () => {
    const sessions = [await openClientSession(t.url), await openClientSession(t.url)];
    const { r, calls } = await computeWith(sessions);
    expect(r.status).toBe('success');
    expect(r.symbolsComputed).toBe(40);
    expect(sessions.map((s) => s.placement)).toEqual(['thread', 'thread']);
    expect(calls[0]!.length).toBeGreaterThan(0);
    expect(calls[1]!.length).toBeGreaterThan(0);
    expect(calls[0]!.length + calls[1]!.length).toBe(20); // 20 batches of ~1,000 trades
    expect(overlapping(calls[0]!, calls[1]!)).toBeGreaterThan(0);
    expect(await allocationChecksum(t)).toEqual(one);
  }, 120_000);

  it('in the main thread the same two sessions take turns (what the threads fix)', async () => {
    const sessions = [await openClientSession(t.url, { placement: 'main' }), await openClientSession(t.url, { placement: 'main' })];
    const { r, calls } = await computeWith(sessions);
    expect(r.status).toBe('success');
    expect(calls[0]!.length + calls[1]!.length).toBe(20);
    expect(overlapping(calls[0]!, calls[1]!)).toBe(0);
    expect(await allocationChecksum(t)).toEqual(one);
  }, 120_000);

  it('a failing call in a thread comes back as the procedure error and the session stays usable', async () => {
    const sessions = [await openClientSession(t.url), await openClientSession(t.url)];
    try {
      await expect(sessions[0]!.callInTransaction('fifo_no_such_procedure', [])).rejects.toMatchObject({
        message: expect.stringMatching(/fifo_no_such_procedure is not in the PLV8 bundle/), sqlerrcode: '42883',
      });
      const r = await runCompute(t.client, sessions, { version: 1, symbols: null, force: true, batchTrades: 1_000 });
      expect(r.status).toBe('success');
      expect(sessions[0]!.placement).toBe('thread');
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
    expect(await allocationChecksum(t)).toEqual(one);
  }, 120_000);
});
