/**
 * Conformance suite for the procedures, driven only through SQL and the CLI. It runs in the
 * Node PLV8 host here, and unchanged against a PLV8 database (FIFO_TEST_DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHost } from '../helpers/host.ts';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { connect } from '../../packages/cli/src/db/connect.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

describe('fifo compute on a hand-worked ledger', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    // the users' incident: the December sell must match the December buy, the September
    // buy being consumed by the September sell
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('sep-buy',  'SOL-USD', 'buy',  10, 100, 1,    '2025-09-01 10:00Z'),
      ('sep-sell', 'SOL-USD', 'sell', 10, 110, 1.1,  '2025-09-02 10:00Z'),
      ('dec-buy',  'SOL-USD', 'buy',  5,  150, 0.75, '2025-12-01 10:00Z'),
      ('dec-sell', 'SOL-USD', 'sell', 5,  160, 0.8,  '2025-12-01 10:00Z'),
      ('eth-sell', 'ETH-USD', 'sell', 1,  3000, 3,   '2025-12-02 10:00Z')`);
  });
  afterAll(() => t.drop());

  it('computes exact allocations, an unmatched row and a review item', async () => {
    const r = await runFifo(['compute', '--json'], { DATABASE_URL: t.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ status: 'success', symbolsComputed: 2, symbolsFailed: 0, tradesProcessed: 5, allocationsWritten: 3, unmatchedCount: 1 });
    const rows = await t.query(
      `SELECT sell_order_id, buy_order_id, allocated_size::text, cost_basis_usd::text, proceeds_usd::text, pnl_usd::text
         FROM fifo_allocations ORDER BY sell_order_id, allocation_seq`);
    expect(rows).toEqual([
      { sell_order_id: 'dec-sell', buy_order_id: 'dec-buy', allocated_size: '5', cost_basis_usd: '750.75', proceeds_usd: '799.2', pnl_usd: '48.45' },
      { sell_order_id: 'eth-sell', buy_order_id: null, allocated_size: '1', cost_basis_usd: null, proceeds_usd: '2997', pnl_usd: null },
      { sell_order_id: 'sep-sell', buy_order_id: 'sep-buy', allocated_size: '10', cost_basis_usd: '1001', proceeds_usd: '1098.9', pnl_usd: '97.9' },
    ]);
    expect(await t.query(`SELECT issue_type, order_id, status, details->>'requested' AS requested, details->>'available' AS available
                            FROM manual_review_queue`)).toEqual([
      { issue_type: 'unmatched_sell', order_id: 'eth-sell', status: 'pending', requested: '1', available: '0' },
    ]);
    expect(await t.query(`SELECT status, mode, trades_processed::int, allocations_written::int, unmatched_count::int FROM fifo_computation_log`))
      .toEqual([{ status: 'success', mode: 'full', trades_processed: 5, allocations_written: 3, unmatched_count: 1 }]);
    expect(await t.query('SELECT count(*)::int AS n FROM fifo_dirty_symbols')).toEqual([{ n: 0 }]);
  });

  it('validates clean, and reports a tampered allocation with exit 1', async () => {
    expect((await runFifo(['validate'], { DATABASE_URL: t.url })).code).toBe(0);
    await t.query(`UPDATE fifo_allocations SET pnl_usd = pnl_usd * 1000 WHERE sell_order_id = 'dec-sell'`);
    const bad = await runFifo(['validate'], { DATABASE_URL: t.url });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/row_pnl_formula/);
    expect(bad.stdout).toMatch(/dec-sell/);
    // a forced recompute repairs it
    expect((await runFifo(['compute', '--force'], { DATABASE_URL: t.url })).code).toBe(0);
    expect((await runFifo(['validate'], { DATABASE_URL: t.url })).code).toBe(0);
  });

  it('without --force computes only what changed; a resolved review is not reopened', async () => {
    await t.query(`UPDATE manual_review_queue SET status = 'resolved', resolved_at = now(), resolution_note = 'deposit from another exchange'`);
    const quiet = JSON.parse((await runFifo(['compute', '--json'], { DATABASE_URL: t.url })).stdout);
    expect(quiet.symbolsComputed).toBe(0);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('eth-sell-2', 'ETH-USD', 'sell', 1, 3100, '2025-12-03Z')`);
    const again = JSON.parse((await runFifo(['compute', '--json'], { DATABASE_URL: t.url })).stdout);
    expect(again.symbolsComputed).toBe(1);
    expect(await t.query(`SELECT order_id, status FROM manual_review_queue ORDER BY order_id`)).toEqual([
      { order_id: 'eth-sell', status: 'resolved' },
      { order_id: 'eth-sell-2', status: 'pending' },
    ]);
  });

  it('rejects bad arguments with exit 2 naming the input, writing nothing', async () => {
    const runs = await t.query('SELECT count(*)::int AS n FROM fifo_computation_log');
    for (const [args, message] of [
      [['compute', '--symbol', "SOL'; DROP TABLE trade_records; --"], /--symbol "SOL'; DROP TABLE trade_records; --": not a symbol/],
      [['compute', '--symbol', 'NOPE-USD'], /--symbol NOPE-USD: no trades/],
      [['compute', '--version', '0'], /--version must be a positive integer, got "0"/],
      [['compute', '--version', '7'], /--version 7: no such allocation version/],
      [['compute', '--host', 'gpu'], /--host must be auto, plv8 or client, got "gpu"/],
      [['compute', '--all-symbols', '--symbol', 'SOL-USD'], /exclude each other/],
      [['compute', '--bogus'], /Unknown option '--bogus'/],
      [['validate', '--version', 'x'], /--version must be a positive integer, got "x"/],
    ] as const) {
      const r = await runFifo(args, { DATABASE_URL: t.url });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(await t.query('SELECT count(*)::int AS n FROM fifo_computation_log')).toEqual(runs);
  });
});

describe('fifo compute on a random ledger', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    await insertTrades(t.client, generateLedger({ trades: 20_000, symbols: 40, seed: 7, oversellRate: 0.01 }));
  });
  afterAll(() => t.drop());

  it('computes, validates, and recomputes identical rows with --force', async () => {
    const first = await runFifo(['compute', '--all-symbols', '--json', '--batch-trades', '3000'], { DATABASE_URL: t.url });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'success', symbolsComputed: 40, tradesProcessed: 20_000 });
    expect((await runFifo(['validate'], { DATABASE_URL: t.url })).code).toBe(0);
    const a = await allocationChecksum(t);
    expect(a.rows).toBeGreaterThan(5_000);
    expect((await runFifo(['compute', '--force'], { DATABASE_URL: t.url })).code).toBe(0);
    expect(await allocationChecksum(t)).toEqual(a);
  });

  it('--concurrency 2 spreads batches over two connections and writes the same rows', async () => {
    const before = await allocationChecksum(t);
    const r = await runFifo(['compute', '--force', '--concurrency', '2', '--batch-trades', '2500', '--json'], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', symbolsComputed: 40 });
    expect(await allocationChecksum(t)).toEqual(before);
    expect((await runFifo(['compute', '--concurrency', '0'], { DATABASE_URL: t.url })).stderr).toMatch(/--concurrency must be a positive integer, got "0"/);
  });

  it('two compute processes started together produce exactly the allocations of one', async () => {
    const before = await allocationChecksum(t);
    const [x, y] = await Promise.all([
      runFifo(['compute', '--force', '--batch-trades', '2000'], { DATABASE_URL: t.url }),
      runFifo(['compute', '--force', '--batch-trades', '5000'], { DATABASE_URL: t.url }),
    ]);
    expect([x.code, y.code, x.stderr + y.stderr]).toEqual([0, 0, '']);
    expect(await allocationChecksum(t)).toEqual(before);
    expect((await runFifo(['validate'], { DATABASE_URL: t.url })).code).toBe(0);
  });
});

describe('a symbol whose trades are bad', () => {
  let t: TestSchema;
  beforeAll(async () => {
    // only an adopted ledger can hold bad facts: its legacy rows predate the rules
    t = await createTestSchema({
      migrated: false,
      before: `CREATE TABLE trade_records (order_id text PRIMARY KEY, symbol text NOT NULL, side text NOT NULL,
                 size numeric NOT NULL, price numeric NOT NULL, total_fees_usd numeric NOT NULL DEFAULT 0,
                 order_time timestamptz NOT NULL, pnl_usd numeric);
               INSERT INTO trade_records VALUES
                 ('a1', 'AAA-USD', 'buy', 1, 10, 0, '2026-01-01Z', NULL),
                 ('a2', 'AAA-USD', 'sell', 1, 11, 0, '2026-01-02Z', 1),
                 ('b1', 'BBB-USD', 'buy', 1, 10, 0, '2026-01-01Z', NULL),
                 ('b2', 'BBB-USD', 'sell', 1, 12, 0, '2026-01-02Z', 2);`,
    });
    await t.migrate('up');
  });
  afterAll(() => t.drop());

  it('fails alone, naming the trade; its previous allocations stay; the run is logged failed', async () => {
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
    const before = await t.query(`SELECT sell_order_id, pnl_usd::text FROM fifo_allocations WHERE symbol = 'BBB-USD'`);
    expect(before).toEqual([{ sell_order_id: 'b2', pnl_usd: '2' }]);
    // a legacy-style write that bypasses the (NOT VALID) rule is impossible now, so break a
    // legacy row the way old data is broken: drop the rule, write, restore it NOT VALID
    await t.query(`ALTER TABLE trade_records DROP CONSTRAINT trade_records_side_must_be_buy_or_sell;
                   UPDATE trade_records SET side = 'hold', price = 13 WHERE order_id = 'b2';
                   ALTER TABLE trade_records ADD CONSTRAINT trade_records_side_must_be_buy_or_sell CHECK (side IN ('buy', 'sell')) NOT VALID;
                   UPDATE trade_records SET price = 12 WHERE order_id = 'a2';`);
    const r = await runFifo(['compute', '--json'], { DATABASE_URL: t.url });
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ status: 'failed', symbolsComputed: 1, symbolsFailed: 1 });
    expect(s.failures[0].symbol).toBe('BBB-USD');
    expect(s.failures[0].error).toMatch(/b2/);
    expect(s.failures[0].error).toMatch(/side/);
    expect(await t.query(`SELECT sell_order_id, pnl_usd::text FROM fifo_allocations WHERE symbol = 'BBB-USD'`)).toEqual(before);
    expect(await t.query(`SELECT pnl_usd::text FROM fifo_allocations WHERE symbol = 'AAA-USD'`)).toEqual([{ pnl_usd: '2' }]);
    const [log] = await t.query<{ status: string; error: string }>(`SELECT status, error FROM fifo_computation_log ORDER BY computation_id DESC LIMIT 1`);
    expect(log!.status).toBe('failed');
    expect(log!.error).toMatch(/BBB-USD: .*b2/);
  });
});

describe('a run with nothing to compute', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b1', 'SOL-USD', 'buy', 1, 10, '2025-01-01Z')`);
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
  });
  afterAll(() => t.drop());

  it('is logged when the CLI asks, and leaves no run row when watch asks (logEmptyRun: false)', async () => {
    const runs = async () => (await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM fifo_computation_log`))[0]!.n;
    const before = await runs();
    const client = await connect(t.url);
    const session = await openProcedureSession(client, t.url, testHost());
    try {
      const quiet = await runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true, logEmptyRun: false });
      expect(quiet).toMatchObject({ computationId: null, symbolsConsidered: 0 });
      expect(await runs()).toBe(before);
      const logged = await runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true });
      expect(logged.computationId).not.toBeNull();
      expect(await runs()).toBe(before + 1);
    } finally {
      await session.close();
      await client.end();
    }
  });
});
