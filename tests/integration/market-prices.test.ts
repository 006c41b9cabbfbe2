/**
 * Market prices (migration 017) and the open lots and positions marked to market: a
 * hand-worked ledger whose cost basis, market value and unrealized PnL are worked out below
 * and compared exactly; no price (unknown, never 0), a stale price, the latest price at or
 * before the time (a later one ignored, a tie between sources broken by name); `fifo import
 * prices` idempotent; who may write prices.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { createLoginRole, type LoginRole } from '../helpers/roles.ts';

/** Numbers as canonical text (no trailing zeros), times as ISO, intervals as text: compared exactly. */
const POSITION = `symbol, quote, trim_scale(quantity)::text AS quantity, trim_scale(cost_basis)::text AS cost_basis,
                  trim_scale(price)::text AS price, to_char(price_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS price_time,
                  price_source, trim_scale(market_value)::text AS market_value, trim_scale(unrealized_pnl)::text AS unrealized_pnl,
                  to_char(oldest_lot_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS oldest_lot_time,
                  oldest_lot_age::text AS oldest_lot_age, price_age::text AS price_age`;
const LOT = `symbol, quote, buy_order_id, trim_scale(remaining_size)::text AS remaining_size,
             trim_scale(remaining_fee_usd)::text AS remaining_fee_usd, trim_scale(cost_basis)::text AS cost_basis,
             trim_scale(price)::text AS price, price_source, trim_scale(market_value)::text AS market_value,
             trim_scale(unrealized_pnl)::text AS unrealized_pnl, lot_age::text AS lot_age, price_age::text AS price_age`;

