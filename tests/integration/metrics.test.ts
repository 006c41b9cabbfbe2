/**
 * Migration 016's trading and risk metrics and migration 017's marked positions, read by
 * `fifo report`, on a hand-worked ledger. Every figure is worked out here by hand: money is
 * compared exactly, ratios to the report's display rounding (2 decimals) and to 1e-9.
 *
 * Hand-worked (FIFO, no fees on SOL):
 *   SOL-USD b1 buy 10 @ 100 (03-01 09:00Z)
 *     s1 sell 2 @ 110  03-01 12:00Z  take_profit scalper  PnL +20
 *     s2 sell 2 @  95  03-02 12:00Z  stop_loss   scalper  PnL -10
 *     s3 sell 2 @  90  03-04 12:00Z  stop_loss   grid     PnL -20
 *     s4 sell 2 @ 130  03-06 02:00Z  take_profit grid     PnL +60  (New York: 03-05 21:00)
 *     open: 2 @ 100, cost basis 200
 *   ETH-BTC b2 buy 1 @ 0.05; s5 sell 0.5 @ 0.06 (+0.005), s6 sell 0.5 @ 0.07 (+0.01), both 03-02:
 *     no losing sell (profit factor undefined), one day (no Sharpe), never a drawdown
 *   ADA-USD b3 buy 100 @ 0.5 fee 0.1 (03-03): open, cost basis 50.1, no market price
 *   market prices: SOL-USD 120 at 03-06 00:00Z, 125 at 03-20 (after the ranges below)
 *
 * USD, days in UTC: 03-01 +20, 03-02 -10, 03-03 0, 03-04 -20, 03-05 0, 03-06 +60
 *   cumulative 20, 10, 10, -10, -10, 50; peak 20 until 03-06; drawdown 0, 10, 10, 30, 30, 0
 *   max drawdown 30 from the 03-01 peak to the 03-04 trough; 4 days below the peak (03-02..03-05)
 *   4 sells: 2 won (80), 2 lost (-30): profit factor 80/30, avg win 40, avg loss -15,
 *   expectancy 50/4 = 12.5, largest win 60, largest loss -20
 * USD, days in America/New_York: 20, -10, 0, -20, +60 (03-01..03-05): drawdown 30 (03-01 → 03-04), 3 days
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { roundDecimal } from '../../packages/cli/src/format/decimal.ts';
import { migrationsDir } from '../../packages/cli/src/paths.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

let t: TestSchema;
const env = () => ({ DATABASE_URL: t.url });

beforeAll(async () => {
  t = await createTestSchema();
  await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger) VALUES
    ('b1', 'SOL-USD', 'buy',  10,  100,  0,   '2025-03-01 09:00Z', 'scalper', NULL),
    ('s1', 'SOL-USD', 'sell', 2,   110,  0,   '2025-03-01 12:00Z', 'scalper', 'take_profit'),
    ('s2', 'SOL-USD', 'sell', 2,   95,   0,   '2025-03-02 12:00Z', 'scalper', 'stop_loss'),
    ('s3', 'SOL-USD', 'sell', 2,   90,   0,   '2025-03-04 12:00Z', 'grid',    'stop_loss'),
    ('s4', 'SOL-USD', 'sell', 2,   130,  0,   '2025-03-06 02:00Z', 'grid',    'take_profit'),
    ('b2', 'ETH-BTC', 'buy',  1,   0.05, 0,   '2025-03-01 10:00Z', 'scalper', NULL),
    ('s5', 'ETH-BTC', 'sell', 0.5, 0.06, 0,   '2025-03-02 10:00Z', 'scalper', 'take_profit'),
    ('s6', 'ETH-BTC', 'sell', 0.5, 0.07, 0,   '2025-03-02 11:00Z', 'scalper', 'take_profit'),
    ('b3', 'ADA-USD', 'buy',  100, 0.5,  0.1, '2025-03-03 00:00Z', 'grid',    NULL)`);
  await t.query(`INSERT INTO market_prices (symbol, price_time, price, source) VALUES
    ('SOL-USD', '2025-03-06 00:00Z', 120, 'test'), ('SOL-USD', '2025-03-20 00:00Z', 125, 'test')`);
  const session = await openProcedureSession(t.client, t.url, 'auto');
  try {
    expect((await runCompute(t.client, session, { version: 1, symbols: null, force: true })).status).toBe('success');
  } finally {
    await session.close();
  }
});
afterAll(async () => {
  await t?.drop();
});

async function report(args: string[]): Promise<any> {
  const r = await runFifo(['report', '--format', 'json', ...args], env());
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** By hand: mean / sample standard deviation × √365. */
function sharpe(daily: number[]): number {
  const n = daily.length;
  const mean = daily.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(daily.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return (mean / sd) * Math.sqrt(365);
}

/** A ratio as the report shows it (2 decimals) and close to the hand value. */
function expectRatio(got: string | null, hand: number): void {
  expect(got).not.toBeNull();
  expect(roundDecimal(got!, 2)).toBe(hand.toFixed(2));
  expect(Math.abs(Number(got) - hand)).toBeLessThan(1e-9);
}

describe('trading and risk metrics (migration 016) in fifo report', () => {
  it('total per quote currency: win/loss figures, profit factor, Sharpe and drawdown by hand (UTC days)', async () => {
    const d = await report(['--to', '2025-03-10']);
    expect(d.tz).toBe('UTC');
    expect(d.totals.map((x: any) => x.quote)).toEqual(['BTC', 'USD']);
    const usd = d.totals.find((x: any) => x.quote === 'USD');
    expect(usd).toMatchObject({
      sells: 4, winning_sells: 2, losing_sells: 2, realized_pnl_usd: '50',
      gross_profit: '80', gross_loss: '-30', avg_win: '40', avg_loss: '-15', expectancy: '12.5',
      largest_win: '60', largest_loss: '-20',
      days: 6, max_drawdown: '30', peak_day: '2025-03-01', trough_day: '2025-03-04', longest_drawdown_days: 4, current_drawdown: '0',
    });
    expectRatio(usd.profit_factor, 80 / 30);
    expectRatio(usd.sharpe_ratio, sharpe([20, -10, 0, -20, 0, 60]));
    expect(Number(usd.mean_daily_pnl)).toBeCloseTo(50 / 6, 12);

    // BTC: no losing sell → profit factor undefined (null, never infinity); one day → no Sharpe
    const btc = d.totals.find((x: any) => x.quote === 'BTC');
    expect(btc).toMatchObject({
      sells: 2, losing_sells: 0, realized_pnl_usd: '0.015', gross_profit: '0.015', gross_loss: '0', profit_factor: null,
      avg_win: '0.0075', avg_loss: null, expectancy: '0.0075', largest_win: '0.01', largest_loss: null,
      days: 1, sharpe_ratio: null, max_drawdown: '0', peak_day: null, trough_day: null, longest_drawdown_days: 0,
    });

    // the equity curve: every calendar day, the running peak from a zero start
    expect(d.equity.filter((e: any) => e.quote === 'USD').map((e: any) => [e.day, e.realized_pnl, e.cumulative_pnl, e.peak_pnl, e.drawdown])).toEqual([
      ['2025-03-01', '20', '20', '20', '0'], ['2025-03-02', '-10', '10', '20', '10'], ['2025-03-03', '0', '10', '20', '10'],
      ['2025-03-04', '-20', '-10', '20', '30'], ['2025-03-05', '0', '-10', '20', '30'], ['2025-03-06', '60', '50', '50', '0']]);

    // by trigger and source: profit factor 0 without wins, undefined without losses
    const m = (dim: string, key: string) => d.metrics.find((x: any) => x.dimension === dim && x.key === key && x.quote === 'USD');
    expect(m('trigger', 'take_profit')).toMatchObject({ sells: 2, realized_pnl: '80', profit_factor: null, avg_win: '40' });
    expect(m('trigger', 'stop_loss')).toMatchObject({ sells: 2, realized_pnl: '-30', profit_factor: '0', avg_loss: '-15', largest_loss: '-20' });
    expect(m('source', 'scalper')).toMatchObject({ realized_pnl: '10', profit_factor: '2', expectancy: '5' });
    expect(m('source', 'grid')).toMatchObject({ realized_pnl: '40', profit_factor: '3', expectancy: '20' });
    expect(m('symbol', 'SOL-USD')).toMatchObject({ sells: 4, win_rate_pct: '50.0', realized_pnl: '50' });

    // SQL users read the same from the views (all sells, UTC)
    const [view] = await t.query(`SELECT sharpe_ratio::text, max_drawdown::text, peak_day::text, trough_day::text, longest_drawdown_days
                                    FROM v_risk_metrics WHERE allocation_version = 1 AND quote = 'USD'`);
    expect(view).toEqual({ sharpe_ratio: usd.sharpe_ratio, max_drawdown: '30', peak_day: '2025-03-01', trough_day: '2025-03-04', longest_drawdown_days: '4' });
    const [tm] = await t.query(`SELECT profit_factor::text, expectancy::text FROM v_trading_metrics
                                 WHERE allocation_version = 1 AND dimension = 'total' AND quote = 'USD'`);
    expect(tm).toEqual({ profit_factor: usd.profit_factor, expectancy: '12.5' });
  });

  it('--tz moves days (and date bounds) into the zone: the Sharpe ratio and drawdown of the New York days', async () => {
    const d = await report(['--tz', 'America/New_York', '--by', 'day']);
    expect(d.tz).toBe('America/New_York');
    const usd = d.totals.find((x: any) => x.quote === 'USD');
    expect(usd).toMatchObject({ days: 5, max_drawdown: '30', peak_day: '2025-03-01', trough_day: '2025-03-04', longest_drawdown_days: 3 });
    expectRatio(usd.sharpe_ratio, sharpe([20, -10, 0, -20, 60]));
    expect(d.rows.filter((r: any) => r.quote === 'USD').map((r: any) => [r.key, r.realized_pnl_usd])).toEqual([
      ['2025-03-01', '20'], ['2025-03-02', '-10'], ['2025-03-04', '-20'], ['2025-03-05', '60']]);
    // a date bound is the zone's day: 03-05 in New York holds s4 (03-06 02:00Z)
    const day = await report(['--tz', 'America/New_York', '--from', '2025-03-05', '--to', '2025-03-05']);
    expect(day.totals.map((x: any) => [x.quote, x.sells, x.realized_pnl_usd])).toEqual([['USD', 1, '60']]);
    const utcDay = await report(['--from', '2025-03-05', '--to', '2025-03-05']);
    expect(utcDay.totals).toEqual([]);
  });

  it('a drawdown from the start: the peak is the zero before the first day', async () => {
    const d = await report(['--from', '2025-03-02', '--to', '2025-03-10']);
    const usd = d.totals.find((x: any) => x.quote === 'USD');
    // days -10, 0, -20, 0, +60: cumulative -10, -10, -30, -30, 30
    expect(usd).toMatchObject({ max_drawdown: '30', peak_day: '2025-03-01', trough_day: '2025-03-04', longest_drawdown_days: 4 });
    expectRatio(usd.sharpe_ratio, sharpe([-10, 0, -20, 0, 60]));
  });

  it('open positions marked to market: unrealized PnL by hand, no price → unknown (never 0), a stale price flagged', async () => {
    const d = await report(['--to', '2025-03-10']);
    expect(d.positions_at).toBe('2025-03-11T00:00:00.000Z');
    expect(d.positions).toEqual([
      {
        symbol: 'ADA-USD', quote: 'USD', quantity: '100', cost_basis: '50.1', price: null, price_time: null, price_source: null,
        market_value: null, unrealized_pnl: null, oldest_lot_time: '2025-03-03T00:00:00Z', oldest_lot_age_days: '8.00', price_age_hours: null,
      },
      {
        // 2 × 120 = 240 against 2 × 100 = 200; the price is 5 days (120 h) old at the end of the range
        symbol: 'SOL-USD', quote: 'USD', quantity: '2', cost_basis: '200', price: '120', price_time: '2025-03-06T00:00:00Z', price_source: 'test',
        market_value: '240', unrealized_pnl: '40', oldest_lot_time: '2025-03-01T09:00:00Z', oldest_lot_age_days: '9.63', price_age_hours: '120.00',
      },
    ]);
    const text = await runFifo(['report', '--to', '2025-03-10'], env());
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ADA-USD +USD +100 +50\.10 +unknown +unknown +unknown +8\.00 d$/m);
    expect(text.stdout).toMatch(/^SOL-USD +USD +2 +200\.00 +120 +240\.00 +40\.00 +120\.00 h STALE +9\.63 d$/m);
    // without --to: as of the latest fill or price the database holds (03-20, SOL's second price)
    const latest = await report([]);
    expect(latest.positions_at).toBe('2025-03-20T00:00:00.000Z');
    expect(latest.positions.find((p: any) => p.symbol === 'SOL-USD')).toMatchObject({ price: '125', market_value: '250', unrealized_pnl: '50', price_age_hours: '0.00' });
    // a fresh price: 6 h old, not stale
    const fresh = await runFifo(['report', '--to', '2025-03-06T06:00:00Z'], env());
    expect(fresh.stdout).toMatch(/^SOL-USD +USD +2 +200\.00 +120 +240\.00 +40\.00 +6\.00 h +\d/m);
  });

  it('the terminal report states the conventions and the undefined figures', async () => {
    const r = await runFifo(['report', '--to', '2025-03-10'], env());
    expect(r.code, r.stderr).toBe(0);
    const btc = r.stdout.slice(r.stdout.indexOf('totals in BTC'), r.stdout.indexOf('totals in USD'));
    expect(btc).toMatch(/^profit factor +n\/a \(no losing sells\)/m);
    expect(btc).toMatch(/^sharpe ratio +n\/a +\(undefined: 1 day\(s\) of data, 2 needed\)$/m);
    const usd = r.stdout.slice(r.stdout.indexOf('totals in USD'));
    expect(usd).toMatch(new RegExp(`^sharpe ratio +${sharpe([20, -10, 0, -20, 0, 60]).toFixed(2)} +\\(mean / sample stddev of daily realized PnL × √365, 6 day\\(s\\)\\)$`, 'm'));
    expect(usd).toMatch(/^max drawdown +30\.00 +\(peak 2025-03-01, trough 2025-03-04\)$/m);
    expect(usd).toMatch(/^profit factor +2\.67 /m);
    expect(r.stdout).toMatch(/^trading metrics by trigger$/m);
    expect(r.stdout).toMatch(/^take_profit +USD +2 +100\.0 +80\.00 +40\.00 +n\/a +n\/a +40\.00 +60\.00 +n\/a$/m);
    expect(r.stdout).toMatch(/^FIFO health\nlast allocation +\d{4}-/m);
  });

  it('CSV carries the metrics exactly: on every group row, and the risk metrics on the totals', async () => {
    const r = await runFifo(['report', '--format', 'csv', '--by', 'trigger', '--to', '2025-03-10'], env());
    expect(r.code, r.stderr).toBe(0);
    const [header, ...lines] = r.stdout.trimEnd().split('\n');
    const cols = header!.split(',');
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    const usdTotal = rows.find((x) => x.row_type === 'total' && x.quote === 'USD')!;
    expect(usdTotal).toMatchObject({ profit_factor: expect.stringMatching(/^2\.6666/), max_drawdown: '30', peak_day: '2025-03-01', trough_day: '2025-03-04', longest_drawdown_days: '4' });
    const stop = rows.find((x) => x.row_type === 'group' && x.trigger === 'stop_loss')!;
    expect(stop).toMatchObject({ profit_factor: '0', avg_loss: '-15', sharpe_ratio: '', max_drawdown: '' });
    expect(rows.find((x) => x.row_type === 'total' && x.quote === 'BTC')).toMatchObject({ profit_factor: '', sharpe_ratio: '' });
  });
});

