import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationsDir } from '../../packages/cli/src/paths.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { insertPnlLedger } from '../helpers/pnl-ledger.ts';

const CONTRACT_RELATIONS = [
  'trade_records', 'trade_records_audit', 'fifo_allocation_versions', 'fifo_allocations',
  'fifo_computation_log', 'fifo_inventory_snapshot', 'manual_review_queue', 'fifo_dirty_symbols',
  'v_allocation_health', 'v_unmatched_sells', 'v_pnl_by_symbol', 'v_allocation_discrepancies',
  'v_trade_pnl', 'v_daily_pnl', 'v_daily_pnl_by_symbol', 'v_open_lots',
];

async function relations(t: TestSchema): Promise<string[]> {
  const rows = await t.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v') ORDER BY 1`, [t.schema]);
  return rows.map((r) => r.relname);
}

/** Everything the migrations define, as text, to compare schemas across up/down/up. */
async function schemaFingerprint(t: TestSchema): Promise<string> {
  const rows = await t.query<{ item: string }>(`
    SELECT format('%s.%s %s %s', table_name, column_name, data_type, is_nullable) AS item
      FROM information_schema.columns WHERE table_schema = $1
    UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
     WHERE connamespace = $1::regnamespace
    UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = $1
    UNION ALL SELECT tgname FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = $1::regnamespace) AND NOT tgisinternal
    ORDER BY 1`, [t.schema]);
  return rows.map((r) => r.item).join('\n').replaceAll(t.schema, 'S');
}

let t: TestSchema | undefined;
afterEach(async () => {
  await t?.drop();
  t = undefined;
});

describe('migrations', () => {
  it('go up, down and up again cleanly, leaving the same schema', async () => {
    t = await createTestSchema();
    const first = await schemaFingerprint(t);
    expect(await relations(t)).toEqual(expect.arrayContaining(CONTRACT_RELATIONS));
    const files = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();
    expect(files.slice(0, 3)).toEqual(['001_ledger', '002_allocations', '003_views']);
    const down = await t.migrate('down');
    expect(down).toEqual([...files].reverse());
    expect(await relations(t)).toEqual(['fifo_migrations']);
    await t.migrate('up');
    expect(await schemaFingerprint(t)).toBe(first);
  });

  it('refuse to drop a trade_records holding facts unless told so', async () => {
    t = await createTestSchema();
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('b1', 'SOL-USD', 'buy', 1, 100, now())`);
    await expect(t.migrate('down')).rejects.toThrow(/refusing to drop trade_records: it holds 1 fact/);
    // nothing half-done: the whole down rolled back
    expect(await relations(t)).toEqual(expect.arrayContaining(CONTRACT_RELATIONS));
    expect(await t.query('SELECT order_id FROM trade_records')).toEqual([{ order_id: 'b1' }]);
    await t.migrate('down', { dropFacts: true });
    expect(await relations(t)).toEqual(['fifo_migrations']);
  });

  it('seed allocation version 1 as fifo', async () => {
    t = await createTestSchema();
    expect(await t.query('SELECT allocation_version, method FROM fifo_allocation_versions')).toEqual([
      { allocation_version: 1, method: 'fifo' },
    ]);
  });
});

describe('adoption of a legacy trade_records', () => {
  const legacy = `
    CREATE TABLE trade_records (
      id serial PRIMARY KEY, order_id text NOT NULL, symbol text NOT NULL, side text NOT NULL,
      size numeric NOT NULL, price numeric NOT NULL, order_time timestamptz NOT NULL,
      parent_id text, pnl_usd numeric, realized_profit numeric, remaining_size numeric,
      cost_basis_usd numeric, sale_proceeds_usd numeric, net_sale_proceeds_usd numeric);
    INSERT INTO trade_records (order_id, symbol, side, size, price, order_time, parent_id, pnl_usd, remaining_size)
    VALUES ('b1', 'SOL-USD', 'buy', 10, 100, '2025-09-01', NULL, NULL, 0),
           ('s1', 'SOL-USD', 'sell', 10, 110, '2025-09-02', 'b1', 95.5, NULL),
           ('b2', 'SOL-USD', 'buy', 5, 150, '2025-12-01', NULL, NULL, 5),
           ('s2', 'SOL-USD', 'sell', 5, 160, '2025-12-01 00:00:01', 'b1', 30000, NULL);`;

  it('keeps every row and column, snapshots legacy values, and survives migrate down', async () => {
    t = await createTestSchema({ migrated: false, before: legacy });
    await t.migrate('up');
    const cols = (await t.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'trade_records'`,
      [t.schema])).map((r) => r.column_name);
    expect(cols).toEqual(expect.arrayContaining(['id', 'parent_id', 'pnl_usd', 'remaining_size', 'total_fees_usd', 'source', 'trigger']));
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records`)).toEqual([{ n: 4 }]);
    const snap = await t.query<{ order_id: string; pnl: string }>(
      `SELECT order_id, legacy->>'pnl_usd' AS pnl FROM trade_records_legacy_snapshot ORDER BY order_id`);
    expect(snap).toEqual([
      { order_id: 'b1', pnl: null }, { order_id: 'b2', pnl: null },
      { order_id: 's1', pnl: '95.5' }, { order_id: 's2', pnl: '30000' },
    ]);
    // a legacy bot updating its own computed columns is not a fact change
    await t.query(`UPDATE trade_records SET remaining_size = 1 WHERE order_id = 'b2'`);
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records_audit`)).toEqual([{ n: 0 }]);
    // new facts are checked and audited
    await expect(t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                          VALUES ('x', 'SOL-USD', 'buy', -1, 1, now())`)).rejects.toThrow(/size_must_be_positive/);
    await t.migrate('down');
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records`)).toEqual([{ n: 4 }]);
    const after = (await t.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'trade_records'`,
      [t.schema])).map((r) => r.column_name);
    expect(after).toEqual(expect.arrayContaining(cols));
    // and adoption again is idempotent
    await t.migrate('up');
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records_legacy_snapshot`)).toEqual([{ n: 4 }]);
  });
});

