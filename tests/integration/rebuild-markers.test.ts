/**
 * Migration 027: a rebuild's swap clears the dirty markers it consumed without waiting for a
 * ledger write that holds some of them. A write locks markers in (symbol COLLATE "C") order
 * (fifo_mark_dirty); the swap used to lock them in its join's order, so a write in an open
 * transaction holding the first marker of that order and then marking one the swap had
 * already locked made a deadlock (one of the two failed), and a long write held the swap,
 * with its partition's exclusive lock, until the swap's lock_timeout failed the rebuild.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocationChecksum } from '../helpers/allocations.ts';
import { runFifo, type CliResult } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { blocksSomeone, until } from '../helpers/wait.ts';

const trade = `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ($1, $2, $3, $4, $5, $6)`;

/** The runner's sessions plan the old DELETE as a hash join probed by the markers in heap order. */
function steered(url: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `${u.searchParams.get('options') ?? ''} -c enable_nestloop=off -c enable_mergejoin=off`);
  return u.toString();
}

describe('the rebuild swap and a ledger write holding dirty markers', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    // one write per symbol, against C order: the markers lie in the heap as CCC, BBB, AAA
    for (const s of ['CCC-USD', 'BBB-USD', 'AAA-USD']) {
      const p = s.slice(0, 1).toLowerCase();
      await t.query(trade, [`${p}1`, s, 'buy', '2', '10', '2026-01-01T00:00Z']);
      await t.query(trade, [`${p}2`, s, 'sell', '1', '12', '2026-01-02T00:00Z']);
    }
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'fifo')`);
  });
  afterAll(() => t.drop());

  it('skips the markers the write holds, never waits for it, and keeps them', async () => {
    const ledger = new pg.Client({ connectionString: t.url });
    await ledger.connect();
    try {
      const [{ pid }] = (await ledger.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      // the write holds AAA-USD's marker (the first in C order) in an open transaction
      await ledger.query('BEGIN');
      await ledger.query(trade, ['a3', 'AAA-USD', 'buy', '1', '11', '2026-01-03T00:00Z']);

      let done: CliResult | undefined;
      const run = runFifo(['compute', '--force', '--json'], { DATABASE_URL: steered(t.url) }).then((r) => (done = r));
      const blockedByLedger = () => blocksSomeone((sql, params) => t.query<{ n: number }>(sql, params), pid);
      await until('the rebuild to end or wait for the ledger write', async () => done !== undefined || await blockedByLedger(), 120_000);
      const waited = done === undefined;

      // the same write then marks CCC-USD: the old swap held it, waiting for AAA-USD (a deadlock)
      let writeError: string | undefined;
      try {
        await ledger.query(trade, ['c3', 'CCC-USD', 'buy', '1', '11', '2026-01-03T00:00Z']);
        await ledger.query('COMMIT');
      } catch (e) {
        writeError = (e as Error).message;
        await ledger.query('ROLLBACK');
      }
      const r = await run;
      expect(writeError).toBeUndefined();
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', symbolsComputed: 3, mode: 'full' });
      expect(waited).toBe(false);
    } finally {
      await ledger.end();
    }

    // the markers of what the rebuild did not read stay; the one it consumed is gone
    expect(await t.query(`SELECT symbol FROM fifo_dirty_symbols WHERE allocation_version = 1 ORDER BY symbol COLLATE "C"`))
      .toEqual([{ symbol: 'AAA-USD' }, { symbol: 'CCC-USD' }]);
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
    expect((await runFifo(['compute', '--version', '2'], { DATABASE_URL: t.url })).code).toBe(0);
    expect(await t.query(`SELECT count(*)::int AS n FROM fifo_dirty_symbols WHERE allocation_version = 1`)).toEqual([{ n: 0 }]);
    expect(await allocationChecksum(t, 1)).toEqual(await allocationChecksum(t, 2));
    expect(await t.query(`SELECT * FROM v_allocation_discrepancies`)).toEqual([]);
  });

  it('keeps a marker whose write then rolled back (its symbol is only computed again)', async () => {
    await t.query(trade, ['b8', 'BBB-USD', 'buy', '1', '11', '2026-01-04T00:00Z']);
    const ledger = new pg.Client({ connectionString: t.url });
    await ledger.connect();
    try {
      await ledger.query('BEGIN');
      await ledger.query(trade, ['b9', 'BBB-USD', 'buy', '1', '11', '2026-01-05T00:00Z']);
      // the old swap waited here for the write, then failed on its lock_timeout
      const r = await runFifo(['compute', '--force', '--json'], { DATABASE_URL: t.url });
      expect(r.code, r.stderr).toBe(0);
      await ledger.query('ROLLBACK');
    } finally {
      await ledger.end();
    }
    expect(await t.query(`SELECT symbol FROM fifo_dirty_symbols WHERE allocation_version = 1`)).toEqual([{ symbol: 'BBB-USD' }]);
    const rows = await allocationChecksum(t, 1);
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
    expect(await t.query(`SELECT count(*)::int AS n FROM fifo_dirty_symbols WHERE allocation_version = 1`)).toEqual([{ n: 0 }]);
    expect(await allocationChecksum(t, 1)).toEqual(rows);
  });
});
