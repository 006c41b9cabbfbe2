/**
 * `fifo import` into an empty ledger by several COPY statements (issue 11: the ledger trigger of
 * one statement runs while the client reads the next one's rows): the facts, the audit rows
 * (ids included) and the dirty markers are those of one statement, and a bad line after some
 * statements went through still writes nothing once the transaction is rolled back.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFills } from '../../packages/cli/src/ledger-io/apply.ts';
import { openCsvFile } from '../../packages/cli/src/ledger-io/csv-file.ts';
import { checkingFills, uncheckedFills } from '../../packages/cli/src/ledger-io/fills.ts';
import { IMPORT_FORMATS } from '../../packages/cli/src/ledger-io/formats.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fifo-import-statements-'));
const HEADER = 'trade_id,order_id,trade_time,price,size,commission,product_id,side';
const SYMBOLS = ['SOL-USD', 'BTC-USD', 'ETH-USD'];
const ROWS = 5_000;

/** Row i: one symbol of three in turn, times going back and forth so each symbol's earliest time is not its first row. */
function row(i: number): string {
  const t = new Date(Date.UTC(2025, 0, 1) + ((i * 7919) % ROWS) * 1000).toISOString();
  return `t${i},o${i},${t},${100 + i / 1000},1.5,0.01,${SYMBOLS[i % 3]},${i % 5 === 4 ? 'SELL' : 'BUY'}`;
}

function csvFile(name: string, rows: readonly string[]): string {
  const path = join(tmp, name);
  writeFileSync(path, `${HEADER}\n${rows.join('\n')}\n`);
  return path;
}

/** What the CLI's import does inside its transaction, with `rowsPerCopy` rows per COPY statement. */
async function importDirect(t: TestSchema, file: string, rowsPerCopy: number): Promise<void> {
  const table = openCsvFile(file);
  const map = IMPORT_FORMATS.coinbase!.columns(table.header, []);
  const fills = function* () {
    const parsed = uncheckedFills(table, map);
    yield* checkingFills(table, map, {}, parsed);
    if (parsed.errors.length > 0) throw new Error(`${parsed.errors.length} problem(s): ${parsed.errors.join('; ')}`);
  };
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  try {
    await client.query('BEGIN');
    try {
      const r = await applyFills(client, fills, 'coinbase-import', 'default', { rowsPerCopy });
      expect(r).toMatchObject({ read: ROWS, inserted: ROWS, unchanged: 0, symbols: ['BTC-USD', 'ETH-USD', 'SOL-USD'] });
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    }
  } finally {
    await client.end();
  }
}

/** Facts, audit rows with their ids, dirty markers: all an import leaves. */
async function ledger(t: TestSchema) {
  return {
    facts: await t.query(`SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text, order_time, source, account
                            FROM trade_records ORDER BY order_id`),
    audit: await t.query(`SELECT audit_id, operation, symbol, order_id, affected_time, old_fact, new_fact, changed_by
                            FROM trade_records_audit ORDER BY audit_id`),
    dirty: await t.query(`SELECT allocation_version, symbol, dirty_from, last_audit_id FROM fifo_dirty_symbols ORDER BY allocation_version, symbol`),
  };
}

describe('fifo import by several COPY statements', () => {
  const file = csvFile('fills.csv', Array.from({ length: ROWS }, (_, i) => row(i)));
  let one: TestSchema;
  let many: TestSchema;
  beforeAll(async () => {
    one = await createTestSchema();
    many = await createTestSchema();
  });
  afterAll(async () => {
    await one.drop();
    await many.drop();
  });

  it('leaves the facts, audit rows and dirty markers of one statement', async () => {
    const r = await runFifo(['import', 'coinbase', file, '--json'], { DATABASE_URL: one.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await importDirect(many, file, 700); // 8 statements, the last one short
    const expected = await ledger(one);
    expect(expected.facts).toHaveLength(ROWS);
    expect(expected.audit).toHaveLength(ROWS);
    expect(expected.dirty.length).toBeGreaterThan(0);
    expect(await ledger(many)).toEqual(expected);
  });

  it('writes nothing when a line after the first statements is bad', async () => {
    const t = await createTestSchema();
    try {
      const rows = Array.from({ length: ROWS }, (_, i) => row(i));
      rows[ROWS - 3] = rows[ROWS - 3]!.replace(',1.5,', ',1.5x,');
      await expect(importDirect(t, csvFile('late.csv', rows), 700)).rejects.toThrow(/1 problem\(s\): line 4999, column "size"/);
      const [n] = await t.query<{ facts: number; audit: number; dirty: number }>(
        `SELECT (SELECT count(*)::int FROM trade_records) AS facts, (SELECT count(*)::int FROM trade_records_audit) AS audit,
                (SELECT count(*)::int FROM fifo_dirty_symbols) AS dirty`);
      expect(n).toEqual({ facts: 0, audit: 0, dirty: 0 });
    } finally {
      await t.drop();
    }
  });
});
