/**
 * Issue 14 on a real database: migration 018 forward on a ledger with data, transfers as
 * facts (rules, audit, dirty marking, roles), per_account computation (live, incremental and a
 * whole-version rebuild), the per-account views, and incremental = full with late,
 * back-dated, corrected and deleted transfers and account corrections.
 */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsDir } from '../../packages/cli/src/paths.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import type { ProcedureSession } from '../../packages/cli/src/compute/procedure-host.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { testHost } from '../helpers/host.ts';
import { createLoginRole } from '../helpers/roles.ts';
import { runFifo } from '../helpers/cli.ts';
import { urlAsOf } from '../helpers/as-of.ts';

const SEQUENCES = Number(process.env.FIFO_INCREMENTAL_SEQUENCES ?? 120);
const from018 = () => readdirSync(migrationsDir).filter((f) => f.endsWith('.sql') && f >= '018_accounts.sql').length;

const ROW_SQL = `SELECT concat_ws('|', symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price,
                   buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, account) AS line
                   FROM fifo_allocations WHERE allocation_version = $1 AND symbol = ANY ($2)
                  ORDER BY symbol COLLATE "C", sell_order_id COLLATE "C", allocation_seq`;

describe('018: accounts and transfers, migrated forward on a ledger with data', () => {
  it('gives every fill and allocation the account default, keeps the audit trail consistent, and goes back down', async () => {
    const t = await createTestSchema();
    try {
      await t.migrate('down', { count: from018() });
      await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
        ('b1', 'SOL-USD', 'buy', 2, 10, 0.1, '2025-01-01Z'), ('s1', 'SOL-USD', 'sell', 3, 12, 0.3, '2025-01-02Z')`);
      await t.query(`INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id,
          allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd) VALUES
        (1, 'SOL-USD', 's1', 1, 'b1', 2, 10, 12, '2025-01-01Z', '2025-01-02Z', 0.1, 0.2, 20.1, 23.8, 3.7),
        (1, 'SOL-USD', 's1', 2, NULL, 1, NULL, 12, NULL, '2025-01-02Z', NULL, 0.1, NULL, 11.9, NULL)`);
      const pnl = await t.query(`SELECT x::text AS r FROM v_trade_pnl x ORDER BY 1`);
      await t.migrate('up');
      expect(await t.query(`SELECT order_id, account FROM trade_records ORDER BY 1`)).toEqual([
        { order_id: 'b1', account: 'default' }, { order_id: 's1', account: 'default' }]);
      expect(await t.query(`SELECT DISTINCT account FROM fifo_allocations`)).toEqual([{ account: 'default' }]);
      expect(await t.query(`SELECT pooling FROM fifo_allocation_versions`)).toEqual([{ pooling: 'universal' }]);
      // audit rows written before 018 have no account: still no discrepancy
      expect(await t.query(`SELECT * FROM v_audit_trail_discrepancies`)).toEqual([]);
      expect(await t.query(`SELECT x::text AS r FROM v_trade_pnl x ORDER BY 1`)).toEqual(pnl);
      const cols = await t.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'v_sell_pnl'
          ORDER BY ordinal_position`);
      expect(cols.at(-1)).toEqual({ column_name: 'account' });
      expect(await t.query(`SELECT account, sells::int FROM v_pnl_by_symbol_account`)).toEqual([{ account: 'default', sells: 1 }]);

      // facts in other accounts keep migrate down from dropping them
      await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
                     VALUES ('x1', 'SOL-USD', 'default', 'cold', 1, '2025-01-01 12:00Z')`);
      await expect(t.migrate('down', { count: from018() })).rejects.toThrow(/refusing to drop accounts and transfers: trade_transfers holds 1/);
      await t.query(`DELETE FROM trade_transfers`);
      await t.migrate('down', { count: from018() });
      expect(await t.query(`SELECT to_regclass('trade_transfers')::text AS t`)).toEqual([{ t: null }]);
      expect(await t.query(`SELECT x::text AS r FROM v_trade_pnl x ORDER BY 1`)).toEqual(pnl);
      expect(await t.query(`SELECT * FROM v_audit_trail_discrepancies`)).toEqual([]);
    } finally {
      await t.drop();
    }
  });
});

describe('018 on an adopted ledger that has an account column', () => {
  it('keeps the accounts, gives the column its default and NOT NULL, and refuses a non-text one', async () => {
    const t = await createTestSchema({
      migrated: false,
      before: `CREATE TABLE trade_records (order_id text PRIMARY KEY, symbol text NOT NULL, side text NOT NULL, size numeric NOT NULL,
                 price numeric NOT NULL, order_time timestamptz NOT NULL, account text, pnl_usd numeric);
               INSERT INTO trade_records VALUES ('b1', 'SOL-USD', 'buy', 1, 10, '2025-01-01Z', 'kraken', NULL),
                                                ('s1', 'SOL-USD', 'sell', 1, 12, '2025-01-02Z', 'kraken', 2);`,
    });
    try {
      await t.migrate('up');
      expect(await t.query(`SELECT order_id, account FROM trade_records ORDER BY 1`)).toEqual([
        { order_id: 'b1', account: 'kraken' }, { order_id: 's1', account: 'kraken' }]);
      expect(await t.query(`SELECT is_nullable, column_default FROM information_schema.columns
                             WHERE table_schema = current_schema() AND table_name = 'trade_records' AND column_name = 'account'`))
        .toEqual([{ is_nullable: 'NO', column_default: "'default'::text" }]);
      await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b2', 'SOL-USD', 'buy', 1, 10, now())`);
      expect(await t.query(`SELECT account FROM trade_records WHERE order_id = 'b2'`)).toEqual([{ account: 'default' }]);
    } finally {
      await t.drop();
    }
    const bad = await createTestSchema({
      migrated: false,
      before: `CREATE TABLE trade_records (order_id text PRIMARY KEY, symbol text NOT NULL, side text NOT NULL, size numeric NOT NULL,
                 price numeric NOT NULL, order_time timestamptz NOT NULL, account int)`,
    });
    try {
      await expect(bad.migrate('up')).rejects.toThrow(/trade_records.account is of type integer/);
    } finally {
      await bad.drop();
    }
  });
});

