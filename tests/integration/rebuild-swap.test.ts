/**
 * Issue 11: `fifo compute --force` over every symbol builds the version's rows in a stage
 * table and swaps it in as the version's partition; what it did not compute keeps its rows;
 * a stage left by a dead run is dropped by the next run.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { urlAsOf } from '../helpers/as-of.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const stages = (t: TestSchema) => t.query<{ relname: string }>(
  `SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relname LIKE 'fifo\\_allocations\\_v%\\_stage\\_%'`);
const partitionOid = async (t: TestSchema, v: number) =>
  (await t.query<{ oid: string }>(`SELECT to_regclass('fifo_allocations_v' || $1::int)::oid::text AS oid`, [v]))[0]!.oid;

describe('a full recompute of a whole version', () => {
  let t: TestSchema;
  // the runs judge long_held_lot items as of one time, months after the ledger (its open lots
  // are long held): the rebuild's items must be the live computation's
  let url: string;
  beforeAll(async () => {
    t = await createTestSchema();
    url = urlAsOf(t.url, '2026-09-01T00:00Z');
    await insertTrades(t.client, generateLedger({ trades: 3_000, symbols: 12, seed: 31, oversellRate: 0.01 }));
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'fifo')`);
  });
  afterAll(() => t.drop());

  it('swaps in a new partition holding exactly the rows a live computation writes', async () => {
    expect((await runFifo(['compute'], { DATABASE_URL: url })).code).toBe(0);
    expect((await runFifo(['compute', '--version', '2'], { DATABASE_URL: url })).code).toBe(0);
    const before = await partitionOid(t, 1);
    const r = await runFifo(['compute', '--force', '--batch-trades', '700', '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', symbolsComputed: 12, mode: 'full' });
    expect(await partitionOid(t, 1)).not.toBe(before);
    expect(await allocationChecksum(t, 1)).toEqual(await allocationChecksum(t, 2));
    expect(await t.query(`SELECT count(DISTINCT computation_id)::int AS n FROM fifo_allocations WHERE allocation_version = 1`)).toEqual([{ n: 1 }]);
    expect(await stages(t)).toEqual([]);
    expect(await t.query(`SELECT count(*)::int AS n FROM fifo_rebuild_symbols`)).toEqual([{ n: 0 }]);
    expect(await t.query(`SELECT * FROM v_allocation_discrepancies`)).toEqual([]);
    // the snapshots and review items are the rebuild's
    const [cid] = await t.query<{ id: string }>(`SELECT max(computation_id)::text AS id FROM fifo_computation_log`);
    expect(await t.query(`SELECT count(*)::int AS n FROM fifo_inventory_snapshot WHERE allocation_version = 1 AND computation_id <> $1`, [cid!.id]))
      .toEqual([{ n: 0 }]);
    expect(await t.query(`SELECT x::text FROM (SELECT symbol, order_id, severity, status, details FROM manual_review_queue WHERE allocation_version = 1 ORDER BY 1, 2) x`))
      .toEqual(await t.query(`SELECT x::text FROM (SELECT symbol, order_id, severity, status, details FROM manual_review_queue WHERE allocation_version = 2 ORDER BY 1, 2) x`));
    expect(await t.query(`SELECT count(*) > 0 AS some FROM manual_review_queue WHERE allocation_version = 1 AND issue_type = 'long_held_lot'`))
      .toEqual([{ some: true }]);
  });

  it('drops the stage a dead run left behind, at the next run', async () => {
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    const [{ id }] = (await c.query<{ id: string }>(
      `INSERT INTO fifo_computation_log (allocation_version, mode, host, runner)
       VALUES (1, 'full', 'client', jsonb_build_object('backend_pid', pg_backend_pid())) RETURNING computation_id::text AS id`)).rows as [{ id: string }];
    await c.query(`SELECT fifo_rebuild_begin(1, $1, true)`, [id]);
    await c.end(); // the runner dies: its session, its lock and its run go
    expect((await stages(t)).map((s) => s.relname)).toEqual([`fifo_allocations_v1_stage_${id}`]);
    const rows = await allocationChecksum(t, 1);
    expect((await runFifo(['compute'], { DATABASE_URL: url })).code).toBe(0);
    expect(await stages(t)).toEqual([]);
    expect(await allocationChecksum(t, 1)).toEqual(rows);
  });
});
