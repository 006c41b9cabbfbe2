/**
 * Issue 11: fifo_compute streams a symbol through the engine in parts (a cursor, the engine's
 * resumable state, rows written per part). With parts of a few hundred trades (setting
 * fifo.compute_part_trades, for tests) every row, snapshot and review item equals the
 * whole-symbol computation, incrementally too, and a bad trade late in a streamed symbol
 * fails that symbol alone, leaving its previous allocations as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { urlAsOf } from '../helpers/as-of.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

function withParts(url: string, parts: number): string {
  const u = new URL(url);
  u.searchParams.set('options', `${u.searchParams.get('options') ?? ''} -c fifo.compute_part_trades=${parts}`);
  return u.toString();
}

const snapshots = (t: TestSchema, v: number) => t.query(
  `SELECT symbol, open_lots::text, open_lot_count, open_size::text, watermark_time, watermark_side, watermark_order_id,
          trades_processed::int, last_audit_id::text
     FROM fifo_inventory_snapshot WHERE allocation_version = $1 ORDER BY symbol`, [v]);
const reviews = (t: TestSchema, v: number) => t.query(
  `SELECT symbol, order_id, severity, status, details::text FROM manual_review_queue WHERE allocation_version = $1 ORDER BY symbol, order_id`, [v]);

describe('a symbol streamed through the engine in parts', () => {
  let t: TestSchema;
  // every run judges long_held_lot items as of one time, months after the ledger: its open lots
  // are long held, and the items of the runs in parts must equal the whole-symbol ones
  let url: string;
  beforeAll(async () => {
    t = await createTestSchema();
    url = urlAsOf(t.url, '2026-09-01T00:00Z');
    await insertTrades(t.client, generateLedger({ trades: 4_000, symbols: 3, seed: 21, oversellRate: 0.02 }));
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'fifo'), (3, 'hifo'), (4, 'hifo')`);
  });
  afterAll(() => t.drop());

  it('gives the rows, snapshots and review items of the whole-symbol computation', async () => {
    expect((await runFifo(['compute', '--version', '1'], { DATABASE_URL: url })).code).toBe(0);
    expect((await runFifo(['compute', '--version', '2'], { DATABASE_URL: withParts(url, 97) })).code).toBe(0);
    expect((await runFifo(['compute', '--version', '3'], { DATABASE_URL: url })).code).toBe(0);
    expect((await runFifo(['compute', '--version', '4'], { DATABASE_URL: withParts(url, 50) })).code).toBe(0);
    const one = await allocationChecksum(t, 1);
    expect(one.rows).toBeGreaterThan(1000);
    expect(await allocationChecksum(t, 2)).toEqual(one);
    expect(await allocationChecksum(t, 4)).toEqual(await allocationChecksum(t, 3));
    expect(await snapshots(t, 2)).toEqual(await snapshots(t, 1));
    expect(await snapshots(t, 4)).toEqual(await snapshots(t, 3));
    expect((await reviews(t, 1)).length).toBeGreaterThan(0);
    expect(await t.query(`SELECT count(*) > 0 AS some FROM manual_review_queue WHERE allocation_version = 1 AND issue_type = 'long_held_lot'`))
      .toEqual([{ some: true }]);
    expect(await reviews(t, 2)).toEqual(await reviews(t, 1));
    expect(await reviews(t, 4)).toEqual(await reviews(t, 3));
  });

  it('continues incrementally in parts to the same result', async () => {
    const more = generateLedger({ trades: 900, symbols: 3, seed: 22, oversellRate: 0.02 })
      .map((x) => ({ ...x, order_id: `late-${x.order_id}`, order_time: x.order_time.replace(/^\d{4}/, '2099') }));
    await insertTrades(t.client, more);
    expect((await runFifo(['compute', '--version', '1', '--incremental'], { DATABASE_URL: withParts(url, 40) })).code).toBe(0);
    expect((await runFifo(['compute', '--version', '2', '--force'], { DATABASE_URL: url })).code).toBe(0);
    expect(await allocationChecksum(t, 1)).toEqual(await allocationChecksum(t, 2));
    expect(await snapshots(t, 1)).toEqual(await snapshots(t, 2));
    expect(await reviews(t, 1)).toEqual(await reviews(t, 2));
  });
});

describe('a bad trade late in a streamed symbol', () => {
  let t: TestSchema;
  beforeAll(async () => {
    // only an adopted ledger can hold bad facts: its legacy rows predate the rules
    t = await createTestSchema({
      migrated: false,
      before: `CREATE TABLE trade_records (order_id text PRIMARY KEY, symbol text NOT NULL, side text NOT NULL,
                 size numeric NOT NULL, price numeric NOT NULL, total_fees_usd numeric NOT NULL DEFAULT 0,
                 order_time timestamptz NOT NULL);
               INSERT INTO trade_records
               SELECT 'b' || i, 'BBB-USD', CASE WHEN i % 2 = 1 THEN 'buy' ELSE 'sell' END, 1, 10 + i, 0,
                      '2026-01-01Z'::timestamptz + i * interval '1 minute' FROM generate_series(1, 40) i;
               INSERT INTO trade_records VALUES ('a1', 'AAA-USD', 'buy', 1, 10, 0, '2026-01-01Z'), ('a2', 'AAA-USD', 'sell', 1, 11, 0, '2026-01-02Z');`,
    });
    await t.migrate('up');
  });
  afterAll(() => t.drop());

  it('fails that symbol alone, naming the trade, and keeps its previous allocations', async () => {
    expect((await runFifo(['compute'], { DATABASE_URL: withParts(t.url, 7) })).code).toBe(0);
    const before = await t.query(`SELECT a::text FROM fifo_allocations a WHERE symbol = 'BBB-USD' ORDER BY sell_order_id, allocation_seq`);
    expect(before).toHaveLength(20);
    await t.query(`ALTER TABLE trade_records DROP CONSTRAINT trade_records_side_must_be_buy_or_sell;
                   UPDATE trade_records SET side = 'hold' WHERE order_id = 'b36';
                   ALTER TABLE trade_records ADD CONSTRAINT trade_records_side_must_be_buy_or_sell CHECK (side IN ('buy', 'sell')) NOT VALID;
                   UPDATE trade_records SET price = 12 WHERE order_id IN ('a2', 'b1')`);
    const r = await runFifo(['compute', '--json'], { DATABASE_URL: withParts(t.url, 7) });
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ status: 'failed', symbolsComputed: 1, symbolsFailed: 1 });
    expect(s.failures[0]).toMatchObject({ symbol: 'BBB-USD', trades: 40 });
    expect(s.failures[0].error).toMatch(/b36/);
    expect(await t.query(`SELECT a::text FROM fifo_allocations a WHERE symbol = 'BBB-USD' ORDER BY sell_order_id, allocation_seq`)).toEqual(before);
    expect(await t.query(`SELECT pnl_usd::text FROM fifo_allocations WHERE symbol = 'AAA-USD'`)).toEqual([{ pnl_usd: '2' }]);
  });
});