describe('open positions marked to market', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    // SOL-USD: s1 (FIFO) takes all of b1 (2, its whole fee 1) and 1 of b2 (fee share 0.3 × 1/3 = 0.1).
    // Left open: b2 2 @ 110 with fee 0.2 (basis 220.2), and b3 1.5 @ 105.5 with fee 0.15 (basis 158.4).
    // ETH-BTC: one lot, no price ever.
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('b1', 'SOL-USD', 'buy',  2,   100,   1,      '2025-01-01 00:00Z'),
      ('b2', 'SOL-USD', 'buy',  3,   110,   0.3,    '2025-01-02 00:00Z'),
      ('s1', 'SOL-USD', 'sell', 3,   120,   0.6,    '2025-01-03 00:00Z'),
      ('b3', 'SOL-USD', 'buy',  1.5, 105.5, 0.15,   '2025-01-10 00:00Z'),
      ('e1', 'ETH-BTC', 'buy',  1,   0.05,  0.0001, '2025-01-01 00:00Z')`);
    const r = await runFifo(['compute'], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(0);
    // two sources at the same time: 'a' wins ("a" < "b"); the price of 02-01 is after the times asked below
    await t.query(`INSERT INTO market_prices (symbol, price_time, price, source) VALUES
      ('SOL-USD', '2025-01-04 00:00Z', 130,    'b'),
      ('SOL-USD', '2025-01-04 00:00Z', 131,    'a'),
      ('SOL-USD', '2025-01-20 00:00Z', 125.25, 'x'),
      ('SOL-USD', '2025-02-01 00:00Z', 999,    'x')`);
  });
  afterAll(() => t.drop());

  it('values each position at the latest price at or before the time; unrealized PnL by hand', async () => {
    // at 01-25: 3.5 open, basis 220.2 + 158.4 = 378.6; price 125.25 (01-20; 999 of 02-01 is later)
    // market value 3.5 × 125.25 = 438.375; unrealized 438.375 − 378.6 = 59.775
    expect(await t.query(`SELECT ${POSITION} FROM fifo_open_positions_marked(1, '2025-01-25 00:00Z') ORDER BY symbol`)).toEqual([
      { symbol: 'ETH-BTC', quote: 'BTC', quantity: '1', cost_basis: '0.0501', price: null, price_time: null, price_source: null,
        market_value: null, unrealized_pnl: null, oldest_lot_time: '2025-01-01 00:00', oldest_lot_age: '24 days', price_age: null },
      { symbol: 'SOL-USD', quote: 'USD', quantity: '3.5', cost_basis: '378.6', price: '125.25', price_time: '2025-01-20 00:00',
        price_source: 'x', market_value: '438.375', unrealized_pnl: '59.775', oldest_lot_time: '2025-01-02 00:00',
        oldest_lot_age: '23 days', price_age: '5 days' },
    ]);
    // per lot: b2 2 × 125.25 = 250.5 − 220.2 = 30.3; b3 1.5 × 125.25 = 187.875 − 158.4 = 29.475 (sum 59.775)
    expect(await t.query(`SELECT ${LOT} FROM fifo_open_lots_marked(1, '2025-01-25 00:00Z') WHERE symbol = 'SOL-USD' ORDER BY buy_order_id`)).toEqual([
      { symbol: 'SOL-USD', quote: 'USD', buy_order_id: 'b2', remaining_size: '2', remaining_fee_usd: '0.2', cost_basis: '220.2',
        price: '125.25', price_source: 'x', market_value: '250.5', unrealized_pnl: '30.3', lot_age: '23 days', price_age: '5 days' },
      { symbol: 'SOL-USD', quote: 'USD', buy_order_id: 'b3', remaining_size: '1.5', remaining_fee_usd: '0.15', cost_basis: '158.4',
        price: '125.25', price_source: 'x', market_value: '187.875', unrealized_pnl: '29.475', lot_age: '15 days', price_age: '5 days' },
    ]);
  });

  it('breaks a tie between sources at the same time by name, and ignores prices after the time', async () => {
    // at 01-05: b2 only (b3 is later); 131 from 'a' at 01-04 (not 130 from 'b'): 2 × 131 = 262 − 220.2 = 41.8
    expect(await t.query(`SELECT ${POSITION} FROM fifo_open_positions_marked(1, '2025-01-05 12:00Z') WHERE symbol = 'SOL-USD'`)).toEqual([
      { symbol: 'SOL-USD', quote: 'USD', quantity: '2', cost_basis: '220.2', price: '131', price_time: '2025-01-04 00:00',
        price_source: 'a', market_value: '262', unrealized_pnl: '41.8', oldest_lot_time: '2025-01-02 00:00',
        oldest_lot_age: '3 days 12:00:00', price_age: '1 day 12:00:00' },
    ]);
    // exactly at a price's time it counts
    const [at] = await t.query<{ price: string }>(`SELECT trim_scale(price)::text AS price FROM fifo_open_positions_marked(1, '2025-01-20 00:00Z') WHERE symbol = 'SOL-USD'`);
    expect(at).toEqual({ price: '125.25' });
  });

  it('shows a position without a price by then as unknown (NULL), never as zero', async () => {
    // at 01-02 12:00, before s1 and before any price: b1 2 (basis 201) and b2 3 (basis 330.3)
    expect(await t.query(`SELECT ${POSITION} FROM fifo_open_positions_marked(1, '2025-01-02 12:00Z') WHERE symbol = 'SOL-USD'`)).toEqual([
      { symbol: 'SOL-USD', quote: 'USD', quantity: '5', cost_basis: '531.3', price: null, price_time: null, price_source: null,
        market_value: null, unrealized_pnl: null, oldest_lot_time: '2025-01-01 00:00', oldest_lot_age: '1 day 12:00:00', price_age: null },
    ]);
  });

  it('says how stale the price is', async () => {
    // at 03-03 the latest SOL-USD price is 999 of 02-01: 30 days old; 3.5 × 999 = 3496.5 − 378.6 = 3117.9
    expect(await t.query(`SELECT trim_scale(market_value)::text AS mv, trim_scale(unrealized_pnl)::text AS pnl, price_age::text AS age
                            FROM fifo_open_positions_marked(1, '2025-03-03 00:00Z') WHERE symbol = 'SOL-USD'`))
      .toEqual([{ mv: '3496.5', pnl: '3117.9', age: '30 days' }]);
  });

  it('marks the version\'s own open lots (LIFO leaves other lots open) and nothing for an unknown version', async () => {
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'lifo')`);
    expect((await runFifo(['compute', '--version', '2'], { DATABASE_URL: t.url })).code).toBe(0);
    // LIFO: s1 takes all of b2 (3, fee 0.3); b1 stays open whole: 2 @ 100 + fee 1 = 201; with b3 158.4: 359.4
    // at 01-25: 3.5 × 125.25 = 438.375 − 359.4 = 78.975
    expect(await t.query(`SELECT trim_scale(cost_basis)::text AS basis, trim_scale(unrealized_pnl)::text AS pnl,
                                 to_char(oldest_lot_time AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS oldest
                            FROM fifo_open_positions_marked(2, '2025-01-25 00:00Z') WHERE symbol = 'SOL-USD'`))
      .toEqual([{ basis: '359.4', pnl: '78.975', oldest: '2025-01-01' }]);
    expect(await t.query(`SELECT * FROM fifo_open_positions_marked(99, '2025-01-25 00:00Z')`)).toEqual([]);
  });

  it('has views at now() for every version, agreeing with the functions', async () => {
    const view = await t.query(`SELECT allocation_version, symbol, trim_scale(quantity)::text AS q, trim_scale(price)::text AS price
                                  FROM v_open_positions_marked ORDER BY 1, 2`);
    expect(view).toEqual([
      { allocation_version: 1, symbol: 'ETH-BTC', q: '1', price: null },
      { allocation_version: 1, symbol: 'SOL-USD', q: '3.5', price: '999' },
      { allocation_version: 2, symbol: 'ETH-BTC', q: '1', price: null },
      { allocation_version: 2, symbol: 'SOL-USD', q: '3.5', price: '999' },
    ]);
    const [n] = await t.query<{ lots: number; same: boolean }>(
      `SELECT count(*)::int AS lots,
              bool_and(l.market_value IS NOT DISTINCT FROM l.remaining_size * l.price) AS same
         FROM v_open_lots_marked l WHERE allocation_version = 1`);
    expect(n).toEqual({ lots: 3, same: true });
  });

  it('refuses bad prices with named rules', async () => {
    const bad: [string, string][] = [
      [`('SOL-USD', '2025-01-01Z', 0, 'x')`, 'market_prices_price_must_be_positive'],
      [`('SOL-USD', '2025-01-01Z', -1, 'x')`, 'market_prices_price_must_be_positive'],
      [`('SOL-USD', '2025-01-01Z', 'NaN', 'x')`, 'market_prices_price_must_be_positive'],
      [`('SOL-USD', '2025-01-01Z', 'Infinity', 'x')`, 'market_prices_price_must_be_positive'],
      [`('SOL-USD', '2025-01-01Z', 0.0000000000000000001, 'x')`, 'market_prices_price_at_most_18_decimals'],
      [`('SOL-USD', 'infinity', 1, 'x')`, 'market_prices_price_time_must_be_a_real_time'],
      [`('SOL-USD', '0044-03-15 BC', 1, 'x')`, 'market_prices_price_time_must_be_a_real_time'],
      [`('sol-usd', '2025-01-01Z', 1, 'x')`, 'market_prices_symbol_must_be_upper_case'],
      [`('SOLUSD', '2025-01-01Z', 1, 'x')`, 'market_prices_symbol_must_be_base_dash_quote'],
      [`('SOL-USD', '2025-01-01Z', 1, ' x')`, 'market_prices_source_must_be_a_tag'],
      [`('SOL-USD', '2025-01-01Z', 1, '')`, 'market_prices_source_must_be_a_tag'],
      [`('SOL-USD', '2025-01-01Z', 1, E'a\\tb')`, 'market_prices_source_must_be_a_tag'],
      [`('SOL-USD', '2025-01-01Z', 1, U&'a\\0085b')`, 'market_prices_source_must_be_a_tag'],
    ];
    for (const [values, rule] of bad) {
      await expect(t.query(`INSERT INTO market_prices (symbol, price_time, price, source) VALUES ${values}`), values)
        .rejects.toThrow(rule);
    }
    // the key makes a second insert of the same (symbol, time, source) a conflict, not a second row
    await expect(t.query(`INSERT INTO market_prices (symbol, price_time, price, source) VALUES ('SOL-USD', '2025-01-04 00:00Z', 1, 'a')`))
      .rejects.toThrow('market_prices_pkey');
  });
});

