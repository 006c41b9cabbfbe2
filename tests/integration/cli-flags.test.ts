/**
 * Issue 10, CLI side: time flags are UTC whatever the machine's zone, --symbol is canonical
 * everywhere, `fifo ... | head` exits quietly, and import refuses every character the
 * ledger's order-id rule refuses.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseId, ValueError } from '../../packages/cli/src/ledger-io/values.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const root = resolve(import.meta.dirname, '../..');
/** A zone far from UTC: an offset-less flag read locally would be 4-5 hours off. */
const NEW_YORK = { TZ: 'America/New_York' };

describe('time flags without an offset are UTC, not the machine zone', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  it('compute --since 2025-03-01T03:00 under TZ=America/New_York means 03:00 UTC', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
                     ('a1', 'AAA-USD', 'buy', 1, 10, '2025-03-01T02:00:00Z'),
                     ('b1', 'BBB-USD', 'buy', 1, 10, '2025-03-01T06:00:00Z')`);
    const r = await runFifo(['compute', '--incremental', '--since', '2025-03-01T03:00', '--json'], { DATABASE_URL: t.url, ...NEW_YORK });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // read as New York time (08:00 UTC) no symbol would qualify; as UTC, BBB-USD (06:00Z) does
    expect(JSON.parse(r.stdout)).toMatchObject({ symbolsComputed: 1 });
    expect(await t.query(`SELECT symbol FROM fifo_dirty_symbols ORDER BY symbol`)).toEqual([{ symbol: 'AAA-USD' }]);
  });

  it('review resolve --time 2025-02-01T10:00 under TZ=America/New_York opens the lot at 10:00 UTC', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('s1', 'CCC-USD', 'sell', 2, 12, '2025-02-02T00:00:00Z')`);
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
    const [item] = await t.query<{ review_id: string }>(
      `SELECT review_id::text FROM manual_review_queue WHERE issue_type = 'unmatched_sell' AND item_key = 's1'`);
    const r = await runFifo(['review', 'resolve', item!.review_id, '--note', 'held before the ledger started',
      '--opening-balance', '--price', '5', '--time', '2025-02-01T10:00'], { DATABASE_URL: t.url, ...NEW_YORK });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await t.query(`SELECT order_time FROM trade_records WHERE order_id = 'opening-s1'`))
      .toEqual([{ order_time: new Date('2025-02-01T10:00:00Z') }]);
  });

  it('an impossible date or clock time is exit 2 naming the flag, never rolled over', async () => {
    for (const [args, message] of [
      [['report', '--from', '2025-02-30'], /--from "2025-02-30" is not a calendar date/],
      [['report', '--to', '2025-02-29T00:00Z'], /--to "2025-02-29T00:00Z" is not a calendar date/],
      [['compute', '--incremental', '--since', '2025-01-01T23:60'], /--since "2025-01-01T23:60" is not a time of day/],
      [['review', 'resolve', '1', '--note', 'n', '--opening-balance', '--price', '1', '--time', '2025-04-31'], /--time "2025-04-31" is not a calendar date/],
    ] as const) {
      const r = await runFifo(args, { DATABASE_URL: t.url, ...NEW_YORK });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('--symbol is canonical (upper case) in every command', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
                     ('u1', 'SOL-USD', 'sell', 1, 10, '2025-01-01Z')`);
  });
  afterAll(() => t.drop());

  it('compute, review list and diff take sol-usd as SOL-USD', async () => {
    const c = await runFifo(['compute', '--symbol', 'sol-usd', '--json'], { DATABASE_URL: t.url });
    expect(c.stderr).toBe('');
    expect(JSON.parse(c.stdout)).toMatchObject({ symbolsComputed: 1 });
    const list = await runFifo(['review', 'list', '--symbol', 'sol-usd', '--json'], { DATABASE_URL: t.url });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ items: [{ symbol: 'SOL-USD' }] });
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'lifo')`);
    expect((await runFifo(['compute', '--version', '2', '--symbol', 'Sol-Usd'], { DATABASE_URL: t.url })).code).toBe(0);
    const d = await runFifo(['diff', '--from', '1', '--to', '2', '--symbol', 'sol/usd', '--json'], { DATABASE_URL: t.url });
    expect(d.stderr).toBe('');
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout).symbols.map((s: { symbol: string }) => s.symbol)).toEqual(['SOL-USD']);
  });
});

describe('`fifo ... | head`', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    // 3,000 unmatched sells: `review list` prints far more than a pipe holds
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   SELECT 'sell-' || i, 'SOL-USD', 'sell', 1, 10, '2025-01-01Z'::timestamptz + i * interval '1 minute'
                     FROM generate_series(1, 3000) i`);
    expect((await runFifo(['compute'], { DATABASE_URL: t.url })).code).toBe(0);
  });
  afterAll(() => t.drop());

  it('exits quietly when the reader closes the pipe early (no EPIPE stack trace)', async () => {
    const main = resolve(root, 'packages/cli/src/main.ts');
    const child = spawn('bash', ['-c', `set -o pipefail; node --import tsx '${main}' review list --limit 3000 | head -n 2`], {
      cwd: root, env: { ...process.env, DATABASE_URL: t.url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('import refuses every character the ledger refuses in an order id', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  const refused = (id: string) => {
    try {
      parseId(id);
      return false;
    } catch (e) {
      if (e instanceof ValueError) return true;
      throw e;
    }
  };

  it('the ledger CHECK and parseId agree on every code point the ledger refuses', async () => {
    // every code point the ledger's own constraint expression refuses inside an id
    const { rows } = await t.client.query<{ cp: number }>(
      `WITH def AS (
         SELECT substring(pg_get_constraintdef(oid) FROM $$!~ '(.*)'::text$$) AS pattern FROM pg_constraint
          WHERE conrelid = 'trade_records'::regclass AND conname = 'trade_records_order_id_no_control_or_invisible_chars')
       SELECT cp FROM def, generate_series(1, 1114111) cp
        WHERE cp NOT BETWEEN 55296 AND 57343 AND ('a' || chr(cp) || 'b') ~ def.pattern`);
    expect(rows.length).toBeGreaterThan(100);
    const missed = rows.map((r) => r.cp).filter((cp) => !refused(`a${String.fromCodePoint(cp)}b`));
    expect(missed.map((cp) => `U+${cp.toString(16).toUpperCase()}`)).toEqual([]);
    // and the other way round: import refuses nothing the ledger would take (one rule)
    const ledger = new Set(rows.map((r) => r.cp));
    const extra: string[] = [];
    for (let cp = 1; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      if (!ledger.has(cp) && refused(`a${String.fromCodePoint(cp)}b`)) extra.push(`U+${cp.toString(16).toUpperCase()}`);
    }
    expect(extra).toEqual([]);
  });

  it('refuses every Unicode control, format and space character but U+0020', () => {
    const classes = /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\p{Co}]/u;
    const missed: string[] = [];
    for (let cp = 1; cp <= 0x10ffff; cp++) {
      if (cp === 0x20 || (cp >= 0xd800 && cp <= 0xdfff)) continue;
      const ch = String.fromCodePoint(cp);
      if (classes.test(ch) && !refused(`a${ch}b`)) missed.push(`U+${cp.toString(16).toUpperCase()}`);
    }
    expect(missed).toEqual([]);
    expect(refused('a b')).toBe(false); // a plain space inside is the ledger's rule too
  });
});
