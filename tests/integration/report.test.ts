/**
 * `fifo report` on a hand-worked ledger: totals equal the numbers worked out below, every
 * format and grouping equals the views SQL users read, date filters, bad input, and the HTML
 * rendered in headless Chromium.
 *
 * Hand-worked (FIFO):
 *   SOL b1 buy 10 @ 100 fee 1;  s1 sell 4 @ 110 fee 0.44 → cost 400.4, proceeds 439.56, PnL  39.16
 *                                s2 sell 6 @  90 fee 0.54 → cost 600.6, proceeds 539.46, PnL -61.14
 *   ETH b2 buy 2 @ 1000 fee 2;  s3 sell 3 @ 1200 fee 3.6 → 2 matched: cost 2002, proceeds 2397.6, PnL 395.6;
 *                                1 unmatched: proceeds 1198.8
 *   BTC s4 sell 0.5 @ 50000 fee 25 → unmatched: proceeds 24975
 *   totals: 4 sells, 2 won, 1 lost, 3 with a matched part (win rate 66.7 %), proceeds 3376.62,
 *   cost basis 3003.0 (numeric keeps the scale of its terms), PnL 373.62, fees 29.58 + 3 = 32.58, 2 unmatched sells, unmatched proceeds 26173.8
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { browserFor, chromium } from '../helpers/browser.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

let t: TestSchema;
let dir: string;
const env = () => ({ DATABASE_URL: t.url });

beforeAll(async () => {
  t = await createTestSchema();
  dir = mkdtempSync(join(tmpdir(), 'fifo-report-'));
  await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger) VALUES
    ('b1', 'SOL-USD', 'buy',  10,  100,   1,    '2025-09-01 10:00Z', 'scalper', NULL),
    ('s1', 'SOL-USD', 'sell', 4,   110,   0.44, '2025-09-02 10:00Z', 'scalper', 'take_profit'),
    ('s2', 'SOL-USD', 'sell', 6,   90,    0.54, '2025-09-03 10:00Z', 'grid, "v2"', 'stop_loss'),
    ('b2', 'ETH-USD', 'buy',  2,   1000,  2,    '2025-09-02 09:00Z', 'grid, "v2"', NULL),
    ('s3', 'ETH-USD', 'sell', 3,   1200,  3.6,  '2025-09-03 12:00Z', 'grid, "v2"', 'take_profit'),
    ('s4', 'BTC-USD', 'sell', 0.5, 50000, 25,   '2025-09-04 00:00Z', NULL, NULL)`);
  // computed in this process: compute itself is tested in compute.test.ts
  const session = await openProcedureSession(t.client, t.url, 'auto');
  try {
    expect((await runCompute(t.client, session, { version: 1, symbols: null, force: true })).status).toBe('success');
  } finally {
    await session.close();
  }
});
afterAll(async () => {
  await t.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function json(args: string[]): Promise<any> {
  const r = await runFifo(['report', '--format', 'json', ...args], env());
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const TOTALS = {
  sells: 4, winning_sells: 2, losing_sells: 1, matched_sells: 3, win_rate_pct: '66.7',
  proceeds_usd: '3376.62', cost_basis_usd: '3003.0', realized_pnl_usd: '373.62', fees_usd: '32.58',
  unmatched_sells: 2, unmatched_proceeds_usd: '26173.8',
  first_sell_time: '2025-09-02T10:00:00Z', last_sell_time: '2025-09-04T00:00:00Z',
};

/** The columns a view shares with the report's rows, as text. */
const pick = (cols: string[]) => (r: Record<string, unknown>) =>
  Object.fromEntries(cols.map((c) => [c, r[c] === null || r[c] === undefined ? null : String(r[c])]));
const SHARED = ['sells', 'winning_sells', 'losing_sells', 'proceeds_usd', 'cost_basis_usd', 'realized_pnl_usd', 'fees_usd', 'unmatched_sells'];