describe('013: fifo_allocations partitioned by version', () => {
  // the columns later migrations add (018: account) are not part of what 013 moves
  const rowsSql = `SELECT (to_jsonb(a) - 'account')::text AS r FROM fifo_allocations a ORDER BY allocation_version, symbol COLLATE "C", sell_order_id COLLATE "C", allocation_seq`;
  const grantsSql = `SELECT grantee, privilege_type FROM information_schema.role_table_grants
                      WHERE table_schema = current_schema() AND table_name IN ('fifo_allocations', 'v_trade_pnl', 'v_open_lots')
                      ORDER BY table_name, grantee, privilege_type`;
  const after012 = () => readdirSync(migrationsDir).filter((f) => f.endsWith('.sql') && f > '012_totals_per_quote.sql').length;

  it('moves the rows of a database migrated to 012 unchanged, keeps the views and grants, and goes back down', async () => {
    t = await createTestSchema();
    await t.migrate('down', { count: after012() });
    expect(await t.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'fifo_allocations'::regclass`)).toEqual([{ k: 'r' }]);
    const at012 = await schemaFingerprint(t);
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'lifo')`);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('b1', 'SOL-USD', 'buy', 2, 10, 0.1, '2025-01-01Z'), ('s1', 'SOL-USD', 'sell', 3, 12, 0.3, '2025-01-02Z'),
      ('b2', 'ETH-USD', 'buy', 1, 100, 0, '2025-01-01Z'), ('s2', 'ETH-USD', 'sell', 0.5, 120, 0, '2025-01-03Z')`);
    await t.query(`INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id,
        allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd,
        pnl_usd, allocation_time, computation_id) VALUES
      (1, 'SOL-USD', 's1', 1, 'b1', 2, 10, 12, '2025-01-01Z', '2025-01-02Z', 0.1, 0.2, 20.1, 23.8, 3.7, '2025-02-01 10:00:00.123456Z', 7),
      (1, 'SOL-USD', 's1', 2, NULL, 1, NULL, 12, NULL, '2025-01-02Z', NULL, 0.1, NULL, 11.9, NULL, '2025-02-01Z', 7),
      (1, 'ETH-USD', 's2', 1, 'b2', 0.5, 100, 120, '2025-01-01Z', '2025-01-03Z', 0, 0, 50, 60, 10, '2025-02-01Z', NULL),
      (2, 'SOL-USD', 's1', 1, 'b1', 2, 10, 12, '2025-01-01Z', '2025-01-02Z', 0.1, 0.2, 20.1, 23.8, 3.7, '2025-02-02Z', 8)`);
    const rows = await t.query(rowsSql);
    const pnl = await t.query(`SELECT x::text AS r FROM v_trade_pnl x ORDER BY 1`);
    const lots = await t.query(`SELECT x::text AS r FROM v_open_lots x ORDER BY 1`);
    const health = await t.query(`SELECT x::text AS r FROM v_allocation_health x ORDER BY 1`);
    const grants = await t.query(grantsSql);

    await t.migrate('up');
    expect(await t.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'fifo_allocations'::regclass`)).toEqual([{ k: 'p' }]);
    expect(await t.query(rowsSql)).toEqual(rows);
    expect(await t.query(`SELECT tableoid::regclass::text AS p, count(*)::int AS n FROM fifo_allocations GROUP BY 1 ORDER BY 1`))
      .toEqual([{ p: 'fifo_allocations_v1', n: 3 }, { p: 'fifo_allocations_v2', n: 1 }]);
    expect(await t.query(`SELECT x::text AS r FROM v_trade_pnl x ORDER BY 1`)).toEqual(pnl);
    expect(await t.query(`SELECT x::text AS r FROM v_open_lots x ORDER BY 1`)).toEqual(lots);
    expect(await t.query(`SELECT x::text AS r FROM v_allocation_health x ORDER BY 1`)).toEqual(health);
    expect(await t.query(grantsSql)).toEqual(grants);
    // a version without a partition has nowhere to put a row; a new one gets its partition
    await expect(t.query(`INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, allocated_size,
        sell_price, sell_time, sell_fee_usd, proceeds_usd) VALUES (9, 'X', 's', 1, 1, 1, now(), 0, 1)`)).rejects.toThrow(/no partition/);

    await t.migrate('down', { count: after012() });
    expect(await t.query(rowsSql)).toEqual(rows);
    expect(await t.query(`SELECT x::text AS r FROM v_trade_pnl x ORDER BY 1`)).toEqual(pnl);
    expect(await t.query(grantsSql)).toEqual(grants);
    expect(await schemaFingerprint(t)).toBe(at012);
  });
});