describe('fifo report --by account and --account (accounts of migration 018)', () => {
  let a: TestSchema;
  beforeAll(async () => {
    a = await createTestSchema();
    await a.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, account) VALUES
      ('b1', 'SOL-USD', 'buy',  10, 100, 0, '2025-03-01 09:00Z', 'binance'),
      ('s1', 'SOL-USD', 'sell', 2,  110, 0, '2025-03-01 12:00Z', 'binance'),
      ('s2', 'SOL-USD', 'sell', 2,  90,  0, '2025-03-02 12:00Z', 'kraken'),
      ('s3', 'SOL-USD', 'sell', 1,  130, 0, '2025-03-03 12:00Z', 'kraken')`);
    const session = await openProcedureSession(a.client, a.url, 'auto');
    try {
      expect((await runCompute(a.client, session, { version: 1, symbols: null, force: true })).status).toBe('success');
    } finally {
      await session.close();
    }
  });
  afterAll(async () => {
    await a?.drop();
  });
  const json = async (args: string[]) => {
    const r = await runFifo(['report', '--format', 'json', ...args], { DATABASE_URL: a.url });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  it('groups by the sell\'s account and keeps one account\'s sells, metrics and risk included', async () => {
    const by = await json(['--by', 'account']);
    // binance: s1 +20; kraken: s2 -20, s3 +30 (universal pooling: both from b1)
    expect(by.rows.map((r: any) => [r.key, r.sells, r.realized_pnl_usd, r.profit_factor])).toEqual([
      ['binance', 1, '20', null], ['kraken', 2, '10', '1.5']]);
    const k = await json(['--account', 'kraken']);
    expect(k.account).toBe('kraken');
    expect(k.totals).toHaveLength(1);
    // daily -20 (03-02), +30 (03-03): from the zero start (03-01) down 20 to 03-02, one day under
    expect(k.totals[0]).toMatchObject({ sells: 2, realized_pnl_usd: '10', profit_factor: '1.5', expectancy: '5', days: 2,
      max_drawdown: '20', peak_day: '2025-03-01', trough_day: '2025-03-02', longest_drawdown_days: 1 });
    expectRatio(k.totals[0].sharpe_ratio, sharpe([-20, 30]));
    expect(k.positions).toBeNull();
    expect(k.positions_unavailable).toMatch(/not split by account/);
    const none = await json(['--account', 'nowhere']);
    expect(none.totals).toEqual([]);
    const text = await runFifo(['report', '--account', 'kraken'], { DATABASE_URL: a.url });
    expect(text.stdout).toMatch(/^PnL report — allocation version 1 \(fifo\), all sells of account "kraken" \(days in UTC\)$/m);
  });
});

describe('migration 016 up and down', () => {
  it('adds the metric functions and views with their grants, leaves 015\'s views as they were, and goes back down', async () => {
    const m = await createTestSchema();
    try {
      const after015 = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql') && f > '015_pnl_figures.sql').length;
      await m.migrate('down', { count: after015 });
      const VIEWS = ['v_sell_pnl', 'v_trade_pnl', 'v_pnl_by_symbol', 'v_daily_pnl_by_symbol', 'v_daily_pnl', 'v_pnl_by_source', 'v_pnl_by_trigger', 'v_pnl_totals'];
      const snapshot = async () => ({
        columns: await m.query(`SELECT table_name, ordinal_position, column_name, data_type FROM information_schema.columns
                                 WHERE table_schema = current_schema() AND table_name = ANY ($1) AND column_name <> 'account' ORDER BY 1, 2`, [VIEWS]),
        grants: await m.query(`SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
                                WHERE table_schema = current_schema() AND table_name = ANY ($1) ORDER BY 1, 2, 3`, [VIEWS]),
      });
      const at015 = await snapshot();
      await m.migrate('up', { count: 1 });
      expect(await snapshot()).toEqual(at015);
      expect(await m.query(`SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()
                              AND table_name = 'v_sell_pnl' AND column_name = 'account'`)).toEqual([{ data_type: 'text' }]);
      expect(await m.query(`SELECT has_function_privilege('fifo_reader', 'fifo_risk_metrics(int, text, timestamptz, timestamptz, boolean, text)', 'EXECUTE') AS r,
                                   has_function_privilege('public', 'fifo_trading_metrics(int, text, timestamptz, timestamptz, boolean, text)', 'EXECUTE') AS p,
                                   has_table_privilege('fifo_reader', 'v_risk_metrics', 'SELECT') AS v`)).toEqual([{ r: true, p: false, v: true }]);
      await m.migrate('down', { count: 1 });
      expect(await snapshot()).toEqual(at015);
      expect(await m.query(`SELECT to_regclass('v_risk_metrics')::text AS v, to_regprocedure('fifo_risk_metrics(int, text, timestamptz, timestamptz, boolean, text)')::text AS f`))
        .toEqual([{ v: null, f: null }]);
      await m.migrate('up');
    } finally {
      await m.drop();
    }
  });
});
