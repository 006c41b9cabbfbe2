/** `fifo export lots`: Form 8949-shaped tax lots, traceable to sell and buy order ids. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../packages/cli/src/commands/export.ts';
import { CliError } from '../../packages/cli/src/errors.ts';
import { parseCsv } from '../../packages/cli/src/ledger-io/csv.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fifo-export-'));

function rowsOf(csv: string): Record<string, string>[] {
  const t = parseCsv(csv);
  return t.records.map((r) => Object.fromEntries(t.header.map((h, i) => [h, r.cells[i]!])));
}

describe('fifo export lots', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestSchema();
    env = { DATABASE_URL: t.url };
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('sol-b1', 'SOL-USD', 'buy',  2,   100,      1,    '2024-03-01 15:00Z'),
      ('sol-b2', 'SOL-USD', 'buy',  1,   150,      0,    '2025-01-10 12:00Z'),
      ('sol-s1', 'SOL-USD', 'sell', 2.5, 200,      2.5,  '2025-03-02 10:00Z'),
      ('eth-b1', 'ETH-USD', 'buy',  1,   3000,     0,    '2024-11-01 12:00Z'),
      ('eth-s1', 'ETH-USD', 'sell', 1,   3300.333, 0.01, '2025-01-01 02:00Z'),
      ('xrp-s1', 'XRP-USD', 'sell', 10,  0.6,      0,    '2025-05-05 09:00Z'),
      ('sol-s0', 'SOL-BTC', 'sell', 1,   0.002,    0,    '2024-06-01 09:00Z')`);
    expect((await runFifo(['compute'], env)).code).toBe(0);
  });
  afterAll(() => t.drop());

  it('writes the year\'s lots: long/short by holding period, rounded and exact amounts, unmatched marked', async () => {
    const r = await runFifo(['export', 'lots', '--year', '2025'], env);
    expect(r.code).toBe(0);
    const rows = rowsOf(r.stdout);
    expect(Object.keys(rows[0]!)).toEqual(['description', 'date_acquired', 'date_sold', 'proceeds', 'cost_basis', 'adjustment_code',
      'adjustment_amount', 'gain_or_loss', 'term', 'quantity', 'symbol', 'sell_order_id', 'buy_order_id',
      'proceeds_exact', 'cost_basis_exact', 'gain_or_loss_exact', 'note', 'account']);
    const pick = (r: Record<string, string>) => [r.description, r.date_acquired, r.date_sold, r.proceeds, r.cost_basis, r.gain_or_loss,
      r.term, r.sell_order_id, r.buy_order_id, r.proceeds_exact, r.gain_or_loss_exact];
    expect(rows.map(pick)).toEqual([
      ['1 ETH', '11/01/2024', '01/01/2025', '3300.32', '3000.00', '300.32', 'short', 'eth-s1', 'eth-b1', '3300.323', '300.323'],
      // held from 03/01/2024 to 03/02/2025: more than one year
      ['2 SOL', '03/01/2024', '03/02/2025', '398.00', '201.00', '197.00', 'long', 'sol-s1', 'sol-b1', '398', '197'],
      ['0.5 SOL', '01/10/2025', '03/02/2025', '99.50', '75.00', '24.50', 'short', 'sol-s1', 'sol-b2', '99.5', '24.5'],
      ['10 XRP', 'UNKNOWN', '05/05/2025', '6.00', '', '', 'unknown', 'xrp-s1', '', '6', ''],
    ]);
    expect(rows[3]!.note).toMatch(/^UNMATCHED: no buy in the ledger covers this quantity, cost basis unknown \(review \d+: fifo review show \d+\)$/);
    expect(r.stderr).toMatch(/2025 \(UTC\), version 1 \(fifo\): 4 lot row\(s\)/);
    expect(r.stderr).toMatch(/^USD +short\s+2\s+3399.82\s+3075.00\s+324.82$/m);
    expect(r.stderr).toMatch(/^USD +long\s+1\s+398.00\s+201.00\s+197.00$/m);
    expect(r.stderr).toMatch(/warning: 1 row\(s\) are UNMATCHED sells with an unknown cost basis \(proceeds 6.00 USD\)/);
  });

  it('dates by the given time zone and writes --out atomically; a non-USD quote is flagged', async () => {
    const out = join(tmp, 'lots-2024.csv');
    const r = await runFifo(['export', 'lots', '--year', '2024', '--tz', 'America/New_York', '--out', out], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2024 \(America\/New_York\), version 1 \(fifo\): 2 lot row\(s\) written to .*lots-2024\.csv/);
    const rows = rowsOf(readFileSync(out, 'utf8'));
    // 2025-01-01 02:00Z is New Year's Eve in New York: a 2024 sale there
    expect(rows.map((x) => [x.sell_order_id, x.date_sold, x.note])).toEqual([
      ['sol-s0', '06/01/2024', expect.stringMatching(/^UNMATCHED: .*; amounts in BTC, not USD$/)],
      ['eth-s1', '12/31/2024', ''],
    ]);
    expect(r.stderr).toMatch(/warning: SOL-BTC: amounts are in the quote currency, not USD/);
    // totals per quote currency: the BTC sale is not added to the USD one
    expect(r.stdout).toMatch(/^BTC +unknown +1 +0\.00 *$/m);
    expect(r.stdout).toMatch(/^USD +short +1 +3300\.32 +3000\.00 +300\.32$/m);
    expect(r.stderr).toMatch(/warning: 1 row\(s\) are UNMATCHED sells with an unknown cost basis \(proceeds 0\.00 BTC\)/);
  });

  it('refuses a stale version (exit 1) unless --allow-stale; bad input exits 2 and writes no file', async () => {
    for (const [args, message] of [
      [['lots'], /--year Y is required/],
      [['lots', '--year', '25'], /--year must be a four-digit year such as 2025, got "25"/],
      [['trades', '--year', '2025'], /cannot export "trades": lots/],
      [['lots', '--year', '2025', '--version', 'two'], /--version must be a positive integer, got "two"/],
    ] as const) {
      const err = await exportCommand(args).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).toMatch(message);
    }
    const nowhere = join(tmp, 'no-such-dir', 'lots.csv');
    const [tz, dir] = await Promise.all([
      runFifo(['export', 'lots', '--year', '2025', '--tz', 'Mars/Olympus'], env),
      runFifo(['export', 'lots', '--year', '2025', '--out', nowhere], env),
    ]);
    expect(tz.code).toBe(2);
    expect(tz.stderr).toMatch(/--tz "Mars\/Olympus": not a time zone name/);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toMatch(/--out .*lots\.csv: no such directory/);
    expect(existsSync(nowhere)).toBe(false);

    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('xrp-b0', 'XRP-USD', 'buy', 10, 0.4, '2025-01-01Z')`);
    const stale = await runFifo(['export', 'lots', '--year', '2025'], env);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toBe('');
    expect(stale.stderr).toMatch(/version 1 is behind the ledger \(1 dirty, .*run `fifo compute --version 1` first \(or pass --allow-stale\)/);
    const anyway = await runFifo(['export', 'lots', '--year', '2025', '--allow-stale'], env);
    expect(anyway.code).toBe(0);
    expect(anyway.stdout).toMatch(/xrp-s1/);
  });
});
