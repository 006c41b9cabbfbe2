/**
 * Incremental = full recompute, row for row, on a real database: random sequences of
 * in-order, late and back-dated inserts, corrections and deletes, interleaved with
 * incremental runs into version 1, end equal to a from-scratch computation into version 2.
 * Each sequence works on symbols of its own, so sequences share one migrated schema.
 */
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHost } from '../helpers/host.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import type { ProcedureSession } from '../../packages/cli/src/compute/procedure-host.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const SEQUENCES = Number(process.env.FIFO_INCREMENTAL_SEQUENCES ?? 200);

type Op =
  | { kind: 'insert'; sym: number; side: 'buy' | 'sell'; size: number; price: number; fee: number; minute: number }
  | { kind: 'update'; pick: number; size: number; price: number; minute: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'run' };

const amount = (units: number, scale: number) => (units / 10 ** scale).toFixed(scale); // small ints: exact text
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
      kind: fc.constant('insert' as const), sym: fc.nat(1), side: fc.constantFrom('buy' as const, 'sell' as const),
      size: fc.integer({ min: 1, max: 5000 }), price: fc.integer({ min: 1, max: 100_000 }), fee: fc.nat(500),
      minute: fc.integer({ min: 0, max: 120 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), size: fc.integer({ min: 1, max: 5000 }),
      price: fc.integer({ min: 1, max: 100_000 }), minute: fc.integer({ min: 0, max: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'run' as const }) },
);

describe('incremental computation', () => {
  let t: TestSchema;
  let client: pg.Client;
  let session: ProcedureSession;
  let seq = 0;

  beforeAll(async () => {
    t = await createTestSchema();
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method, description) VALUES (2, 'fifo', 'full recompute reference')`);
    client = t.client;
    session = await openProcedureSession(client, t.url, testHost());
  });
  afterAll(async () => {
    await session.close();
    await t.drop();
  });

  async function rows(version: number, symbols: string[]): Promise<string[]> {
    const r = await t.query<{ line: string }>(
      `SELECT concat_ws('|', symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price,
                        buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd) AS line
         FROM fifo_allocations WHERE allocation_version = $1 AND symbol = ANY ($2)
        ORDER BY symbol COLLATE "C", sell_order_id COLLATE "C", allocation_seq`, [version, symbols]);
    return r.map((x) => x.line);
  }

  it(`ends equal to a full recompute over ${SEQUENCES} random sequences`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        seq += 1;
        const symbols = [`Q${seq}A-USD`, `Q${seq}B-USD`];
        const ids: string[] = [];
        let n = 0;
        const base = Date.UTC(2026, 0, 1);
        const incremental = () => runCompute(client, session, { version: 1, symbols, force: false, incremental: true, strictSymbols: false });
        for (const op of ops) {
          if (op.kind === 'insert') {
            const id = `q${seq}-${n++}`;
            ids.push(id);
            await client.query(
              `INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
              [id, symbols[op.sym], op.side, amount(op.size, 3), amount(op.price, 2), amount(op.fee, 4), new Date(base + op.minute * 60_000)]);
          } else if (op.kind === 'update' && ids.length > 0) {
            await client.query(`UPDATE trade_records SET size = $2, price = $3, order_time = $4 WHERE order_id = $1`,
              [ids[op.pick % ids.length], amount(op.size, 3), amount(op.price, 2), new Date(base + op.minute * 60_000)]);
          } else if (op.kind === 'delete' && ids.length > 0) {
            const [id] = ids.splice(op.pick % ids.length, 1);
            await client.query(`DELETE FROM trade_records WHERE order_id = $1`, [id]);
          } else if (op.kind === 'run') {
            expect((await incremental()).status).toBe('success');
          }
        }
        expect((await incremental()).status).toBe('success');
        const full = await runCompute(client, session, { version: 2, symbols, force: true, strictSymbols: false });
        expect(full.status).toBe('success');
        expect(await rows(1, symbols)).toEqual(await rows(2, symbols));
        const snaps = await t.query(
          `SELECT symbol, allocation_version, open_lots, watermark_time, watermark_order_id, trades_processed
             FROM fifo_inventory_snapshot WHERE symbol = ANY ($1) ORDER BY symbol, allocation_version`, [symbols]);
        for (let i = 0; i < snaps.length; i += 2) {
          const { allocation_version: _a, ...inc } = snaps[i]!;
          const { allocation_version: _b, ...ref } = snaps[i + 1]!;
          expect(inc).toEqual(ref);
        }
      }),
      { numRuns: SEQUENCES, seed: Number(process.env.FIFO_PROPERTY_SEED ?? 20261122) },
    );
    const [{ n }] = (await t.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM fifo_computation_log WHERE mode = 'incremental'`)) as [{ n: number }];
    expect(n).toBeGreaterThanOrEqual(SEQUENCES);
    expect(await t.query(`SELECT * FROM v_allocation_discrepancies`)).toEqual([]);
  });
});
