/** `fifo import`: Coinbase fills and mapped CSV into the ledger, idempotently, through the audited path. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCommand } from '../../packages/cli/src/commands/import.ts';
import { CliError } from '../../packages/cli/src/errors.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures');
const coinbase = join(fixtures, 'coinbase-fills.csv');
const kraken = join(fixtures, 'kraken-trades.csv');
const tmp = mkdtempSync(join(tmpdir(), 'fifo-import-'));

function variant(name: string, edit: (text: string) => string): string {
  const path = join(tmp, name);
  writeFileSync(path, edit(readFileSync(coinbase, 'utf8')));
  return path;
}

/** Input errors found before the database is touched: in-process, the CliError main prints (exit 2). */
async function rejects(args: readonly string[], message: RegExp): Promise<void> {
  const err = await importCommand(args.slice(1)).then(() => null, (e: unknown) => e); // args[0] is the command name
  expect(err, args.join(' ')).toBeInstanceOf(CliError);
  expect((err as CliError).exitCode).toBe(2);
  expect((err as CliError).message).toMatch(message);
}

async function ledgerState(t: TestSchema) {
  const [r] = await t.query<{ facts: number; audit: number }>(
    `SELECT (SELECT count(*)::int FROM trade_records) AS facts, (SELECT count(*)::int FROM trade_records_audit) AS audit`);
  return r!;
}

