/**
 * Migration 026: the long_held_lot refresh keeps each symbol's median holding time in
 * fifo_long_held_stats (valid while the symbol's snapshot row is the same), skips symbols with no
 * lot past their minimum, and reads open lot times from the snapshots. It must raise, update and
 * resolve exactly what the definition it replaced (017, 022, 023) does: that definition, saved by
 * the migration for its down, runs here under another name beside it, from the same states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { testHost } from '../helpers/host.ts';

interface Outcome { result: Record<string, number>; items: Array<Record<string, unknown>> }

describe('long_held_lot refresh with kept statistics (026)', () => {
  let t: TestSchema;
  const compute = async (args: string[] = []) => {
    const r = await runFifo(['compute', '--host', testHost(), ...args], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(0);
  };
  /** What `fn` does from the current state, rolled back; `cold`: without kept statistics. */
  const outcome = async (fn: string, at: string, symbols: string[] | null, cold = false): Promise<Outcome> => {
    await t.query('BEGIN');
    try {
      if (cold) await t.query('DELETE FROM fifo_long_held_stats');
      const [r] = await t.query<{ r: Record<string, number> }>(`SELECT ${fn}(1, $1, $2, 77) AS r`, [symbols, at]);
      const items = await t.query(
        `SELECT symbol, item_key, order_id, status, severity, details, computation_id::text, resolved_by, resolution_note
           FROM manual_review_queue WHERE issue_type = 'long_held_lot' ORDER BY symbol, item_key`);
      return { result: r!.r, items };
    } finally {
      await t.query('ROLLBACK');
    }
  };
  /** The new refresh against the replaced one, from the same state, cold and as it is. */
  const same = async (at: string, symbols: string[] | null = null) => {
    const before = await outcome('lh_replaced_refresh', at, symbols);
    expect(await outcome('fifo_refresh_long_held_lots', at, symbols)).toEqual(before);
    expect(await outcome('fifo_refresh_long_held_lots', at, symbols, true)).toEqual(before);
    return before;
  };
  /** The new refresh, committed: its items and kept statistics become the state. */
  const refresh = async (at: string, symbols: string[] | null = null) =>
    (await t.query<{ r: Record<string, number> }>(`SELECT fifo_refresh_long_held_lots(1, $1, $2) AS r`, [symbols, at]))[0]!.r;
  const stats = () => t.query<{ symbol: string; pieces: string; median_held: string | null }>(
    `SELECT symbol, pieces::text, median_held::text FROM fifo_long_held_stats WHERE allocation_version = 1 ORDER BY symbol`);

  beforeAll(async () => {
    t = await createTestSchema({ prefix: 'lhstats' });
    // 017's refresh and 023's open lot sizes, as 026 found them, under names of their own
    await t.query(`DO $$
      DECLARE d text;
      BEGIN
        d := (SELECT definition FROM fifo_026_replaced WHERE name LIKE 'fifo_open_lot_sizes_at(%');
        EXECUTE replace(d, '.fifo_open_lot_sizes_at(', '.lh_replaced_open_lot_sizes_at(');
        d := (SELECT definition FROM fifo_026_replaced WHERE name LIKE 'fifo_refresh_long_held_lots(%');
        d := replace(d, '.fifo_refresh_long_held_lots(', '.lh_replaced_refresh(');
        IF position('FROM fifo_open_lot_sizes_at(p_version, p_at, syms)' IN d) = 0 THEN RAISE EXCEPTION 'unexpected definition'; END IF;
        EXECUTE replace(d, 'FROM fifo_open_lot_sizes_at(p_version, p_at, syms)', 'FROM lh_replaced_open_lot_sizes_at(p_version, p_at, syms)');
      END $$`);
    // Five symbols over five months, holding times from hours to weeks (some sells oversell:
    // unmatched rows, no piece); NOSELL-USD only buys (no piece: no usual holding period).
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
      SELECT s.sym || '-' || i, s.sym, CASE WHEN h % 2 = 0 THEN 'sell' ELSE 'buy' END,
             CASE WHEN h % 2 = 0 THEN 1 + h % 3 ELSE 1 + h % 4 END, 10 + h % 7, 0.01,
             timestamptz '2025-01-01 00:00Z' + i * s.step + (h % 720) * interval '1 minute'
        FROM (VALUES (1, 'A-USD', interval '7 hours'), (2, 'B-USD', interval '13 hours'), (3, 'C-USD', interval '1 day'),
                     (4, 'D-USD', interval '2 days'), (5, 'E-USD', interval '5 hours')) s(k, sym, step)
       CROSS JOIN generate_series(1, 150) i
       CROSS JOIN LATERAL (SELECT ('x' || substr(md5(s.sym || i), 1, 7))::bit(28)::int AS h) r
      UNION ALL
      SELECT 'N-' || i, 'NOSELL-USD', 'buy', 1, 5, 0, timestamptz '2025-01-01 00:00Z' + i * interval '1 day'
        FROM generate_series(1, 5) i`);
    await t.query(`INSERT INTO fifo_long_held_rules (symbol, median_multiple, min_held) VALUES ('B-USD', 2, '1 day'), ('D-USD', 0.5, '30 days')`);
    await compute();
  });
  afterAll(() => t.drop());

  it('raises, updates and resolves what the replaced definition does: before, within and after the trades', async () => {
    // within the trades (pieces sold after the time are left out), at the end, long after
    const seen = { raised: 0, updated: 0, resolved: 0 };
    for (const at of ['2025-02-15 00:00Z', '2025-04-01 12:00Z', '2025-06-01 00:00Z', '2026-01-01 00:00Z', '2027-06-01 00:00Z']) {
      const o = await same(at);
      for (const k of ['raised', 'updated', 'resolved'] as const) seen[k] += o.result[k]!;
      await same(at, ['A-USD', 'NOSELL-USD']);
    }
    // (the computation raised items as of now: the earlier times resolve them, the later raise more)
    expect(seen.raised > 0 && seen.resolved > 0, JSON.stringify(seen)).toBe(true);
    // committed: items are pending, the statistics kept; again from there (nothing to rewrite)
    await refresh('2025-06-01 00:00Z');
    expect((await stats()).map((s) => s.symbol)).toEqual(['A-USD', 'B-USD', 'C-USD', 'D-USD', 'E-USD', 'NOSELL-USD']);
    expect((await stats()).find((s) => s.symbol === 'NOSELL-USD')).toEqual({ symbol: 'NOSELL-USD', pieces: '0', median_held: null });
    await same('2025-06-01 00:00Z');
    await same('2025-07-01 00:00Z');
    // a rule changes (the statistics do not depend on it)
    await t.query(`UPDATE fifo_long_held_rules SET median_multiple = 3 WHERE symbol = '*'`);
    expect((await same('2025-07-01 00:00Z')).result.updated).toBeGreaterThan(0);
    await t.query(`UPDATE fifo_long_held_rules SET median_multiple = 10 WHERE symbol = '*'`);
  });

  it('follows the rows through incremental runs, recomputes, dirty symbols and symbols whose trades are gone', async () => {
    await refresh('2025-07-01 00:00Z');
    // A-USD continues from its snapshot (later sells), C-USD is recomputed from scratch (a
    // back-dated buy), E-USD's trades go, B-USD changes but is not computed yet (dirty)
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('A-late-1', 'A-USD', 'sell', 2, 12, 0, '2025-03-10 00:00Z'), ('A-late-2', 'A-USD', 'buy', 1, 12, 0, '2025-03-11 00:00Z'),
      ('C-early', 'C-USD', 'buy', 3, 9, 0, '2025-01-01 01:00Z')`);
    await t.query(`DELETE FROM trade_records WHERE symbol = 'E-USD'`);
    await compute(['--incremental']);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
                   VALUES ('B-late', 'B-USD', 'sell', 1, 12, 0, '2025-04-01 00:00Z')`);
    for (const at of ['2025-03-20 00:00Z', '2025-07-01 00:00Z', '2026-01-01 00:00Z']) {
      await same(at);
      await same(at, ['A-USD', 'C-USD', 'E-USD']);
    }
    expect((await same('2025-07-01 00:00Z')).result.resolved).toBeGreaterThan(0); // E-USD's lots are gone
    await refresh('2025-07-01 00:00Z');
    await compute(['--incremental']);
    await same('2025-07-01 00:00Z');
    // a full rebuild swaps in new rows (and its own refresh judged them as of now)
    await compute(['--force']);
    await same('2025-07-01 00:00Z');
    await same('2026-01-01 00:00Z', ['D-USD']);
  });

  it('reuses the statistics while the snapshot row is the same, and takes them again once the symbol is recomputed', async () => {
    await refresh('2027-06-01 00:00Z');
    const [kept] = await t.query<{ pieces: string; median: string }>(
      `SELECT pieces::text, median_held::text AS median FROM fifo_long_held_stats WHERE allocation_version = 1 AND symbol = 'B-USD'`);
    const [rows] = await t.query<{ pieces: string; median: string }>(
      `SELECT count(*)::text AS pieces, (percentile_cont(0.5) WITHIN GROUP (ORDER BY sell_time - buy_time))::text AS median
         FROM fifo_allocations WHERE allocation_version = 1 AND symbol = 'B-USD' AND buy_order_id IS NOT NULL`);
    expect(kept).toEqual(rows);
    const median = async () => (await t.query<{ m: string }>(
      `SELECT DISTINCT details ->> 'median_held' AS m FROM manual_review_queue
        WHERE issue_type = 'long_held_lot' AND symbol = 'B-USD' AND status = 'pending'`)).map((r) => r.m);
    // kept statistics are what the refresh reads: a changed one shows in the items
    await t.query(`UPDATE fifo_long_held_stats SET median_held = interval '1 second' WHERE allocation_version = 1 AND symbol = 'B-USD'`);
    await refresh('2027-06-01 00:00Z', ['B-USD']);
    expect(await median()).toEqual(['00:00:01']);
    // recomputed: a new snapshot row, statistics taken from the rows again
    await compute(['--force', '--symbol', 'B-USD']);
    await refresh('2027-06-01 00:00Z', ['B-USD']);
    expect(await median()).toEqual([(await t.query<{ m: string }>(`SELECT justify_hours($1::interval)::text AS m`, [rows!.median]))[0]!.m]);
    expect((await stats()).find((s) => s.symbol === 'B-USD')).toEqual({ symbol: 'B-USD', pieces: rows!.pieces, median_held: rows!.median });
  });

  it('goes on with appended rows from the window around the median, and reads the rows again once the median leaves it', async () => {
    // W-USD: 700 round trips held 1, 2, ..., 700 minutes (median 350.5 minutes), two lots left open
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
      SELECT 'W-' || side || '-' || i, 'W-USD', side, 1, 10, 0,
             timestamptz '2025-01-01 00:00Z' + i * interval '12 hours' + CASE WHEN side = 'sell' THEN i * interval '1 minute' ELSE interval '0' END
        FROM generate_series(1, 700) i CROSS JOIN (VALUES ('buy'), ('sell')) s(side)
      UNION ALL VALUES ('W-open-1', 'W-USD', 'buy', 1, 10, 0, timestamptz '2026-01-01 00:00Z'),
                       ('W-open-2', 'W-USD', 'buy', 1, 10, 0, timestamptz '2026-01-01 01:00Z')`);
    await compute(['--incremental']);
    const kept = async () => (await t.query<{ pieces: string; lo: string; n: number; median: string }>(
      `SELECT pieces::text, lo::text, cardinality(win) AS n, median_held::text AS median FROM fifo_long_held_stats
        WHERE allocation_version = 1 AND symbol = 'W-USD'`))[0]!;
    // ranks 349 and 350 hold the median: 100 on either side are kept
    expect(await kept()).toEqual({ pieces: '700', lo: '249', n: 202, median: '05:50:30' });
    // A sell after the watermark is merged into the window: a window made up shows it went on from there
    await t.query(`UPDATE fifo_long_held_stats SET win = array_fill(interval '1 second', ARRAY[202]) WHERE allocation_version = 1 AND symbol = 'W-USD'`);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
                   VALUES ('W-sell-x', 'W-USD', 'sell', 1, 11, 0, '2026-01-02 00:00Z')`);
    await compute(['--incremental']);
    expect(await kept()).toMatchObject({ pieces: '701', lo: '250', median: '00:00:01' });
    // recomputed from scratch: the rows are new, the statistics taken from them
    await compute(['--force', '--symbol', 'W-USD']);
    expect(await kept()).toEqual({ pieces: '701', lo: '250', n: 201, median: '05:51:00' });
    await same('2026-06-01 00:00Z', ['W-USD']);
    // 450 pieces held 5 days each: the median leaves the window, the rows are read again
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
      SELECT 'W-late-' || side || '-' || i, 'W-USD', side, 1, 10, 0,
             timestamptz '2026-02-01 00:00Z' + i * interval '1 hour' + CASE WHEN side = 'sell' THEN interval '5 days' ELSE interval '0' END
        FROM generate_series(1, 450) i CROSS JOIN (VALUES ('buy'), ('sell')) s(side)`);
    await compute(['--incremental']);
    const refilled = await kept();
    expect(refilled.pieces).toBe('1151');
    expect(Number(refilled.lo)).toBe((1151 - 1) / 2 - 100);
    await same('2026-06-01 00:00Z');
    // two more (the window follows the median by one), the same items
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
      VALUES ('W-b-y1', 'W-USD', 'buy', 1, 10, 0, '2026-03-01 00:00Z'), ('W-s-y1', 'W-USD', 'sell', 1, 10, 0, '2026-03-01 00:01Z'),
             ('W-b-y2', 'W-USD', 'buy', 1, 10, 0, '2026-03-02 00:00Z'), ('W-s-y2', 'W-USD', 'sell', 1, 10, 0, '2026-03-30 00:00Z')`);
    await compute(['--incremental']);
    expect(await kept()).toMatchObject({ pieces: '1153', lo: String(Number(refilled.lo) + 1) });
    await same('2026-06-01 00:00Z');
    await same('2026-03-15 00:00Z', ['W-USD']);
  });

  it('is the engine\'s to write, the reader\'s to read, nobody else\'s', async () => {
    expect(await t.query(`SELECT has_table_privilege('fifo_engine', 'fifo_long_held_stats', 'SELECT, INSERT, UPDATE, DELETE') AS engine,
                                 has_table_privilege('fifo_reader', 'fifo_long_held_stats', 'SELECT') AS reader,
                                 has_table_privilege('fifo_reader', 'fifo_long_held_stats', 'INSERT, UPDATE, DELETE, TRUNCATE') AS reader_writes,
                                 has_table_privilege('fifo_writer', 'fifo_long_held_stats', 'INSERT, UPDATE, DELETE, TRUNCATE') AS writer_writes,
                                 has_table_privilege('public', 'fifo_long_held_stats', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') AS anyone`))
      .toEqual([{ engine: true, reader: true, reader_writes: false, writer_writes: false, anyone: false }]);
    // the engine refreshes with its own rights, keeping statistics
    await t.query('BEGIN');
    try {
      await t.query('DELETE FROM fifo_long_held_stats');
      await t.query('SET LOCAL ROLE fifo_engine');
      await refresh('2026-01-01 00:00Z');
      expect((await stats()).length).toBeGreaterThan(3);
    } finally {
      await t.query('ROLLBACK');
    }
  });
});