describe('fifo import prices', () => {
  let t: TestSchema;
  let dir: string;
  let env: Record<string, string>;
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const stored = () => t.query<{ symbol: string; time: string; price: string; source: string }>(`SELECT symbol, to_char(price_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS time,
                                       price::text AS price, source FROM market_prices ORDER BY 1, 2, 4`);
  beforeAll(async () => {
    t = await createTestSchema();
    dir = mkdtempSync(join(tmpdir(), 'fifo-prices-'));
    env = { DATABASE_URL: t.url };
  });
  afterAll(() => t.drop());

  it('imports a file, then re-importing it changes nothing and says so', async () => {
    const f = file('prices.csv', [
      'symbol,price_time,price,source',
      'sol-usd,2025-01-04T00:00:00Z,130.50,coinbase',
      'SOL/USD,2025-01-05T01:00:00+01:00,131,',
      'BTC-USD,2025-01-05T00:00:00.123456Z,90000.000000000000000001,kraken',
      '',
    ].join('\n'));
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b1', 'SOL-USD', 'buy', 1, 100, '2025-01-01Z')`);
    const first = await runFifo(['import', 'prices', f], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`${f}: 3 price(s): 3 inserted, 0 updated, 0 unchanged`);
    // kept, with a warning: a misspelt symbol would never value a position
    expect(first.stderr).toContain(`fifo: warning: ${f}: the ledger holds no fill of BTC-USD; their prices are kept`);
    const rows = await stored();
    expect(rows).toEqual([
      { symbol: 'BTC-USD', time: '2025-01-05T00:00:00.123456', price: '90000.000000000000000001', source: 'kraken' },
      { symbol: 'SOL-USD', time: '2025-01-04T00:00:00.000000', price: '130.5', source: 'coinbase' },
      { symbol: 'SOL-USD', time: '2025-01-05T00:00:00.000000', price: '131', source: 'csv-import' },
    ]);
    const again = await runFifo(['import', 'prices', f], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${f}: 3 price(s): 0 inserted, 0 updated, 3 unchanged — nothing changed`);
    expect(await stored()).toEqual(rows);
    // --source names the rows without one; a price equal in value (131.0) is unchanged
    const tagged = await runFifo(['import', 'prices', f, '--source', 'desk', '--json'], env);
    expect(JSON.parse(tagged.stdout)).toMatchObject({ read: 3, inserted: 1, updated: [], unchanged: 2, symbolsNotInLedger: ['BTC-USD'] });
    expect((await stored()).filter((r) => r.source === 'desk')).toEqual([
      { symbol: 'SOL-USD', time: '2025-01-05T00:00:00.000000', price: '131', source: 'desk' }]);
  });

  it('updates a changed price of the same key and reports it; --dry-run writes nothing', async () => {
    const f = file('changed.csv', 'symbol,price_time,price,source\nSOL-USD,2025-01-04T00:00:00Z,132,coinbase\nSOL-USD,2025-01-05T00:00:00Z,131.0,csv-import\n');
    const before = await stored();
    const dry = await runFifo(['import', 'prices', f, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('0 to insert, 1 to update, 1 unchanged (dry run: nothing written)');
    expect(await stored()).toEqual(before);
    const r = await runFifo(['import', 'prices', f], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('0 inserted, 1 updated, 1 unchanged');
    expect(r.stdout).toContain('changed line 2 SOL-USD at 2025-01-04T00:00:00.000000Z (coinbase): 130.5 -> 132');
    expect((await stored()).find((x) => x.source === 'coinbase')).toMatchObject({ price: '132' });
  });

  it('reads times without an offset as UTC with --utc, and refuses them without', async () => {
    const f = file('utc.csv', 'symbol,price_time,price\nSOL-USD,2025-03-01 12:30:00,140\n');
    expect((await runFifo(['import', 'prices', f], env)).code).toBe(2);
    const r = await runFifo(['import', 'prices', f, '--utc'], env);
    expect(r.code, r.stderr).toBe(0);
    expect((await stored()).filter((x) => x.time.startsWith('2025-03-01'))).toEqual([
      { symbol: 'SOL-USD', time: '2025-03-01T12:30:00.000000', price: '140', source: 'csv-import' }]);
  });

  it('refuses a bad file whole, listing every problem with its line, exit 2, nothing written', async () => {
    const before = await stored();
    const f = file('bad.csv', [
      'symbol,price_time,price',
      'SOL-USD,2025-01-06T00:00:00Z,1',        // fine, but not written: the file is refused whole
      'SOL-USD,2025-02-30T00:00:00Z,1',
      'SOL-USD,2025-01-07T00:00:00Z,1e3',
      'SOL-USD,2025-01-08T00:00:00Z,-2',
      'SOL-USD,2025-01-08T00:00:00,2',
      'SOL-USD,2025-01-06T00:00:00+00:00,2',
      '',
    ].join('\n'));
    const r = await runFifo(['import', 'prices', f], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: 5 problem(s); nothing imported`);
    expect(r.stderr).toContain('line 3, column "price_time": time "2025-02-30T00:00:00Z" is not a calendar date');
    expect(r.stderr).toContain('line 4, column "price": price "1e3" uses an exponent');
    expect(r.stderr).toContain('line 5, column "price": price "-2" is negative');
    expect(r.stderr).toContain('line 6, column "price_time": time "2025-01-08T00:00:00" has no UTC offset');
    expect(r.stderr).toContain('line 7: SOL-USD at 2025-01-06T00:00:00+00:00 from "csv-import" is also on line 2');
    expect(await stored()).toEqual(before);
  });
});

