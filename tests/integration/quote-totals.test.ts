/**
 * Totals per quote currency: a ledger trading SOL-USD, ETH-USD and SOL-BTC. Every total the
 * CLI prints (report in each format, diff, export lots, legacy-compare) and every totals view
 * gives a USD total and a BTC total; no figure adds dollars to bitcoin.
 *
 * Hand-worked (FIFO):
 *   SOL-USD b1 buy 10 @ 100 fee 1;   s1 sell 4 @ 110 fee 0.44 (09-02) → cost 400.4, proceeds 439.56, PnL 39.16
 *   ETH-USD e1 buy 2 @ 1000 fee 2;   e2 sell 1 @ 900 fee 0.9  (09-03) → cost 1001, proceeds 899.1, PnL -101.9
 *     USD: 2 sells, 1 won, 1 lost, proceeds 1338.66, cost 1401.4, PnL -62.74, fees 0.44+0.4+0.9+1 = 2.74, none unmatched
 *   SOL-BTC x1 buy 1000 @ 0.002 fee 0.01
 *           x2 sell 500 @ 0.0025 fee 0.005 (09-02) → cost 1.005, proceeds 1.245, PnL 0.24
 *           x3 sell 600 @ 0.003 fee 0.006  (09-03) → 500 matched: cost 1.005, proceeds 1.5 - 0.005 = 1.495, PnL 0.49;
 *                                                  100 unmatched: proceeds 0.3 - 0.001 = 0.299
 *     BTC: 2 sells, 2 won, proceeds 2.74, cost 2.01, PnL 0.73, fees 0.011 + 0.01 = 0.021, 1 unmatched (0.299)
 *   Added across (what must appear nowhere): PnL -62.01, proceeds 1341.40, cost 1403.41, per day 39.40 and -101.41.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../packages/cli/src/ledger-io/csv.ts';
import { utcIso } from '../../packages/cli/src/queries/sql.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

/** Decimal text without trailing fraction zeros ("2.7400" → "2.74", "3003.0" → "3003"): compares values, not scales. */
const norm = (s: unknown): unknown => (typeof s === 'string' && /^-?\d+\.\d+$/.test(s) ? s.replace(/\.?0+$/, '') : s);
const normAll = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, norm(v)]));

const USD = {
  quote: 'USD', sells: 2, winning_sells: 1, losing_sells: 1, matched_sells: 2, win_rate_pct: '50',
  proceeds_usd: '1338.66', cost_basis_usd: '1401.4', realized_pnl_usd: '-62.74', fees_usd: '2.74',
  unmatched_sells: 0, unmatched_proceeds_usd: '0', first_sell_time: '2025-09-02T10:00:00Z', last_sell_time: '2025-09-03T10:00:00Z',
};
const BTC = {
  quote: 'BTC', sells: 2, winning_sells: 2, losing_sells: 0, matched_sells: 2, win_rate_pct: '100',
  proceeds_usd: '2.74', cost_basis_usd: '2.01', realized_pnl_usd: '0.73', fees_usd: '0.021',
  unmatched_sells: 1, unmatched_proceeds_usd: '0.299', first_sell_time: '2025-09-02T11:00:00Z', last_sell_time: '2025-09-03T11:00:00Z',
};
/** Figures that only a sum over both currencies gives, in any rounding the CLI uses. */
const MIXED = ['-62.01', '1341.4', '1403.41', '39.4', '-101.41', '2.761'];
const noMixedFigure = (text: string) => {
  // a Sharpe ratio (one quote's, migration 016) can match a mixed amount by chance (BTC's is 39.45…):
  // its exact value (many decimals) and its rounded display are left out of the search
  const amounts = text.replace(/-?\d+\.\d{6,}/g, '').replace(/^sharpe ratio +\S+/gm, '').replace(/<td id="total-sharpe-[^"]*"[\s\S]*?<\/td>/g, '');
  for (const m of MIXED) expect(amounts, `contains ${m}, a sum of USD and BTC`).not.toContain(m);
};

let t: TestSchema;
let dir: string;
const env = () => ({ DATABASE_URL: t.url });

