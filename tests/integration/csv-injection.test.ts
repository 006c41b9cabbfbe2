/**
 * Spreadsheet formula injection: order ids, sources, triggers and legacy parent ids that
 * start with = + - @, tab or CR come out of every CSV the CLI writes (report, export lots,
 * legacy-compare) prefixed with ' and quoted; plain decimal numbers (negative PnL) stay
 * numbers. One writer for all of them: LF lines.
 *
 * Hand-worked (FIFO): SOL b buy 10 @ 100 fee 1; "+1" sell 4 @ 90 → cost 400.4, PnL -40.4;
 * "@SUM(1+1)" sell 7 @ 95 → 6 matched: cost 600.6, proceeds 570, PnL -30.6, 1 unmatched (95);
 * ETH "-2+3" buy 1 @ 1000, "-x" sell 1 @ 900 → PnL -100.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvField } from '../../packages/cli/src/format/csv-write.ts';
import { parseCsv } from '../../packages/cli/src/ledger-io/csv.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const LINK = '=HYPERLINK("http://evil.example","x")';
const CMD = `=cmd|' /C calc'!A0`;

/** Every cell a spreadsheet would run as a formula is neutralised; returns the records as objects. */
function safeRows(csv: string): Record<string, string>[] {
  expect(csv).not.toMatch(/\r\n/); // one writer, LF lines
  const t = parseCsv(csv);
  for (const r of t.records) {
    for (const c of r.cells) {
      if (/^[=+\-@\t\r]/.test(c)) expect(c, `line ${r.line}: a cell starting a formula`).toMatch(/^-?\d+(\.\d+)?$/);
    }
  }
  return t.records.map((r) => Object.fromEntries(t.header.map((h, i) => [h, r.cells[i]!])));
}

describe('CSV cells that start a formula', () => {
  it('csvField: prefix and quote a formula start; plain numbers, ordinary text untouched', () => {
    expect(csvField('=1+1')).toBe(`"'=1+1"`);
    expect(csvField('+1')).toBe(`"'+1"`);
    expect(csvField('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvField('-2+3')).toBe(`"'-2+3"`);
    expect(csvField('\tx')).toBe(`"'\tx"`);
    expect(csvField('\rx')).toBe(`"'\rx"`);
    expect(csvField(LINK)).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csvField('-12.50')).toBe('-12.50');
    expect(csvField('-3')).toBe('-3');
    expect(csvField('12.5')).toBe('12.5');
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField('grid, "v2"')).toBe('"grid, ""v2"""');
    expect(csvField(null)).toBe('');
  });

  let t: TestSchema;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestSchema();
    env = { DATABASE_URL: t.url };
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger) VALUES
      ($1,          'SOL-USD', 'buy',  10, 100,  1, '2025-03-01 10:00Z', $2, '@SUM(A1:A9)'),
      ('+1',        'SOL-USD', 'sell', 4,  90,   0, '2025-03-02 10:00Z', E'\\tleading tab', '-2+3'),
      ('@SUM(1+1)', 'SOL-USD', 'sell', 7,  95,   0, '2025-03-03 10:00Z', '+src', E'\\rcr'),
      ('-2+3',      'ETH-USD', 'buy',  1,  1000, 0, '2025-03-01 10:00Z', NULL, NULL),
      ('-x',        'ETH-USD', 'sell', 1,  900,  0, '2025-03-04 10:00Z', '@ops', '=x')`, [LINK, CMD]);
    expect((await runFifo(['compute'], env)).code).toBe(0);
  });
  afterAll(() => t.drop());

  it('export lots: order ids neutralised, negative gains stay numbers', async () => {
    const r = await runFifo(['export', 'lots', '--year', '2025'], env);
    expect(r.code, r.stderr).toBe(0);
    const rows = safeRows(r.stdout);
    expect(rows.map((x) => [x.sell_order_id, x.buy_order_id, x.gain_or_loss, x.gain_or_loss_exact])).toEqual([
      [`'+1`, `'${LINK}`, '-40.40', '-40.4'],
      [`'@SUM(1+1)`, `'${LINK}`, '-30.60', '-30.6'],
      [`'@SUM(1+1)`, '', '', ''],
      [`'-x`, `'-2+3`, '-100.00', '-100'],
    ]);
    expect(r.stdout).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")",`);
    expect(r.stdout).toMatch(/,-40\.40,short,/);
  });

  it('report csv: sources and triggers neutralised, negative PnL unchanged', async () => {
    const [bySource, byTrigger] = await Promise.all(['source', 'trigger'].map((by) =>
      runFifo(['report', '--format', 'csv', '--by', by], env)));
    expect(bySource!.code, bySource!.stderr).toBe(0);
    expect(safeRows(bySource!.stdout).map((r) => [r.row_type, r.source, r.realized_pnl_usd])).toEqual([
      ['group', `'\tleading tab`, '-40.4'], ['group', `'+src`, '-30.6'], ['group', `'@ops`, '-100'], ['total', '', '-171.0']]);
    expect(safeRows(byTrigger!.stdout).map((r) => [r.row_type, r.trigger, r.realized_pnl_usd])).toEqual([
      ['group', `'\rcr`, '-30.6'], ['group', `'-2+3`, '-40.4'], ['group', `'=x`, '-100'], ['total', '', '-171.0']]);
    expect(bySource!.stdout).toMatch(/^total,,USD,3,0,3,3,0\.0,.*,-171\.0,/m);
  });
});

describe('legacy-compare csv', () => {
  it('neutralises order ids and legacy parent ids; numbers stay numbers', async () => {
    const l = await createTestSchema({
      migrated: false,
      before: `
        CREATE TABLE trade_records (
          id serial PRIMARY KEY, order_id text NOT NULL, symbol text NOT NULL, side text NOT NULL,
          size numeric NOT NULL, price numeric NOT NULL, order_time timestamptz NOT NULL, parent_id text, pnl_usd numeric);
        INSERT INTO trade_records (order_id, symbol, side, size, price, order_time, parent_id, pnl_usd) VALUES
          ('=b1',  'SOL-USD', 'buy',  1, 100, '2025-09-01Z', NULL, NULL),
          ('@s1',  'SOL-USD', 'sell', 1, 90,  '2025-09-02Z', '=HYPERLINK("http://evil.example")', -5);`,
    });
    try {
      await l.migrate('up');
      expect((await runFifo(['compute'], { DATABASE_URL: l.url })).code).toBe(0);
      const r = await runFifo(['legacy-compare', '--format', 'csv', '--all'], { DATABASE_URL: l.url });
      expect(r.code, r.stderr).toBe(0);
      const rows = safeRows(r.stdout);
      expect(rows.map((x) => [x.sell_order_id, x.legacy_parent_id, x.new_buy_order_ids, x.legacy_pnl_usd, x.new_pnl_usd])).toEqual([
        [`'@s1`, `'=HYPERLINK("http://evil.example")`, `'=b1`, '-5', '-10']]);
    } finally {
      await l.drop();
    }
  });
});