describe('transfers and accounts as facts', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(async () => {
    await t.drop();
  });
  const insert = (values: string) => t.query(
    `INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time) VALUES ${values}`);

  it('refuses what the rules refuse, naming the rule', async () => {
    await expect(insert(`('r1', 'SOL-USD', 'A', 'A', 1, '2025-01-01Z')`)).rejects.toThrow(/trade_transfers_accounts_must_differ/);
    await expect(insert(`('r1', 'SOL-USD', 'A', 'B', 0, '2025-01-01Z')`)).rejects.toThrow(/trade_transfers_size_must_be_positive/);
    await expect(insert(`('r1', 'SOL-USD', 'A', 'B', -1, '2025-01-01Z')`)).rejects.toThrow(/trade_transfers_size_must_be_positive/);
    await expect(insert(`('r1', 'SOL-USD', '', 'B', 1, '2025-01-01Z')`)).rejects.toThrow(/trade_transfers_from_account_must_not_be_blank/);
    await expect(insert(`('r1', 'SOL-USD', 'A', '  ', 1, '2025-01-01Z')`)).rejects.toThrow(/trade_transfers_to_account_must_not_be_blank/);
    await expect(insert(`('r1', 'SOL-USD', 'A', 'B', 1, 'infinity')`)).rejects.toThrow(/trade_transfers_transfer_time_must_be_a_real_time/);
    await expect(insert(`('r1', 'sol-usd', 'A', 'B', 1, '2025-01-01Z')`)).rejects.toThrow(/trade_transfers_symbol_must_be_upper_case/);
    await expect(insert(`('', 'SOL-USD', 'A', 'B', 1, '2025-01-01Z')`)).rejects.toThrow(/trade_transfers_transfer_id_must_not_be_blank/);
    await expect(t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time, account)
                          VALUES ('r1', 'SOL-USD', 'buy', 1, 1, now(), '')`)).rejects.toThrow(/trade_records_account_must_not_be_blank/);
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_transfers_audit`)).toEqual([{ n: 0 }]);
  });

  it('audits every change, marks the symbol dirty from the earliest time, and keeps the transfer id', async () => {
    await t.query(`DELETE FROM fifo_dirty_symbols`);
    await insert(`('d1', 'DOT-USD', 'A', 'B', 1, '2025-03-01Z')`);
    await t.query(`UPDATE trade_transfers SET transfer_time = '2025-02-01Z', to_account = 'C' WHERE transfer_id = 'd1'`);
    await t.query(`UPDATE trade_transfers SET size = size WHERE transfer_id = 'd1'`); // no change: not audited
    await t.query(`DELETE FROM trade_transfers WHERE transfer_id = 'd1'`);
    expect(await t.query(`SELECT operation, transfer_id, affected_time::text AS at, new_fact ->> 'to_account' AS to_account
                            FROM trade_transfers_audit ORDER BY audit_id`)).toEqual([
      { operation: 'INSERT', transfer_id: 'd1', at: '2025-03-01 00:00:00+00', to_account: 'B' },
      { operation: 'UPDATE', transfer_id: 'd1', at: '2025-02-01 00:00:00+00', to_account: 'C' },
      { operation: 'DELETE', transfer_id: 'd1', at: '2025-02-01 00:00:00+00', to_account: null },
    ]);
    const [d] = await t.query<{ dirty_from: string; last: string; top: string }>(
      `SELECT dirty_from::text, last_audit_id::text AS last, (SELECT max(audit_id)::text FROM trade_transfers_audit) AS top
         FROM fifo_dirty_symbols WHERE symbol = 'DOT-USD' AND allocation_version = 1`);
    expect(d).toEqual({ dirty_from: '2025-02-01 00:00:00+00', last: d!.top, top: d!.top });
    await insert(`('d2', 'DOT-USD', 'A', 'B', 1, '2025-03-01Z')`);
    await expect(t.query(`UPDATE trade_transfers SET transfer_id = 'd3'`)).rejects.toThrow(/transfer_id cannot change/);
    await expect(t.query(`DELETE FROM trade_transfers_audit`)).rejects.toThrow(/append-only/);
    // ids come from one sequence with the ledger's trail
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('a1', 'DOT-USD', 'buy', 1, 1, '2025-04-01Z')`);
    await t.query(`UPDATE trade_records SET account = 'B' WHERE order_id = 'a1'`);
    const ids = await t.query<{ id: string; op: string }>(
      `SELECT audit_id::text AS id, operation || coalesce(':' || (new_fact ->> 'account'), '') AS op FROM trade_records_audit WHERE order_id = 'a1'
        UNION ALL SELECT audit_id::text, 'transfer' FROM trade_transfers_audit WHERE transfer_id = 'd2' ORDER BY 1`);
    expect(ids.map((r) => r.op)).toEqual(['transfer', 'INSERT:default', 'UPDATE:B']);
    expect(await t.query(`SELECT * FROM v_audit_trail_discrepancies`)).toEqual([]);
    // a transfer changed behind its trigger's back shows, as a fill would
    await t.query(`ALTER TABLE trade_transfers DISABLE TRIGGER trade_transfers_audit_update`);
    await t.query(`UPDATE trade_transfers SET size = 7 WHERE transfer_id = 'd2'`);
    await t.query(`ALTER TABLE trade_transfers ENABLE TRIGGER trade_transfers_audit_update`);
    expect(await t.query(`SELECT order_id, check_name FROM v_allocation_discrepancies`)).toEqual([
      { order_id: 'd2', check_name: 'transfer_differs_from_audit' }]);
    await t.query(`UPDATE trade_transfers SET size = 1 WHERE transfer_id = 'd2'`);
    expect(await t.query(`SELECT * FROM v_audit_trail_discrepancies`)).toEqual([]);
  });

  it('lets writers write transfers and readers read them, not the trail', async () => {
    const writer = await createLoginRole(t.url, 'fifo_writer');
    const reader = await createLoginRole(t.url, 'fifo_reader');
    try {
      const w = await writer.connect();
      await w.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
                     VALUES ('w1', 'DOT-USD', 'A', 'B', 2, '2025-05-01Z')`);
      await w.query(`UPDATE trade_transfers SET note = 'to cold storage' WHERE transfer_id = 'w1'`);
      const r = await reader.connect();
      expect((await r.query(`SELECT note FROM trade_transfers WHERE transfer_id = 'w1'`)).rows).toEqual([{ note: 'to cold storage' }]);
      await expect(r.query(`SELECT * FROM trade_transfers_audit`)).rejects.toThrow(/permission denied/);
      await expect(r.query(`DELETE FROM trade_transfers`)).rejects.toThrow(/permission denied/);
      expect((await r.query(`SELECT count(*)::int AS n FROM v_open_lots_by_account`)).rows).toEqual([{ n: 0 }]);
    } finally {
      await writer.drop();
      await reader.drop();
    }
  });
});

