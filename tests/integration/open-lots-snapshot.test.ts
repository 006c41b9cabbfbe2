/**
 * Migration 023: the open lots of a symbol whose last computation is current are read from its
 * inventory snapshot, not summed over its history; both ways give the same rows, to the last
 * decimal (universal and per_account versions, with oversells and transfers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { testHost } from '../helpers/host.ts';

describe('open lots from snapshots', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema({ prefix: 'lots' });
    const env = { DATABASE_URL: t.url };
    expect((await runFifo(['sample-ledger', '--trades', '4000', '--symbols', '5', '--oversell-rate', '0.05'], env)).code).toBe(0);
    // a second account and transfers, computed by a per_account version too
    await t.query(`UPDATE trade_records SET account = 'b' WHERE order_id IN (SELECT order_id FROM trade_records ORDER BY order_id LIMIT 700)`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
                   SELECT 'tr-' || symbol, symbol, 'default', 'b', 0.5, min(order_time) + interval '3 days' FROM trade_records GROUP BY symbol`);
    expect((await runFifo(['versions', 'add', '--number', '2', '--method', 'fifo', '--pooling', 'per_account'], env)).code).toBe(0);
    for (const v of ['1', '2']) {
      const r = await runFifo(['compute', '--version', v, '--host', testHost()], env);
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(() => t.drop());

  const lots = (fn: string, v: number) =>
    t.query(`SELECT * FROM ${fn}($1, now(), NULL) ORDER BY 1, 2`, [v]);

  it.each([1, 2])('gives the rows history gives, version %i', async (v) => {
    const current = await t.query<{ n: number }>(
      `SELECT cardinality(fifo_snapshot_current_at($1, now(), ARRAY(SELECT DISTINCT symbol FROM trade_records)))::int AS n`, [v]);
    expect(current[0]!.n).toBe(5); // every symbol is read from its snapshot
    const fromSnapshots = { lots: await lots('fifo_open_lots_at', v), sizes: await lots('fifo_open_lot_sizes_at', v) };
    expect(fromSnapshots.lots.length).toBeGreaterThan(5);
    // a dirty marker sends every symbol back to history
    await t.query('BEGIN');
    try {
      await t.query(`INSERT INTO fifo_dirty_symbols (allocation_version, symbol, dirty_from, last_audit_id)
                     SELECT $1, symbol, now(), 0 FROM (SELECT DISTINCT symbol FROM trade_records) s
                     ON CONFLICT DO NOTHING`, [v]);
      const fromHistory = { lots: await lots('fifo_open_lots_at', v), sizes: await lots('fifo_open_lot_sizes_at', v) };
      expect(fromHistory).toEqual(fromSnapshots);
    } finally {
      await t.query('ROLLBACK');
    }
  });
});
