/**
 * Issue 15: every command's table goes through one formatter: a column of quantities or money
 * has one number of decimals with the decimal points in line, a column of times one width of
 * fractional seconds. Checked on `fifo review show` (its allocations), `fifo report` (its unmatched
 * sells) and `fifo review list`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

/** The rows of the text table that starts with a header line holding every one of `names`. */
function tableAfter(out: string, names: readonly string[]): { header: string; rows: string[] } {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => names.every((n) => l.includes(n)));
  expect(at, out).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (let i = at + 2; i < lines.length && lines[i]!.trim() !== '' && !/^\d+ item/.test(lines[i]!); i++) rows.push(lines[i]!);
  return { header: lines[at]!, rows };
}

/** The cells under a header word: from the column's start to the end of its dashes. */
function column(out: string, names: readonly string[], name: string): string[] {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => names.every((n) => l.includes(n)));
  const dashes = lines[at + 1]!;
  const start = lines[at]!.indexOf(name);
  // the dash run under the column (numbers are right-aligned, so the header may sit anywhere in it)
  let from = start;
  while (from > 0 && dashes[from - 1] === '-') from--;
  let to = start;
  while (to < dashes.length && dashes[to] === '-') to++;
  return tableAfter(out, names).rows.map((r) => r.slice(from, to));
}

describe('table output: one formatter for quantities, money and times', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('b0', 'SOL-USD', 'buy',  0.125, 99,  0,    '2025-04-30 00:00:00.25Z'),
      ('b1', 'SOL-USD', 'buy',  2.5,   100, 0,    '2025-05-01 00:00:00Z'),
      ('s1', 'SOL-USD', 'sell', 10,    110, 0.25, '2025-05-02 00:00:00.5Z'),
      ('s2', 'SOL-USD', 'sell', 0.125, 111, 0,    '2025-05-03 00:00:00.123456Z'),
      ('s3', 'SOL-USD', 'sell', 7.500, 112, 0,    '2025-05-04 00:00:00Z')`);
    const c = await runFifo(['compute'], { DATABASE_URL: t.url });
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(() => t.drop());

  it('fifo review show: allocated sizes share one scale, decimal points in line; times one width', async () => {
    const [item] = await t.query<{ review_id: string }>(`SELECT review_id::text FROM manual_review_queue WHERE item_key = 's1'`);
    const r = await runFifo(['review', 'show', item!.review_id], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(0);
    const names = ['allocated_size', 'buy_order_id'];
    const raw = column(r.stdout, names, 'allocated_size');
    // before: "  2.5" above "0.125"
    expect(raw.map((c) => c.trim()).sort(), r.stdout).toEqual(['0.125', '2.500', '7.375']);
    expect(new Set(raw.map((c) => c.indexOf('.'))).size, raw.join('\n')).toBe(1);
  });

  it('fifo report: unmatched sizes share one scale and one decimal-point column; times one width', async () => {
    const r = await runFifo(['report'], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(0);
    const names = ['unmatched size', 'of size'];
    for (const col of ['unmatched size', 'of size']) {
      const raw = column(r.stdout, names, col);
      expect(raw.length, r.stdout).toBe(3);
      expect(new Set(raw.map((c) => c.trim().length - c.trim().indexOf('.'))).size, `${col}:\n${raw.join('\n')}`).toBe(1);
      expect(new Set(raw.map((c) => c.indexOf('.'))).size, `${col}:\n${raw.join('\n')}`).toBe(1);
    }
    // 10 - 2.625, 0.125 and 7.5: one scale, no 7.5 above 0.125
    expect(column(r.stdout, names, 'unmatched size').map((c) => c.trim()).sort()).toEqual(['0.125', '7.375', '7.500']);
    const times = tableAfter(r.stdout, names).rows.map((row) => /\d{4}-\d{2}-\d{2}[T ][\d:.]+(Z|[+-]\d\d)?/.exec(row)?.[0] ?? '');
    expect(times.every((x) => x !== ''), times.join(' | ')).toBe(true);
    expect(new Set(times.map((x) => x.length)).size, times.join(' | ')).toBe(1);
  });

  it('fifo review list: the created times have one width', async () => {
    const r = await runFifo(['review', 'list'], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(0);
    const { rows } = tableAfter(r.stdout, ['id', 'severity', 'created']);
    expect(rows.length, r.stdout).toBe(3);
    const created = rows.map((row) => /\d{4}-\d{2}-\d{2}T[\d:.]+Z/.exec(row)?.[0] ?? '');
    expect(new Set(created.map((x) => x.length)).size).toBe(1);
  });
});
