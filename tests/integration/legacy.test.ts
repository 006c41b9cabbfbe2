/** `fifo legacy-compare`: the legacy stored PnL of an adopted ledger against the new allocations. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyCompareCommand } from '../../packages/cli/src/commands/legacy-compare.ts';
import { CliError } from '../../packages/cli/src/errors.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

// The users' table as their bot left it: inline "FIFO" against zombie lots.
const legacy = `
  CREATE TABLE trade_records (
    id serial PRIMARY KEY, order_id text NOT NULL, symbol text NOT NULL, side text NOT NULL,
    size numeric NOT NULL, price numeric NOT NULL, order_time timestamptz NOT NULL,
    parent_id text, pnl_usd numeric, realized_profit numeric, remaining_size numeric,
    cost_basis_usd numeric, sale_proceeds_usd numeric, net_sale_proceeds_usd numeric);
  INSERT INTO trade_records (order_id, symbol, side, size, price, order_time, parent_id, pnl_usd, realized_profit, remaining_size) VALUES
    ('sol-b1', 'SOL-USD', 'buy',  10, 100, '2025-09-01Z', NULL, NULL, NULL, 3),
    ('sol-s1', 'SOL-USD', 'sell', 10, 110, '2025-09-02Z', 'sol-b1', 95.5, 95.5, NULL),
    ('sol-b2', 'SOL-USD', 'buy',  5, 150, '2025-12-01Z', NULL, NULL, NULL, 5),
    ('sol-s2', 'SOL-USD', 'sell', 5, 160, '2025-12-01 00:00:01Z', 'sol-b1', 30000, 30000, NULL),
    ('sol-b3', 'SOL-USD', 'buy',  1, 170, '2025-12-02Z', NULL, NULL, NULL, 1),
    ('sol-s3', 'SOL-USD', 'sell', 1, 171, '2025-12-02 00:00:01Z', 'sol-b3', NULL, 1, NULL),
    ('eth-b1', 'ETH-USD', 'buy',  1, 3000, '2025-10-01Z', NULL, NULL, NULL, 0),
    ('eth-s1', 'ETH-USD', 'sell', 1, 2900, '2025-10-02Z', 'eth-b1', 150, 150, NULL),
    ('xrp-s1', 'XRP-USD', 'sell', 100, 0.5, '2025-11-01Z', 'ghost-buy', 12, 12, NULL);`;

describe('fifo legacy-compare on an adopted ledger', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestSchema({ migrated: false, before: legacy });
    await t.migrate('up');
    env = { DATABASE_URL: t.url };
    expect((await runFifo(['compute'], env)).code).toBe(0);
  });
  afterAll(() => t.drop());

  it('puts the 1000x error at the top, then the sign flip, the sell with no buy, the small difference', async () => {
    const r = await runFifo(['legacy-compare'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/legacy stored PnL vs version 1 \(fifo\) over 5 adopted sell\(s\)/);
    expect(r.stdout).toMatch(/legacy PnL 30258.50, new PnL 51.00 \(difference -30207.50\)/);
    expect(r.stdout).toMatch(/4 sell\(s\) differ: 1 off by 10x or more, 1 sign flip\(s\), 1 otherwise different, 0 partly unmatched, 1 unmatched now/);
    expect(r.stdout).toMatch(/2 not matched to their legacy parent_id/);
    const sells = r.stdout.slice(r.stdout.indexOf('per sell'));
    const order = ['sol-s2', 'eth-s1', 'xrp-s1', 'sol-s1'].map((id) => sells.indexOf(id));
    expect(order.every((p) => p > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(sells).toMatch(/sol-s2\s+\S+\s+factor_10x_or_more\s+30000.00\s+50.00\s+29950.00\s+600\.00\s+sol-b1\s+sol-b2/);
    expect(sells).toMatch(/eth-s1\s+\S+\s+sign_flip\s+150.00\s+-100.00\s+250.00\s+1.50/);
    expect(sells).toMatch(/xrp-s1\s+\S+\s+unmatched_now\s+12.00\s+12.00/);
    expect(sells).not.toMatch(/sol-s3/); // realized_profit 1 = new 1: the same
    const symbols = r.stdout.slice(r.stdout.indexOf('per symbol'), r.stdout.indexOf('per sell'));
    expect(symbols.indexOf('SOL-USD')).toBeLessThan(symbols.indexOf('ETH-USD'));
  });

  it('writes every sell as CSV, and sorts by error factor on request', async () => {
    const csv = await runFifo(['legacy-compare', '--format', 'csv', '--all'], env);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^symbol,sell_order_id,sell_time,verdict,legacy_pnl_usd,new_pnl_usd,pnl_difference_usd,discrepancy_usd,error_factor,/);
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(/^SOL-USD,sol-s2,.*,factor_10x_or_more,30000,50,-29950,29950,600\.00,false,sol-b1,sol-b2,true,/);
    expect(lines[5]).toMatch(/^SOL-USD,sol-s3,.*,same,1,1,0,0,1.00,false,sol-b3,sol-b3,false,.*,realized_profit$/);
    const json = JSON.parse((await runFifo(['legacy-compare', '--json', '--sort', 'factor'], env)).stdout);
    expect(json.sells.map((s: { sell_order_id: string }) => s.sell_order_id)).toEqual(['sol-s2', 'eth-s1', 'sol-s1', 'xrp-s1']);
    expect(json.totals.verdicts).toEqual({ factor_10x_or_more: 1, sign_flip: 1, different: 1, unmatched_now: 1, same: 1 });
  });

  it('rejects bad input with exit 2', async () => {
    for (const [args, message] of [
      [['--format', 'xml'], /--format must be table, csv or json, got "xml"/],
      [['--sort', 'ratio'], /--sort must be discrepancy or factor, got "ratio"/],
      [['--limit', '0'], /--limit must be a positive integer, got "0"/],
    ] as const) {
      const err = await legacyCompareCommand(args).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).message).toMatch(message);
    }
    const r = await runFifo(['legacy-compare', '--version', '7'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--version 7: no such allocation version/);
  });
});

describe('fifo legacy-compare on a database that was not adopted', () => {
  it('says so and exits 2', async () => {
    const t = await createTestSchema();
    try {
      const r = await runFifo(['legacy-compare'], { DATABASE_URL: t.url });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/this database was not adopted from a legacy trade_records \(fifo_adoption is empty\)/);
    } finally {
      await t.drop();
    }
  });
});
