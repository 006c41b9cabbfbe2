/**
 * Bulk writes into the ledger (migration 020): one statement of many facts over several
 * symbols is audited one row per fact with the same columns and values, dirty-marks each
 * symbol from its own earliest affected time with its own latest audit id, and notifies each
 * symbol; the fact JSON is inlined into the trigger's insert; the cheaper symbol CHECK keeps
 * its name and accepts exactly what the BASE-QUOTE rule accepted.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

let t: TestSchema;
beforeAll(async () => {
  t = await createTestSchema({ prefix: 'bulk' });
});
afterAll(async () => {
  await t?.drop();
});

const SYMBOLS = `ARRAY['SOL-USD', 'BTC-USD', 'ETH-USD']`;
// 600 facts in one statement, symbols interleaved, times a permutation (7919 is prime to 600)
const bulkInsert = (prefix: string, start: string) => `
  INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source)
  SELECT '${prefix}' || i, (${SYMBOLS})[1 + i % 3], CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
         1 + i * 0.001, 10 + i, i * 0.01, '${start}'::timestamptz + ((i * 7919) % 600) * interval '1 minute', 'bulk'
    FROM generate_series(1, 600) i`;

/** Each symbol's marker for every version, and what the ledger and its trail say it should be. */
async function markers(): Promise<Array<{ symbol: string; ok: boolean; dirty_from: string; last_audit_id: string }>> {
  return t.query(
    `SELECT d.symbol, d.dirty_from::text, d.last_audit_id::text,
            d.dirty_from = e.dirty_from AND d.last_audit_id = e.last_audit_id AS ok
       FROM fifo_dirty_symbols d
       JOIN (SELECT symbol, min(affected_time) AS dirty_from, max(audit_id) AS last_audit_id
               FROM (SELECT symbol, affected_time, audit_id FROM trade_records_audit
                     UNION ALL  -- a fact moved away dirties the symbol it left
                     SELECT old_fact ->> 'symbol', affected_time, audit_id FROM trade_records_audit
                      WHERE operation = 'UPDATE' AND old_fact ->> 'symbol' <> symbol) a
              GROUP BY symbol) e USING (symbol)
      ORDER BY d.allocation_version, d.symbol`);
}