describe('per_account computation', () => {
  let t: TestSchema;
  let client: pg.Client;
  let session: ProcedureSession;
  beforeAll(async () => {
    t = await createTestSchema();
    client = t.client;
    // long_held_lot items judged just after this ledger (its last event is 02-02), where no lot
    // is held long: these cases count the transfers' items (a rebuild's refresh runs on `client`)
    const asOf = '2025-02-03T00:00Z';
    await client.query(`SET fifo.long_held_as_of = '${asOf}'`);
    session = await openProcedureSession(client, urlAsOf(t.url, asOf), testHost());
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method, pooling) VALUES
      (2, 'fifo', 'per_account'), (3, 'fifo', 'per_account'), (4, 'fifo', 'per_account')`);
  });
  afterAll(async () => {
    await session.close();
    await t.drop();
  });

  it('moves a lot with its date and basis, leaves another account unmatched, and shows both in the views', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, account) VALUES
      ('b1', 'SOL-USD', 'buy', 3, 10, 1, '2025-01-01Z', 'A'),
      ('s1', 'SOL-USD', 'sell', 2, 15, 0, '2025-01-03Z', 'B'),
      ('s2', 'SOL-USD', 'sell', 1, 12, 0, '2025-01-04Z', 'C')`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time) VALUES
      ('t1', 'SOL-USD', 'A', 'B', 2, '2025-01-02Z'), ('t2', 'SOL-USD', 'A', 'C', 5, '2025-01-02Z')`);
    for (const version of [1, 2]) {
      expect((await runCompute(client, session, { version, symbols: ['SOL-USD'], force: true, strictSymbols: false })).status).toBe('success');
    }
    // universal: transfers ignored, accounts only say whose sells they were
    expect(await t.query(`SELECT sell_order_id, buy_order_id, allocated_size::text, account FROM fifo_allocations
                           WHERE allocation_version = 1 ORDER BY 1, allocation_seq`)).toEqual([
      { sell_order_id: 's1', buy_order_id: 'b1', allocated_size: '2', account: 'B' },
      { sell_order_id: 's2', buy_order_id: 'b1', allocated_size: '1', account: 'C' },
    ]);
    // per_account: t1 moves 2 of b1 to B (date, price, fee state kept); t2 finds 1 on A, moves it to C
    expect(await t.query(`SELECT sell_order_id, buy_order_id, buy_time::text, allocated_size::text, buy_fee_usd::text, cost_basis_usd::text, account
                            FROM fifo_allocations WHERE allocation_version = 2 ORDER BY 1, allocation_seq`)).toEqual([
      { sell_order_id: 's1', buy_order_id: 'b1', buy_time: '2025-01-01 00:00:00+00', allocated_size: '2',
        buy_fee_usd: '0.666666666666666667', cost_basis_usd: '20.666666666666666667', account: 'B' },
      { sell_order_id: 's2', buy_order_id: 'b1', buy_time: '2025-01-01 00:00:00+00', allocated_size: '1',
        buy_fee_usd: '0.333333333333333333', cost_basis_usd: '10.333333333333333333', account: 'C' },
    ]);
    expect(await t.query(`SELECT issue_type, item_key, order_id, severity, details FROM manual_review_queue WHERE allocation_version = 2`)).toEqual([
      { issue_type: 'unmatched_transfer', item_key: 't2', order_id: 't2', severity: 'high',
        details: { transferId: 't2', fromAccount: 'A', toAccount: 'C', requested: '5', available: '1', unmatched: '4', transferTime: '2025-01-02T00:00:00.000000Z' } },
    ]);
    expect(await t.query(`SELECT account, realized_pnl_usd::text FROM v_pnl_by_symbol_account WHERE allocation_version = 2 ORDER BY 1`)).toEqual([
      { account: 'B', realized_pnl_usd: '9.333333333333333333' }, { account: 'C', realized_pnl_usd: '1.666666666666666667' }]);
    expect(await t.query(`SELECT count(*)::int AS n FROM v_pnl_by_symbol WHERE allocation_version = 2`)).toEqual([{ n: 1 }]);
    expect(await t.query(`SELECT * FROM v_allocation_discrepancies`)).toEqual([]);

    // a later buy on A, moved in part to B: one lot in two accounts, each its share of the unused fee
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, account) VALUES
      ('b2', 'SOL-USD', 'buy', 4, 20, 2, '2025-02-01Z', 'A')`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time) VALUES
      ('t3', 'SOL-USD', 'A', 'B', 1, '2025-02-02Z')`);
    expect((await runCompute(client, session, { version: 2, symbols: ['SOL-USD'], force: false, incremental: true, strictSymbols: false })).status).toBe('success');
    expect(await t.query(`SELECT account, buy_order_id, remaining_size::text, remaining_fee_usd::text, remaining_cost_basis_usd::text
                            FROM v_open_lots_by_account WHERE allocation_version = 2 ORDER BY account`)).toEqual([
      { account: 'A', buy_order_id: 'b2', remaining_size: '3', remaining_fee_usd: '1.500000000000000000', remaining_cost_basis_usd: '61.500000000000000000' },
      { account: 'B', buy_order_id: 'b2', remaining_size: '1', remaining_fee_usd: '0.500000000000000000', remaining_cost_basis_usd: '20.500000000000000000' },
    ]);
    expect(await t.query(`SELECT account, open_size::text FROM v_open_positions_by_account WHERE allocation_version = 2 ORDER BY 1`)).toEqual([
      { account: 'A', open_size: '3' }, { account: 'B', open_size: '1' }]);
    expect(await t.query(`SELECT watermark_side, pooling FROM fifo_inventory_snapshot WHERE allocation_version = 2`)).toEqual([
      { watermark_side: 'transfer', pooling: 'per_account' }]);

    // the over-transfer corrected: its review item resolves
    await t.query(`UPDATE trade_transfers SET size = 1 WHERE transfer_id = 't2'`);
    expect((await runCompute(client, session, { version: 2, symbols: ['SOL-USD'], force: false, incremental: true, strictSymbols: false })).status).toBe('success');
    expect(await t.query(`SELECT status, resolution_note FROM manual_review_queue WHERE allocation_version = 2`)).toEqual([
      { status: 'resolved', resolution_note: 'covered by a later computation' }]);
  });

  it('a full recompute of the whole version (stage and swap) writes what a live computation writes', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, account) VALUES
      ('e1', 'ETH-USD', 'buy', 1, 100, 0.3, '2025-01-01Z', 'A'), ('e2', 'ETH-USD', 'sell', 1, 120, 0, '2025-01-05Z', 'B')`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time) VALUES
      ('u1', 'ETH-USD', 'A', 'B', 0.4, '2025-01-02Z'), ('u2', 'ETH-USD', 'Z', 'B', 1, '2025-01-03Z'),
      ('a1', 'ADA-USD', 'A', 'B', 5, '2025-01-03Z')`);
    // ADA-USD has a transfer and no fill: a whole-version rebuild computes it too
    expect((await runCompute(client, session, { version: 3, symbols: null, force: true, strictSymbols: false })).status).toBe('success');
    expect((await runCompute(client, session, { version: 4, symbols: ['ADA-USD', 'ETH-USD', 'SOL-USD'], force: true })).status).toBe('success');
    const symbols = ['ADA-USD', 'ETH-USD', 'SOL-USD'];
    expect(await t.query(ROW_SQL, [3, symbols])).toEqual(await t.query(ROW_SQL, [4, symbols]));
    const reviews = (v: number) => t.query(`SELECT symbol, issue_type, item_key, severity, status, details FROM manual_review_queue
                                             WHERE allocation_version = $1 ORDER BY 1, 2, 3`, [v]);
    expect(await reviews(3)).toEqual(await reviews(4));
    expect((await reviews(3)).map((r) => r.item_key)).toEqual(['a1', 'e2', 'u2']);
    const snaps = (v: number) => t.query(`SELECT symbol, open_lots, watermark_side, pooling FROM fifo_inventory_snapshot
                                           WHERE allocation_version = $1 ORDER BY 1`, [v]);
    expect(await snaps(3)).toEqual(await snaps(4));
  });
});

type Op =
  | { kind: 'trade'; sym: number; side: 'buy' | 'sell'; account: number; size: number; price: number; fee: number; minute: number }
  | { kind: 'transfer'; sym: number; from: number; to: number; size: number; minute: number }
  | { kind: 'correctTrade'; pick: number; account: number; size: number; minute: number }
  | { kind: 'correctTransfer'; pick: number; from: number; to: number; size: number; minute: number }
  | { kind: 'deleteTrade'; pick: number }
  | { kind: 'deleteTransfer'; pick: number }
  | { kind: 'run' };

const ACCOUNTS = ['A', 'B', 'C'];
const amount = (units: number, scale: number) => (units / 10 ** scale).toFixed(scale);
const minute = fc.integer({ min: 0, max: 90 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('trade' as const), sym: fc.nat(1), side: fc.constantFrom('buy' as const, 'buy' as const, 'sell' as const),
      account: fc.nat(2), size: fc.integer({ min: 1, max: 5000 }), price: fc.integer({ min: 1, max: 100_000 }), fee: fc.nat(500), minute }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('transfer' as const), sym: fc.nat(1), from: fc.nat(2), to: fc.integer({ min: 1, max: 2 }),
      size: fc.integer({ min: 1, max: 6000 }), minute }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('correctTrade' as const), pick: fc.nat(), account: fc.nat(2), size: fc.integer({ min: 1, max: 5000 }), minute }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('correctTransfer' as const), pick: fc.nat(), from: fc.nat(2), to: fc.integer({ min: 1, max: 2 }),
      size: fc.integer({ min: 1, max: 6000 }), minute }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteTrade' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteTransfer' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'run' as const }) },
);

describe('per_account incremental computation', () => {
  let t: TestSchema;
  let client: pg.Client;
  let session: ProcedureSession;
  let seq = 0;
  beforeAll(async () => {
    t = await createTestSchema();
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method, pooling) VALUES
      (2, 'fifo', 'per_account'), (3, 'fifo', 'per_account'), (4, 'lifo', 'per_account'), (5, 'lifo', 'per_account')`);
    client = t.client;
    // both computations judge long_held_lot items as of one time, weeks after the sequences'
    // events: their open lots are long held, and those items must be equal too
    const asOf = '2026-03-01T00:00Z';
    await client.query(`SET fifo.long_held_as_of = '${asOf}'`);
    session = await openProcedureSession(client, urlAsOf(t.url, asOf), testHost());
  });
  afterAll(async () => {
    await session.close();
    await t.drop();
  });

  it(`ends equal to a full recompute with late, back-dated, corrected and deleted transfers (${SEQUENCES} sequences)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 16 }), async (ops) => {
        seq += 1;
        const symbols = [`P${seq}A-USD`, `P${seq}B-USD`];
        const trades: string[] = [];
        const transfers: string[] = [];
        let n = 0;
        const base = Date.UTC(2026, 0, 1);
        const at = (m: number) => new Date(base + m * 60_000);
        const incremental = async () => {
          for (const version of [2, 4]) {
            expect((await runCompute(client, session, { version, symbols, force: false, incremental: true, strictSymbols: false })).status).toBe('success');
          }
        };
        for (const op of ops) {
          if (op.kind === 'trade') {
            const id = `p${seq}-${n++}`;
            trades.push(id);
            await client.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, account)
                                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
              [id, symbols[op.sym], op.side, amount(op.size, 3), amount(op.price, 2), amount(op.fee, 4), at(op.minute), ACCOUNTS[op.account]]);
          } else if (op.kind === 'transfer') {
            const id = `x${seq}-${n++}`;
            transfers.push(id);
            await client.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
                                VALUES ($1, $2, $3, $4, $5, $6)`,
              [id, symbols[op.sym], ACCOUNTS[op.from], ACCOUNTS[(op.from + op.to) % 3], amount(op.size, 3), at(op.minute)]);
          } else if (op.kind === 'correctTrade' && trades.length > 0) {
            await client.query(`UPDATE trade_records SET account = $2, size = $3, order_time = $4 WHERE order_id = $1`,
              [trades[op.pick % trades.length], ACCOUNTS[op.account], amount(op.size, 3), at(op.minute)]);
          } else if (op.kind === 'correctTransfer' && transfers.length > 0) {
            await client.query(`UPDATE trade_transfers SET from_account = $2, to_account = $3, size = $4, transfer_time = $5 WHERE transfer_id = $1`,
              [transfers[op.pick % transfers.length], ACCOUNTS[op.from], ACCOUNTS[(op.from + op.to) % 3], amount(op.size, 3), at(op.minute)]);
          } else if (op.kind === 'deleteTrade' && trades.length > 0) {
            await client.query(`DELETE FROM trade_records WHERE order_id = $1`, [trades.splice(op.pick % trades.length, 1)[0]]);
          } else if (op.kind === 'deleteTransfer' && transfers.length > 0) {
            await client.query(`DELETE FROM trade_transfers WHERE transfer_id = $1`, [transfers.splice(op.pick % transfers.length, 1)[0]]);
          } else if (op.kind === 'run') {
            await incremental();
          }
        }
        await incremental();
        for (const [inc, full] of [[2, 3], [4, 5]] as const) {
          expect((await runCompute(client, session, { version: full, symbols, force: true, strictSymbols: false })).status).toBe('success');
          expect(await t.query(ROW_SQL, [inc, symbols])).toEqual(await t.query(ROW_SQL, [full, symbols]));
          const snaps = await t.query(
            `SELECT symbol, allocation_version, open_lots, watermark_time, watermark_side, watermark_order_id, trades_processed
               FROM fifo_inventory_snapshot WHERE symbol = ANY ($1) AND allocation_version IN ($2, $3) ORDER BY symbol, allocation_version`,
            [symbols, inc, full]);
          for (let i = 0; i < snaps.length; i += 2) {
            const { allocation_version: _a, ...a } = snaps[i]!;
            const { allocation_version: _b, ...b } = snaps[i + 1]!;
            expect(a).toEqual(b);
          }
          const pending = (v: number) => t.query(`SELECT symbol, issue_type, item_key, severity, details FROM manual_review_queue
                                                   WHERE allocation_version = $1 AND symbol = ANY ($2) AND status = 'pending' ORDER BY 1, 2, 3`, [v, symbols]);
          expect(await pending(inc)).toEqual(await pending(full));
        }
      }),
      { numRuns: SEQUENCES, seed: Number(process.env.FIFO_PROPERTY_SEED ?? 20261201) },
    );
    expect(await t.query(`SELECT * FROM v_allocation_discrepancies`)).toEqual([]);
  });
});

