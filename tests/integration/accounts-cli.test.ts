/**
 * Issue 14 through the CLI: `fifo versions add --pooling per_account`, `fifo import ... --account`,
 * `fifo export lots --account` with the account on every row.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const coinbase = resolve(import.meta.dirname, '../fixtures/coinbase-fills.csv');
const tmp = mkdtempSync(join(tmpdir(), 'fifo-accounts-'));

function csvRows(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}

describe('accounts through the CLI', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestSchema();
    env = { DATABASE_URL: t.url };
  });
  afterAll(async () => {
    await t.drop();
  });

  it('adds a per_account version, refuses a taken number, lists them', async () => {
    const add = await runFifo(['versions', 'add', '--pooling', 'per_account', '--description', 'wallets'], env);
    expect(add).toMatchObject({ code: 0 });
    expect(add.stdout).toContain('version 2 (fifo, per_account) added');
    const again = await runFifo(['versions', 'add', '--number', '2'], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--number 2: that allocation version already exists');
    const bad = await runFifo(['versions', 'add', '--pooling', 'wallet'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--pooling must be universal or per_account');
    const list = await runFifo(['versions', 'list', '--json'], env);
    expect(JSON.parse(list.stdout).map((v: { allocation_version: number; pooling: string }) => [v.allocation_version, v.pooling]))
      .toEqual([[1, 'universal'], [2, 'per_account']]);
  });

  it('imports fills into the account named, corrects the account on a re-import, refuses an empty name', async () => {
    expect((await runFifo(['import', 'coinbase', coinbase, '--account', 'exchange-a'], env)).code).toBe(0);
    expect(await t.query(`SELECT DISTINCT account FROM trade_records`)).toEqual([{ account: 'exchange-a' }]);
    const moved = await runFifo(['import', 'coinbase', coinbase, '--account', 'exchange-b', '--dry-run'], env);
    expect(moved.code).toBe(0);
    expect(moved.stdout).toMatch(/0 to insert, 5 to update/);
    expect(moved.stdout).toContain('in exchange-a -> ');
    expect(await t.query(`SELECT DISTINCT account FROM trade_records`)).toEqual([{ account: 'exchange-a' }]);
    for (const name of ['', ' x', 'a\tb']) {
      const r = await runFifo(['import', 'coinbase', coinbase, '--account', name], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--account ${JSON.stringify(name)}: not an account name`);
    }
    const plain = join(tmp, 'plain.csv');
    writeFileSync(plain, 'id,sym,side,qty,px,ts\nc-1,SOL-USD,sell,1,110,2025-03-04T12:00:00Z\n');
    const r = await runFifo(['import', 'csv', plain, '--map', 'order_id=id,symbol=sym,side=side,size=qty,price=px,time=ts'], env);
    expect(r.code).toBe(0);
    expect(await t.query(`SELECT account FROM trade_records WHERE order_id = 'c-1'`)).toEqual([{ account: 'default' }]);
  });

  it('exports the lots of one account, with the account and the moved lot’s acquisition date on each row', async () => {
    await t.query(`UPDATE trade_records SET account = 'cold' WHERE order_id = 'c-1'`);
    await t.query(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
                   VALUES ('w-1', 'SOL-USD', 'exchange-a', 'cold', 1, '2025-03-03T15:00:00Z')`);
    expect((await runFifo(['compute', '--version', '2'], env)).code).toBe(0);
    const out = join(tmp, 'cold.csv');
    const r = await runFifo(['export', 'lots', '--year', '2025', '--version', '2', '--account', 'cold', '--out', out], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('of account cold');
    const { readFileSync } = await import('node:fs');
    const rows = csvRows(readFileSync(out, 'utf8'));
    expect(rows.map((x) => [x.sell_order_id, x.buy_order_id, x.date_acquired, x.quantity, x.account])).toEqual([
      ['c-1', 'ord-a1:tr-1001', '03/03/2025', '1', 'cold'],
    ]);
    const all = await runFifo(['export', 'lots', '--year', '2025', '--version', '2'], env);
    // the account is the last column (a note before it may hold quoted commas)
    expect(new Set(all.stdout.trim().split('\n').slice(1).map((l) => l.split(',').at(-1)))).toEqual(new Set(['cold', 'exchange-a']));
  });

  it('reconciles balances per account against that account’s lots (per_account versions only)', async () => {
    const file = join(tmp, 'balances.csv');
    writeFileSync(file, 'asset,account,balance,as_of\nSOL,exchange-a,2,2025-03-03T16:00:00Z\nSOL,cold,1,2025-03-03T16:00:00Z\n' +
      'SOL,exchange-a,0,2025-03-10T00:00:00Z\nSOL,cold,0.5,2025-03-10T00:00:00Z\n');
    const r = await runFifo(['reconcile', '--balances', file, '--version', '2', '--json'], env);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { rows: Array<{ account: string; ledger_open_size: string; status: string }> };
    expect(out.rows.map((x) => [x.account, x.ledger_open_size, x.status])).toEqual([
      ['exchange-a', '2', 'ok'], ['cold', '1', 'ok'], ['exchange-a', '0', 'ok'], ['cold', '0', 'drift']]);
    expect(await t.query(`SELECT symbol, item_key, details ->> 'account' AS account FROM manual_review_queue WHERE issue_type = 'ledger_drift'`))
      .toEqual([{ symbol: 'SOL-USD', item_key: 'account:cold:asof:2025-03-10T00:00:00Z', account: 'cold' }]);
    const universal = await runFifo(['reconcile', '--balances', file, '--version', '1'], env);
    expect(universal.code).toBe(2);
    expect(universal.stderr).toContain('balances per account need a per_account version');
    const one = join(tmp, 'cold.csv');
    writeFileSync(one, 'asset,balance,as_of\nSOL,0,2025-03-10T00:00:00Z\n');
    const cold = await runFifo(['reconcile', '--balances', one, '--version', '2', '--account', 'cold', '--json'], env);
    expect(cold.code).toBe(0);
    expect(await t.query(`SELECT status FROM manual_review_queue WHERE issue_type = 'ledger_drift'`)).toEqual([{ status: 'resolved' }]);
  });
});
