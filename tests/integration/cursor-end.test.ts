/**
 * Every trades cursor of fifo_compute ends with an end row. A cursor that ends without it (a
 * fault of the host: a dropped or mis-delivered chunk) fails the call and nothing of it is kept:
 * without the end row, the symbols the cursor did not show were computed as having no trades
 * (their rows removed) and the symbol it cut short from part of its trades, all reported as a
 * success. The fault is made here by wrapping the host's own plv8.prepare from inside its realm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plv8Host } from '../../packages/plv8/src/index.ts';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

/** Every cursor of the host's plans gives half of its first fetch, then nothing. */
const CUT_CURSORS = `
  const prepare = plv8.prepare;
  plv8.prepare = function (...args) {
    const plan = prepare.apply(this, args);
    const cursor = plan.cursor;
    plan.cursor = function (...cargs) {
      const c = cursor.apply(this, cargs);
      const fetch = c.fetch;
      let fetches = 0;
      c.fetch = function (...fargs) {
        if (fetches++ > 0) return undefined;
        const rows = fetch.apply(this, fargs);
        return Array.isArray(rows) ? rows.slice(0, Math.floor(rows.length / 2)) : rows;
      };
      return c;
    };
    return plan;
  };
  return null;`;

describe('a trades cursor that ends early', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    await insertTrades(t.client, generateLedger({ trades: 3_000, symbols: 6, seed: 5, oversellRate: 0.01 }));
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method, pooling) VALUES (2, 'fifo', 'per_account')`);
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
    expect((await runFifo(['compute', '--version', '2'], { DATABASE_URL: t.url })).code).toBe(0);
  }, 120_000);
  afterAll(() => t.drop());

  for (const [version, mode] of [[1, 'full'], [1, 'incremental'], [2, 'full']] as const) {
    it(`fails a ${mode} call of version ${version} naming the cursor, and keeps nothing of it`, async () => {
      const before = await allocationChecksum(t, version);
      if (mode === 'incremental') {
        // new trades after every symbol's watermark: the call reads them from the snapshots on
        await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                       SELECT 'late-' || symbol || '-' || g, symbol, 'buy', 1, 1, '2100-01-01Z'::timestamptz + g * interval '1 s'
                         FROM (SELECT DISTINCT symbol FROM trade_records) s, generate_series(1, 300) g`);
      }
      const host = await Plv8Host.open({ connectionString: t.url });
      try {
        host.run(CUT_CURSORS);
        const symbols = (await t.query<{ symbol: string }>(`SELECT DISTINCT symbol FROM trade_records ORDER BY 1`)).map((r) => r.symbol);
        expect(() => host.call('fifo_compute', [version, symbols, mode, null])).toThrow(/trades cursor ended early/);
        host.rollback();
      } finally {
        await host.close();
      }
      expect(await allocationChecksum(t, version)).toEqual(before);
      await t.query(`DELETE FROM trade_records WHERE order_id LIKE 'late-%'`);
    }, 120_000);
  }
});
