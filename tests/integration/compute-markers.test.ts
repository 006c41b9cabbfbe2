/**
 * A computation (not a rebuild) clears the dirty markers it consumed at its end without waiting
 * for a ledger write that holds one: that marker stands for a change the call cannot have read,
 * so it stays, and the next computation takes the change. (It used to wait for the write: a
 * long ledger transaction held every computation of its symbols, and `fifo watch` with them.)
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocationChecksum } from '../helpers/allocations.ts';
import { runFifo, type CliResult } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { blocksSomeone, until } from '../helpers/wait.ts';

const trade = `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ($1, $2, $3, $4, $5, $6)`;

describe('a computation and a ledger write holding a dirty marker', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    for (const s of ['AAA-USD', 'BBB-USD']) {
      const p = s.slice(0, 1).toLowerCase();
      await t.query(trade, [`${p}1`, s, 'buy', '2', '10', '2026-01-01T00:00Z']);
      await t.query(trade, [`${p}2`, s, 'sell', '1', '12', '2026-01-02T00:00Z']);
    }
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'fifo')`);
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
  });
  afterAll(() => t.drop());

  for (const mode of [[], ['--incremental']]) {
    it(`compute ${mode.join(' ')} skips the marker the write holds, never waits for it, and keeps it`, async () => {
      // a committed change of each symbol: both dirty
      await t.query(trade, [`a-${mode.length}-1`, 'AAA-USD', 'buy', '1', '11', '2026-01-03T00:00Z']);
      await t.query(trade, [`b-${mode.length}-1`, 'BBB-USD', 'buy', '1', '11', '2026-01-03T00:00Z']);
      const ledger = new pg.Client({ connectionString: t.url });
      await ledger.connect();
      try {
        const [{ pid }] = (await ledger.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
        // a write of AAA-USD in an open transaction holds its marker
        await ledger.query('BEGIN');
        await ledger.query(trade, [`a-${mode.length}-2`, 'AAA-USD', 'sell', '1', '13', '2026-01-04T00:00Z']);
        let done: CliResult | undefined;
        const run = runFifo(['compute', ...mode, '--json'], { DATABASE_URL: t.url }).then((r) => (done = r));
        const blockedByLedger = () => blocksSomeone((sql, params) => t.query<{ n: number }>(sql, params), pid);
        await until('the computation to end or wait for the ledger write', async () => done !== undefined || await blockedByLedger(), 120_000);
        const waited = done === undefined;
        await ledger.query('COMMIT');
        const r = await run;
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', symbolsComputed: 2 });
        expect(waited).toBe(false);
      } finally {
        await ledger.end();
      }
      // BBB-USD's marker was consumed; AAA-USD's stays for the change the call did not read
      expect(await t.query(`SELECT symbol FROM fifo_dirty_symbols WHERE allocation_version = 1`)).toEqual([{ symbol: 'AAA-USD' }]);
      expect((await runFifo(['compute', ...mode], { DATABASE_URL: t.url })).code).toBe(0);
      expect(await t.query(`SELECT count(*)::int AS n FROM fifo_dirty_symbols WHERE allocation_version = 1`)).toEqual([{ n: 0 }]);
      expect((await runFifo(['compute', '--version', '2', '--force'], { DATABASE_URL: t.url })).code).toBe(0);
      expect(await allocationChecksum(t, 1)).toEqual(await allocationChecksum(t, 2));
    }, 120_000);
  }
});
