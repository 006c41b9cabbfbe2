/**
 * Inputs that corrupted or froze an adopted ledger (issue 10): `timestamp without time zone`
 * order times read in the session's TimeZone, double precision amounts the engine could not
 * read, nullable fact columns, legacy rows over the 1e15 cap; and fifo_compute over more
 * symbols than one batch holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../packages/cli/src/db/migrate.ts';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { Plv8Host, type HostMessage } from '../../packages/plv8/src/index.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import pg from 'pg';

/** The suite's URL with every session in `zone` (what a server or a login may default to). */
function inZone(t: TestSchema, zone: string): string {
  const u = new URL(t.url);
  u.searchParams.set('options', `-c search_path=${t.schema} -c TimeZone=${zone}`);
  return u.toString();
}

async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

const UTC_TEXT = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')`;

describe('an adopted ledger with timestamp order times, double precision amounts and NULL fees', () => {
  let t: TestSchema;
  const notices: string[] = [];
  beforeAll(async () => {
    t = await createTestSchema({
      migrated: false,
      before: `
        CREATE TABLE trade_records (
          order_id text PRIMARY KEY, symbol text NOT NULL, side text NOT NULL,
          size double precision NOT NULL, price double precision NOT NULL, total_fees_usd double precision,
          order_time timestamp NOT NULL, pnl_usd numeric);
        INSERT INTO trade_records VALUES
          ('btc-b1', 'BTC-USD', 'buy',  0.00001, 60000, 0.01, '2025-09-01 23:30:00', NULL),
          ('btc-s1', 'BTC-USD', 'sell', 0.00001, 61000, 0.02, '2025-09-02 00:30:00', 0.97),
          ('eth-b1', 'ETH-USD', 'buy',  1, 3000, NULL, '2025-09-01 12:00:00', NULL),
          ('xrp-b1', 'XRP-USD', 'buy',  1e16, 0.5, 0, '2025-09-01 12:00:00', NULL);`,
    });
    await migrate({ url: t.url, direction: 'up', schema: t.schema, log: (m) => notices.push(m) });
  });
  afterAll(() => t.drop());

  it('adds the fee default, and says which NOT NULL rule the legacy rows keep from being validated', async () => {
    expect(notices.join('\n')).toMatch(/legacy rows with total_fees_usd NULL; trade_records_total_fees_usd_must_not_be_null checks new rows only/);
    expect(await t.query(`SELECT conname, convalidated FROM pg_constraint
                           WHERE conrelid = 'trade_records'::regclass AND conname LIKE '%must_not_be_null'`))
      .toEqual([{ conname: 'trade_records_total_fees_usd_must_not_be_null', convalidated: false }]);
    await expect(t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
                          VALUES ('x', 'BTC-USD', 'buy', 1, 1, NULL, '2025-09-05')`))
      .rejects.toThrow(/trade_records_total_fees_usd_must_not_be_null/);
  });

  it('reads a timestamp order_time as UTC whatever the session TimeZone: the audit trail, compute, the views', async () => {
    // a new fact written from Tokyo, without a fee: the contract's default 0
    await withClient(inZone(t, 'Asia/Tokyo'), (c) => c.query(
      `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
       VALUES ('btc-b2', 'BTC-USD', 'buy', 0.00002, 62000, '2025-09-03 00:00:00')`));
    expect(await t.query(`SELECT total_fees_usd::text AS fee FROM trade_records WHERE order_id = 'btc-b2'`)).toEqual([{ fee: '0' }]);
    expect(await t.query(`SELECT ${UTC_TEXT('affected_time')} AS t FROM trade_records_audit WHERE order_id = 'btc-b2'`))
      .toEqual([{ t: '2025-09-03 00:00:00' }]);

    const rows = async () => t.query(
      `SELECT sell_order_id, buy_order_id, allocated_size::text, ${UTC_TEXT('sell_time')} AS sell_time,
              ${UTC_TEXT('buy_time')} AS buy_time, pnl_usd::text
         FROM fifo_allocations ORDER BY sell_order_id, allocation_seq`);
    const tokyo = await runFifo(['compute', '--symbol', 'BTC-USD', '--json'], { DATABASE_URL: inZone(t, 'Asia/Tokyo') });
    expect(tokyo.stderr).toBe('');
    expect(tokyo.code).toBe(0);
    const first = await rows();
    expect(first).toEqual([{ sell_order_id: 'btc-s1', buy_order_id: 'btc-b1', allocated_size: '0.00001',
      sell_time: '2025-09-02 00:30:00', buy_time: '2025-09-01 23:30:00', pnl_usd: '-0.02' }]);
    const ny = await runFifo(['compute', '--symbol', 'BTC-USD', '--force'], { DATABASE_URL: inZone(t, 'America/New_York') });
    expect(ny.code).toBe(0);
    expect(await rows()).toEqual(first);
    expect((await runFifo(['validate', '--json'], { DATABASE_URL: inZone(t, 'America/New_York') })).stdout)
      .not.toMatch(/buy_used_before_its_time|row_copied_facts|sell_not_fully_allocated/);

    await withClient(inZone(t, 'America/New_York'), async (c) => {
      const lots = await c.query(`SELECT buy_order_id, buy_size::text, remaining_size::text, ${UTC_TEXT('buy_time')} AS buy_time
                                    FROM v_open_lots WHERE symbol = 'BTC-USD'`);
      expect(lots.rows).toEqual([{ buy_order_id: 'btc-b2', buy_size: '0.00002', remaining_size: '0.00002', buy_time: '2025-09-03 00:00:00' }]);
      const [h] = (await c.query(`SELECT ${UTC_TEXT('last_trade_time')} AS t FROM v_allocation_health WHERE allocation_version = 1`)).rows;
      expect(h.t).toBe('2025-09-03 00:00:00');
      // open at 2025-09-03 00:00 UTC = 2025-09-02 20:00 in New York: btc-b2 is held then, not an hour before
      const pos = async (at: string) => (await c.query(
        `SELECT open_size::text FROM fifo_open_position(1, $1::timestamptz, ARRAY['BTC-USD'])`, [at])).rows;
      expect(await pos('2025-09-03 00:00:00Z')).toEqual([{ open_size: '0.00002' }]);
      expect(await pos('2025-09-02 23:00:00Z')).toEqual([{ open_size: '0.00000' }]); // btc-b1, sold
    });
  });

  it('lists legacy rows breaking a rule, the 1e15 cap included, naming the rules', async () => {
    const bad = await t.query<{ order_id: string; expected: string }>(
      `SELECT order_id, expected FROM v_allocation_discrepancies WHERE check_name = 'invalid_fact' ORDER BY order_id`);
    expect(bad.map((b) => b.order_id)).toEqual(['eth-b1', 'xrp-b1']);
    expect(bad[0]!.expected).toMatch(/trade_records_total_fees_usd_must_not_be_null/);
    expect(bad[1]!.expected).toBe('trade_records_size_must_be_positive');
  });
});

describe('an adopted ledger whose nullable fact columns hold no NULL', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema({
      migrated: false,
      before: `CREATE TABLE trade_records (order_id text PRIMARY KEY, symbol text, side text, size numeric,
                 price numeric, total_fees_usd numeric, order_time timestamptz);
               INSERT INTO trade_records VALUES ('b1', 'SOL-USD', 'buy', 1, 100, NULL, '2025-09-01Z');
               UPDATE trade_records SET total_fees_usd = 0.5;`,
    });
    await t.migrate('up');
  });
  afterAll(() => t.drop());

  const notNull = (t: TestSchema) => t.query<{ attname: string; attnotnull: boolean }>(
    `SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'trade_records'::regclass
        AND attname IN ('symbol', 'side', 'size', 'price', 'total_fees_usd', 'order_time') ORDER BY attname`);

  it('gets the contract NOT NULL rules and fee default, and gives them back on migrate down', async () => {
    expect((await notNull(t)).every((c) => c.attnotnull)).toBe(true);
    expect(await t.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'trade_records'::regclass AND conname LIKE '%must_not_be_null'`))
      .toEqual([{ n: 0 }]);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b2', 'SOL-USD', 'buy', 1, 100, '2025-09-02Z')`);
    expect(await t.query(`SELECT total_fees_usd::text AS fee FROM trade_records WHERE order_id = 'b2'`)).toEqual([{ fee: '0' }]);
    await expect(t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b3', NULL, 'buy', 1, 100, now())`))
      .rejects.toThrow(/null value in column "symbol"/);
    const applied = await t.query<{ name: string }>(`SELECT name FROM fifo_migrations ORDER BY name`);
    const after010 = applied.filter((m) => m.name > '010').length;
    await t.migrate('down', { count: after010 + 1 });
    expect((await notNull(t)).some((c) => c.attnotnull)).toBe(false);
    expect(await t.query(`SELECT column_default FROM information_schema.columns
                           WHERE table_schema = $1 AND table_name = 'trade_records' AND column_name = 'total_fees_usd'`, [t.schema]))
      .toEqual([{ column_default: null }]);
  });
});