beforeAll(async () => {
  t = await createTestSchema();
  dir = mkdtempSync(join(tmpdir(), 'fifo-quotes-'));
  await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source) VALUES
    ('b1', 'SOL-USD', 'buy',  10,   100,    1,     '2025-09-01 10:00Z', 'bot'),
    ('s1', 'SOL-USD', 'sell', 4,    110,    0.44,  '2025-09-02 10:00Z', 'bot'),
    ('e1', 'ETH-USD', 'buy',  2,    1000,   2,     '2025-09-01 10:00Z', 'bot'),
    ('e2', 'ETH-USD', 'sell', 1,    900,    0.9,   '2025-09-03 10:00Z', 'bot'),
    ('x1', 'SOL-BTC', 'buy',  1000, 0.002,  0.01,  '2025-09-01 11:00Z', 'bot'),
    ('x2', 'SOL-BTC', 'sell', 500,  0.0025, 0.005, '2025-09-02 11:00Z', 'bot'),
    ('x3', 'SOL-BTC', 'sell', 600,  0.003,  0.006, '2025-09-03 11:00Z', 'bot')`);
  await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method, description) VALUES (2, 'lifo', 'last in first out')`);
  const [a, b] = await Promise.all([runFifo(['compute', '--version', '1'], env()), runFifo(['compute', '--version', '2'], env())]);
  expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
});
afterAll(async () => {
  await t.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function report(args: string[]): Promise<string> {
  const r = await runFifo(['report', ...args], env());
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('totals per quote currency', () => {
  it('report --format json: one total per quote, hand-worked; groups per (key, quote); running totals per quote', async () => {
    const [bySymbol, byDay, bySource] = (await Promise.all(['symbol', 'day', 'source'].map((by) => report(['--format', 'json', '--by', by])))) as [string, string, string];
    const d = JSON.parse(bySymbol);
    expect(d.totals.map(normAll)).toMatchObject([BTC, USD]); // and the metrics of migration 016
    expect(d.rows.map((r: any) => [r.key, r.quote, norm(r.realized_pnl_usd)])).toEqual([
      ['SOL-BTC', 'BTC', '0.73'], ['ETH-USD', 'USD', '-101.9'], ['SOL-USD', 'USD', '39.16']]);
    expect(JSON.parse(byDay).rows.map((r: any) => [r.key, r.quote, norm(r.realized_pnl_usd), norm(r.cumulative_pnl_usd)])).toEqual([
      ['2025-09-02', 'BTC', '0.24', '0.24'], ['2025-09-03', 'BTC', '0.49', '0.73'],
      ['2025-09-02', 'USD', '39.16', '39.16'], ['2025-09-03', 'USD', '-101.9', '-62.74']]);
    expect(JSON.parse(bySource).rows.map((r: any) => [r.key, r.quote, norm(r.realized_pnl_usd), norm(r.proceeds_usd)])).toEqual([
      ['bot', 'BTC', '0.73', '2.74'], ['bot', 'USD', '-62.74', '1338.66']]);
    for (const out of [bySymbol, byDay, bySource]) noMixedFigure(out);
  });

  it('report table: a block of totals per quote, the quote on every breakdown row', async () => {
    const out = await report(['--by', 'day']);
    expect(out).toMatch(/^totals in BTC\nrealized PnL +0\.73$/m);
    expect(out).toMatch(/^totals in USD\nrealized PnL +-62\.74$/m);
    expect(out).toMatch(/^proceeds +2\.74 +\(matched parts/m);
    expect(out).toMatch(/^proceeds +1338\.66 +\(matched parts/m);
    expect(out).toMatch(/^2025-09-03 +BTC +1 +1 +0 +100\.0 +1\.50 +1\.01 +0\.49 +0\.73 /m);
    expect(out).toMatch(/^2025-09-03 +USD +1 +0 +1 +0\.0 +899\.10 +1001\.00 +-101\.90 +-62\.74 /m);
    noMixedFigure(out);
  });

  it('report csv: one total row per quote with exact values', async () => {
    const csv = parseCsv(await report(['--format', 'csv', '--by', 'source']));
    expect(csv.header.slice(0, 3)).toEqual(['row_type', 'source', 'quote']);
    const rows = csv.records.map((r) => Object.fromEntries(csv.header.map((h, i) => [h, norm(r.cells[i])])));
    const totals = rows.filter((r) => r.row_type === 'total');
    const figures = (x: Record<string, unknown>) => {
      const { quote, sells, winning_sells, losing_sells, proceeds_usd, cost_basis_usd, realized_pnl_usd, fees_usd, unmatched_proceeds_usd } = x;
      return { quote, sells: String(sells), winning_sells: String(winning_sells), losing_sells: String(losing_sells),
        proceeds_usd, cost_basis_usd, realized_pnl_usd, fees_usd, unmatched_proceeds_usd };
    };
    expect(totals.map(figures)).toEqual([figures(BTC), figures(USD)]);
    expect(rows.filter((r) => r.row_type === 'group').map((r) => [r.source, r.quote, r.realized_pnl_usd])).toEqual([
      ['bot', 'BTC', '0.73'], ['bot', 'USD', '-62.74']]);
  });

  it('report html: key figures and charts per quote, a total row per quote', async () => {
    const out = join(dir, 'r.html');
    await report(['--format', 'html', '--out', out]);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/<td id="total-pnl-BTC" class="kpi" data-value="0\.730*"/);
    expect(html).toMatch(/<td id="total-pnl-USD" class="kpi" data-value="-62\.740*"/);
    expect(html).toMatch(/<td id="total-proceeds-USD" class="kpi" data-value="1338\.660*"/);
    expect(html.match(/<tr class="total" data-quote="(\w+)"/g)).toEqual(['<tr class="total" data-quote="BTC"', '<tr class="total" data-quote="USD"']);
    for (const q of ['BTC', 'USD']) {
      for (const id of ['chart-equity', 'chart-daily-pnl', 'chart-pnl-by-symbol', 'chart-win-rate', 'chart-daily-fees']) {
        expect(html).toContain(`<svg id="${id}-${q}"`);
      }
    }
    const svg = (id: string) => new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
    expect(svg('chart-equity-BTC')).toContain('2025-09-03: 0.73');
    expect(svg('chart-equity-USD')).toContain('2025-09-03: -62.74');
    expect(svg('chart-pnl-by-symbol-USD').match(/<g class="row">/g)).toHaveLength(2);
    expect(svg('chart-pnl-by-symbol-BTC').match(/<g class="row">/g)).toHaveLength(1);
    noMixedFigure(html);
  });

  it('the totals views give a row per quote', async () => {
    const totals = await t.query(`SELECT quote, sells::int, realized_pnl_usd::text, proceeds_usd::text, unmatched_proceeds_usd::text
                                    FROM v_pnl_totals WHERE allocation_version = 1 ORDER BY quote`);
    expect(totals.map(normAll)).toEqual([
      { quote: 'BTC', sells: 2, realized_pnl_usd: '0.73', proceeds_usd: '2.74', unmatched_proceeds_usd: '0.299' },
      { quote: 'USD', sells: 2, realized_pnl_usd: '-62.74', proceeds_usd: '1338.66', unmatched_proceeds_usd: '0' }]);
    const daily = await t.query(`SELECT to_char(day, 'MM-DD') AS day, quote, cumulative_pnl_usd::text FROM v_daily_pnl
                                  WHERE allocation_version = 1 ORDER BY quote, day`);
    expect(daily.map(normAll)).toEqual([
      { day: '09-02', quote: 'BTC', cumulative_pnl_usd: '0.24' }, { day: '09-03', quote: 'BTC', cumulative_pnl_usd: '0.73' },
      { day: '09-02', quote: 'USD', cumulative_pnl_usd: '39.16' }, { day: '09-03', quote: 'USD', cumulative_pnl_usd: '-62.74' }]);
    const [bySource, byTrigger, bySymbol] = await Promise.all(['v_pnl_by_source', 'v_pnl_by_trigger', 'v_pnl_by_symbol'].map((v) =>
      t.query(`SELECT quote, realized_pnl_usd::text FROM ${v} WHERE allocation_version = 1 ORDER BY quote, realized_pnl_usd`)));
    expect(bySource!.map(normAll)).toEqual([{ quote: 'BTC', realized_pnl_usd: '0.73' }, { quote: 'USD', realized_pnl_usd: '-62.74' }]);
    expect(byTrigger!.map(normAll)).toEqual(bySource!.map(normAll));
    expect(bySymbol!.map((r) => r.quote)).toEqual(['BTC', 'USD', 'USD']);
  });

  it('the views and the report give the same figures, exactly (one definition: v_sell_pnl)', async () => {
    const money = ['proceeds_usd', 'cost_basis_usd', 'realized_pnl_usd', 'fees_usd'];
    const counts = ['sells', 'winning_sells', 'unmatched_sells'];
    const times = `${utcIso('first_sell_time')} AS first_sell_time, ${utcIso('last_sell_time')} AS last_sell_time`;
    const cols = (extraMoney: string[], extraCounts: string[], withTimes = true) =>
      [...[...money, ...extraMoney].map((c) => `${c}::text AS ${c}`), ...[...counts, ...extraCounts].map((c) => `${c}::int AS ${c}`),
       ...(withTimes ? [times] : [])].join(', ');
    const pick = (rows: Record<string, unknown>[], keys: string[]) =>
      rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));
    for (const version of ['1', '2']) {
      const json = async (by: string) => JSON.parse(await report(['--format', 'json', '--version', version, '--by', by]));
      const [bySymbol, byDay, bySource, byTrigger] = await Promise.all(['symbol', 'day', 'source', 'trigger'].map(json));
      const view = (sql: string) =>
        t.query(`SELECT * FROM (${sql}) x ORDER BY quote COLLATE "C", ${sql.includes(' AS key') ? 'key COLLATE "C" NULLS LAST' : 'quote'}`, [Number(version)]);

      const totals = await view(`SELECT quote, ${cols(['unmatched_proceeds_usd'], ['losing_sells'])}, win_rate_pct::text AS win_rate_pct
                                   FROM v_pnl_totals WHERE allocation_version = $1`);
      expect(totals).toHaveLength(2);
      expect(pick(bySymbol.totals, Object.keys(totals[0]!))).toEqual(totals);

      const symbols = await view(`SELECT symbol AS key, quote, ${cols(['unmatched_size'], ['losing_sells'])}
                                    FROM v_pnl_by_symbol WHERE allocation_version = $1`);
      expect(symbols).toHaveLength(3);
      expect(pick(bySymbol.rows, Object.keys(symbols[0]!))).toEqual(symbols);

      const days = await view(`SELECT to_char(day, 'YYYY-MM-DD') AS key, quote, ${cols(['cumulative_pnl_usd'], [], false)}
                                 FROM v_daily_pnl WHERE allocation_version = $1`);
      expect(days).toHaveLength(4);
      expect(pick(byDay.rows, Object.keys(days[0]!))).toEqual(days);

      for (const [by, data] of [['source', bySource], ['trigger', byTrigger]] as const) {
        const groups = await view(`SELECT ${by} AS key, quote, ${cols([], ['losing_sells'])}, win_rate_pct::text AS win_rate_pct
                                     FROM v_pnl_by_${by} WHERE allocation_version = $1`);
        expect(groups).toHaveLength(2);
        expect(pick(data.rows, Object.keys(groups[0]!))).toEqual(groups);
      }
    }
  });

  it('diff totals per quote', async () => {
    const [text, json] = await Promise.all([
      runFifo(['diff', '--from', '1', '--to', '2'], env()),
      runFifo(['diff', '--from', '1', '--to', '2', '--json'], env()),
    ]);
    expect(text.code, text.stderr).toBe(0);
    // LIFO consumes the same single lot: nothing differs, both currencies reported apart
    expect(text.stdout).toMatch(/^ {2}in BTC:\n {4}realized PnL +0\.73 -> 0\.73 \(difference 0\.00\)$/m);
    expect(text.stdout).toMatch(/^ {2}in USD:\n {4}realized PnL +-62\.74 -> -62\.74 \(difference 0\.00\)$/m);
    noMixedFigure(text.stdout);
    const totals = JSON.parse(json.stdout).totals;
    expect(totals).toMatchObject({ sells_differing: 0, symbols_differing: 0 });
    expect(totals.quotes.map((q: any) => [q.quote, norm(q.from_pnl_usd), norm(q.to_cost_basis_usd)])).toEqual([
      ['BTC', '0.73', '2.01'], ['USD', '-62.74', '1401.4']]);
  });

  it('export lots totals per quote and term', async () => {
    const r = await runFifo(['export', 'lots', '--year', '2025'], env());
    expect(r.code, r.stderr).toBe(0);
    // cents per row (Form 8949): BTC proceeds 1.245 → 1.25 and 1.495 → 1.50, bases 1.005 → 1.01 twice, unmatched 0.299 → 0.30
    expect(r.stderr).toMatch(/^BTC +short +2 +2\.75 +2\.02 +0\.73$/m);
    expect(r.stderr).toMatch(/^BTC +unknown +1 +0\.30$/m);
    expect(r.stderr).toMatch(/^USD +short +2 +1338\.66 +1401\.40 +-62\.74$/m);
    expect(r.stderr).toMatch(/UNMATCHED sells with an unknown cost basis \(proceeds 0\.30 BTC\)/);
    noMixedFigure(r.stderr);
  });
});

describe('legacy-compare totals per quote', () => {
  it('compares legacy and new PnL per quote currency', async () => {
    const l = await createTestSchema({
      migrated: false,
      before: `
        CREATE TABLE trade_records (
          id serial PRIMARY KEY, order_id text NOT NULL, symbol text NOT NULL, side text NOT NULL,
          size numeric NOT NULL, price numeric NOT NULL, order_time timestamptz NOT NULL, parent_id text, pnl_usd numeric);
        INSERT INTO trade_records (order_id, symbol, side, size, price, order_time, parent_id, pnl_usd) VALUES
          ('u-b1', 'SOL-USD', 'buy',  1,   100,   '2025-09-01Z', NULL, NULL),
          ('u-s1', 'SOL-USD', 'sell', 1,   110,   '2025-09-02Z', 'u-b1', 12),
          ('x-b1', 'SOL-BTC', 'buy',  100, 0.002, '2025-09-01Z', NULL, NULL),
          ('x-s1', 'SOL-BTC', 'sell', 100, 0.003, '2025-09-02Z', 'x-b1', 0.5);`,
    });
    try {
      await l.migrate('up');
      expect((await runFifo(['compute'], { DATABASE_URL: l.url })).code).toBe(0);
      const [text, json] = await Promise.all([
        runFifo(['legacy-compare'], { DATABASE_URL: l.url }),
        runFifo(['legacy-compare', '--json'], { DATABASE_URL: l.url }),
      ]);
      expect(text.code, text.stderr).toBe(0);
      // new PnL: USD 10, BTC 0.1; legacy 12 and 0.5; a sum across would say 12.5 / 10.1
      expect(text.stdout).toMatch(/^ {2}in BTC: legacy PnL 0\.50, new PnL 0\.10 \(difference -0\.40\)/m);
      expect(text.stdout).toMatch(/^ {2}in USD: legacy PnL 12\.00, new PnL 10\.00 \(difference -2\.00\)/m);
      expect(text.stdout).not.toMatch(/12\.5|10\.1\b/);
      const totals = JSON.parse(json.stdout).totals;
      expect(totals).toMatchObject({ sells: '2', sells_differing: '2' });
      expect(totals.quotes.map((q: any) => [q.quote, q.sells, norm(q.legacy_pnl_usd), norm(q.new_pnl_usd)])).toEqual([
        ['BTC', '1', '0.5', '0.1'], ['USD', '1', '12', '10']]);
      expect(totals).not.toHaveProperty('legacy_pnl_usd');
    } finally {
      await l.drop();
    }
  });
});
