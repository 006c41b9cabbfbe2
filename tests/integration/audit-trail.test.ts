/**
 * What the audit trail guarantees, and what v_audit_trail_discrepancies finds when the owner
 * or a superuser changed facts with the ledger trigger off (DISABLE TRIGGER,
 * session_replication_role = replica): facts with no audit row, facts that differ from their
 * latest audit row, audited facts that are gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const insert = (rows: string) =>
  `INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES ${rows}`;

let t: TestSchema | undefined;
afterEach(async () => {
  await t?.drop();
  t = undefined;
});

async function discrepancies(s: TestSchema): Promise<Array<{ order_id: string; check_name: string }>> {
  return s.query(`SELECT order_id, check_name FROM v_audit_trail_discrepancies ORDER BY order_id, check_name`);
}

describe('v_audit_trail_discrepancies', () => {
  it('has exactly the columns of v_allocation_discrepancies', async () => {
    t = await createTestSchema();
    const cols = (view: string) => t!.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [t!.schema, view]);
    expect(await cols('v_audit_trail_discrepancies')).toEqual(await cols('v_allocation_discrepancies'));
    expect((await cols('v_audit_trail_discrepancies')).map((c) => c.column_name)).toEqual(
      ['allocation_version', 'symbol', 'order_id', 'check_name', 'expected', 'actual', 'details']);
  });

  it('is empty for changes made through the trigger, read in any time zone', async () => {
    t = await createTestSchema();
    await t.query(`SET TimeZone = 'America/New_York'`);
    await t.query(insert(`('a', 'SOL-USD', 'buy', 1.50, 10, 0.1, '2025-01-01 12:00Z'), ('b', 'SOL-USD', 'sell', 1, 12, 0, '2025-01-02Z'),
                          ('c', 'BTC-USD', 'buy', 2, 100, 0, '2025-01-03Z')`));
    await t.query(`UPDATE trade_records SET price = 11, order_time = '2025-01-01 13:00+05' WHERE order_id = 'a'`);
    await t.query(`UPDATE trade_records SET symbol = 'ETH-USD' WHERE order_id = 'c'`);
    await t.query(`DELETE FROM trade_records WHERE order_id = 'b'`);
    await t.query(insert(`('b', 'SOL-USD', 'sell', 1, 13, 0, '2025-01-04Z')`)); // an order id used again after its delete
    await t.query(`SET TimeZone = 'Asia/Tokyo'`);
    expect(await discrepancies(t)).toEqual([]);
  });

  it('lists what was changed with the trigger disabled or in replica mode', async () => {
    t = await createTestSchema();
    await t.query(insert(`('f1', 'SOL-USD', 'buy', 1, 10, 0, '2025-01-01Z'), ('f2', 'SOL-USD', 'buy', 1, 10, 0, '2025-01-02Z'),
                          ('f3', 'SOL-USD', 'sell', 1, 12, 0, '2025-01-03Z'), ('f5', 'SOL-USD', 'buy', 3, 9, 0, '2025-01-04Z')`));
    await t.query(`ALTER TABLE trade_records DISABLE TRIGGER USER`);
    await t.query(insert(`('f4', 'SOL-USD', 'buy', 5, 1, 0, '2025-01-05Z')`));
    await t.query(`UPDATE trade_records SET price = 1000 WHERE order_id = 'f1'`);
    await t.query(`DELETE FROM trade_records WHERE order_id = 'f2'`);
    await t.query(`ALTER TABLE trade_records ENABLE TRIGGER USER`);
    await t.query(`SET session_replication_role = replica`);
    await t.query(`UPDATE trade_records SET size = 0.5 WHERE order_id = 'f3'`);
    await t.query(`RESET session_replication_role`);
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records_audit`)).toEqual([{ n: 4 }]); // none of it audited
    expect(await discrepancies(t)).toEqual([
      { order_id: 'f1', check_name: 'fact_differs_from_audit' },
      { order_id: 'f2', check_name: 'audited_fact_missing' },
      { order_id: 'f3', check_name: 'fact_differs_from_audit' },
      { order_id: 'f4', check_name: 'fact_not_audited' },
    ]);
    const [f1] = await t.query<{ expected: string; actual: string; allocation_version: number | null; symbol: string }>(
      `SELECT allocation_version, symbol, expected, actual FROM v_audit_trail_discrepancies WHERE order_id = 'f1'`);
    expect(f1).toMatchObject({ allocation_version: null, symbol: 'SOL-USD' });
    expect(JSON.parse(f1!.expected)).toMatchObject({ price: 10 });
    expect(JSON.parse(f1!.actual)).toMatchObject({ price: 1000 });
    // a fact deleted through the trigger but put back behind its back
    await t.query(`DELETE FROM trade_records WHERE order_id = 'f5'`);
    await t.query(`SET session_replication_role = replica`);
    await t.query(insert(`('f5', 'SOL-USD', 'buy', 3, 9, 0, '2025-01-04Z')`));
    await t.query(`RESET session_replication_role`);
    expect((await discrepancies(t)).filter((d) => d.order_id === 'f5')).toEqual([{ order_id: 'f5', check_name: 'fact_differs_from_audit' }]);
    // the invariants include them, so `fifo validate` fails and names them
    expect(await t.query(`SELECT order_id, check_name FROM v_allocation_discrepancies WHERE allocation_version IS NULL
                           ORDER BY order_id, check_name`)).toEqual(await discrepancies(t));
    const validated = await runFifo(['validate'], { DATABASE_URL: t.url });
    expect(validated.code).toBe(1);
    expect(validated.stdout + validated.stderr).toMatch(/fact_differs_from_audit/);
    // the reader sees it too
    await t.query('BEGIN');
    await t.query('SET LOCAL ROLE fifo_reader');
    expect((await discrepancies(t)).length).toBe(5);
    await t.query('ROLLBACK');
  });

  it('does not count the facts of an adopted ledger that predate the adoption', async () => {
    t = await createTestSchema({
      migrated: false,
      before: `CREATE TABLE trade_records (id serial PRIMARY KEY, order_id text NOT NULL, symbol text NOT NULL, side text NOT NULL,
                 size numeric NOT NULL, price numeric NOT NULL, order_time timestamptz NOT NULL, pnl_usd numeric);
               INSERT INTO trade_records (order_id, symbol, side, size, price, order_time, pnl_usd)
               VALUES ('l1', 'SOL-USD', 'buy', 1, 10, '2025-01-01Z', NULL), ('l2', 'SOL-USD', 'sell', 1, 12, '2025-01-02Z', 2);`,
    });
    await t.migrate('up');
    expect(await discrepancies(t)).toEqual([]);
    await t.query(`ALTER TABLE trade_records DISABLE TRIGGER USER`);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('n1', 'SOL-USD', 'buy', 1, 10, '2025-02-01Z')`);
    await t.query(`ALTER TABLE trade_records ENABLE TRIGGER USER`);
    expect(await discrepancies(t)).toEqual([{ order_id: 'n1', check_name: 'fact_not_audited' }]);
  });

  it('cannot be edited by the roles, and refuses even the owner an update, delete or truncate', async () => {
    t = await createTestSchema();
    await t.query(insert(`('a', 'SOL-USD', 'buy', 1, 10, 0, '2025-01-01Z')`));
    for (const role of ['fifo_writer', 'fifo_reader', 'fifo_engine']) {
      for (const sql of [`UPDATE trade_records_audit SET new_fact = NULL`, `DELETE FROM trade_records_audit`, `TRUNCATE trade_records_audit`,
        `INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time) VALUES ('INSERT', 'SOL-USD', 'x', now())`,
        `ALTER TABLE trade_records DISABLE TRIGGER USER`, `SET session_replication_role = replica`]) {
        await t.query('BEGIN');
        await t.query(`SET LOCAL ROLE ${role}`);
        await expect(t.query(sql), `${role}: ${sql}`).rejects.toMatchObject({ code: '42501' });
        await t.query('ROLLBACK');
      }
    }
    for (const sql of [`UPDATE trade_records_audit SET new_fact = NULL`, `DELETE FROM trade_records_audit`, `TRUNCATE trade_records_audit`]) {
      await expect(t.query(sql)).rejects.toThrow(/append-only/);
    }
  });
});
