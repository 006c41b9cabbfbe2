/**
 * fifo_run (the in-database scheduler entry point) hands fifo_compute whole symbols in batches
 * of about 25,000 trades, like the runner, so one call never holds the whole ledger in PLV8's
 * isolate; the run's result and log sum the batches. fifo_compute is replaced here by a
 * recording SQL function of the same signature and result shape (PLV8 is not installed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

describe('fifo_run batches', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    await t.query(`CREATE TABLE compute_calls (n serial PRIMARY KEY, symbols text[], mode text)`);
    await t.query(`CREATE OR REPLACE FUNCTION fifo_compute(allocation_version int, symbols text[], mode text, computation_id bigint)
      RETURNS jsonb LANGUAGE plpgsql AS $$
      DECLARE outcomes jsonb;
      BEGIN
        INSERT INTO compute_calls (symbols, mode) VALUES (fifo_compute.symbols, fifo_compute.mode);
        SELECT coalesce(jsonb_agg(jsonb_build_object('symbol', s, 'status', CASE WHEN s = 'BAD-USD' THEN 'failed' ELSE 'ok' END,
                 'trades', (SELECT count(*) FROM trade_records r WHERE r.symbol = s),
                 -- as fifo_compute: a failed symbol wrote nothing
                 'allocations', CASE WHEN s = 'BAD-USD' THEN 0 ELSE 2 END, 'unmatched', CASE WHEN s = 'BAD-USD' THEN 0 ELSE 1 END,
                 'error', CASE WHEN s = 'BAD-USD' THEN 'bad trade' END) ORDER BY s), '[]')
          INTO outcomes FROM unnest(fifo_compute.symbols) s;
        RETURN jsonb_build_object('allocationVersion', allocation_version, 'mode', fifo_compute.mode, 'method', 'fifo',
          'symbols', outcomes,
          'tradesProcessed', (SELECT coalesce(sum((o ->> 'trades')::int), 0) FROM jsonb_array_elements(outcomes) o WHERE o ->> 'status' = 'ok'),
          'allocationsWritten', (SELECT coalesce(sum((o ->> 'allocations')::int), 0) FROM jsonb_array_elements(outcomes) o),
          'unmatchedCount', (SELECT coalesce(sum((o ->> 'unmatched')::int), 0) FROM jsonb_array_elements(outcomes) o),
          'symbolsFailed', (SELECT count(*) FROM jsonb_array_elements(outcomes) o WHERE o ->> 'status' = 'failed'),
          'timings', jsonb_build_object('readMs', 1, 'allocateMs', 2, 'writeMs', 3));
      END $$`);
    await t.query(`COMMENT ON FUNCTION fifo_compute(int, text[], text, bigint) IS NULL`); // not the stand-in
  });
  afterAll(() => t.drop());

  async function calls(): Promise<Array<{ symbols: string[]; mode: string }>> {
    return t.query(`SELECT symbols, mode FROM compute_calls ORDER BY n`);
  }

  it('runs one call over no symbols, with the procedure\'s result shape', async () => {
    const [r] = await t.query<{ r: Record<string, unknown> }>(`SELECT fifo_run(1, 'full') AS r`);
    expect(r!.r).toMatchObject({ symbols: [], tradesProcessed: 0, symbolsFailed: 0, method: 'fifo' });
    // a full run rebuilds the version apart and swaps it in (013): its calls write the stage
    expect(await calls()).toEqual([{ symbols: [], mode: 'rebuild' }]);
    expect(r!.r).toMatchObject({ mode: 'full' });
  });

  it('splits the ledger into whole symbols of at most 25,000 trades per call (one bigger symbol alone), and sums them', async () => {
    await t.query(`DELETE FROM compute_calls`);
    // C order: AAA 30,000 (alone), BBB 10,000 + CCC 10,000, then DDD 6,000 + EEE 1
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   SELECT s || '-' || i, s, 'buy', 1, 1, '2025-01-01Z'::timestamptz + i * interval '1 s'
                     FROM (VALUES ('AAA-USD', 30000), ('BBB-USD', 10000), ('CCC-USD', 10000), ('DDD-USD', 6000), ('BAD-USD', 1), ('EEE-USD', 1)) v(s, n),
                          generate_series(1, n) i`);
    const [r] = await t.query<{ r: Record<string, unknown> }>(`SELECT fifo_run(1, 'incremental') AS r`);
    expect(await calls()).toEqual([
      { symbols: ['AAA-USD'], mode: 'incremental' },
      { symbols: ['BAD-USD', 'BBB-USD', 'CCC-USD'], mode: 'incremental' },
      { symbols: ['DDD-USD', 'EEE-USD'], mode: 'incremental' },
    ]);
    expect(r!.r).toMatchObject({
      allocationVersion: 1, mode: 'incremental', method: 'fifo', tradesProcessed: 56001, allocationsWritten: 10,
      unmatchedCount: 5, symbolsFailed: 1, timings: { readMs: 3, allocateMs: 6, writeMs: 9 },
    });
    expect((r!.r.symbols as Array<{ symbol: string }>).map((s) => s.symbol)).toEqual(['AAA-USD', 'BAD-USD', 'BBB-USD', 'CCC-USD', 'DDD-USD', 'EEE-USD']);
    expect(await t.query(`SELECT status, trades_processed::int, allocations_written::int, symbols_computed, symbols_failed, error
                            FROM fifo_computation_log WHERE computation_id = $1`, [r!.r.computationId]))
      .toEqual([{ status: 'failed', trades_processed: 56001, allocations_written: 10, symbols_computed: 5, symbols_failed: 1, error: 'BAD-USD: bad trade' }]);
  });

  it('includes in a full run a symbol that has transfers and no fill', async () => {
    await t.query(`DELETE FROM compute_calls`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
                   VALUES ('t-only', 'ZZZ-USD', 'a', 'b', 1, '2025-02-01Z')`);
    await t.query(`SELECT fifo_run(1, 'full')`);
    expect((await calls()).flatMap((c) => c.symbols)).toContain('ZZZ-USD');
  });

  it('refuses a bad mode before anything else, PLV8 or not', async () => {
    await expect(t.query(`SELECT fifo_run(1, 'sideways')`)).rejects.toMatchObject({ code: '22023', message: 'fifo_run: p_mode must be full or incremental, got sideways' });
    await expect(t.query(`SELECT fifo_run(1, NULL)`)).rejects.toMatchObject({ code: '22023' });
  });
});
