/**
 * `fifo health`: exit 0 when the version is current and clean, 1 with a warning naming the
 * problem otherwise (for cron and monitoring), 2 on bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { urlAsOf } from '../helpers/as-of.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

let t: TestSchema;
// The computations judge long_held_lot items as of just after this ledger (its last trade is
// 09-06), where no lot is held long: these cases are about the other checks. The last one
// judges the same ledger as of now.
const AS_OF = '2025-09-07T00:00Z';
const env = () => ({ DATABASE_URL: t.url });

async function health(...args: string[]): Promise<{ code: number; h: any; stderr: string }> {
  const r = await runFifo(['health', '--json', ...args], env());
  return { code: r.code, h: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}
const checks = (h: any) => h.warnings.map((w: any) => w.check);

/** Setup, not the subject: compute in this process (the CLI's own path is tested in compute.test.ts). */
async function compute(force = false, symbols: string[] | null = null, asOf: string | null = AS_OF): Promise<void> {
  const session = await openProcedureSession(t.client, asOf === null ? t.url : urlAsOf(t.url, asOf), 'auto');
  try {
    const r = await runCompute(t.client, session, { version: 1, symbols, force });
    expect(r.status).toBe('success');
  } finally {
    await session.close();
  }
}

beforeAll(async () => {
  t = await createTestSchema();
  await t.query(`SET fifo.long_held_as_of = '${AS_OF}'`); // a rebuild's refresh runs on this session
  await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
    ('b1', 'SOL-USD', 'buy',  10, 100, 1,   '2025-09-01 10:00Z'),
    ('s1', 'SOL-USD', 'sell', 4,  110, 0.4, '2025-09-02 10:00Z'),
    ('b2', 'ETH-USD', 'buy',  1,  900, 1,   '2025-09-01 11:00Z')`);
});
afterAll(() => t.drop());

describe('fifo health', () => {
  it('a ledger never computed is unhealthy', async () => {
    const { code, h } = await health();
    expect(code).toBe(1);
    expect(h.healthy).toBe(false);
    expect(checks(h)).toContain('never_computed');
  });

  it('is healthy after a compute: exit 0, the view and "healthy"', async () => {
    await compute();
    const [r, { code, h }] = await Promise.all([runFifo(['health'], env()), health()]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^last_run_status +success$/m);
    expect(r.stdout).toMatch(/^invariant violations +0$/m);
    expect(r.stdout).toMatch(/^healthy: version 1 is current and clean$/m);
    expect(code).toBe(0);
    expect(h).toMatchObject({ version: 1, healthy: true, warnings: [], invariant_violations: 0, max_lag_minutes: 10 });
    expect(h.health).toMatchObject({ allocation_version: 1, last_run_status: 'success', dirty_symbols: '0' });
  });

  it('leads with the FIFO health section the daily report shows: last allocation, allocations in the last hour and day, unmatched, run', async () => {
    const [r, { h }, rep] = await Promise.all([runFifo(['health'], env()), health(), runFifo(['report', '--format', 'json'], env())]);
    const [v] = await t.query<any>(`SELECT max(allocation_time) AS last, count(*)::int AS n, count(*) FILTER (WHERE buy_order_id IS NULL)::int AS unmatched
                                      FROM fifo_allocations WHERE allocation_version = 1`);
    const [run] = await t.query<any>(`SELECT computation_id::int AS id, mode, finished_at FROM fifo_computation_log ORDER BY computation_id DESC LIMIT 1`);
    const summary = {
      last_allocation_time: v.last.toISOString(), allocations_last_hour: v.n, allocations_last_day: v.n, unmatched_sells: v.unmatched,
      pending_reviews: 0, dirty_symbols: 0, stale_symbols: 0, last_run_id: run.id, last_run_status: 'success', last_run_mode: run.mode,
      last_run_finished_at: run.finished_at.toISOString(), last_success_at: run.finished_at.toISOString(),
    };
    expect(h.summary).toEqual(summary);
    expect(JSON.parse(rep.stdout).health).toEqual(summary);
    expect(r.stdout).toMatch(new RegExp(`^FIFO health\nlast allocation +${summary.last_allocation_time}\nallocations last hour +${v.n}\n` +
      `allocations last day +${v.n}\nunmatched sells +0\n`));
    expect(r.stdout).toMatch(new RegExp(`^last run +#${run.id} success \\(${run.mode}\\) at ${summary.last_run_finished_at}$`, 'm'));
  });

  it('a ledger change waits within the allowed lag, then is a warning', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b3', 'SOL-USD', 'buy', 1, 105, '2025-09-03Z')`);
    const [within, strict] = await Promise.all([health(), health('--max-lag-minutes', '0')]);
    expect(within.code).toBe(0);
    expect(within.h.notes).toEqual(['1 symbol(s) changed within the last 10 min and wait for the next computation']);
    expect(strict.code).toBe(1);
    expect(strict.h.warnings).toEqual([expect.objectContaining({ check: 'allocations_behind_ledger', count: 1 })]);
    expect(strict.h.warnings[0].message).toMatch(/allocations are behind the ledger: 1 symbol\(s\) changed more than 0 min ago .*SOL-USD/);
    // the same change 25 minutes later, against the default 10
    await t.query(`UPDATE fifo_dirty_symbols SET first_marked_at = first_marked_at - interval '25 minutes'`);
    const r = await runFifo(['health'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/warning \[allocations_behind_ledger\]: allocations are behind the ledger: 1 symbol\(s\) changed more than 10 min ago and not recomputed \(oldest change waiting 2\d\.\d min: SOL-USD\)/);
    await compute();
  });

  it('a symbol with trades past its snapshot but no dirty marker is stale', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b4', 'ETH-USD', 'buy', 1, 950, '2025-09-05Z')`);
    await t.query(`DELETE FROM fifo_dirty_symbols`);
    const { code, h } = await health();
    expect(code).toBe(1);
    expect(h.warnings).toEqual([expect.objectContaining({ check: 'stale_symbols', count: 1 })]);
    expect(h.warnings[0].message).toMatch(/ETH-USD.*fifo compute --force/);
    await compute(true);
  });

  it('a failed last run is a warning with its error', async () => {
    await t.query(`INSERT INTO fifo_computation_log (allocation_version, mode, host, status, finished_at, error)
                   VALUES (1, 'full', 'client', 'failed', now(), 'connection reset by peer')`);
    const r = await runFifo(['health'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/warning \[last_run_failed\]: the last computation run \(#\d+\) failed: connection reset by peer/);
    await compute(true);
  });

  it('unmatched sells pending review are a warning until reviewed', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('s9', 'BTC-USD', 'sell', 1, 50000, '2025-09-06Z')`);
    await compute();
    const { code, h } = await health();
    expect(code).toBe(1);
    expect(h.warnings).toEqual([{ check: 'unmatched_sells_pending', count: 1,
      message: '1 unmatched sell(s) pending review in 1 symbol(s) (BTC-USD); see `fifo review list`' }]);
    await t.query(`UPDATE manual_review_queue SET status = 'ignored', resolved_at = now(), resolution_note = 'airdrop'`);
    expect((await health()).code).toBe(0);
  });

  it('invariant violations are a warning (skippable on huge ledgers)', async () => {
    await t.query(`UPDATE fifo_allocations SET pnl_usd = pnl_usd * 1000 WHERE sell_order_id = 's1'`);
    const [{ code, h }, skipped] = await Promise.all([health(), health('--skip-invariants')]);
    expect(code).toBe(1);
    expect(h.invariant_violations).toBe(1);
    expect(h.warnings).toEqual([expect.objectContaining({ check: 'invariant_violations', count: 1 })]);
    expect(h.warnings[0].message).toMatch(/1 invariant violation\(s\) .*fifo validate --version 1/);
    expect(skipped).toMatchObject({ code: 0, h: { invariant_violations: null, notes: ['invariants not checked (--skip-invariants)'] } });
    await compute(true);
    expect((await health()).code).toBe(0);
  });

  it('checks the version asked for', async () => {
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'lifo')`);
    const [v2, byEnv, v1] = await Promise.all([
      health('--version', '2'), runFifo(['health'], { ...env(), FIFO_ALLOCATION_VERSION: '2' }), health('--version', '1')]);
    expect(v2.code).toBe(1);
    expect(checks(v2.h)).toEqual(['never_computed']);
    expect(byEnv.code).toBe(1);
    expect(byEnv.stdout).toMatch(/^allocation_version +2$/m);
    expect(v1.code).toBe(0);
  });

  it('lots held far longer than their symbol usually holds are a warning until reviewed (this ledger as of now)', async () => {
    // SOL-USD's one matched piece (b1→s1) is 1 day: flagged after 10 days; b1 (6 left) and b3 are open since 09-01/09-03
    await t.query('RESET fifo.long_held_as_of');
    await compute(true, ['SOL-USD'], null);
    const { code, h } = await health();
    expect(code).toBe(1);
    expect(h.warnings).toEqual([{ check: 'review_pending_long_held_lot', count: 2,
      message: '2 long_held_lot item(s) pending review in 1 symbol(s) (SOL-USD); see `fifo review list`' }]);
    await t.query(`UPDATE manual_review_queue SET status = 'ignored', resolved_at = now(), resolution_note = 'held on purpose'
                    WHERE issue_type = 'long_held_lot'`);
    expect((await health()).code).toBe(0);
  });

  it('rejects bad input with exit 2 naming it', async () => {
    const cases = [
      [['--max-lag-minutes', 'ten'], /--max-lag-minutes must be a whole number of minutes \(0 or more\), got "ten"/],
      [['--max-lag-minutes', '1.5'], /--max-lag-minutes must be a whole number of minutes \(0 or more\), got "1.5"/],
      [['--version', '9'], /--version 9: no such allocation version/],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => runFifo(['health', ...args], env())));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
    });
  });
});
