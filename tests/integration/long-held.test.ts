/**
 * The long_held_lot review item (migration 017): a lot open longer than
 * max(K × the median holding time of its symbol's matched lot pieces, a minimum), K = 10 and
 * 7 days by default, per symbol in fifo_long_held_rules. The computations raise, update and
 * resolve the items (fifo_compute for the symbols it computed, a full rebuild and fifo_run for
 * every symbol after the swap), as of the session's fifo.long_held_as_of (migration 019): each
 * hand-worked case computes as of its own time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urlAsOf } from '../helpers/as-of.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

interface Item { item_key: string; symbol: string; status: string; severity: string; order_id: string; resolved_by: string | null; resolution_note: string | null }

/** One schema's queue and computations, as of a time. */
function harness(get: () => TestSchema) {
  const items = (symbols: string[] | null = null) => get().query<Item>(
    `SELECT item_key, symbol, status, severity, order_id, resolved_by, resolution_note
       FROM manual_review_queue WHERE issue_type = 'long_held_lot' AND ($1::text[] IS NULL OR symbol = ANY ($1))
      ORDER BY symbol, item_key`, [symbols]);
  const details = async (key: string) =>
    (await get().query<{ details: Record<string, unknown> }>(`SELECT details FROM manual_review_queue WHERE issue_type = 'long_held_lot' AND item_key = $1`, [key]))[0]!.details;
  /** `fifo compute ARGS` whose sessions judge as of `at`; returns the run's log row. */
  const computeAt = async (at: string, args: string[] = []) => {
    const r = await runFifo(['compute', ...args], { DATABASE_URL: urlAsOf(get().url, at) });
    expect(r.code, r.stderr).toBe(0);
    const [run] = await get().query<{ id: string; mode: string; status: string; trades: string }>(
      `SELECT computation_id::text AS id, mode, status, trades_processed::text AS trades FROM fifo_computation_log ORDER BY computation_id DESC LIMIT 1`);
    expect(run!.status).toBe('success');
    return run!;
  };
  /** The computation that last raised or rewrote an item. */
  const raisedBy = async (key: string) =>
    (await get().query<{ id: string }>(`SELECT computation_id::text AS id FROM manual_review_queue WHERE issue_type = 'long_held_lot' AND item_key = $1`, [key]))[0]!.id;
  return { items, details, computeAt, raisedBy };
}

