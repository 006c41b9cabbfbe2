/** `fifo reconcile`: exchange balances against the open lots the allocations leave. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileCommand } from '../../packages/cli/src/commands/reconcile.ts';
import { CliError } from '../../packages/cli/src/errors.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const balances = resolve(import.meta.dirname, '../fixtures/balances.csv');
const tmp = mkdtempSync(join(tmpdir(), 'fifo-reconcile-'));

describe('fifo reconcile', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestSchema();
    env = { DATABASE_URL: t.url };
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
      ('sol-b1', 'SOL-USD', 'buy',  10, 100,  '2025-01-01Z'),
      ('sol-s1', 'SOL-USD', 'sell', 4,  120,  '2025-02-01Z'),
      ('eth-b1', 'ETH-USD', 'buy',  2,  3000, '2025-01-01Z')`);
    expect((await runFifo(['compute'], env)).code).toBe(0);
  });
  afterAll(() => t.drop());

  it('finds the drift (the ledger missing a sell), files a ledger_drift item, exit 1; dust and quote currencies pass', async () => {
    const r = await runFifo(['reconcile', '--balances', balances], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/2\s+SOL\s+2025-06-30T00:00:00Z\s+6.000000001\s+6\s+0.000000001\s+ok/);
    // one scale per column (issue 15): the exchange and drift columns show 9 decimals
    expect(r.stdout).toMatch(/3\s+SOL\s+2025-01-01T12:00:00Z\s+10\.000000000\s+10\s+0\.000000000\s+ok/); // before the sell: all 10 held
    expect(r.stdout).toMatch(/4\s+ETH\s+2025-06-30T00:00:00Z\s+1\.500000000\s+2\s+-0\.500000000\s+DRIFT\s+\d+/);
    expect(r.stdout).toMatch(/5\s+USD\s+.*not tracked/);
    expect(r.stdout).toMatch(/6\s+BTC\s+.*\s+0\.000000000\s+0\s+0\.000000000\s+ok/);
    expect(r.stdout).toMatch(/1 balance\(s\) drift beyond 0.00000001: ledger_drift review items \d+/);
    const items = await t.query(`SELECT symbol, issue_type, item_key, severity, status, details->>'drift' AS drift,
                                        details->>'direction' AS direction FROM manual_review_queue WHERE issue_type = 'ledger_drift'`);
    expect(items).toEqual([{ symbol: 'ETH-USD', issue_type: 'ledger_drift', item_key: 'asof:2025-06-30T00:00:00Z', severity: 'high',
      status: 'pending', drift: '-0.5', direction: 'ledger_holds_more' }]);
    // again: the same item, not a second one
    const again = await runFifo(['reconcile', '--balances', balances, '--json'], env);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ version: 1, drift: 1 });
    expect(await t.query(`SELECT count(*)::int AS n FROM manual_review_queue WHERE issue_type = 'ledger_drift'`)).toEqual([{ n: 1 }]);
    // a larger dust tolerates it (and says nothing new)
    expect((await runFifo(['reconcile', '--balances', balances, '--dust', '0.5'], env)).code).toBe(0);
  });

  it('rejects a malformed balances file or bad flags with exit 2, writing nothing', async () => {
    const before = await t.query(`SELECT count(*)::int AS n, string_agg(status, ',') AS s FROM manual_review_queue`);
    const bad = join(tmp, 'bad.csv');
    writeFileSync(bad, 'asset,balance,as_of\nSOL,6,2025-06-30T00:00:00Z\nETH,1.5.1,2025-06-30T00:00:00Z\nBTC,-1,2025-06-30\n');
    const noAsOf = join(tmp, 'no-as-of.csv');
    writeFileSync(noAsOf, 'currency,total\nETH,1.5\n');
    const [r1, r2] = await Promise.all([
      runFifo(['reconcile', '--balances', bad], env),
      runFifo(['reconcile', '--balances', noAsOf], env),
    ]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/bad\.csv: 3 problem\(s\); nothing reconciled/);
    expect(r1.stderr).toMatch(/line 3, column "balance": balance "1.5.1" is not a decimal number/);
    expect(r1.stderr).toMatch(/line 4, column "balance": balance "-1" is negative/);
    expect(r1.stderr).toMatch(/line 4, column "as_of": as-of time "2025-06-30" is not an ISO-8601 time/);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/no-as-of\.csv: line 1: missing column\(s\) as_of \(.*or pass --as-of T\)/);
    for (const [args, message] of [
      [[], /--balances FILE.csv is required/],
      [['--balances', balances, '--dust', 'tiny'], /--dust "tiny" is not a decimal number/],
      [['--balances', balances, '--as-of', 'yesterday'], /--as-of "yesterday" is not an ISO-8601 time/],
      [['--balances', join(tmp, 'nope.csv')], /nope\.csv: no such file/],
    ] as const) {
      const err = await reconcileCommand(args).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).toMatch(message);
    }
    expect(await t.query(`SELECT count(*)::int AS n, string_agg(status, ',') AS s FROM manual_review_queue`)).toEqual(before);
  });

  it('after the missing sell is recorded it recomputes, matches, and resolves the drift item', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('eth-s1', 'ETH-USD', 'sell', 0.5, 3100, '2025-06-01Z')`);
    const file = join(tmp, 'asof.csv');
    writeFileSync(file, 'currency,total\nETH,1.5\nSOL,6\n');
    const r = await runFifo(['reconcile', '--balances', file, '--as-of', '2025-06-30T00:00:00Z'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ETH\s+2025-06-30T00:00:00Z\s+1.5\s+1.5\s+0\s+ok/);
    expect(r.stdout).toMatch(/every balance matches the open lots within 0.00000001/);
    expect(await t.query(`SELECT status, resolved_by FROM manual_review_queue WHERE issue_type = 'ledger_drift'`))
      .toEqual([{ status: 'resolved', resolved_by: 'fifo_reconcile' }]);
    expect(await t.query(`SELECT count(*)::int AS n FROM fifo_dirty_symbols WHERE allocation_version = 1`)).toEqual([{ n: 0 }]);
  });
});
