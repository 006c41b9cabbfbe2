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
    expect(r.stdout).toMatch(/4 sell\(s\) differ: 1 off by 10x or more, 1 sign flip\(s\), 1 otherwise different, 0 partly unmatched, 1 unmatched now \(the bot matched a buy the ledger does not have or has used up\), 0 unmatched by both/);
    expect(r.stdout).toMatch(/2 not matched to their legacy parent_id/);
    const sells = r.stdout.slice(r.stdout.indexOf('per sell'));
    const order = ['sol-s2', 'eth-s1', 'xrp-s1', 'sol-s1'].map((id) => sells.indexOf(id));
    expect(order.every((p) => p > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(sells).toMatch(/sol-s2\s+\S+\s+factor_10x_or_more\s+30000.00\s+50.00\s+29950.00\s+600\.00\s+sol-b1\s+\S+\s+91\.00\s+sol-b2\s/);
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
    expect(lines[5]).toMatch(/^SOL-USD,sol-s3,.*,same,1,1,0,0,1.00,false,sol-b3,sol-b3,false,.*,realized_profit,/);
    const json = JSON.parse((await runFifo(['legacy-compare', '--json', '--sort', 'factor'], env)).stdout);
    expect(json.sells.map((s: { sell_order_id: string }) => s.sell_order_id)).toEqual(['sol-s2', 'eth-s1', 'sol-s1', 'xrp-s1']);
    expect(json.totals.verdicts).toEqual({ factor_10x_or_more: 1, sign_flip: 1, different: 1, unmatched_now: 1, same: 1 });
  });

  it('rejects bad input with exit 2', async () => {
    for (const [args, message] of [
      [['--format', 'xml'], /--format must be table, csv or json, got "xml"/],
      [['--sort', 'ratio'], /--sort must be discrepancy, factor or age, got "ratio"/],
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

describe('fifo legacy-compare: the legacy parent\'s age next to the new match\'s, and unmatched sells told apart (issue 15)', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestSchema({
      migrated: false,
      before: `
        CREATE TABLE trade_records (
          order_id text PRIMARY KEY, symbol text NOT NULL, side text NOT NULL, size numeric NOT NULL,
          price numeric NOT NULL, order_time timestamptz NOT NULL, parent_id text, pnl_usd numeric);
        INSERT INTO trade_records VALUES
          ('sol-b1', 'SOL-USD', 'buy',  1, 100, '2025-09-01Z', NULL, NULL),
          ('sol-s1', 'SOL-USD', 'sell', 1, 110, '2025-09-05Z', 'sol-b1', 10),
          ('sol-b2', 'SOL-USD', 'buy',  1, 150, '2025-12-01Z', NULL, NULL),
          ('sol-s2', 'SOL-USD', 'sell', 1, 160, '2025-12-02Z', 'sol-b1', 60),
          ('eth-b1', 'ETH-USD', 'buy',  1, 3000, '2025-10-01Z', NULL, NULL),
          ('eth-b2', 'ETH-USD', 'buy',  1, 3100, '2025-10-20Z', NULL, NULL),
          ('eth-s1', 'ETH-USD', 'sell', 1, 3200, '2025-10-21Z', 'eth-b2', 100),
          ('dot-b1', 'DOT-USD', 'buy',  1, 5, '2025-10-01Z', NULL, NULL),
          ('dot-s1', 'DOT-USD', 'sell', 1, 6, '2025-10-02Z', 'dot-b1', 1),
          ('dot-s2', 'DOT-USD', 'sell', 1, 7, '2025-10-03Z', 'dot-b1', 2),
          ('xrp-s1', 'XRP-USD', 'sell', 100, 0.5, '2025-11-01Z', 'ghost-buy', 12),
          ('ada-s1', 'ADA-USD', 'sell', 50, 0.4, '2025-11-05Z', NULL, NULL);`,
    });
    await t.migrate('up');
    env = { DATABASE_URL: t.url };
    expect((await runFifo(['compute'], env)).code).toBe(0);
  });
  afterAll(() => t.drop());

  it('shows for each sell the legacy parent\'s time and age at the sell next to the new match\'s', async () => {
    const r = await runFifo(['legacy-compare'], env);
    expect(r.code, r.stderr).toBe(0);
    // the zombie match: the bot sold a September lot in December; the ledger sells the buy of the day before
    expect(r.stdout).toMatch(/sol-s2\s+\S+\s+\S+\s+60\.00\s+10\.00\s+50\.00\s+6\.00\s+sol-b1\s+2025-09-01T00:00:00\.000Z\s+92\.00\s+sol-b2\s+2025-12-01T00:00:00\.000Z\s+1\.00\s+91\.00\s+the bot matched an older buy than the ledger does/);
    const json = JSON.parse((await runFifo(['legacy-compare', '--json'], env)).stdout);
    const s2 = json.sells.find((s: { sell_order_id: string }) => s.sell_order_id === 'sol-s2');
    expect(s2).toMatchObject({ legacy_parent_time: '2025-09-01T00:00:00.000Z', legacy_parent_age_days: '92.00',
      new_buy_time: '2025-12-01T00:00:00.000Z', new_buy_age_days: '1.00', age_gap_days: '91.00' });
  });

  it('--sort age puts the largest gap between the legacy parent\'s age and the new match\'s first', async () => {
    const json = JSON.parse((await runFifo(['legacy-compare', '--json', '--sort', 'age', '--all'], env)).stdout);
    const ids = json.sells.map((s: { sell_order_id: string }) => s.sell_order_id);
    expect(ids.slice(0, 2)).toEqual(['sol-s2', 'eth-s1']); // |91| days, then |1 - 20| = 19 days
    expect(json.sells[1].age_gap_days).toBe('-19.00');
    // sells without a gap (no parent in the ledger, or no new match) come last
    expect(ids.slice(-3).sort()).toEqual(['ada-s1', 'dot-s2', 'xrp-s1']);
    const text = await runFifo(['legacy-compare', '--sort', 'age'], env);
    expect(text.stdout).toMatch(/per sell \(largest age gap between the legacy parent and the new match first/);
  });

  it('tells a sell neither matched from one the bot matched to a buy the ledger does not have or has used up', async () => {
    const json = JSON.parse((await runFifo(['legacy-compare', '--json', '--all'], env)).stdout);
    const by = Object.fromEntries(json.sells.map((s: { sell_order_id: string }) => [s.sell_order_id, s]));
    // before: all three were unmatched_now, ada-s1 with a discrepancy of 0.00 and nothing said
    expect(by['ada-s1']).toMatchObject({ verdict: 'unmatched_both', discrepancy_usd: '0',
      what_happened: 'neither matched it: the bot stored no parent and no PnL, the ledger holds no buy for it' });
    expect(by['xrp-s1']).toMatchObject({ verdict: 'unmatched_now',
      what_happened: 'the bot matched buy ghost-buy, which the ledger does not have; the ledger holds no buy for it' });
    expect(by['dot-s2']).toMatchObject({ verdict: 'unmatched_now',
      what_happened: 'the bot matched buy dot-b1, which earlier sells use up in the ledger\'s order' });
    expect(json.totals.verdicts).toMatchObject({ unmatched_both: 1, unmatched_now: 2 });
    const ada = json.symbols.find((s: { symbol: string }) => s.symbol === 'ADA-USD');
    expect(ada).toMatchObject({ unmatched_now: '0', unmatched_both: '1' });
    const text = await runFifo(['legacy-compare'], env);
    expect(text.stdout).toMatch(/2 unmatched now \(the bot matched a buy the ledger does not have or has used up\), 1 unmatched by both \(the bot never matched it either\)/);
    expect(text.stdout).toMatch(/ada-s1\s+\S+\s+unmatched_both\s/);
  });
});
