/**
 * Migration 024: the accounts' invariants are queries in v_allocation_discrepancies (and so in
 * fifo validate): a row's account is its sell's; under per_account pooling a lot is consumed
 * only in an account it was bought in or moved into before the sell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { testHost } from '../helpers/host.ts';

describe('account checks', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  const found = (v: number) => t.query(`SELECT check_name, order_id, expected, actual FROM v_allocation_discrepancies
                                         WHERE allocation_version = $1 AND check_name IN ('row_account_is_sell_account', 'lot_not_in_sell_account')
                                         ORDER BY 1, 2`, [v]);
  beforeAll(async () => {
    t = await createTestSchema({ prefix: 'acct' });
    env = { DATABASE_URL: t.url };
    // b1 bought on A, moved to B, sold on B; b2 bought on B and sold there
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, account) VALUES
      ('b1', 'SOL-USD', 'buy',  2, 10, 0.2, '2025-01-01Z', 'A'),
      ('b2', 'SOL-USD', 'buy',  1, 12, 0,   '2025-01-02Z', 'B'),
      ('s1', 'SOL-USD', 'sell', 2, 15, 0,   '2025-01-05Z', 'B')`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
                   VALUES ('t1', 'SOL-USD', 'A', 'B', 1, '2025-01-03Z')`);
    expect((await runFifo(['versions', 'add', '--number', '2', '--method', 'fifo', '--pooling', 'per_account'], env)).code).toBe(0);
    for (const v of ['1', '2']) expect((await runFifo(['compute', '--version', v, '--host', testHost()], env)).code).toBe(0);
  });
  afterAll(() => t.drop());

  it('finds nothing on what the engine computed, in either pooling; validate agrees', async () => {
    expect(await found(1)).toEqual([]);
    expect(await found(2)).toEqual([]);
    expect((await runFifo(['validate', '--version', '2'], env)).code).toBe(0);
  });

  it('names a row whose account is not its sell\'s, and a lot consumed in an account it never reached', async () => {
    await t.query('BEGIN');
    try {
      // move the transfer after the sell: b1's piece could not be in B when s1 consumed it
      await t.query(`UPDATE trade_transfers SET transfer_time = '2025-01-06Z' WHERE transfer_id = 't1'`);
      await t.query(`UPDATE fifo_allocations SET account = 'C' WHERE allocation_version = 1 AND sell_order_id = 's1'`);
      expect(await found(2)).toEqual([{ check_name: 'lot_not_in_sell_account', order_id: 's1', expected: 'B', actual: 'A' }]);
      expect((await found(1)).map((r) => r['check_name'])).toContain('row_account_is_sell_account');
    } finally {
      await t.query('ROLLBACK');
    }
  });
});
