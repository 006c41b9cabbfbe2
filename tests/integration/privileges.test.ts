/**
 * Roles: a reader cannot change allocations, a writer cannot forge them, nobody can edit
 * the audit trail, and the engine computes with only its own rights.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

describe('roles fifo_writer, fifo_reader, fifo_engine', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  /** Runs `sql` as `role` inside a transaction that is rolled back. */
  async function as(role: string, sql: string, params: unknown[] = []): Promise<unknown[]> {
    await t.query('BEGIN');
    try {
      await t.query(`SET LOCAL ROLE ${role}`);
      return await t.query(sql, params);
    } finally {
      await t.query('ROLLBACK');
    }
  }
  const denied = /permission denied/;

  it('lets the writer insert and correct facts, audited through the trigger', async () => {
    await t.query('BEGIN');
    await t.query('SET LOCAL ROLE fifo_writer');
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('w1', 'SOL-USD', 'buy', 1, 10, now())`);
    await t.query(`UPDATE trade_records SET price = 11 WHERE order_id = 'w1'`);
    await t.query('RESET ROLE');
    const audit = await t.query(`SELECT operation, changed_by FROM trade_records_audit WHERE order_id = 'w1' ORDER BY audit_id`);
    await t.query('ROLLBACK');
    expect(audit).toEqual([{ operation: 'INSERT', changed_by: 'fifo_writer' }, { operation: 'UPDATE', changed_by: 'fifo_writer' }]);
  });

  it('keeps the writer from forging allocations or touching the audit trail', async () => {
    await expect(as('fifo_writer', `INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, allocated_size, sell_price, sell_time, sell_fee_usd, proceeds_usd)
                                      VALUES (1, 'SOL-USD', 'x', 1, 1, 1, now(), 0, 1)`)).rejects.toThrow(denied);
    await expect(as('fifo_writer', `INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time) VALUES ('INSERT', 'SOL-USD', 'x', now())`)).rejects.toThrow(denied);
    await expect(as('fifo_writer', `DELETE FROM trade_records_audit`)).rejects.toThrow(denied);
    await expect(as('fifo_writer', `UPDATE fifo_dirty_symbols SET dirty_from = now()`)).rejects.toThrow(denied);
    await expect(as('fifo_writer', `SELECT * FROM v_pnl_by_symbol`)).rejects.toThrow(denied);
  });

  it('lets the reader read the views and nothing else', async () => {
    expect(await as('fifo_reader', `SELECT * FROM v_pnl_by_symbol`)).toEqual([]);
    expect(await as('fifo_reader', `SELECT count(*)::int AS n FROM v_allocation_discrepancies`)).toEqual([{ n: 0 }]);
    expect((await as('fifo_reader', `SELECT * FROM v_allocation_health`)).length).toBe(1);
    await expect(as('fifo_reader', `SELECT * FROM fifo_allocations`)).rejects.toThrow(denied);
    await expect(as('fifo_reader', `DELETE FROM fifo_allocations`)).rejects.toThrow(denied);
    await expect(as('fifo_reader', `UPDATE manual_review_queue SET status = 'ignored'`)).rejects.toThrow(denied);
    await expect(as('fifo_reader', `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('r', 'SOL-USD', 'buy', 1, 1, now())`)).rejects.toThrow(denied);
  });

  it('lets nobody edit the audit trail, not even the engine or the owner', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('a1', 'SOL-USD', 'buy', 1, 10, now())`);
    for (const role of ['fifo_engine', 'fifo_reader', 'fifo_writer']) {
      await expect(as(role, `UPDATE trade_records_audit SET symbol = 'X-Y'`)).rejects.toThrow(denied);
      await expect(as(role, `DELETE FROM trade_records_audit`)).rejects.toThrow(denied);
    }
    await expect(t.query(`DELETE FROM trade_records_audit`)).rejects.toThrow(/append-only/);
    await expect(t.query(`UPDATE trade_records_audit SET symbol = 'X-Y'`)).rejects.toThrow(/append-only/);
  });

  it('lets the engine compute (Node host) with its own rights only', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('s1', 'SOL-USD', 'sell', 0.5, 12, now() + interval '1 s')`);
    const u = new URL(t.url);
    u.searchParams.set('options', `${u.searchParams.get('options')} -c role=fifo_engine`);
    const r = await runFifo(['compute', '--json'], { DATABASE_URL: u.toString() });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', allocationsWritten: 1 });
    expect((await runFifo(['validate'], { DATABASE_URL: u.toString() })).code).toBe(0);
    await expect(as('fifo_engine', `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('e', 'SOL-USD', 'buy', 1, 1, now())`)).rejects.toThrow(denied);
    expect(await t.query(`SELECT proname, proconfig FROM pg_proc WHERE proname IN ('fifo_record_fact_changes', 'fifo_run')
                            AND pronamespace = $1::regnamespace ORDER BY 1`, [t.schema]))
      .toEqual([
        { proname: 'fifo_record_fact_changes', proconfig: [`search_path=${t.schema}`] },
        { proname: 'fifo_run', proconfig: [`search_path=${t.schema}`] },
      ]);
  });
});