describe('fifo import coinbase', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  it('imports one fact per fill, keyed order:trade, audited and marking symbols dirty; a recompute is exact', async () => {
    const r = await runFifo(['import', 'coinbase', coinbase], { DATABASE_URL: t.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5 fill\(s\): 5 inserted, 0 updated, 0 unchanged, 0 skipped/);
    expect(r.stdout).toMatch(/changed symbol\(s\): ETH-USD, SOL-USD/);
    expect(await t.query(`SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text AS fee, order_time, source
                            FROM trade_records ORDER BY order_time`)).toEqual([
      { order_id: 'ord-a1:tr-1001', symbol: 'SOL-USD', side: 'buy', size: '1', price: '100', fee: '0.6', order_time: new Date('2025-03-03T14:02:11.481Z'), source: 'coinbase-import' },
      { order_id: 'ord-a1:tr-1002', symbol: 'SOL-USD', side: 'buy', size: '2', price: '101', fee: '1.212', order_time: new Date('2025-03-03T14:02:11.913Z'), source: 'coinbase-import' },
      { order_id: 'ord-b7:tr-1003', symbol: 'SOL-USD', side: 'sell', size: '3', price: '102', fee: '1.836', order_time: new Date('2025-03-04T09:15:00Z'), source: 'coinbase-import' },
      { order_id: 'ord-c3:tr-2001', symbol: 'ETH-USD', side: 'buy', size: '0.5', price: '2150.35', fee: '1.29021', order_time: new Date('2025-03-05T18:40:05.250Z'), source: 'coinbase-import' },
      { order_id: 'ord-d9:tr-2002', symbol: 'ETH-USD', side: 'sell', size: '0.25', price: '2201.1', fee: '0.66033', order_time: new Date('2025-03-06T07:00:00Z'), source: 'coinbase-import' },
    ]);
    // microseconds survive (a JS Date would have dropped them)
    expect(await t.query(`SELECT to_char(order_time AT TIME ZONE 'UTC', 'US') AS us FROM trade_records WHERE order_id = 'ord-a1:tr-1001'`))
      .toEqual([{ us: '481223' }]);
    expect(await ledgerState(t)).toEqual({ facts: 5, audit: 5 });
    expect(await t.query(`SELECT symbol FROM fifo_dirty_symbols ORDER BY symbol`)).toEqual([{ symbol: 'ETH-USD' }, { symbol: 'SOL-USD' }]);

    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
    // 3 @ 102 − 1.836 against 1 @ 100 + 0.6 and 2 @ 101 + 1.212: exact, no averaged price
    expect(await t.query(`SELECT sell_order_id, realized_pnl_usd::text AS pnl FROM v_trade_pnl ORDER BY sell_order_id`)).toEqual([
      { sell_order_id: 'ord-b7:tr-1003', pnl: '0.352' },
      { sell_order_id: 'ord-d9:tr-2002', pnl: '11.382065' },
    ]);
  });

  it('adds nothing when the same file is imported again', async () => {
    const r = await runFifo(['import', 'coinbase', coinbase, '--json'], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 5, inserted: 0, updated: [], unchanged: 5, skipped: [], symbols: [] });
    expect(await ledgerState(t)).toEqual({ facts: 5, audit: 5 });
    expect(await t.query(`SELECT count(*)::int AS n FROM fifo_dirty_symbols`)).toEqual([{ n: 0 }]);
  });

  it('updates a revised fill through the audited path and takes new fills of a known order', async () => {
    const revised = variant('revised.csv', (s) =>
      s.replace('e-0002,tr-1002,ord-a1,2025-03-03T14:02:11.913377Z,FILL,101,2,1.212', 'e-0002,tr-1002,ord-a1,2025-03-03T14:02:11.913377Z,FILL,101,2.5,1.515')
        + 'e-0006,tr-1004,ord-b7,2025-03-04T09:15:00.5Z,FILL,102.5,0.5,0.3075,SOL-USD,2025-03-04T09:15:00.510001Z,MAKER,false,u-1,SELL\n');
    const r = await runFifo(['import', 'coinbase', revised], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/6 fill\(s\): 1 inserted, 1 updated, 4 unchanged, 0 skipped/);
    expect(r.stdout).toMatch(/corrected line 3 ord-a1:tr-1002: SOL-USD buy 2 @ 101 fee 1.212 .* -> SOL-USD buy 2.5 @ 101 fee 1.515/);
    expect(await t.query(`SELECT operation, order_id, old_fact->>'size' AS old_size, new_fact->>'size' AS new_size
                            FROM trade_records_audit WHERE audit_id > 5 ORDER BY audit_id`)).toEqual([
      { operation: 'UPDATE', order_id: 'ord-a1:tr-1002', old_size: '2', new_size: '2.5' },
      { operation: 'INSERT', order_id: 'ord-b7:tr-1004', old_size: null, new_size: '0.5' },
    ]);
    expect(await t.query(`SELECT symbol FROM fifo_dirty_symbols`)).toEqual([{ symbol: 'SOL-USD' }]);
  });

  it('rejects a malformed file with line numbers and writes nothing', async () => {
    const before = await ledgerState(t);
    const bad = variant('bad.csv', (s) => s
      .replace('FILL,102,3,"1.836"', 'FILL,1O2,3,"1.836"')
      .replace('2025-03-05T18:40:05.25Z', '2025-02-30T18:40:05Z')
      .replace('false,u-1,SELL\ne-0004', 'false,u-1,SHORT\ne-0004')
      .replace('e-0001,tr-1001,ord-a1,2025-03-03T14:02:11.481223Z,FILL,100,1,0.6', 'e-0001,tr-1001,ord-a1,2025-03-03T14:02:11.481223Z,FILL,100,1,-0.6'));
    const r = await runFifo(['import', 'coinbase', bad], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/bad\.csv: 4 problem\(s\); nothing imported/);
    expect(r.stderr).toMatch(/line 2, column "commission": fee "-0.6" is negative/);
    expect(r.stderr).toMatch(/line 4, column "price": price "1O2" is not a decimal number/);
    expect(r.stderr).toMatch(/line 4, column "side": side "SHORT" is neither buy nor sell/);
    expect(r.stderr).toMatch(/line 5, column "trade_time": time "2025-02-30T18:40:05Z" is not a calendar date/);
    expect(await ledgerState(t)).toEqual(before);

    const cases = [
      [variant('ragged.csv', (s) => s.replace('MAKER,false,u-1,SELL', 'MAKER,false,u-1')), /ragged\.csv: 1 problem\(s\); nothing imported\n {2}\S*ragged\.csv line 4: 13 field\(s\), the header has 14/],
      [variant('quote.csv', (s) => s.replace('"1.836"', '"1.836')), /quote\.csv line 4: a quoted field is not closed/],
      [variant('header.csv', (s) => s.replace('commission', 'kommission')), /header\.csv: line 1: not a Coinbase fills header: missing column\(s\) commission or fee/],
      [variant('reversal.csv', (s) => s.replace('tr-2002,ord-d9,2025-03-06T07:00:00Z,FILL', 'tr-2002,ord-d9,2025-03-06T07:00:00Z,REVERSAL')), /line 6, column "trade_type": trade type "REVERSAL" is not supported/],
      [variant('conflict.csv', (s) => `${s}e-0009,tr-1001,ord-a1,2025-03-03T14:02:11.481223Z,FILL,100,1.5,0.6,SOL-USD,x,TAKER,false,u-1,BUY\n`), /line 7: trade tr-1001 of order ord-a1 is also on line 2 with other values/],
      [join(tmp, 'missing.csv'), /missing\.csv: no such file/],
    ] as const;
    for (const [file, message] of cases) await rejects(['import', 'coinbase', file], message);
    expect(await ledgerState(t)).toEqual(before);
  });

  it('keeps keys injective: ids holding the ":" separator are refused, so order a:b trade c never overwrites order a trade b:c', async () => {
    const head = readFileSync(coinbase, 'utf8').split('\n')[0];
    const row = (trade: string, order: string, size: string) =>
      `e-1,${trade},${order},2025-03-09T00:00:00Z,FILL,50,${size},0.1,SOL-USD,x,TAKER,false,u-1,BUY`;
    const first = join(tmp, 'key-first.csv');
    writeFileSync(first, `${head}\n${row('b:c', 'a', '1')}\n`);
    const second = join(tmp, 'key-second.csv');
    writeFileSync(second, `${head}\n${row('c', 'a:b', '7')}\n`);
    const before = await ledgerState(t);
    // before the fix both were keyed a:b:c and the second import UPDATEd the first fact
    const r1 = await runFifo(['import', 'coinbase', first], { DATABASE_URL: t.url });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/line 2, column "trade_id": trade id "b:c" contains ":", the separator of the ledger key/);
    const r2 = await runFifo(['import', 'coinbase', second], { DATABASE_URL: t.url });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/line 2, column "order_id": order id "a:b" contains ":"/);
    expect(await ledgerState(t)).toEqual(before);
    expect(await t.query(`SELECT order_id FROM trade_records WHERE order_id LIKE 'a:%'`)).toEqual([]);
  });

  it('reads a UTF-8 file with a byte-order mark like one without', async () => {
    const withBom = join(tmp, 'bom.csv');
    writeFileSync(withBom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(coinbase)]));
    const r = await runFifo(['import', 'coinbase', withBom, '--json', '--dry-run'], { DATABASE_URL: t.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 5, inserted: 0, updated: [{ key: 'ord-a1:tr-1002' }], unchanged: 4 });
  });

  it('skips fills of an order the ledger already holds as one order-level fact (no double count)', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source)
                   VALUES ('ord-z1', 'SOL-USD', 'buy', 2, 99, 0.5, '2025-03-07Z', 'bot')`);
    const file = variant('bot-overlap.csv', (s) => s.split('\n')[0] + '\n' +
      'e-0100,tr-3001,ord-z1,2025-03-07T00:00:00Z,FILL,99,2,0.5,SOL-USD,x,TAKER,false,u-1,BUY\n' +
      'e-0101,tr-3002,ord-z2,2025-03-08T00:00:00Z,FILL,98,1,0.2,SOL-USD,x,TAKER,false,u-1,BUY\n');
    const r = await runFifo(['import', 'coinbase', file], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 fill\(s\): 1 inserted, 0 updated, 0 unchanged, 1 skipped/);
    expect(r.stderr).toMatch(/line 2: skipped ord-z1:tr-3001: order ord-z1 is already in the ledger as one order-level fact/);
    expect(await t.query(`SELECT order_id FROM trade_records WHERE order_id LIKE 'ord-z%' ORDER BY 1`))
      .toEqual([{ order_id: 'ord-z1' }, { order_id: 'ord-z2:tr-3002' }]);
  });
});

describe('fifo import csv --map', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  const map = 'order_id=ordertxid,trade_id=txid,symbol=pair,time=time,side=type,price=price,size=vol,fee=fee';

  it('maps any exchange\'s columns; zone-less times need --utc', async () => {
    await rejects(['import', 'csv', kraken, '--map', map], /line 2, column "time": time "2025-04-01 10:00:00" has no UTC offset/);
    const dry = await runFifo(['import', 'csv', kraken, '--map', map, '--utc', '--dry-run'], { DATABASE_URL: t.url });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/2 to insert.*dry run: nothing written/);
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records`)).toEqual([{ n: 0 }]);
    const r = await runFifo(['import', 'csv', kraken, '--map', map, '--utc', '--source', 'kraken'], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    expect(await t.query(`SELECT order_id, symbol, side, size::text, price::text, source FROM trade_records ORDER BY order_time`)).toEqual([
      { order_id: 'OQX1-1111:TQX1-AAAA', symbol: 'SOL-USD', side: 'buy', size: '4', price: '120.5', source: 'kraken' },
      { order_id: 'OQX2-2222:TQX2-BBBB', symbol: 'SOL-USD', side: 'sell', size: '1.5', price: '125.25', source: 'kraken' },
    ]);
    const again = await runFifo(['import', 'csv', kraken, '--map', map, '--utc'], { DATABASE_URL: t.url });
    expect(again.stdout).toMatch(/0 inserted, 0 updated, 2 unchanged/);
    // the same order as one order-level row (no trade id) is not added next to its fills
    const orders = join(tmp, 'orders.csv');
    writeFileSync(orders, 'order,pair,time,side,price,qty\nOQX1-1111,SOL-USD,2025-04-01T10:00:00Z,buy,120.5,4\n');
    const dup = await runFifo(['import', 'csv', orders, '--map', 'order_id=order,symbol=pair,time=time,side=side,price=price,size=qty'], { DATABASE_URL: t.url });
    expect(dup.code).toBe(0);
    expect(dup.stdout).toMatch(/0 inserted, 0 updated, 0 unchanged, 1 skipped/);
    expect(dup.stderr).toMatch(/skipped OQX1-1111: order OQX1-1111 is already in the ledger as fills/);
  });

  it('rejects a bad --map naming the field or column, and an order on two rows without trade ids', async () => {
    const maps = [
      ['order_id=ordertxid,symbol=pair,time=time,side=type,price=price,size=volume', /--map size=volume: the file has no column "volume" \(columns: txid, ordertxid, pair, time, type, price, vol, fee\)/],
      ['order_id=ordertxid,symbol=pair,time=time,side=type,price=price', /--map lacks size/],
      ['orderid=ordertxid', /--map "orderid=ordertxid": unknown field "orderid"/],
    ] as const;
    for (const [m, message] of maps) await rejects(['import', 'csv', kraken, '--map', m, '--utc'], message);
    const twice = join(tmp, 'twice.csv');
    writeFileSync(twice, 'order,pair,time,side,price,qty\nO1,SOL-USD,2025-05-01T00:00:00Z,buy,10,1\nO1,SOL-USD,2025-05-01T00:00:01Z,buy,11,1\n');
    await rejects(['import', 'csv', twice, '--map', 'order_id=order,symbol=pair,time=time,side=side,price=price,size=qty'],
      /line 3: order O1 is also on line 2 with other values \(one row per order, or map trade_id to import fills\)/);
    await rejects(['import', 'binance', kraken], /unknown format "binance": coinbase or csv \(fills\), or prices \(market prices\)/);
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records`)).toEqual([{ n: 2 }]);
  });
});

describe('fifo import: the Coinbase Exchange (Pro) fills report, unknown headers, every problem in one pass', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  const head = 'portfolio,trade id,product,side,created at,size,size unit,price,fee,total,price/fee/total unit';
  const report = (name: string, rows: string[]) => {
    const path = join(tmp, name);
    writeFileSync(path, `${head}\n${rows.join('\n')}\n`);
    return path;
  };
  const rows = [
    'default,78098253,BTC-USD,BUY,2025-03-03T14:02:11.481Z,0.5,BTC,60000.00,3.00,-30003.00,USD',
    'default,78098253,ETH-USD,BUY,2025-03-03T14:02:12Z,2,ETH,3000,1.5,-6001.5,USD',
    'default,78098300,BTC-USD,SELL,2025-03-04T10:00:00Z,0.2,BTC,61000,1.22,12198.78,USD',
  ];

  it('imports it keyed <product>:<trade id> (trade ids count per product), both sides of a product, idempotently', async () => {
    const file = report('pro.csv', rows);
    const r = await runFifo(['import', 'coinbase', file], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/3 fill\(s\): 3 inserted, 0 updated, 0 unchanged, 0 skipped/);
    expect(await t.query(`SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text AS fee, source FROM trade_records ORDER BY order_time`)).toEqual([
      { order_id: 'BTC-USD:78098253', symbol: 'BTC-USD', side: 'buy', size: '0.5', price: '60000', fee: '3', source: 'coinbase-import' },
      { order_id: 'ETH-USD:78098253', symbol: 'ETH-USD', side: 'buy', size: '2', price: '3000', fee: '1.5', source: 'coinbase-import' },
      { order_id: 'BTC-USD:78098300', symbol: 'BTC-USD', side: 'sell', size: '0.2', price: '61000', fee: '1.22', source: 'coinbase-import' },
    ]);
    const again = await runFifo(['import', 'coinbase', file], { DATABASE_URL: t.url });
    expect(again.stdout).toMatch(/0 inserted, 0 updated, 3 unchanged/);
  });

  it('refuses a size or price in another unit than the product\'s base and quote (nothing is converted)', async () => {
    const before = await ledgerState(t);
    const file = report('units.csv', [
      'default,1,SOL-USD,BUY,2025-03-05T00:00:00Z,100,USD,100,0.1,-100.1,USD',
      'default,2,SOL-USD,BUY,2025-03-05T00:00:00Z,1,SOL,100,0.1,-100.1,USDC',
    ]);
    const r = await runFifo(['import', 'coinbase', file], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/2 problem\(s\); nothing imported/);
    expect(r.stderr).toMatch(/line 2, column "size unit": size unit "USD" is not SOL, the base currency of SOL-USD/);
    expect(r.stderr).toMatch(/line 3, column "price\/fee\/total unit": quote unit "USDC" is not USD, the quote currency of SOL-USD/);
    expect(await ledgerState(t)).toEqual(before);
  });

  it('names every format tried for an unknown header, and the import csv --map line it prints reads the file', async () => {
    const file = join(tmp, 'kraken-like.csv');
    writeFileSync(file, 'Date,Pair,Type,Amount,Rate,Fees,TxId\n2025-04-01T00:00:00Z,SOL/USD,buy,1,100,0.1,kx-1\n');
    const before = await ledgerState(t);
    const r = await runFifo(['import', 'coinbase', file], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a Coinbase fills header: missing column\(s\)/);
    expect(r.stderr).toMatch(/formats tried:\n {4}Coinbase Advanced Trade fills: missing order_id, /);
    expect(r.stderr).toMatch(/\n {4}Coinbase Exchange \(Pro\) fills report: missing trade id, /);
    const line = /fifo import csv (\S+) --map (\S+)\n/.exec(r.stderr);
    expect(line, r.stderr).not.toBeNull();
    expect(line![2]).toBe('order_id=TxId,symbol=Pair,side=Type,size=Amount,price=Rate,fee=Fees,time=Date');
    expect(await ledgerState(t)).toEqual(before);
    const mapped = await runFifo(['import', 'csv', line![1]!, '--map', line![2]!], { DATABASE_URL: t.url });
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(await t.query(`SELECT order_id, symbol, side, size::text FROM trade_records WHERE order_id = 'kx-1'`))
      .toEqual([{ order_id: 'kx-1', symbol: 'SOL-USD', side: 'buy', size: '1' }]);
  });

  it('lists a row with the wrong field count together with every other problem of the file', async () => {
    const before = await ledgerState(t);
    const file = report('ragged-and-more.csv', [
      'default,9001,BTC-USD,BUY,2025-03-07T00:00:00Z,-1,BTC,60000,0,-60000,USD',
      'default,9002,BTC-USD,BUY,2025-03-07T00:00:00Z,1,BTC,60000',
      'default,9003,BTC-USD,HOLD,2025-03-07T00:00:00Z,1,BTC,60000,0,-60000,USD',
    ]);
    const r = await runFifo(['import', 'coinbase', file], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    // before: only "line 3: 8 field(s), the header has 11" was reported
    expect(r.stderr).toMatch(/3 problem\(s\); nothing imported/);
    expect(r.stderr).toMatch(/line 2, column "size": size "-1" is negative/);
    expect(r.stderr).toMatch(/line 3: 8 field\(s\), the header has 11/);
    expect(r.stderr).toMatch(/line 4, column "side": side "HOLD" is neither buy nor sell/);
    expect(await ledgerState(t)).toEqual(before);
  });
});