describe('a bulk write of several symbols', () => {
  it('audits every fact once with its values and marks each symbol from its own earliest time and last audit id', async () => {
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    const notified: string[] = [];
    listener.on('notification', (n) => notified.push(n.payload ?? ''));
    await listener.query('LISTEN fifo_ledger');
    try {
      await t.query(bulkInsert('a', '2025-03-01Z'));
      await listener.query('SELECT 1'); // the notifications of the committed insert have arrived
      expect(notified.sort()).toEqual(['BTC-USD', 'ETH-USD', 'SOL-USD']);
    } finally {
      await listener.end();
    }
    expect(await t.query(
      `SELECT count(*)::int AS rows, count(DISTINCT a.order_id)::int AS facts,
              count(*) FILTER (WHERE a.operation = 'INSERT' AND a.symbol = r.symbol AND a.affected_time = r.order_time
                                 AND a.old_fact IS NULL AND a.changed_by = current_user
                                 AND a.new_fact = jsonb_build_object('order_id', r.order_id, 'symbol', r.symbol, 'side', r.side,
                                       'size', r.size, 'price', r.price, 'total_fees_usd', r.total_fees_usd,
                                       'order_time', r.order_time, 'source', r.source, 'trigger', r.trigger, 'account', r.account))::int AS exact
         FROM trade_records_audit a JOIN trade_records r USING (order_id)`)).toEqual([{ rows: 600, facts: 600, exact: 600 }]);
    const first = await markers();
    expect(first.map((m) => m.symbol)).toEqual(['BTC-USD', 'ETH-USD', 'SOL-USD']);
    expect(first.every((m) => m.ok)).toBe(true);
    // each symbol has its own latest audit id and earliest time, not the statement's
    expect(new Set(first.map((m) => m.last_audit_id)).size).toBe(3);
    expect(new Set(first.map((m) => m.dirty_from)).size).toBe(3);

    // later facts keep the earliest time and move the audit id on; earlier ones move the time back
    await t.query(bulkInsert('b', '2025-06-01Z'));
    await t.query(bulkInsert('c', '2025-01-01Z').replace('FROM generate_series(1, 600) i', `FROM generate_series(1, 600) i WHERE i % 3 = 1`));
    const second = await markers();
    expect(second.every((m) => m.ok)).toBe(true);
    expect(second.find((m) => m.symbol === 'ETH-USD')!.dirty_from).toBe(first.find((m) => m.symbol === 'ETH-USD')!.dirty_from);
  });

  it('marks the symbols of a bulk update (the one a fact left too) and of a bulk delete', async () => {
    await t.query(`DELETE FROM fifo_dirty_symbols`);
    await t.query(`UPDATE trade_records SET symbol = 'DOGE-USD', order_time = order_time + interval '1 day'
                    WHERE symbol = 'ETH-USD' AND order_id LIKE 'b%'`);
    await t.query(`UPDATE trade_records SET price = price + 1 WHERE symbol = 'SOL-USD' AND order_id LIKE 'a%'`);
    await t.query(`UPDATE trade_records SET source = source WHERE symbol = 'BTC-USD'`); // no fact changes: no row, no marker
    const updated = await t.query<{ symbol: string; dirty_from: string; last_audit_id: string }>(
      `SELECT symbol, dirty_from::text, last_audit_id::text FROM fifo_dirty_symbols ORDER BY symbol`);
    const expected = await t.query<{ symbol: string; dirty_from: string; last_audit_id: string }>(
      `SELECT symbol, min(affected_time)::text AS dirty_from, max(audit_id)::text AS last_audit_id
         FROM (SELECT symbol, affected_time, audit_id FROM trade_records_audit WHERE operation = 'UPDATE'
               UNION ALL
               SELECT old_fact ->> 'symbol', affected_time, audit_id FROM trade_records_audit
                WHERE operation = 'UPDATE' AND old_fact ->> 'symbol' <> symbol) u
        GROUP BY symbol ORDER BY symbol`);
    expect(updated.map((m) => m.symbol)).toEqual(['DOGE-USD', 'ETH-USD', 'SOL-USD']);
    expect(updated).toEqual(expected);
    expect(await t.query(`SELECT count(*)::int AS n FROM trade_records_audit WHERE operation = 'UPDATE'`)).toEqual([{ n: 400 }]);

    await t.query(`DELETE FROM fifo_dirty_symbols`);
    await t.query(`DELETE FROM trade_records WHERE order_id LIKE 'c%' OR (order_id LIKE 'a%' AND symbol <> 'BTC-USD')`);
    expect(await t.query(
      `SELECT count(*)::int AS n FROM trade_records_audit a
        WHERE a.operation = 'DELETE' AND a.new_fact IS NULL AND a.old_fact ->> 'order_id' = a.order_id
          AND a.affected_time = (a.old_fact ->> 'order_time')::timestamptz`)).toEqual([{ n: 600 }]);
    const deleted = await t.query<{ symbol: string; ok: boolean }>(
      `SELECT d.symbol, d.dirty_from = e.t AND d.last_audit_id = e.a AS ok
         FROM fifo_dirty_symbols d
         JOIN (SELECT symbol, min(affected_time) AS t, max(audit_id) AS a FROM trade_records_audit
                WHERE operation = 'DELETE' GROUP BY symbol) e USING (symbol) ORDER BY 1`);
    expect(deleted).toEqual([{ symbol: 'BTC-USD', ok: true }, { symbol: 'ETH-USD', ok: true }, { symbol: 'SOL-USD', ok: true }]);
    expect(await t.query(`SELECT count(*)::int AS n FROM v_audit_trail_discrepancies`)).toEqual([{ n: 0 }]);
  });
});

describe('the ledger trigger\'s cost per fact', () => {
  it('inlines the fact JSON (no pinned function call per fact)', async () => {
    const plan = (await t.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (VERBOSE) SELECT fifo_fact_json(order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger, account)
         FROM trade_records`)).map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('jsonb_build_object');
    expect(plan).not.toContain('fifo_fact_json');
  });
});

describe('trade_records_symbol_must_be_base_dash_quote', () => {
  it('accepts exactly what BASE-QUOTE with 1 to 32 of A-Z a-z 0-9 . _ on each side accepts', async () => {
    const candidates = ['A-B', '-B', 'A-', 'A--B', 'AB', 'A-B-C', `${'A'.repeat(32)}-${'B'.repeat(32)}`, `${'A'.repeat(33)}-B`,
      `A-${'B'.repeat(33)}`, `${'A'.repeat(32)}-${'B'.repeat(33)}`, `${'A'.repeat(33)}-${'B'.repeat(31)}`, 'A.B_C-9', 'A B-C',
      'A-B\n', '\nA-B', 'É-B', 'A-B ', '', 'A-B$', '^A-B', 'A+-B', '1-2', '._-_.', 'A\u2010B'];
    let n = 0;
    for (const symbol of candidates) {
      const { rule } = (await t.query<{ rule: boolean }>(`SELECT $1::text ~ '^[A-Za-z0-9._]{1,32}-[A-Za-z0-9._]{1,32}$' AS rule`, [symbol]))[0]!;
      const got = await t.query(
        `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ($1, $2, 'buy', 1, 1, '2025-01-01Z')`,
        [`sym-${n++}`, symbol]).then(() => null, (e: { constraint?: string }) => e.constraint ?? String(e));
      expect({ symbol, refused: got }).toEqual({ symbol, refused: rule ? null : 'trade_records_symbol_must_be_base_dash_quote' });
    }
  });
});