describe('long_held_lot', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  const { items, details, computeAt, raisedBy } = harness(() => t);
  const refresh = async (at: string, symbols: string[] | null = null, version = 1) =>
    (await t.query<{ r: Record<string, number> }>(`SELECT fifo_refresh_long_held_lots($1, $2, $3) AS r`, [version, symbols, at]))[0]!.r;
  let first: { id: string };

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
    first = await computeAt('2025-01-11T12:00Z');
  });
  afterAll(() => t.drop());

  it('the computation raises a lot held longer than max(10 × median, 7 days), with what it was measured against', async () => {
    // at 01-11 12:00: b3 held 7.5 days > 7 (flagged); b4 6.5 days (not); x3 6.5 days < 20 days; e1: no sells of ETH-USD
    expect(await items()).toEqual([
      { item_key: 'b3', symbol: 'SOL-USD', status: 'pending', severity: 'low', order_id: 'b3', resolved_by: null, resolution_note: null },
    ]);
    expect(await details('b3')).toMatchObject({
      as_of: '2025-01-11T12:00:00+00:00', buy_time: '2025-01-04T00:00:00+00:00',
      remaining_size: '0.5', held: '7 days 12:00:00', held_days: '7.50', median_held: '12:00:00', median_days: '0.50',
      matched_pieces: 3, median_multiple: '10', min_held: '7 days', threshold: '7 days', threshold_days: '7.00',
    });
    expect(await raisedBy('b3')).toBe(first.id);
  });

  it('never duplicates an item, rewrites it only when more than the time held changed', async () => {
    // later, nothing else changed: called directly, the refresh finds nothing to do...
    expect(await refresh('2025-01-11 18:00Z')).toEqual({ raised: 0, updated: 0, resolved: 0 });
    // ... and so does a computation of the symbol: the item stays as it was (held as of its as_of)
    await computeAt('2025-01-11T18:00Z', ['--force', '--symbol', 'SOL-USD']);
    expect((await items()).length).toBe(1);
    expect(await details('b3')).toMatchObject({ as_of: '2025-01-11T12:00:00+00:00', held: '7 days 12:00:00', remaining_size: '0.5' });
    expect(await raisedBy('b3')).toBe(first.id);
    // s4 takes 0.25 of b3 (FIFO) at 01-12: pieces 6 h, 12 h, 24 h, 8 days, median 18 h, threshold
    // max(10 × 18 h, 7 days) = 7.5 days; b3 (8 days) is still flagged, its item updated by the computation
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
                   VALUES ('s4', 'SOL-USD', 'sell', 0.25, 11, 0, '2025-01-12 00:00Z')`);
    const run = await computeAt('2025-01-12T00:00Z');
    expect((await items()).length).toBe(1);
    expect(await details('b3')).toMatchObject({ as_of: '2025-01-12T00:00:00+00:00', remaining_size: '0.25', held: '8 days',
                                                median_held: '18:00:00', matched_pieces: 4, threshold: '7 days 12:00:00', threshold_days: '7.50' });
    expect(await raisedBy('b3')).toBe(run.id);
  });

  it('uses K × median when it is above the minimum (BTC-USD: 20 days)', async () => {
    // x3 held 19 days at 01-24: not yet; 21 days at 01-26: flagged. Only BTC-USD computed: b3 stays as it is.
    await computeAt('2025-01-24T00:00Z', ['--force', '--symbol', 'BTC-USD']);
    expect((await items()).map((i) => `${i.item_key}:${i.status}`)).toEqual(['b3:pending']);
    const run = await computeAt('2025-01-26T00:00Z', ['--force', '--symbol', 'BTC-USD']);
    expect(await details('x3')).toMatchObject({ median_held: '2 days', threshold: '20 days', threshold_days: '20.00', held_days: '21.00' });
    expect(await raisedBy('x3')).toBe(run.id);
    expect((await items()).map((i) => `${i.item_key}:${i.status}`)).toEqual(['x3:pending', 'b3:pending']);
    expect(await details('b3')).toMatchObject({ as_of: '2025-01-12T00:00:00+00:00', held: '8 days' });
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
    // at 01-11 18:00 b3 (0.5 open, 7.75 days) is flagged again, but its item stays ignored; b4 (6.75 days) is not
    await computeAt('2025-01-11T18:00Z', ['--force', '--symbol', 'SOL-USD']);
    expect((await items(['SOL-USD'])).map((i) => `${i.item_key}:${i.status}`)).toEqual(['b3:ignored']);
    expect((await items()).find((i) => i.item_key === 'b3')).toMatchObject({ status: 'ignored', resolution_note: 'kept on purpose' });
    expect(await details('b3')).toMatchObject({ as_of: '2025-01-12T00:00:00+00:00', held: '8 days' });
  });

  it('takes the rule of the symbol when it has one (configurable), and resolves what the rule no longer flags', async () => {
    // SOL-USD: 1 × median (18 h), at least 1 day: b4, held 7 days at 01-12, is flagged now (b3 stays ignored)
    await t.query(`INSERT INTO fifo_long_held_rules (symbol, median_multiple, min_held) VALUES ('SOL-USD', 1, '1 day')`);
    await computeAt('2025-01-12T00:00Z', ['--force', '--symbol', 'SOL-USD']);
    expect((await items(['SOL-USD'])).map((i) => `${i.item_key}:${i.status}`)).toEqual(['b3:ignored', 'b4:pending']);
    expect(await details('b4')).toMatchObject({ threshold: '1 day', held: '7 days', median_held: '18:00:00', remaining_size: '2' });
    // a looser rule (100 × 18 h = 75 days): b4 is within it, resolved by the computation, saying why
    await t.query(`UPDATE fifo_long_held_rules SET median_multiple = 100 WHERE symbol = 'SOL-USD'`);
    const run = await computeAt('2025-01-12T00:00Z', ['--force', '--symbol', 'SOL-USD']);
    expect(await items(['SOL-USD'])).toEqual([
      { item_key: 'b3', symbol: 'SOL-USD', status: 'ignored', severity: 'low', order_id: 'b3', resolved_by: expect.any(String),
        resolution_note: 'kept on purpose' },
      { item_key: 'b4', symbol: 'SOL-USD', status: 'resolved', severity: 'low', order_id: 'b4', resolved_by: 'fifo_compute',
        resolution_note: 'no longer held longer than the long_held_lot rule' },
    ]);
    expect(await raisedBy('b4')).toBe(run.id);
    await t.query(`DELETE FROM fifo_long_held_rules WHERE symbol = 'SOL-USD'`);
  });

  it('resolves the item of a lot a later sell closed, in the compute that takes the sell', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('x4', 'ETH-USD', 'buy', 1, 3000, 0, '2025-01-01 00:00Z'),
      ('y3', 'BTC-USD', 'sell', 1, 95, 0, '2025-01-28 00:00Z')`);
    const run = await computeAt('2025-02-01T00:00Z');
    // BTC-USD: x3 sold at 01-28, its pending item is resolved
    expect((await items()).find((i) => i.item_key === 'x3')).toMatchObject({
      status: 'resolved', resolved_by: 'fifo_compute', resolution_note: 'the lot is closed (sold, or its buy is gone)' });
    expect(await raisedBy('x3')).toBe(run.id);
    // ETH-USD (computed too: x4 is new) has lots a year old but no matched piece: no usual holding period, nothing raised
    expect(await items(['ETH-USD'])).toEqual([]);
    expect(await refresh('2025-02-01 00:00Z')).toEqual({ raised: 0, updated: 0, resolved: 0 });
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

describe('long_held_lot, raised and resolved by a full rebuild, an incremental run and fifo_run', () => {
  let t: TestSchema;
  const { items, details, computeAt, raisedBy } = harness(() => t);
  const buy = (id: string, symbol: string, size: string, at: string) =>
    t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES ($1, $2, 'buy', $3, 10, 0, $4)`, [id, symbol, size, at]);
  const sell = (id: string, symbol: string, size: string, at: string) =>
    t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES ($1, $2, 'sell', $3, 11, 0, $4)`, [id, symbol, size, at]);
  const status = async (symbol: string) => (await items([symbol])).map((i) => `${i.item_key}:${i.status}${i.resolution_note ? ` (${i.resolution_note})` : ''}`);

  beforeAll(async () => {
    t = await createTestSchema();
    // ADA-USD: a1→a2 is one piece of 1 day: median 1 day, threshold max(10 × 1 day, 7 days) = 10 days.
    // Open: a3 (2, since 01-03), a4 (1, since 01-08).
    await buy('a1', 'ADA-USD', '1', '2025-01-01 00:00Z');
    await sell('a2', 'ADA-USD', '1', '2025-01-02 00:00Z');
    await buy('a3', 'ADA-USD', '2', '2025-01-03 00:00Z');
    await buy('a4', 'ADA-USD', '1', '2025-01-08 00:00Z');
  });
  afterAll(() => t.drop());

  it('a full rebuild (fifo compute --force) raises and resolves them from the rows it swapped in', async () => {
    // at 01-14: a3 held 11 days > 10 (flagged), a4 6 days (not)
    const run = await computeAt('2025-01-14T00:00Z', ['--force']);
    expect(await status('ADA-USD')).toEqual(['a3:pending']);
    expect(await details('a3')).toMatchObject({ as_of: '2025-01-14T00:00:00+00:00', remaining_size: '2', held: '11 days',
                                                median_held: '1 day', matched_pieces: 1, threshold: '10 days' });
    expect(await raisedBy('a3')).toBe(run.id);
    // a5 sells a3 whole at 01-15. Rebuilt as of 01-20: pieces 1 day and 12 days, median 6.5 days,
    // threshold 65 days; a3 is closed in the new rows (the old ones still had it open)
    await sell('a5', 'ADA-USD', '2', '2025-01-15 00:00Z');
    const again = await computeAt('2025-01-20T00:00Z', ['--force']);
    expect(await status('ADA-USD')).toEqual(['a3:resolved (the lot is closed (sold, or its buy is gone))']);
    expect(await raisedBy('a3')).toBe(again.id);
  });

  it('an incremental run raises an item, and resolves it once a later sell closes the lot', async () => {
    // DOT-USD: d1→d2 12 h, median 12 h, threshold max(5 days, 7 days) = 7 days; d3 held 10 days at 01-12
    await buy('d1', 'DOT-USD', '1', '2025-01-01 00:00Z');
    await sell('d2', 'DOT-USD', '1', '2025-01-01 12:00Z');
    await buy('d3', 'DOT-USD', '1', '2025-01-02 00:00Z');
    const run = await computeAt('2025-01-12T00:00Z', ['--incremental']);
    expect(run.mode).toBe('incremental');
    expect(await status('DOT-USD')).toEqual(['d3:pending']);
    expect(await details('d3')).toMatchObject({ held: '10 days', median_held: '12:00:00', threshold: '7 days' });
    // d4 closes d3; the run continues DOT-USD from its snapshot (it reads d4 alone) and resolves the item
    await sell('d4', 'DOT-USD', '1', '2025-01-13 00:00Z');
    const next = await computeAt('2025-01-14T00:00Z', ['--incremental']);
    expect(next).toMatchObject({ mode: 'incremental', trades: '1' });
    expect(await status('DOT-USD')).toEqual(['d3:resolved (the lot is closed (sold, or its buy is gone))']);
    expect(await raisedBy('d3')).toBe(next.id);
    // ADA-USD was not computed: its items are as the rebuild left them
    expect(await status('ADA-USD')).toEqual(['a3:resolved (the lot is closed (sold, or its buy is gone))']);
  });

  it('fifo_run(1, \'full\') raises and resolves them after its swap, as of the session\'s fifo.long_held_as_of', async (ctx) => {
    const plv8 = await t.query(`SELECT 1 FROM pg_language WHERE lanname = 'plv8'`);
    if (plv8.length === 0) ctx.skip('this server has no PLV8: fifo_run cannot run the procedures in the database (scheduling.test.ts checks what it says)');
    const run = async (at: string) => {
      await t.query(`SET fifo.long_held_as_of = '${at}'`);
      try {
        const [r] = await t.query<{ result: { symbolsFailed: number; computationId: number } }>(`SELECT fifo_run(1, 'full') AS result`);
        expect(r!.result.symbolsFailed).toBe(0);
        return String(r!.result.computationId);
      } finally {
        await t.query('RESET fifo.long_held_as_of');
      }
    };
    // at 04-01: ADA-USD pieces 1 day and 12 days, threshold 65 days; a4 held 83 days
    const raised = await run('2025-04-01T00:00Z');
    expect(await status('ADA-USD')).toEqual(['a3:resolved (the lot is closed (sold, or its buy is gone))', 'a4:pending']);
    expect(await details('a4')).toMatchObject({ as_of: '2025-04-01T00:00:00+00:00', held: '83 days', threshold: '65 days' });
    expect(await raisedBy('a4')).toBe(raised);
    await sell('a6', 'ADA-USD', '1', '2025-04-02 00:00Z');
    const resolved = await run('2025-04-03T00:00Z');
    expect(await status('ADA-USD')).toEqual(['a3:resolved (the lot is closed (sold, or its buy is gone))',
                                             'a4:resolved (the lot is closed (sold, or its buy is gone))']);
    expect(await raisedBy('a4')).toBe(resolved);
  });
});