describe('fifo report', () => {
  it('totals equal the hand-worked numbers exactly; every grouping equals its view row for row', async () => {
    const [bySymbol, byDay, bySource, byTrigger] = await Promise.all(
      ['symbol', 'day', 'source', 'trigger'].map((by) => json(['--by', by])));
    const d = bySymbol;
    expect(d).toMatchObject({ version: 1, method: 'fifo', by: 'symbol', from: null, to: null, dirty_symbols: 0 });
    expect(d.totals).toMatchObject([{ quote: 'USD', ...TOTALS }]);
    expect(d.rows.map((r: any) => [r.key, r.quote, r.realized_pnl_usd, r.unmatched_size])).toEqual([
      ['BTC-USD', 'USD', '0', '0.5'], ['ETH-USD', 'USD', '395.6', '1'], ['SOL-USD', 'USD', '-21.98', '0']]);
    expect(d.unmatched.map((u: any) => [u.sell_order_id, u.unmatched_size, u.unmatched_proceeds_usd, u.review_status]))
      .toEqual([['s4', '0.5', '24975', 'pending'], ['s3', '1', '1198.8', 'pending']]);

    // by day with a running total, by source and by trigger (untagged last)
    expect(byDay.rows.map((r: any) => [r.key, r.realized_pnl_usd, r.cumulative_pnl_usd])).toEqual([
      ['2025-09-02', '39.16', '39.16'], ['2025-09-03', '334.46', '373.62'], ['2025-09-04', '0', '373.62']]);
    expect(bySource.rows.map((r: any) => [r.key, r.sells, r.realized_pnl_usd])).toEqual([
      ['grid, "v2"', 2, '334.46'], ['scalper', 1, '39.16'], [null, 1, '0']]);
    expect(byTrigger.rows.map((r: any) => [r.key, r.sells, r.winning_sells, r.realized_pnl_usd])).toEqual([
      ['stop_loss', 1, 0, '-61.14'], ['take_profit', 2, 2, '434.76'], [null, 1, 0, '0']]);
    for (const r of [byDay, bySource, byTrigger]) expect(r.totals).toEqual(d.totals);

    // SQL users read the same numbers from the views
    const cases: Array<[any, string, string]> = [
      [bySymbol, 'v_pnl_by_symbol', 'symbol'],
      [byDay, 'v_daily_pnl', "to_char(day, 'YYYY-MM-DD')"],
      [bySource, 'v_pnl_by_source', 'source'],
      [byTrigger, 'v_pnl_by_trigger', 'trigger'],
    ];
    for (const [report, view, key] of cases) {
      // v_daily_pnl has no losing_sells; it has the running total
      const cols = ['quote', ...(report.by === 'day' ? [...SHARED.filter((c) => c !== 'losing_sells'), 'cumulative_pnl_usd'] : SHARED)];
      const fromView = await t.query(`SELECT ${key} AS key, * FROM ${view} WHERE allocation_version = 1
                                       ORDER BY quote COLLATE "C", ${key} COLLATE "C" NULLS LAST`);
      expect({ view, rows: report.rows.map(pick(['key', ...cols])) }).toEqual({ view, rows: fromView.map(pick(['key', ...cols])) });
    }
    const totals = await t.query('SELECT * FROM v_pnl_totals WHERE allocation_version = 1');
    expect(totals.map(pick(['quote', ...SHARED, 'win_rate_pct', 'unmatched_proceeds_usd']))).toEqual(
      [pick(['quote', ...SHARED, 'win_rate_pct', 'unmatched_proceeds_usd'])({ quote: 'USD', ...TOTALS })]);
  });

  it('filters by UTC day (a date --to covers that whole day) or by instant (inclusive)', async () => {
    const [oneDay, upTo, from, none] = await Promise.all([
      json(['--from', '2025-09-03', '--to', '2025-09-03']),
      json(['--to', '2025-09-03T10:00:00Z']),
      json(['--from', '2025-09-03T10:00:01Z', '--by', 'day']),
      json(['--from', '2030-01-01']),
    ]);
    expect(oneDay.totals).toHaveLength(1);
    expect(oneDay.totals[0]).toMatchObject({ quote: 'USD', sells: 2, realized_pnl_usd: '334.46', unmatched_sells: 1, unmatched_proceeds_usd: '1198.8' });
    expect(oneDay).toMatchObject({ from: '2025-09-03', to: '2025-09-03' });
    expect(oneDay.unmatched.map((u: any) => u.sell_order_id)).toEqual(['s3']);
    expect(upTo.totals[0]).toMatchObject({ sells: 2, realized_pnl_usd: '-21.98', winning_sells: 1, losing_sells: 1, win_rate_pct: '50.0' });
    expect(from.rows.map((r: any) => [r.key, r.cumulative_pnl_usd])).toEqual([['2025-09-03', '395.6'], ['2025-09-04', '395.6']]);
    expect(none.totals).toEqual([]); // no sells: no quote currency, no total
    expect(none.rows).toEqual([]);
  });

  it('prints a table with totals, the breakdown and the unmatched sells', async () => {
    const r = await runFifo(['report', '--by', 'trigger'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^totals in USD\nrealized PnL +373\.62$/m);
    expect(r.stdout).toMatch(/^win rate +66\.7 %/m);
    expect(r.stdout).toMatch(/^fees paid +32\.58$/m);
    expect(r.stdout).toMatch(/^unmatched sells +2 +\(proceeds 26173\.80 with no cost basis\)$/m);
    expect(r.stdout).toMatch(/^take_profit +USD +2 +2 +0 +100\.0 +2837\.16 +2402\.40 +434\.76 /m);
    expect(r.stdout).toMatch(/^\(none\) +USD +1 /m);
    expect(r.stdout).toMatch(/^BTC-USD +s4 +2025-09-04T00:00:00Z +0\.5 +0\.5 +24975\.00 +pending$/m);
  });

  it('writes CSV: LF lines, quoted fields, one total row per quote currency, exact values', async () => {
    const out = join(dir, 'by-source.csv');
    const [r, s] = await Promise.all([
      runFifo(['report', '--by', 'source', '--format', 'csv', '--out', out], env()),
      runFifo(['report', '--format', 'csv', '--by', 'day'], env()),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    const csv = readFileSync(out, 'utf8');
    const lines = csv.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(csv).not.toMatch(/\r/);
    expect(lines[0]).toBe('row_type,source,quote,sells,winning_sells,losing_sells,matched_sells,win_rate_pct,proceeds_usd,cost_basis_usd,' +
      'realized_pnl_usd,fees_usd,unmatched_sells,unmatched_proceeds_usd,first_sell_time,last_sell_time,unmatched_size,' +
      'gross_profit,gross_loss,avg_win,avg_loss,profit_factor,expectancy,largest_win,largest_loss,' +
      'days,mean_daily_pnl,stddev_daily_pnl,sharpe_ratio,max_drawdown,peak_day,trough_day,longest_drawdown_days,current_drawdown');
    // the trading metrics by hand; the risk metrics (per quote) only on the total rows; ratios exact
    const ratioCell = (line: string, fromEnd: number) => Number(line.split(',').at(-fromEnd));
    expect(lines[1]).toMatch(/^group,"grid, ""v2""",USD,2,1,1,2,50\.0,2937\.06,2602\.6,334\.46,6\.74,1,1198\.8,2025-09-03T10:00:00Z,2025-09-03T12:00:00Z,1,/);
    expect(lines[1]).toMatch(/,1,395\.6,-61\.14,395\.6,-61\.14,6\.47\d+,167\.23,395\.6,-61\.14,{9}$/);
    expect(ratioCell(lines[1]!, 13)).toBeCloseTo(395.6 / 61.14, 12);
    expect(lines[3]).toBe('group,,USD,1,0,0,0,,0,0,0,25,1,24975,2025-09-04T00:00:00Z,2025-09-04T00:00:00Z,0.5,0,0,,,,,,' + ','.repeat(9));
    // daily PnL 39.16, 334.46, 0: mean 124.54, sample stddev sqrt(66866.3624 / 2)
    expect(lines[4]).toMatch(/^total,,USD,4,2,1,3,66\.7,3376\.62,3003\.0,373\.62,32\.58,2,26173\.8,2025-09-02T10:00:00Z,2025-09-04T00:00:00Z,,/);
    expect(lines[4]).toMatch(/,,434\.76,-61\.14,217\.38,-61\.14,7\.11\d+,124\.54,395\.6,-61\.14,3,124\.54,182\.84\d+,13\.01\d+,0,,,0,0\.00$/);
    expect(ratioCell(lines[4]!, 13)).toBeCloseTo(434.76 / 61.14, 12);
    expect(ratioCell(lines[4]!, 7)).toBeCloseTo(Math.sqrt(66866.3624 / 2), 9);
    expect(ratioCell(lines[4]!, 6)).toBeCloseTo((124.54 / Math.sqrt(66866.3624 / 2)) * Math.sqrt(365), 9);
    expect(lines).toHaveLength(6);
    // stdout when no --out
    expect(s.stdout.split('\n')[0]).toMatch(/^row_type,day,quote,.*,cumulative_pnl_usd$/);
  });

  it('writes one self-contained HTML file with the charts and totals', async () => {
    const out = join(dir, 'nested', 'report.html');
    const r = await runFifo(['report', '--format', 'html', '--by', 'source', '--out', out], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    const html = readFileSync(out, 'utf8');
    const charts = ['chart-equity', 'chart-daily-pnl', 'chart-pnl-by-symbol', 'chart-pnl-by-trigger', 'chart-pnl-by-source', 'chart-win-rate', 'chart-daily-fees'];
    for (const id of charts) {
      expect(html).toContain(`<svg id="${id}-USD"`);
    }
    expect(html).toMatch(/<td id="total-pnl-USD" class="kpi" data-value="373\.62"/);
    expect(html).toMatch(/<tr class="total" data-quote="USD"/);
    expect(html).toMatch(/id="unmatched-sells" data-count="2"/);
    expect(html).toContain('>grid, &quot;v2&quot;</td>'); // user text is escaped
    expect(html).not.toContain('grid, "v2"');
    // nothing to fetch: no script, no external resource of any kind
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import/i);
    expect(html.match(/https?:\/\/[^"\s]*/g) ?? []).toEqual(Array(charts.length).fill('http://www.w3.org/2000/svg'));
  });

  it('writes HTML to out/report-vN.html by default and prints the path', async () => {
    const r = await runFifo(['report', '--format', 'html'], env());
    expect(r.code, r.stderr).toBe(0);
    const path = r.stdout.trim();
    expect(path).toBe(resolve(import.meta.dirname, '../../out/report-v1.html'));
    expect(readFileSync(path, 'utf8')).toContain('data-value="373.62"');
  });

  it('rejects bad input with exit 2 naming it, writing nothing', async () => {
    const out = join(dir, 'never.html');
    const cases = [
      [['--from', '2025-13-01'], /--from .*"2025-13-01"/],
      [['--from', '2025-09-03', '--to', '2025-09-02'], /--to 2025-09-02 is before --from 2025-09-03/],
      [['--by', 'week'], /--by must be one of symbol, day, source, trigger, account, got "week"/],
      [['--format', 'pdf'], /--format must be one of table, csv, json, html, eml, got "pdf"/],
      [['--version', '9'], /--version 9: no such allocation version/],
      [['--out', dir], /--out ".*" is a directory/],
      [['extra'], /Unexpected argument 'extra'|unexpected/i],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => runFifo(['report', '--format', 'html', '--out', out, ...args], env())));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
    });
    expect(existsSync(out)).toBe(false);
  });
});

describe('the HTML report in headless Chromium', () => {
  it('renders the charts and totals (screenshot and rendered DOM)', async (ctx) => {
    const bin = browserFor(ctx);
    const html = join(dir, 'browser.html');
    const r = await runFifo(['report', '--format', 'html', '--to', '2025-09-04', '--out', html], env());
    expect(r.code, r.stderr).toBe(0);
    const png = join(dir, 'report.png');
    chromium(bin, join(dir, 'chrome-1'), [`--screenshot=${png}`, '--window-size=1200,2000', `file://${html}`]);
    const image = readFileSync(png);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1200, 2000]); // IHDR width, height
    expect(statSync(png).size).toBeGreaterThan(30_000); // a blank page compresses to a few kB

    const dom = chromium(bin, join(dir, 'chrome-2'), ['--dump-dom', `file://${html}`]);
    expect(dom).toMatch(/<td id="total-pnl-USD"[^>]*data-value="373\.62"[^>]*>.*?373\.62<\/div>/s);
    expect(dom).toMatch(/<td id="total-win-rate-USD"[^>]*>.*?66\.7 %/s);
    expect(dom).toMatch(/<td id="total-fees-USD"[^>]*>.*?32\.58/s);
    const svg = (id: string) => new RegExp(`<svg id="${id}-USD"[\\s\\S]*?</svg>`).exec(dom)?.[0] ?? '';
    // the equity curve from its zero start (09-01) through 09-02..09-04
    expect(svg('chart-equity')).toMatch(/<path class="line" d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+ L[\d.]+,[\d.]+ L[\d.]+,[\d.]+"/);
    expect(svg('chart-equity')).toContain('2025-09-04: 373.62');
    expect(svg('chart-daily-pnl').match(/<rect class="bar pos"/g)).toHaveLength(2); // 09-02, 09-03; 09-04 is 0
    expect(svg('chart-pnl-by-symbol').match(/<g class="row">/g)).toHaveLength(3);
    expect(svg('chart-pnl-by-symbol')).toMatch(/<rect class="bar neg"[^>]*><title>SOL-USD: -21\.98<\/title>/);
    expect(svg('chart-win-rate')).toContain('won: 2 (50.0 %)');
    expect(svg('chart-daily-fees').match(/<rect class="bar pos"/g)).toHaveLength(3);
    expect(dom).toMatch(/<table id="unmatched-sells" data-count="2"/);
  });
});
