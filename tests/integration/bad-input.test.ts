/**
 * The bad-input catalogue (docs/BAD-INPUT.md), exercised row by row: the exit code (or
 * SQLSTATE) and the message match the document, and nothing was written.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { baseUrl, createTestSchema, type TestSchema } from '../helpers/db.ts';

interface Row { id: string; exit: string; message: string }

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/BAD-INPUT.md'), 'utf8');
const rows: Row[] = doc.split('\n')
  .filter((l) => /^\| [a-z]+-[a-z0-9-]+ \|/.test(l))
  .map((l) => {
    const cells = l.split(' | ').map((c) => c.replace(/^\| ?|\s*\|$/g, '').trim());
    return { id: cells[0]!, exit: cells[3]!, message: cells[4]!.replace(/^`|`$/g, '') };
  });

type Outcome = { exit: string; message: string };
let t: TestSchema;
let dir: string;

const cli = (args: string[], env: Record<string, string> = {}) => async (): Promise<Outcome> => {
  const r = await runFifo(args, { DATABASE_URL: t.url, ...env });
  return { exit: String(r.code), message: r.stderr };
};
const sql = (statement: string) => async (): Promise<Outcome> => {
  try {
    await t.query(statement);
    return { exit: '0', message: '' };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { exit: err.code ?? '?', message: err.message };
  }
};
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const insert = (cols: string) =>
  sql(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES ${cols}`);
const COINBASE_HEADER = 'trade_id,order_id,trade_time,price,size,commission,product_id,side';

const cases: Record<string, () => Promise<Outcome>> = {
  'cli-unknown-command': cli(['frobnicate']),
  'cli-unknown-option': cli(['compute', '--bogus']),
  'cli-version-text': cli(['compute', '--version', 'x']),
  'cli-version-zero': cli(['validate', '--version', '0']),
  'cli-version-missing': cli(['compute', '--version', '99']),
  'env-version-text': cli(['health'], { FIFO_ALLOCATION_VERSION: 'abc' }),
  'cli-host-unknown': cli(['compute', '--host', 'gpu']),
  'cli-host-plv8-absent': cli(['compute', '--host', 'plv8']),
  'cli-force-incremental': cli(['compute', '--force', '--incremental']),
  'cli-since-text': cli(['compute', '--since', 'yesterday']),
  'cli-batch-negative': cli(['compute', '--batch-trades=-5']),
  'cli-concurrency-huge': cli(['compute', '--concurrency', '99']),
  'cli-migrate-direction': cli(['migrate', 'sideways']),
  'cli-drop-facts-up': cli(['migrate', 'up', '--drop-facts']),
  'cli-db-action': cli(['db', 'explode']),
  'cli-oversell-rate': cli(['sample-ledger', '--oversell-rate', '2']),
  'cli-export-year': cli(['export', 'lots', '--year', '25']),
  'cli-diff-same': cli(['diff', '--from', '1', '--to', '1']),
  'symbol-sql': cli(['compute', '--symbol', "SOL'; DROP TABLE trade_records; --"]),
  'symbol-quote': cli(['compute', '--symbol', 'SOL"-USD']),
  'symbol-too-long': cli(['compute', '--symbol', `${'A'.repeat(40)}-USD`]),
  'symbol-unknown': cli(['compute', '--symbol', 'NOPE-USD']),
  'dsn-not-url': cli(['health'], { DATABASE_URL: 'not a url' }),
  'dsn-scheme': cli(['health'], { DATABASE_URL: 'mysql://u@localhost/db' }),
  'dsn-unreachable': cli(['health'], { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' }),
  'dsn-no-database': async () => {
    const u = new URL(baseUrl());
    u.pathname = '/no_such_db';
    return cli(['health'], { DATABASE_URL: u.toString() })();
  },
  'csv-missing-file': cli(['import', 'coinbase', '/nonexistent.csv']),
  'csv-not-coinbase': async () => cli(['import', 'coinbase', file('nocol.csv', 'trade_id,trade_time,price,size,commission,product_id,side\nt1,2025-01-01T00:00:00Z,1,1,0,SOL-USD,BUY\n')])(),
  'csv-bad-number': async () => cli(['import', 'coinbase', file('badnum.csv',
    `${COINBASE_HEADER}\nt1,o1,2025-01-01T00:00:00Z,100,1,0,SOL-USD,BUY\nt2,o2,2025-01-02T00:00:00Z,"12,5",1,0,SOL-USD,SELL\n`)])(),
  'csv-negative-size': async () => cli(['import', 'coinbase', file('negsize.csv',
    `${COINBASE_HEADER}\nt1,o1,2025-01-01T00:00:00Z,100,-1,0,SOL-USD,BUY\n`)])(),
  'csv-balances-empty': async () => cli(['reconcile', '--balances', file('empty-balances.csv', 'asset,balance,as_of\n')])(),
  'row-size-zero': insert(`('x', 'SOL-USD', 'buy', 0, 1, 0, now())`),
  'row-size-huge': insert(`('x', 'SOL-USD', 'buy', 1e16, 1, 0, now())`),
  'row-size-tiny': insert(`('x', 'SOL-USD', 'buy', 1e-19, 1, 0, now())`),
  'row-size-nan': insert(`('x', 'SOL-USD', 'buy', 'NaN', 1, 0, now())`),
  'row-price-negative': insert(`('x', 'SOL-USD', 'buy', 1, -5, 0, now())`),
  'row-fee-negative': insert(`('x', 'SOL-USD', 'buy', 1, 1, -0.01, now())`),
  'row-side-hold': insert(`('x', 'SOL-USD', 'hold', 1, 1, 0, now())`),
  'row-time-null': insert(`('x', 'SOL-USD', 'buy', 1, 1, 0, NULL)`),
  'row-symbol-sql': insert(`('x', 'SOL''; DROP TABLE x; --', 'buy', 1, 1, 0, now())`),
  'row-order-id-blank': insert(`('', 'SOL-USD', 'buy', 1, 1, 0, now())`),
  'row-order-id-duplicate': insert(`('keep-1', 'SOL-USD', 'buy', 1, 1, 0, now())`),
  'row-order-id-change': sql(`UPDATE trade_records SET order_id = 'other' WHERE order_id = 'keep-1'`),
  'row-audit-edit': sql(`DELETE FROM trade_records_audit`),
};

/** Everything a bad input must leave as it was. */
async function state(): Promise<unknown> {
  return t.query(`SELECT (SELECT count(*) FROM trade_records)::int AS trades,
                         (SELECT count(*) FROM trade_records_audit)::int AS audit,
                         (SELECT count(*) FROM fifo_allocations)::int AS allocations,
                         (SELECT count(*) FROM fifo_computation_log)::int AS runs,
                         (SELECT count(*) FROM manual_review_queue)::int AS reviews`);
}

describe('the bad-input catalogue', () => {
  beforeAll(async () => {
    t = await createTestSchema();
    dir = mkdtempSync(join(tmpdir(), 'fifo-bad-input-'));
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('keep-1', 'SOL-USD', 'buy', 1, 10, '2025-01-01Z')`);
  });
  afterAll(() => t.drop());

  it('documents at least 25 kinds, each with a test, and no test without its row', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(rows.map((r) => r.id).sort()).toEqual(Object.keys(cases).sort());
  });

  it.each(rows.map((r) => [r.id, r] as const))('%s', async (_id, row) => {
    const before = await state();
    const got = await cases[row.id]!();
    expect({ id: row.id, exit: got.exit }).toEqual({ id: row.id, exit: row.exit });
    expect(got.message).toContain(row.message);
    expect(await state()).toEqual(before);
  });
});
