/**
 * `fifo demo` end to end on a small ledger (--trades keeps CI fast): sandbox, ledger with
 * oversells, a back-dated and a corrected fill, compute, report, health, review queue, HTML.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { baseUrl, urlWithSchema } from '../helpers/db.ts';

let dir: string;
const schemas: string[] = [];
let admin: pg.Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fifo-demo-'));
  admin = new pg.Client({ connectionString: baseUrl() });
  await admin.connect();
});
afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

function newSchema(): string {
  const s = `demo_${randomBytes(4).toString('hex')}`;
  schemas.push(s);
  return s;
}

async function inSchema<T extends pg.QueryResultRow>(schema: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: urlWithSchema(baseUrl(), schema) });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/** The printed report: from its title to its FIFO health section (no timings in it). */
const reportSection = (stdout: string) => stdout.slice(stdout.indexOf('PnL report'), stdout.indexOf('FIFO health'));

describe('fifo demo', () => {
  it('runs the main job in its own schema, writes the HTML, and reruns clean', async () => {
    const schema = newSchema();
    const out = join(dir, 'demo.html');
    const args = ['demo', '--schema', schema, '--trades', '3000', '--out', out];
    const first = await runFifo(args, { DATABASE_URL: baseUrl() });
    expect(first.code, first.stderr).toBe(0);
    const o = first.stdout;
    expect(o).toContain(`== fifo demo: schema ${schema} of DATABASE_URL (recreated), schema migrated`);
    expect(o).toMatch(/^ledger: 3000 fills over 30 symbols and about 45 days/m);
    expect(o).toMatch(/^compute: run 1 \(full, \w+\): 30 symbol\(s\), 3000 trades, \d+ allocations, [1-9]\d* unmatched/m);
    expect(o).toMatch(/^back-dated fill: [A-Z]+-USD-late-fill \(buy [\d.]+ at 2026-\d\d-\d\d \d\d:\d\d UTC\), the missing buy behind oversell [A-Z]+-USD-\d+$/m);
    expect(o).toMatch(/^corrected fill: AAVE-USD-\d+ price [\d.]+ -> [\d.]+, fee [\d.]+ -> [\d.]+ \(audited in trade_records_audit\)$/m);
    expect(o).toMatch(/^compute: run 2 \(incremental, \w+\): 2 symbol\(s\)/m);
    expect(o).toMatch(/^== fifo health$/m);
    expect(o).toMatch(/^== review queue: \d+ pending, 1 closed/m);
    expect(o).toContain(`HTML report: ${out}`);
    expect(o).toMatch(/^demo done in \d+\.\d s$/m);

    // what it printed is what the database holds
    const [facts] = await inSchema<{ trades: number; late: number; updates: number }>(schema,
      `SELECT (SELECT count(*)::int FROM trade_records) AS trades,
              (SELECT count(*)::int FROM trade_records WHERE order_id LIKE '%-late-fill') AS late,
              (SELECT count(*)::int FROM trade_records_audit WHERE operation = 'UPDATE') AS updates`);
    expect(facts).toEqual({ trades: 3001, late: 1, updates: 1 });
    // the demo's symbols all trade against USD: one total, in USD
    const [totals, ...others] = await inSchema<{ pnl: string; pnl2: string; unmatched: number; violations: number; resolved: string }>(schema,
      `SELECT quote, realized_pnl_usd::text AS pnl, round(realized_pnl_usd, 2)::text AS pnl2, unmatched_sells::int AS unmatched,
              (SELECT count(*)::int FROM v_allocation_discrepancies) AS violations,
              (SELECT resolution_note FROM manual_review_queue WHERE status = 'resolved') AS resolved
         FROM v_pnl_totals WHERE allocation_version = 1`);
    expect(others).toEqual([]);
    expect(totals).toMatchObject({ quote: 'USD', violations: 0, resolved: 'matched by a later computation' });
    expect(o).toMatch(new RegExp(`^totals in USD\nrealized PnL +${totals!.pnl2.replace('.', '\\.')}$`, 'm'));
    expect(o).toMatch(new RegExp(`^unmatched sells +${totals!.unmatched} `, 'm'));
    expect(o).toMatch(new RegExp(`warning \\[unmatched_sells_pending\\]: ${totals!.unmatched} unmatched sell\\(s\\) pending review`));

    const html = readFileSync(out, 'utf8');
    for (const id of ['chart-equity', 'chart-daily-pnl', 'chart-pnl-by-symbol', 'chart-pnl-by-trigger', 'chart-pnl-by-source', 'chart-win-rate', 'chart-daily-fees']) {
      expect(html).toContain(`<svg id="${id}-USD"`);
    }
    expect(html).toContain(`<td id="total-pnl-USD" class="kpi" data-value="${totals!.pnl}"`);
    const bySymbol = /<svg id="chart-pnl-by-symbol-USD"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(bySymbol.match(/<g class="row">/g)).toHaveLength(30);
    // the new sections: risk metrics, open positions marked to market (one unknown, one stale), health
    expect(o).toMatch(/^market prices: 29 symbol\(s\) at 1 % above their last fill, at the last fill's time, [A-Z]+-USD three days early \(stale\), AAVE-USD without a price \(value unknown\)$/m);
    expect(o).toMatch(/^sharpe ratio +-?\d+\.\d\d +\(mean \/ sample stddev of daily realized PnL × √365, \d+ day\(s\)\)$/m);
    expect(o).toMatch(/^max drawdown +[\d.]+ +\(peak 2026-\d\d-\d\d, trough 2026-\d\d-\d\d\)$/m);
    expect(o).toMatch(/^trading metrics by trigger$/m);
    expect(o).toMatch(/^open positions at 2026-\d\d-\d\dT00:00:00\.000Z/m);
    expect(o).toMatch(/^AAVE-USD +USD +[\d.]+ +[\d.]+ +unknown +unknown +unknown/m);
    expect(o).toMatch(/ STALE /);
    expect(o).toMatch(/^FIFO health\nlast allocation +2026-/m);
    expect(html).toMatch(/<table id="open-positions" data-count="\d+"/);
    expect(html).toMatch(/<tr class="position no-price" data-symbol="AAVE-USD"/);
    expect(html).toMatch(/<tr class="position stale"/);
    expect(o).toMatch(/^mail it: DATABASE_URL='.*' pnpm -s fifo report --format eml --mail-to you@example.com \| sendmail -t$/m);

    // a rerun drops and recreates the sandbox: the same ledger and the same report
    const second = await runFifo(args, { DATABASE_URL: baseUrl() });
    expect(second.code, second.stderr).toBe(0);
    expect(reportSection(second.stdout)).toBe(reportSection(o));
    const [again] = await inSchema(schema, `SELECT count(*)::int AS trades FROM trade_records`);
    expect(again).toEqual({ trades: 3001 });
  });

  it('never drops a schema it did not create, and rejects bad input with exit 2', async () => {
    const schema = newSchema();
    await admin.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.keep_me (x int); INSERT INTO ${schema}.keep_me VALUES (1)`);
    const out = join(dir, 'never.html');
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--schema', schema], { DATABASE_URL: baseUrl() }, new RegExp(`--schema ${schema}: the schema exists and was not created by \`fifo demo\``)],
      [['--schema', 'Bad-Name'], { DATABASE_URL: baseUrl() }, /--schema must be a plain lower-case identifier other than public, got "Bad-Name"/],
      [['--schema', 'public'], { DATABASE_URL: baseUrl() }, /--schema must be a plain lower-case identifier other than public/],
      [['--schema', 'x'], { DATABASE_URL: '' }, /--schema applies with DATABASE_URL only/],
      [['--trades', '10', '--symbols', '50'], { DATABASE_URL: baseUrl() }, /--symbols \(50\) cannot exceed --trades \(10\)/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => runFifo(['demo', '--out', out, ...args], env)));
    results.forEach((r, i) => {
      const [args, , message] = cases[i]!;
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
    });
    expect(existsSync(out)).toBe(false);
    expect((await admin.query(`SELECT x FROM ${schema}.keep_me`)).rows).toEqual([{ x: 1 }]);
  });

  // The README's path: no DATABASE_URL, the embedded server, database fifo_demo.
  const embedded = !process.env.FIFO_TEST_DATABASE_URL && !process.env.DATABASE_URL;
  it.skipIf(!embedded)('on the embedded server uses its own database fifo_demo', async () => {
    const out = join(dir, 'embedded.html');
    const r = await runFifo(['demo', '--trades', '1500', '--symbols', '15', '--out', out], { DATABASE_URL: '' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('== fifo demo: database fifo_demo on the embedded server (recreated)');
    const url = /^explore: DATABASE_URL='([^']+)'/m.exec(r.stdout)?.[1];
    expect(url).toMatch(/\/fifo_demo$/);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT (SELECT count(*)::int FROM trade_records) AS trades,
        shobj_description((SELECT oid FROM pg_database WHERE datname = current_database()), 'pg_database') AS note`);
      expect(rows).toEqual([{ trades: 1501, note: 'fifo demo sandbox: dropped and recreated by `fifo demo`' }]);
    } finally {
      await c.end();
    }
    expect(readFileSync(out, 'utf8')).toContain('<svg id="chart-equity-USD"');
  });
});