describe('fifo_compute called with more symbols than one batch holds', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    await insertTrades(t.client, generateLedger({ trades: 60_000, symbols: 30, seed: 11, oversellRate: 0.01 }));
  });
  afterAll(() => t.drop());

  it('computes them in batches of whole symbols of about 25,000 trades, writing what the CLI writes', async () => {
    const messages: HostMessage[] = [];
    const host = await Plv8Host.open({ connectionString: t.url, onMessage: (m) => messages.push(m) });
    let summary: { symbols: unknown[]; tradesProcessed: number; symbolsFailed: number };
    try {
      const symbols = (await t.query<{ symbol: string }>(`SELECT DISTINCT symbol FROM trade_records ORDER BY 1`)).map((r) => r.symbol);
      summary = host.call('fifo_compute', [1, symbols, 'full', null]);
      host.commit();
    } finally {
      await host.close();
    }
    expect(summary).toMatchObject({ tradesProcessed: 60_000, symbolsFailed: 0 });
    expect(summary.symbols).toHaveLength(30);
    const batches = messages.filter((m) => m.level === 'DEBUG1').map((m) => m.message)
      .map((m) => /^fifo_compute: batch (\d+) of (\d+): (\d+) symbol\(s\), (\d+) trade\(s\)$/.exec(m)).filter((m) => m !== null);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(batches.map((b) => Number(b[1]))).toEqual(batches.map((_, i) => i + 1));
    expect(batches.reduce((n, b) => n + Number(b[4]), 0)).toBe(60_000);
    for (const b of batches) expect(Number(b[4]) <= 25_000 || Number(b[3]) === 1).toBe(true);

    const byProcedure = await allocationChecksum(t);
    expect(byProcedure.rows).toBeGreaterThan(0);
    const cli = await runFifo(['compute', '--force'], { DATABASE_URL: t.url });
    expect(cli.code).toBe(0);
    expect(await allocationChecksum(t)).toEqual(byProcedure);
    expect((await runFifo(['validate'], { DATABASE_URL: t.url })).code).toBe(0);
  });
});