describe('a per_account symbol streamed through the engine in parts', () => {
  const withParts = (url: string, parts: number) => {
    const u = new URL(url);
    u.searchParams.set('options', `${u.searchParams.get('options') ?? ''} -c fifo.compute_part_trades=${parts}`);
    return u.toString();
  };
  let t: TestSchema;
  // every run judges long_held_lot items as of one time, after the later events: the lots still
  // open are long held, and the items of the runs in parts must equal the whole-symbol ones
  let url: string;
  beforeAll(async () => {
    t = await createTestSchema();
    url = urlAsOf(t.url, '2026-07-01T00:00Z');
    // deterministic pseudo-random fills in three accounts and transfers between them, many at equal times
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, account)
      SELECT 'f' || i, 'STR-USD', CASE WHEN (i * 7) % 10 < 6 THEN 'buy' ELSE 'sell' END, 1 + (i * 13) % 5, 10 + (i * 31) % 17,
             ((i * 3) % 4) * 0.001, '2026-01-01Z'::timestamptz + (i / 3) * interval '1 minute', (ARRAY['A', 'B', 'C'])[1 + (i * 11) % 3]
        FROM generate_series(1, 700) i`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
      SELECT 'x' || i, 'STR-USD', (ARRAY['A', 'B', 'C'])[1 + i % 3], (ARRAY['A', 'B', 'C'])[1 + (i + 1 + i % 2) % 3],
             1 + (i * 17) % 6, '2026-01-01Z'::timestamptz + ((i * 5) / 3) * interval '1 minute'
        FROM generate_series(1, 140) i`);
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method, pooling) VALUES
      (2, 'hifo', 'per_account'), (3, 'hifo', 'per_account'), (4, 'fifo', 'per_account'), (5, 'fifo', 'per_account')`);
  });
  afterAll(() => t.drop());

  const snaps = (v: number) => t.query(`SELECT symbol, open_lots::text, open_size::text, watermark_time, watermark_side, watermark_order_id,
                                               trades_processed::int FROM fifo_inventory_snapshot WHERE allocation_version = $1`, [v]);
  const reviews = (v: number) => t.query(`SELECT issue_type, item_key, severity, details::text FROM manual_review_queue
                                           WHERE allocation_version = $1 ORDER BY 1, 2`, [v]);

  it('gives the rows, snapshots and review items of the whole-symbol computation, and continues in parts', async () => {
    for (const [v, parts] of [[2, 0], [3, 37], [4, 0], [5, 53]] as const) {
      const r = await runFifo(['compute', '--version', String(v)], { DATABASE_URL: parts ? withParts(url, parts) : url });
      expect(r.code).toBe(0);
    }
    for (const [whole, parts] of [[2, 3], [4, 5]] as const) {
      const rows = await t.query(ROW_SQL, [whole, ['STR-USD']]);
      expect(rows.length).toBeGreaterThan(200);
      expect(await t.query(ROW_SQL, [parts, ['STR-USD']])).toEqual(rows);
      expect(await snaps(parts)).toEqual(await snaps(whole));
      expect(await reviews(parts)).toEqual(await reviews(whole));
    }
    expect((await reviews(2)).some((r) => r.issue_type === 'unmatched_transfer')).toBe(true);
    expect((await reviews(2)).some((r) => r.issue_type === 'long_held_lot')).toBe(true);
    // later events, then an incremental run in parts equals a full one
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, account)
      SELECT 'g' || i, 'STR-USD', CASE WHEN i % 3 = 0 THEN 'sell' ELSE 'buy' END, 1 + i % 4, 20 + i % 9, 0,
             '2026-06-01Z'::timestamptz + (i / 2) * interval '1 minute', (ARRAY['A', 'B', 'C'])[1 + i % 3]
        FROM generate_series(1, 120) i`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
      SELECT 'y' || i, 'STR-USD', 'A', 'C', 1 + i % 3, '2026-06-01Z'::timestamptz + i * interval '1 minute' FROM generate_series(1, 30) i`);
    expect((await runFifo(['compute', '--version', '3', '--incremental'], { DATABASE_URL: withParts(url, 41) })).code).toBe(0);
    expect((await runFifo(['compute', '--version', '2', '--force'], { DATABASE_URL: url })).code).toBe(0);
    expect(await t.query(ROW_SQL, [3, ['STR-USD']])).toEqual(await t.query(ROW_SQL, [2, ['STR-USD']]));
    expect(await snaps(3)).toEqual(await snaps(2));
    expect(await reviews(3)).toEqual(await reviews(2));
  });
});
