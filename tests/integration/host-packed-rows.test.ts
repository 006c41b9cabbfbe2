/**
 * Many rows cross the Node host's thread boundary as one NUL-joined text (protocol.ts
 * `packed`): what a procedure gets from execute, a plan and a cursor must be exactly what the
 * row-by-row path gives — NULLs, empty strings, separators and newlines in values, typed
 * conversions, zero-column rows — on both sides of the threshold.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildProcedures, Plv8Host } from '../../packages/plv8/src/index.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const fixtureEntry = fileURLToPath(new URL('../../packages/plv8/test/fixtures/procedures.ts', import.meta.url));

let t: TestSchema;
let host: Plv8Host;

function runJson<T = unknown>(body: string): T {
  return JSON.parse(host.run(`return JSON.stringify((function () { ${body} })());`) as string) as T;
}

const ROWS_SQL = (n: number) => `
  SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || i END AS maybe, '' AS empty,
         E'tab\\there, comma, "quote" {brace}\\nnewline ' || i AS odd, (i * 1.5)::numeric AS num,
         CASE WHEN i % 5 = 0 THEN NULL::int ELSE i END AS big, i % 2 = 0 AS even
    FROM generate_series(1, ${n}) i ORDER BY i`;

/** What every row must be, computed in the test (not by the host). */
function expected(n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 1; i <= n; i++) {
    out.push({
      i, maybe: i % 3 === 0 ? null : `v${i}`, empty: '', odd: `tab\there, comma, "quote" {brace}\nnewline ${i}`,
      num: i * 1.5, big: i % 5 === 0 ? null : i, even: i % 2 === 0,
    });
  }
  return out;
}

beforeAll(async () => {
  t = await createTestSchema({ migrated: false, prefix: 'plv8p' });
  const procs = (await buildProcedures({ entry: fixtureEntry })).procedures;
  host = await Plv8Host.open({ connectionString: t.url, procedures: procs });
});

beforeEach(() => {
  host.begin(); // no-op when a transaction is open
});

afterAll(async () => {
  await host?.close();
  await t?.drop();
});

describe('rows that cross the host thread packed', () => {
  for (const n of [1, 63, 64, 65, 5000]) {
    it(`execute, a plan and a cursor give the same ${n} row(s), NULLs and odd texts intact`, () => {
      const r = runJson<{ exec: unknown[]; plan: unknown[]; cursor: unknown[] }>(`
        const sql = ${JSON.stringify(ROWS_SQL(n))};
        const exec = plv8.execute(sql);
        const plan = plv8.prepare(sql);
        const viaPlan = plan.execute();
        const cur = plan.cursor();
        const viaCursor = [];
        for (;;) { const got = cur.fetch(1000); if (!got || got.length === 0) break; for (const x of got) viaCursor.push(x); }
        cur.close();
        plan.free();
        return { exec, plan: viaPlan, cursor: viaCursor };`);
      const want = expected(n);
      expect(r.exec).toEqual(want);
      expect(r.plan).toEqual(want);
      expect(r.cursor).toEqual(want);
    });
  }

  it('rows without columns keep their count', () => {
    const r = runJson<{ n: number; keys: number }>(`
      const rows = plv8.execute('SELECT FROM generate_series(1, 200)');
      return { n: rows.length, keys: rows.reduce((k, x) => k + Object.keys(x).length, 0) };`);
    expect(r).toEqual({ n: 200, keys: 0 });
  });

  it('a column of NULLs only and a column of empty texts stay apart', () => {
    const r = runJson<Array<{ a: string | null; b: string | null }>>(`
      return plv8.execute("SELECT NULL::text AS a, ''::text AS b FROM generate_series(1, 100)");`);
    expect(r).toHaveLength(100);
    expect(r.every((x) => x.a === null && x.b === '')).toBe(true);
  });
});