describe('the CLI on a login whose TimeZone is not UTC', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema({
      migrated: false,
      before: `CREATE TABLE trade_records (order_id text PRIMARY KEY, symbol text NOT NULL, side text NOT NULL,
                 size numeric NOT NULL, price numeric NOT NULL, total_fees_usd numeric NOT NULL DEFAULT 0,
                 order_time timestamp NOT NULL, pnl_usd numeric);`,
    });
    await t.migrate('up');
  });
  afterAll(() => t.drop());

  it('writes and compares a timestamp column as UTC (import, --since)', async () => {
    const dir = await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/fifo-tz-'));
    const file = `${dir}/fills.csv`;
    (await import('node:fs')).writeFileSync(file, 'trade_id,order_id,trade_time,price,size,commission,product_id,side\n' +
      't1,o1,2025-03-03T00:30:00Z,100,2,0,SOL-USD,BUY\nt2,o2,2025-03-03T23:30:00Z,110,1,0,SOL-USD,SELL\n');
    const tokyo = inZone(t, 'Asia/Tokyo');
    const imported = await runFifo(['import', 'coinbase', file], { DATABASE_URL: tokyo });
    expect(imported.code, imported.stderr).toBe(0);
    expect(await t.query(`SELECT order_id, order_time::text AS t FROM trade_records ORDER BY 1`)).toEqual([
      { order_id: 'o1:t1', t: '2025-03-03 00:30:00' },
      { order_id: 'o2:t2', t: '2025-03-03 23:30:00' },
    ]);
    // the sell is after 2025-03-03T12:00Z (UTC); in Tokyo's reading it would not be
    const computed = await runFifo(['compute', '--incremental', '--since', '2025-03-03T12:00:00Z', '--json'], { DATABASE_URL: tokyo });
    expect(computed.code, computed.stderr).toBe(0);
    expect(await t.query(`SELECT sell_order_id, buy_order_id, ${UTC_TEXT('sell_time')} AS sell_time FROM fifo_allocations`)).toEqual([
      { sell_order_id: 'o2:t2', buy_order_id: 'o1:t1', sell_time: '2025-03-03 23:30:00' },
    ]);
  });
});

describe('migrate up on a legacy table whose order_id is not unique', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema({
      migrated: false,
      before: `CREATE TABLE trade_records (order_id text, symbol text NOT NULL, side text NOT NULL,
                 size numeric NOT NULL, price numeric NOT NULL, order_time timestamptz NOT NULL, pnl_usd numeric);
               INSERT INTO trade_records VALUES ('dup', 'SOL-USD', 'buy', 1, 100, '2025-09-01Z', NULL),
                                                ('dup', 'SOL-USD', 'sell', 1, 110, '2025-09-02Z', 10);`,
    });
  });
  afterAll(() => t.drop());

  it('is an input problem: exit 2, the message and the query that finds the duplicates, nothing adopted', async () => {
    const r = await runFifo(['migrate', 'up'], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('cannot adopt existing trade_records: order_id is not unique');
    expect(r.stderr).toContain('SELECT order_id, count(*) FROM trade_records GROUP BY 1 HAVING count(*) > 1');
    expect(await t.query(`SELECT to_regclass('fifo_adoption') IS NULL AS none`)).toEqual([{ none: true }]);
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records`)).toEqual([{ n: 2 }]);
  });
});
