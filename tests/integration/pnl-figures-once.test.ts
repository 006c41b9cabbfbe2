/**
 * Migration 021: the aggregate PnL figures are rows of fifo_pnl_figure_defs, from which every
 * PnL view is generated and which `fifo report` splices into its query. A figure added as one
 * row (plus fifo_pnl_regenerate_views()) appears in every view and in the report; the views keep
 * their rows, columns, types and grants through the regeneration and through 021 down and up.
 * The ledger: tests/helpers/pnl-ledger.ts (hand-worked there).
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsDir } from '../../packages/cli/src/paths.ts';
import { FIGURE_COLUMNS } from '../../packages/cli/src/report/columns.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { insertPnlLedger } from '../helpers/pnl-ledger.ts';

const VIEWS = ['v_pnl_by_symbol', 'v_daily_pnl_by_symbol', 'v_daily_pnl', 'v_pnl_by_source', 'v_pnl_by_trigger', 'v_pnl_totals',
  'v_pnl_by_symbol_account'];
const from021 = () => readdirSync(migrationsDir).filter((f) => f.endsWith('.sql') && f >= '021_pnl_figures_once.sql').length;

let t: TestSchema;
beforeAll(async () => {
  t = await createTestSchema();
  await insertPnlLedger(t);
});
afterAll(() => t.drop());

const columnsOf = () => t.query(`SELECT table_name, ordinal_position, column_name, data_type FROM information_schema.columns
                                  WHERE table_schema = current_schema() AND table_name = ANY ($1) ORDER BY 1, 2`, [VIEWS]);
const grantsOf = () => t.query(`SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
                                 WHERE table_schema = current_schema() AND table_name = ANY ($1) ORDER BY 1, 2, 3`, [VIEWS]);
/** Every row of every view as jsonb text (values at their scales), less the columns named. */
const rowsOf = async (without: string[] = []) => Object.fromEntries(await Promise.all(VIEWS.map(async (v) =>
  [v, (await t.query<{ r: string }>(`SELECT (to_jsonb(x) - $1::text[])::text AS r FROM ${v} x ORDER BY (to_jsonb(x) - $1::text[])::text COLLATE "C"`, [without])).map((x) => x.r)] as const)));
const metricsOf = async () => (await t.query<{ r: string }>(
  `SELECT m::text AS r FROM fifo_allocation_versions v CROSS JOIN LATERAL fifo_trading_metrics(v.allocation_version) m ORDER BY m::text COLLATE "C"`)).map((x) => x.r);