describe('015: the PnL figures defined once (v_sell_pnl)', () => {
  const VIEWS = ['v_trade_pnl', 'v_pnl_by_symbol', 'v_daily_pnl_by_symbol', 'v_daily_pnl', 'v_pnl_by_source', 'v_pnl_by_trigger', 'v_pnl_totals'];
  const columnsSql = `SELECT table_name, ordinal_position, column_name, data_type FROM information_schema.columns
                       WHERE table_schema = current_schema() AND table_name = ANY ($1) ORDER BY 1, 2`;
  const grantsSql = `SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
                      WHERE table_schema = current_schema() AND table_name = ANY ($1) ORDER BY 1, 2, 3`;
  const after014 = () => readdirSync(migrationsDir).filter((f) => f.endsWith('.sql') && f > '014_validate_sql.sql').length;
  const snapshot = async (tt: TestSchema) => ({
    columns: await tt.query(columnsSql, [VIEWS]),
    grants: await tt.query(grantsSql, [VIEWS]),
    // every row as text: same values at the same scales
    rows: Object.fromEntries(await Promise.all(VIEWS.map(async (v) =>
      [v, await tt.query(`SELECT x::text AS r FROM ${v} x ORDER BY x::text COLLATE "C"`)] as const))),
  });

  it('re-derives the views from v_sell_pnl with the same columns, types, rows and grants, and goes back down', async () => {
    t = await createTestSchema();
    await t.migrate('down', { count: after014() });
    expect(await t.query(`SELECT to_regclass('v_sell_pnl')::text AS v`)).toEqual([{ v: null }]);
    await insertPnlLedger(t);
    const at014 = await snapshot(t);
    expect(at014.rows.v_pnl_totals).toHaveLength(3);

    await t.migrate('up');
    expect(await snapshot(t)).toEqual(at014);
    // the views read v_sell_pnl, not the allocations
    expect(await t.query(`SELECT DISTINCT c.relname AS v, r.relname AS reads
        FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class c ON c.oid = w.ev_class
        JOIN pg_class r ON r.oid = d.refobjid
       WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND r.oid <> c.oid
         AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY ($1)
       ORDER BY 1, 2`, [VIEWS])).toEqual(VIEWS.slice().sort().map((v) => ({ v, reads: 'v_sell_pnl' })));
    expect(await t.query(`SELECT has_table_privilege('fifo_reader', 'v_sell_pnl', 'SELECT') AS r,
                                 has_table_privilege('fifo_engine', 'v_sell_pnl', 'SELECT') AS e`)).toEqual([{ r: true, e: true }]);

    await t.migrate('down', { count: after014() });
    expect(await snapshot(t)).toEqual(at014);
    expect(await t.query(`SELECT to_regclass('v_sell_pnl')::text AS v`)).toEqual([{ v: null }]);
  });
});
