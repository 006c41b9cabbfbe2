/**
 * The long_held_lot review item (migration 017): a lot open longer than
 * max(K × the median holding time of its symbol's matched lot pieces, a minimum), K = 10 and
 * 7 days by default, per symbol in fifo_long_held_rules. fifo_refresh_long_held_lots raises,
 * updates and resolves the items like a computation does unmatched sells; called here right
 * after `fifo compute`, as the computation will call it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

interface Item { item_key: string; symbol: string; status: string; severity: string; order_id: string; resolved_by: string | null; resolution_note: string | null }

describe('long_held_lot', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  const refresh = async (at: string, symbols: string[] | null = null, version = 1) =>
    (await t.query<{ r: Record<string, number> }>(`SELECT fifo_refresh_long_held_lots($1, $2, $3) AS r`, [version, symbols, at]))[0]!.r;
  const items = () => t.query<Item>(`SELECT item_key, symbol, status, severity, order_id, resolved_by, resolution_note
                                       FROM manual_review_queue WHERE issue_type = 'long_held_lot' ORDER BY symbol, item_key`);
  const compute = async () => {
    const r = await runFifo(['compute'], env);
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    t = await createTestSchema();
    env = { DATABASE_URL: t.url };
    // SOL-USD matched pieces: b1→s1 12 h, b2→s2 24 h, b3→s3 6 h: median 12 h; 10 × 12 h = 5 days < 7 days,
    // so the threshold is the minimum, 7 days. Open: b3 (0.5 left, since 01-04 00:00), b4 (2, since 01-05 00:00).
    // BTC-USD pieces of 2 days each: median 2 days, threshold 10 × 2 days = 20 days (above the minimum).
    // ETH-USD never sold: no usual holding period, nothing raised however old the lot.
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('b1', 'SOL-USD', 'buy',  1,   10, 0, '2025-01-01 00:00Z'),
      ('s1', 'SOL-USD', 'sell', 1,   11, 0, '2025-01-01 12:00Z'),
      ('b2', 'SOL-USD', 'buy',  1,   10, 0, '2025-01-02 00:00Z'),
      ('s2', 'SOL-USD', 'sell', 1,   11, 0, '2025-01-03 00:00Z'),
      ('b3', 'SOL-USD', 'buy',  1,   10, 0, '2025-01-04 00:00Z'),
      ('s3', 'SOL-USD', 'sell', 0.5, 11, 0, '2025-01-04 06:00Z'),
      ('b4', 'SOL-USD', 'buy',  2,   10, 0, '2025-01-05 00:00Z'),
      ('x1', 'BTC-USD', 'buy',  1,   90, 0, '2025-01-01 00:00Z'),
      ('y1', 'BTC-USD', 'sell', 1,   91, 0, '2025-01-03 00:00Z'),
      ('x2', 'BTC-USD', 'buy',  1,   90, 0, '2025-01-03 00:00Z'),
      ('y2', 'BTC-USD', 'sell', 1,   91, 0, '2025-01-05 00:00Z'),
      ('x3', 'BTC-USD', 'buy',  1,   90, 0, '2025-01-05 00:00Z'),
      ('e1', 'ETH-USD', 'buy',  1, 3000, 0, '2024-01-01 00:00Z')`);
    await compute();
  });
  afterAll(() => t.drop());

  it('raises a lot held longer than max(10 × median, 7 days), with what it was measured against', async () => {
    // at 01-11 12:00: b3 held 7.5 days > 7 (flagged); b4 6.5 days (not); x3 6.5 days < 20 days; e1: no sells of ETH-USD
    expect(await refresh('2025-01-11 12:00Z')).toEqual({ raised: 1, updated: 0, resolved: 0 });
    expect(await items()).toEqual([
      { item_key: 'b3', symbol: 'SOL-USD', status: 'pending', severity: 'low', order_id: 'b3', resolved_by: null, resolution_note: null },
    ]);
    const [d] = await t.query<{ details: Record<string, unknown> }>(`SELECT details FROM manual_review_queue WHERE item_key = 'b3'`);
    expect(d!.details).toMatchObject({
      remaining_size: '0.5', held: '7 days 12:00:00', held_days: '7.50', median_held: '12:00:00', median_days: '0.50',
      matched_pieces: 3, median_multiple: '10', min_held: '7 days', threshold: '7 days', threshold_days: '7.00',
    });
  });

  it('never duplicates an item, rewrites it only when more than the time held changed', async () => {
    // later, nothing else changed: the item stays as it was (held as of its as_of)
    expect(await refresh('2025-01-11 18:00Z')).toEqual({ raised: 0, updated: 0, resolved: 0 });
    expect((await items()).length).toBe(1);
    // s4 takes 0.25 of b3 (FIFO) at 01-12: pieces 6 h, 12 h, 24 h, 8 days, median 18 h, threshold
    // max(10 × 18 h, 7 days) = 7.5 days; b3 (8 days) is still flagged, its item updated
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
                   VALUES ('s4', 'SOL-USD', 'sell', 0.25, 11, 0, '2025-01-12 00:00Z')`);
    await compute();
    expect(await refresh('2025-01-12 00:00Z')).toEqual({ raised: 0, updated: 1, resolved: 0 });
    expect((await items()).length).toBe(1);
    const [d] = await t.query<{ details: Record<string, unknown> }>(`SELECT details FROM manual_review_queue WHERE item_key = 'b3'`);
    expect(d!.details).toMatchObject({ remaining_size: '0.25', held: '8 days', median_held: '18:00:00', matched_pieces: 4,
                                       threshold: '7 days 12:00:00', threshold_days: '7.50' });
  });

  it('uses K × median when it is above the minimum (BTC-USD: 20 days)', async () => {
    // x3 held 19 days at 01-24: not yet; 21 days at 01-26: flagged. Only BTC-USD refreshed: b3 stays as it is.
    expect(await refresh('2025-01-24 00:00Z', ['BTC-USD'])).toEqual({ raised: 0, updated: 0, resolved: 0 });
    expect(await refresh('2025-01-26 00:00Z', ['BTC-USD'])).toEqual({ raised: 1, updated: 0, resolved: 0 });
    const [d] = await t.query<{ details: Record<string, unknown> }>(`SELECT details FROM manual_review_queue WHERE item_key = 'x3'`);
    expect(d!.details).toMatchObject({ median_held: '2 days', threshold: '20 days', threshold_days: '20.00', held_days: '21.00' });
    expect((await items()).map((i) => `${i.item_key}:${i.status}`)).toEqual(['x3:pending', 'b3:pending']);
  });

  it('is listed by fifo review list, and a closed item is never reopened', async () => {
    const list = await runFifo(['review', 'list', '--type', 'long_held_lot'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/low\s+pending\s+long_held_lot\s+SOL-USD\s+b3\s+0.25 open 8.00 days by 2025-01-12; usual holding 0.75 days \(flagged after 7.50\)/);
    expect(list.stdout).toMatch(/long_held_lot\s+BTC-USD\s+x3\s+1.00 open 21.00 days by 2025-01-26; usual holding 2.00 days \(flagged after 20.00\)/);
    // (the table aligns the numbers a column starts with: 1 is shown as 1.00 beside 0.25)
    expect(list.stdout).toContain('2 item(s)');
    const [b3] = await t.query<{ id: string }>(`SELECT review_id::text AS id FROM manual_review_queue WHERE item_key = 'b3'`);
    const ignore = await runFifo(['review', 'ignore', b3!.id, '--note', 'kept on purpose'], env);
    expect(ignore.code, ignore.stderr).toBe(0);
    expect(await refresh('2025-01-11 18:00Z', ['SOL-USD'])).toEqual({ raised: 0, updated: 0, resolved: 0 });
    expect((await items()).find((i) => i.item_key === 'b3')).toMatchObject({ status: 'ignored', resolution_note: 'kept on purpose' });
  });

  it('takes the rule of the symbol when it has one (configurable), and resolves what the rule no longer flags', async () => {
    // SOL-USD: 1 × median (18 h), at least 1 day: b4, held 7 days at 01-12, is flagged now (b3 stays ignored)
    await t.query(`INSERT INTO fifo_long_held_rules (symbol, median_multiple, min_held) VALUES ('SOL-USD', 1, '1 day')`);
    expect(await refresh('2025-01-12 00:00Z', ['SOL-USD'])).toEqual({ raised: 1, updated: 0, resolved: 0 });
    const [d] = await t.query<{ threshold: string }>(`SELECT details ->> 'threshold' AS threshold FROM manual_review_queue WHERE item_key = 'b4'`);
    expect(d).toEqual({ threshold: '1 day' });
    // a looser rule (100 × 18 h = 75 days): b4 is within it, resolved, saying why
    await t.query(`UPDATE fifo_long_held_rules SET median_multiple = 100 WHERE symbol = 'SOL-USD'`);
    expect(await refresh('2025-01-12 00:00Z', ['SOL-USD'])).toEqual({ raised: 0, updated: 0, resolved: 1 });
    expect((await items()).filter((i) => i.symbol === 'SOL-USD')).toEqual([
      { item_key: 'b3', symbol: 'SOL-USD', status: 'ignored', severity: 'low', order_id: 'b3', resolved_by: expect.any(String),
        resolution_note: 'kept on purpose' },
      { item_key: 'b4', symbol: 'SOL-USD', status: 'resolved', severity: 'low', order_id: 'b4', resolved_by: 'fifo_compute',
        resolution_note: 'no longer held longer than the long_held_lot rule' },
    ]);
    await t.query(`DELETE FROM fifo_long_held_rules WHERE symbol = 'SOL-USD'`);
  });

  it('resolves the item of a lot a later sell closed, after the compute', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('x4', 'ETH-USD', 'buy', 1, 3000, 0, '2025-01-01 00:00Z'),
      ('y3', 'BTC-USD', 'sell', 1, 95, 0, '2025-01-28 00:00Z')`);
    await compute();
    // BTC-USD: x3 sold at 01-28, its pending item is resolved
    expect(await refresh('2025-02-01 00:00Z', ['BTC-USD'])).toEqual({ raised: 0, updated: 0, resolved: 1 });
    expect((await items()).find((i) => i.item_key === 'x3')).toMatchObject({
      status: 'resolved', resolved_by: 'fifo_compute', resolution_note: 'the lot is closed (sold, or its buy is gone)' });
    // ETH-USD has lots a year old but no matched piece: no usual holding period, nothing raised
    await refresh('2025-02-01 00:00Z');
    expect((await items()).filter((i) => i.symbol === 'ETH-USD')).toEqual([]);
  });

  it('belongs to its version, and only the engine may run it; the rules are the owner\'s', async () => {
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'lifo')`);
    expect(await refresh('2025-02-01 00:00Z', null, 2)).toEqual({ raised: 0, updated: 0, resolved: 0 }); // nothing computed in 2
    expect(await t.query(`SELECT has_function_privilege('fifo_engine', 'fifo_refresh_long_held_lots(int, text[], timestamptz, bigint)', 'EXECUTE') AS engine,
                                 has_function_privilege('fifo_reader', 'fifo_refresh_long_held_lots(int, text[], timestamptz, bigint)', 'EXECUTE') AS reader,
                                 has_function_privilege('fifo_writer', 'fifo_refresh_long_held_lots(int, text[], timestamptz, bigint)', 'EXECUTE') AS writer,
                                 has_table_privilege('fifo_reader', 'fifo_long_held_rules', 'SELECT') AS reader_reads,
                                 has_table_privilege('fifo_engine', 'fifo_long_held_rules', 'INSERT, UPDATE, DELETE') AS engine_writes,
                                 has_table_privilege('fifo_writer', 'fifo_long_held_rules', 'INSERT, UPDATE, DELETE') AS writer_writes`))
      .toEqual([{ engine: true, reader: false, writer: false, reader_reads: true, engine_writes: false, writer_writes: false }]);
    // the engine runs it with its own rights
    await t.query('BEGIN');
    try {
      await t.query('SET LOCAL ROLE fifo_engine');
      expect(await refresh('2025-02-01 00:00Z')).toMatchObject({ raised: expect.any(Number) });
    } finally {
      await t.query('ROLLBACK');
    }
    await expect(t.query(`INSERT INTO fifo_long_held_rules VALUES ('*', 0, '1 day')`)).rejects.toThrow('fifo_long_held_rules_median_multiple_must_be_positive');
    await expect(t.query(`INSERT INTO fifo_long_held_rules VALUES ('sol-usd', 1, '1 day')`)).rejects.toThrow('fifo_long_held_rules_symbol_must_be_star_or_symbol');
    await expect(t.query(`INSERT INTO fifo_long_held_rules VALUES ('ADA-USD', 1, '0 days')`)).rejects.toThrow('fifo_long_held_rules_min_held_must_be_positive');
  });
});