interface Report { totals: Record<string, unknown>[]; rows: Record<string, unknown>[]; generated_at?: string }
async function report(by: string, url = t.url): Promise<Report> {
  const r = await runFifo(['report', '--format', 'json', '--by', by], { DATABASE_URL: url });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const { generated_at: _g, ...rest } = JSON.parse(r.stdout) as Report;
  return rest;
}
const without = (o: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

describe('021: one definition of the aggregate PnL figures', () => {
  it('keeps every view\'s rows, columns, types and grants, and fifo_trading_metrics\' values, through 021 down and up', async () => {
    const at021 = { columns: await columnsOf(), grants: await grantsOf(), rows: await rowsOf(), metrics: await metricsOf() };
    // hand-worked, so the snapshot is not of nothing
    expect(await t.query(`SELECT quote, sells::int, winning_sells::int, losing_sells::int, win_rate_pct::text, realized_pnl_usd::text
                            FROM v_pnl_totals WHERE allocation_version = 1 ORDER BY quote`)).toEqual([
      { quote: 'BTC', sells: 1, winning_sells: 0, losing_sells: 0, win_rate_pct: null, realized_pnl_usd: '0' },
      { quote: 'USD', sells: 4, winning_sells: 2, losing_sells: 1, win_rate_pct: '50.0', realized_pnl_usd: '8.65' }]);
    await t.migrate('down', { count: from021() });
    expect(await t.query(`SELECT to_regclass('fifo_pnl_figure_defs')::text AS t`)).toEqual([{ t: null }]);
    // the hand-written views of 015 and 018, and 016's function
    const before = { columns: await columnsOf(), grants: await grantsOf(), rows: await rowsOf(), metrics: await metricsOf() };
    expect(before).toEqual(at021);
    await t.migrate('up');
    expect({ columns: await columnsOf(), grants: await grantsOf(), rows: await rowsOf(), metrics: await metricsOf() }).toEqual(before);
    await t.query(`SELECT fifo_pnl_regenerate_views()`);
    expect({ columns: await columnsOf(), grants: await grantsOf(), rows: await rowsOf(), metrics: await metricsOf() }).toEqual(before);
  });

  it('generates plain grouped views over v_sell_pnl: a filter on the key reaches below the grouping', async () => {
    for (const v of VIEWS) {
      expect(await t.query(`SELECT DISTINCT r.relname AS reads FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid
          JOIN pg_class r ON r.oid = d.refobjid WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
           AND w.ev_class = $1::regclass AND r.oid <> w.ev_class`, [v])).toEqual([{ reads: 'v_sell_pnl' }]);
    }
    const plan = (await t.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT * FROM v_pnl_by_symbol WHERE symbol = 'SOL-USD'`)).map((r) => r['QUERY PLAN']);
    const firstAggregate = plan.findIndex((l) => /Aggregate/.test(l));
    expect(firstAggregate).toBeGreaterThanOrEqual(0);
    expect(plan.findIndex((l) => l.includes('SOL-USD'))).toBeGreaterThan(firstAggregate);
  });

  it('puts a figure added as one row in every PnL view and in fifo report, leaving every other value as it was', async () => {
    const views = await rowsOf();
    const columns = await columnsOf();
    const grants = await grantsOf();
    const metrics = await metricsOf();
    const byDay = await report('day');
    const bySymbol = await report('symbol');

    await t.query(`INSERT INTO fifo_pnl_figure_defs (name, sql_type, expression, position, meaning)
                   VALUES ('breakeven_sells', 'bigint', 'count(*) FILTER (WHERE is_matched AND NOT is_win AND NOT is_loss)', 160,
                           'matched sells with a realized PnL of zero')`);
    await t.query(`SELECT fifo_pnl_regenerate_views()`);

    // every view: the new column last, its type (v_daily_pnl's counts are numeric), its values by hand
    const added = await t.query(`SELECT table_name, column_name, data_type FROM information_schema.columns
                                  WHERE table_schema = current_schema() AND table_name = ANY ($1)
                                    AND (table_name, ordinal_position) IN (SELECT table_name, max(ordinal_position) FROM information_schema.columns
                                                                            WHERE table_schema = current_schema() GROUP BY 1)
                                  ORDER BY 1`, [VIEWS]);
    expect(added).toEqual(VIEWS.slice().sort().map((v) => ({ table_name: v, column_name: 'breakeven_sells', data_type: v === 'v_daily_pnl' ? 'numeric' : 'bigint' })));
    for (const v of VIEWS) {
      expect(await t.query(`SELECT allocation_version AS version, sum(breakeven_sells)::int AS n FROM ${v} GROUP BY 1 ORDER BY 1`), v)
        .toEqual([{ version: 1, n: 1 }, { version: 2, n: 0 }]);
    }
    expect(await t.query(`SELECT symbol, breakeven_sells::int AS n FROM v_pnl_by_symbol WHERE allocation_version = 1 ORDER BY 1`))
      .toEqual([{ symbol: 'ETH-USD', n: 1 }, { symbol: 'SOL-BTC', n: 0 }, { symbol: 'SOL-USD', n: 0 }]);
    expect(await t.query(`SELECT to_char(day, 'MM-DD') AS day, breakeven_sells::int AS n FROM v_daily_pnl
                           WHERE allocation_version = 1 AND breakeven_sells > 0`)).toEqual([{ day: '01-05', n: 1 }]);
    // the other columns: same rows, same places, same grants; the metrics unchanged
    expect(await rowsOf(['breakeven_sells'])).toEqual(views);
    expect((await columnsOf()).filter((c) => c.column_name !== 'breakeven_sells')).toEqual(columns);
    expect(await grantsOf()).toEqual(grants);
    expect(await metricsOf()).toEqual(metrics);
    await t.query('BEGIN');
    try {
      await t.query('SET LOCAL ROLE fifo_reader');
      expect(await t.query(`SELECT quote, breakeven_sells::int AS n FROM v_pnl_totals WHERE allocation_version = 1 ORDER BY quote`))
        .toEqual([{ quote: 'BTC', n: 0 }, { quote: 'USD', n: 1 }]);
    } finally {
      await t.query('ROLLBACK');
    }

    // the report: the new figure in every total and group row (a count: a number), the rest as before
    const day = await report('day');
    const symbol = await report('symbol');
    expect(day.totals.map((x) => [x.quote, x.breakeven_sells])).toEqual([['BTC', 0], ['USD', 1]]);
    expect(symbol.rows.map((x) => [x.key, x.breakeven_sells])).toEqual([['SOL-BTC', 0], ['ETH-USD', 1], ['SOL-USD', 0]]);
    expect(day.rows.filter((x) => x.breakeven_sells !== 0).map((x) => x.key)).toEqual(['2025-01-05']);
    const strip = (r: Report) => ({ ...r, totals: r.totals.map((x) => without(x, 'breakeven_sells')), rows: r.rows.map((x) => without(x, 'breakeven_sells')) });
    expect(strip(day)).toEqual(byDay);
    expect(strip(symbol)).toEqual(bySymbol);
    // and as the reader role the report runs (the figure rows are readable by it)
    const u = new URL(t.url);
    u.searchParams.set('options', `${u.searchParams.get('options')} -c role=fifo_reader`);
    expect((await report('symbol', u.toString())).totals).toEqual(symbol.totals);

    // a figure taken out again: the views are made anew as they were, grants included
    await t.query(`DELETE FROM fifo_pnl_figure_defs WHERE name = 'breakeven_sells'`);
    await t.query(`SELECT fifo_pnl_regenerate_views()`);
    expect(await columnsOf()).toEqual(columns);
    expect(await grantsOf()).toEqual(grants);
    expect(await rowsOf()).toEqual(views);
  });

  it('lets 021 go down with a figure added since: the views come back as 015 and 018 left them', async () => {
    const columns = await columnsOf();
    const grants = await grantsOf();
    const views = await rowsOf();
    await t.query(`INSERT INTO fifo_pnl_figure_defs (name, sql_type, expression, position, meaning)
                   VALUES ('max_pnl_usd', 'numeric', 'max(realized_pnl_usd)', 170, 'the largest realized PnL of a sell')`);
    await t.query(`SELECT fifo_pnl_regenerate_views()`);
    expect((await columnsOf()).length).toBe(columns.length + VIEWS.length);
    await t.migrate('down', { count: from021() });
    expect(await columnsOf()).toEqual(columns);
    expect(await grantsOf()).toEqual(grants);
    expect(await rowsOf()).toEqual(views);
    await t.migrate('up');
    expect(await columnsOf()).toEqual(columns);
  });

  it('reports every column of report/columns.ts (a figure key there is a figure the report carries)', async () => {
    const day = await report('day');
    const keys = new Set([...Object.keys(day.totals[0] ?? {}), ...Object.keys(day.rows[0] ?? {})]);
    expect(FIGURE_COLUMNS.map((c) => c.key).filter((k) => !keys.has(k))).toEqual([]);
  });
});
