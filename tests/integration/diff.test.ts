/** `fifo diff`: per-symbol and per-sell differences between two allocation versions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffCommand } from '../../packages/cli/src/commands/diff.ts';
import { CliError } from '../../packages/cli/src/errors.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

describe('fifo diff', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestSchema();
    env = { DATABASE_URL: t.url };
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method, description) VALUES
      (2, 'hifo', 'highest cost first'), (3, 'lifo', 'never computed')`);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
      ('b0', 'SOL-USD', 'buy',  1, 90,  '2025-01-01Z'),
      ('b1', 'SOL-USD', 'buy',  1, 100, '2025-01-02Z'),
      ('b2', 'SOL-USD', 'buy',  1, 120, '2025-01-03Z'),
      ('s1', 'SOL-USD', 'sell', 1, 130, '2025-01-04Z'),
      ('s2', 'SOL-USD', 'sell', 1, 125, '2025-01-05Z'),
      ('e1', 'ETH-USD', 'buy',  2, 3000, '2025-01-01Z'),
      ('e2', 'ETH-USD', 'sell', 1, 3100, '2025-01-02Z')`);
    const [a, b] = await Promise.all([runFifo(['compute', '--version', '1'], env), runFifo(['compute', '--version', '2'], env)]);
    expect([a.code, b.code]).toEqual([0, 0]);
  });
  afterAll(() => t.drop());

  it('fifo vs hifo: the sell that consumed another lot, largest difference first; identical symbols stay out', async () => {
    const r = await runFifo(['diff', '--from', '1', '--to', '2'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/version 1 \(fifo\) -> version 2 \(hifo\)/);
    expect(r.stdout).toMatch(/^  in USD:\n    realized PnL\s+165.00 -> 135.00 \(difference -30.00\)$/m);
    expect(r.stdout).toMatch(/1 sell\(s\) differ in 1 symbol\(s\)/);
    expect(r.stdout).toMatch(/SOL-USD\s+65.00\s+35.00\s+-30.00\s+30.00\s+0\s+0\s+1/);
    expect(r.stdout).toMatch(/SOL-USD\s+s1\s+2025-01-04T00:00:00.000Z\s+40.00\s+10.00\s+-30.00\s+30.00\s+b0 1\s+b2 1/);
    expect(r.stdout).not.toMatch(/ETH-USD/);
    const json = JSON.parse((await runFifo(['diff', '--from', '1', '--to', '2', '--json', '--symbol', 'SOL-USD'], env)).stdout);
    expect(json.from).toMatchObject({ version: 1, method: 'fifo' });
    expect(json.to).toMatchObject({ version: 2, method: 'hifo' });
    expect(json.sells).toEqual([expect.objectContaining({
      sell_order_id: 's1', from_pnl_usd: '40', to_pnl_usd: '10', pnl_difference_usd: '-30', from_lots: ['b0 1'], to_lots: ['b2 1'],
    })]);
  });

  it('after a correction, a recomputed version differs from one not yet recomputed, and says so', async () => {
    await t.query(`UPDATE trade_records SET price = 95 WHERE order_id = 'b0'`);
    expect((await runFifo(['compute', '--version', '2', '--force'], env)).code).toBe(0);
    const r = await runFifo(['diff', '--from', '2', '--to', '1', '--json'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: version 1 is behind the ledger \(1 dirty/);
    expect(JSON.parse(r.stdout).totals).toEqual({ sells_differing: 1, symbols_differing: 1, quotes: [expect.objectContaining({
      quote: 'USD', from_pnl_usd: '135', to_pnl_usd: '165', pnl_difference_usd: '30' })] });
  });

  it('rejects bad input with exit 2 naming it', async () => {
    for (const [args, message] of [
      [['--to', '2'], /--from V1 and --to V2 are required/],
      [['--from', '1', '--to', '1'], /--from and --to are both 1/],
      [['--from', 'x', '--to', '2'], /--from must be a positive integer, got "x"/],
      [['--from', '1', '--to', '2', '--symbol', 'SOLUSD'], /--symbol "SOLUSD": not a symbol/],
    ] as const) {
      const err = await diffCommand(args).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).toMatch(message);
    }
    const [missing, never] = await Promise.all([
      runFifo(['diff', '--from', '1', '--to', '9'], env),
      runFifo(['diff', '--from', '1', '--to', '3'], env),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--to 9: no such allocation version/);
    expect(never.code).toBe(2);
    expect(never.stderr).toMatch(/--to 3: version 3 has not been computed \(fifo compute --version 3\)/);
  });
});