describe('who may write market prices', () => {
  let t: TestSchema;
  const logins: LoginRole[] = [];
  beforeAll(async () => {
    t = await createTestSchema();
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b1', 'SOL-USD', 'buy', 1, 10, '2025-01-01Z')`);
  });
  afterAll(async () => {
    for (const l of logins) await l.drop();
    await t.drop();
  });
  const login = async (role: string | null) => {
    const l = await createLoginRole(t.url, role);
    logins.push(l);
    return l.connect();
  };
  const insert = `INSERT INTO market_prices (symbol, price_time, price, source) VALUES ('SOL-USD', '2025-01-02Z', 12, 'w')`;

  it('lets the writer feed prices, the reader and the engine only read them, PUBLIC nothing', async () => {
    const writer = await login('fifo_writer');
    await writer.query(insert);
    await writer.query(`UPDATE market_prices SET price = 13 WHERE source = 'w'`);
    expect((await writer.query(`SELECT price::text FROM market_prices`)).rows).toEqual([{ price: '13' }]);

    const reader = await login('fifo_reader');
    for (const sql of [insert.replace("'w'", "'r'"), `UPDATE market_prices SET price = 1`, `DELETE FROM market_prices`, `TRUNCATE market_prices`]) {
      await expect(reader.query(sql), sql).rejects.toMatchObject({ code: '42501' });
    }
    expect((await reader.query(`SELECT trim_scale(market_value)::text AS mv FROM fifo_open_positions_marked(1, '2025-01-03Z')`)).rows)
      .toEqual([{ mv: '13' }]);
    expect((await reader.query(`SELECT count(*)::int AS n FROM v_open_lots_marked`)).rows).toEqual([{ n: 1 }]);

    const engine = await login('fifo_engine');
    await expect(engine.query(`DELETE FROM market_prices`)).rejects.toMatchObject({ code: '42501' });

    const nobody = await login(null);
    // with the schema open to it, so that what refuses is the table's own grant
    await t.query(`GRANT USAGE ON SCHEMA ${t.schema} TO ${logins.at(-1)!.name}`);
    await expect(nobody.query(insert.replace("'w'", "'p'"))).rejects.toMatchObject({ code: '42501' });
    await expect(nobody.query(`SELECT * FROM market_prices`)).rejects.toMatchObject({ code: '42501' });
    expect(await t.query(`SELECT has_table_privilege('public', 'market_prices', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') AS p,
                                 has_function_privilege('public', 'fifo_open_positions_marked(int, timestamptz)', 'EXECUTE') AS f,
                                 has_function_privilege('fifo_reader', 'fifo_refresh_long_held_lots(int, text[], timestamptz, bigint)', 'EXECUTE') AS r`))
      .toEqual([{ p: false, f: false, r: false }]);
    // the CLI likewise: the writer imports, the reader is refused by the database
    const f = join(mkdtempSync(join(tmpdir(), 'fifo-prices-roles-')), 'p.csv');
    writeFileSync(f, 'symbol,price_time,price\nSOL-USD,2025-01-02T12:00:00Z,14\n');
    const asWriter = await runFifo(['import', 'prices', f], { DATABASE_URL: logins[0]!.url });
    expect(asWriter.code, asWriter.stderr).toBe(0);
    const asReader = await runFifo(['import', 'prices', f, '--source', 'r'], { DATABASE_URL: logins[1]!.url });
    expect(asReader.code).not.toBe(0);
    expect(asReader.stderr).toMatch(/permission denied/);
  });
});

describe('sample prices for a demo ledger', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  it('prices each symbol at its last trade, once', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
      ('b1', 'SOL-USD', 'buy', 2, 100, '2025-01-01Z'), ('s1', 'SOL-USD', 'sell', 1, 120.5, '2025-01-02Z'),
      ('b2', 'SOL-USD', 'buy', 1, 119, '2025-01-02Z'), ('e1', 'ETH-BTC', 'buy', 1, 0.05, '2025-01-03Z')`);
    const { insertSamplePrices } = await import('../../packages/cli/src/queries/prices.ts');
    // at equal times the sell comes after the buy (processing order): SOL-USD is priced at 120.5
    expect(await insertSamplePrices(t.client)).toBe(2);
    expect(await insertSamplePrices(t.client)).toBe(0);
    expect(await t.query(`SELECT symbol, price::text, source FROM market_prices ORDER BY symbol`)).toEqual([
      { symbol: 'ETH-BTC', price: '0.05', source: 'demo-sample' },
      { symbol: 'SOL-USD', price: '120.5', source: 'demo-sample' },
    ]);
  });
});
