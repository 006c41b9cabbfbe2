/**
 * `fifo import` by COPY (issue 11): straight into trade_records when the ledger holds no fact,
 * else through the staging table. Both paths leave the same facts, the same audit rows and the
 * same dirty markers; a problem found late in the file (the file is checked while it is written)
 * writes nothing; a fact of the file inserted by another session meanwhile sends the import
 * back to the staged path instead of failing it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { until } from '../helpers/wait.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fifo-import-copy-'));
const HEADER = 'trade_id,order_id,trade_time,price,size,commission,product_id,side';
const SYMBOLS = ['SOL-USD', 'BTC-USD', 'ETH-USD'];
/** More rows than one COPY chunk (256 KiB of text), so a late problem comes after rows were sent. */
const ROWS = 6_000;

/** Row i (0-based): a buy at 100 + i/1000, one symbol of three in turn, an id with a backslash now and then. */
function row(i: number): string {
  const t = new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString();
  return `t${i},o${i}${i % 1000 === 7 ? '\\x' : ''},${t},${100 + i / 1000},1.5,0.01,${SYMBOLS[i % 3]},BUY`;
}

function csvFile(name: string, rows: readonly string[]): string {
  const path = join(tmp, name);
  writeFileSync(path, `${HEADER}\n${rows.join('\n')}\n`);
  return path;
}

const file = csvFile('fills.csv', Array.from({ length: ROWS }, (_, i) => row(i)));

/** What an import leaves: facts, audit rows (without ids and times of the change) and dirty markers. */
async function ledger(t: TestSchema, except = '') {
  const facts = await t.query(
    `SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text, order_time, source, account
       FROM trade_records WHERE order_id <> $1 ORDER BY order_id`, [except]);
  const audit = await t.query(
    `SELECT operation, symbol, order_id, affected_time, old_fact, new_fact, changed_by
       FROM trade_records_audit WHERE order_id <> $1 ORDER BY order_id, audit_id`, [except]);
  const dirty = await t.query<{ symbol: string; dirty_from: Date; newest: boolean }>(
    `SELECT d.symbol, d.dirty_from,
            d.last_audit_id = (SELECT max(audit_id) FROM trade_records_audit a WHERE a.symbol = d.symbol) AS newest
       FROM fifo_dirty_symbols d WHERE d.symbol <> 'XRP-USD' ORDER BY d.symbol`);
  const discrepancies = await t.query('SELECT * FROM v_audit_trail_discrepancies');
  return { facts, audit, dirty, discrepancies };
}

describe('fifo import by COPY', () => {
  let empty: TestSchema;
  let held: TestSchema;
  beforeAll(async () => {
    empty = await createTestSchema();
    held = await createTestSchema();
  });
  afterAll(async () => {
    await empty.drop();
    await held.drop();
  });

  it('writes the same facts, audit rows and dirty markers into an empty ledger (one COPY) as through staging', async () => {
    // a fact of another symbol: the ledger is not empty, the import takes the staged path
    await held.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('x1', 'XRP-USD', 'buy', 1, 1, '2024-01-01Z')`);
    for (const t of [empty, held]) {
      const r = await runFifo(['import', 'coinbase', file, '--json'], { DATABASE_URL: t.url });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ read: ROWS, inserted: ROWS, unchanged: 0, updated: [], skipped: [], symbols: ['BTC-USD', 'ETH-USD', 'SOL-USD'] });
    }
    const direct = await ledger(empty);
    expect(direct.facts).toHaveLength(ROWS);
    expect(direct.audit).toHaveLength(ROWS);
    expect(direct.facts.find((f) => f.order_id === 'o7\\x:t7')).toMatchObject({ symbol: 'BTC-USD', size: '1.5', price: '100.007', source: 'coinbase-import' });
    expect(direct.dirty.map((d) => d.symbol)).toEqual(['BTC-USD', 'ETH-USD', 'SOL-USD']);
    expect(direct.dirty.every((d) => d.newest)).toBe(true);
    expect(direct.dirty.find((d) => d.symbol === 'SOL-USD')!.dirty_from).toEqual(new Date(Date.UTC(2025, 0, 1)));
    expect(direct.discrepancies).toEqual([]);
    expect(direct).toEqual(await ledger(held, 'x1'));

    // idempotent: the ledger is no longer empty, so the staged path finds every fill unchanged
    const again = await runFifo(['import', 'coinbase', file], { DATABASE_URL: empty.url });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`${ROWS} fill\\(s\\): 0 inserted, 0 updated, ${ROWS} unchanged, 0 skipped`));
    expect(await ledger(empty)).toEqual(direct);
  });

  it('writes nothing when a line near the end is bad, though the rows before it were already sent', async () => {
    const t = await createTestSchema();
    try {
      const rows = Array.from({ length: ROWS }, (_, i) => row(i));
      rows[ROWS - 2] = rows[ROWS - 2]!.replace(',1.5,', ',1.5x,');
      rows.push(rows[10]!.replace(',BUY', ',SELL')); // the same trade again with other values
      const r = await runFifo(['import', 'coinbase', csvFile('late.csv', rows)], { DATABASE_URL: t.url });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/late\.csv: 2 problem\(s\); nothing imported/);
      expect(r.stderr).toMatch(new RegExp(`line ${ROWS}, column "size": size "1\\.5x"`));
      expect(r.stderr).toMatch(new RegExp(`line ${ROWS + 2}: trade t10 of order o10 is also on line 12 with other values`));
      const [n] = await t.query<{ facts: number; audit: number; dirty: number }>(
        `SELECT (SELECT count(*)::int FROM trade_records) AS facts, (SELECT count(*)::int FROM trade_records_audit) AS audit,
                (SELECT count(*)::int FROM fifo_dirty_symbols) AS dirty`);
      expect(n).toEqual({ facts: 0, audit: 0, dirty: 0 });
    } finally {
      await t.drop();
    }
  });

  it('falls back to staging when another session inserts one of its fills meanwhile', async () => {
    const t = await createTestSchema();
    const other = new pg.Client({ connectionString: t.url });
    await other.connect();
    try {
      // uncommitted: the import still sees an empty ledger, and its COPY waits on this key
      await other.query('BEGIN');
      await other.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source)
                         VALUES ('o5:t5', 'ETH-USD', 'buy', 1.5, 100.005, 0.01, '2025-01-01T00:00:05Z', 'bot')`);
      const pid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const run = runFifo(['import', 'coinbase', file, '--json'], { DATABASE_URL: t.url });
      await until('the import to wait on the uncommitted fact', async () => {
        const [w] = await t.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid)) AND query LIKE 'COPY trade_records %'`, [pid]);
        return w!.n > 0;
      });
      await other.query('COMMIT');
      const r = await run;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ read: ROWS, inserted: ROWS - 1, unchanged: 1, updated: [], skipped: [] });
      const [n] = await t.query<{ facts: number; audit: number }>(
        `SELECT (SELECT count(*)::int FROM trade_records) AS facts, (SELECT count(*)::int FROM trade_records_audit) AS audit`);
      expect(n).toEqual({ facts: ROWS, audit: ROWS });
      expect(await t.query('SELECT * FROM v_audit_trail_discrepancies')).toEqual([]);
    } finally {
      await other.end();
      await t.drop();
    }
  });
});
