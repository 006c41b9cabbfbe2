/**
 * The Node host reads a cursor's next chunk ahead (packages/plv8/src/host/cursor.ts): what a
 * procedure gets from its cursors must be exactly what it gets without that — every mix of
 * fetch(k), fetch(), move, backward moves and close, other statements and cursors in between,
 * errors of a later chunk, subtransactions rolled back, calls and transactions ending while a
 * chunk is read. Each case runs on a host that reads ahead and on one that does not, and the
 * answers must be equal; `readAheads` shows the first host did read ahead (or, for queries
 * it must not read ahead, that it did not).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProcedures, Plv8Host } from '../../packages/plv8/src/index.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { inBoth, onBoth, runBody as runBodyIn } from '../helpers/read-ahead.ts';

const fixtureEntry = fileURLToPath(new URL('../../packages/plv8/test/fixtures/procedures.ts', import.meta.url));

const N = 20_000;
const SRC = 'SELECT id, v FROM pf_src ORDER BY id';

let t: TestSchema;
let on: Plv8Host;
let off: Plv8Host;

/** Helpers every body can use. */
const PRELUDE = `
  const ids = (rows) => rows === undefined ? null : Array.isArray(rows) ? rows.map((r) => r.id) : rows.id;
  const attempt = (f) => {
    try { return { ok: f() }; } catch (e) {
      // the two hosts number their cursors alike only while they run the same bodies
      return { error: String(e.message).replace(/plv8_ctx_cursor_\\d+/g, 'plv8_ctx_cursor_N'), code: e.sqlerrcode === undefined ? null : e.sqlerrcode,
               detail: e.detail === undefined ? null : e.detail, context: e.context === undefined ? null : e.context };
    }
  };`;

const runBody = (h: Plv8Host, body: string): unknown => runBodyIn(h, PRELUDE, body);

/** The body in a transaction of its own (rolled back) on both hosts: equal answers, and it. */
const both = (body: string) => onBoth(on, off, PRELUDE, body);

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

beforeAll(async () => {
  t = await createTestSchema({ migrated: false, prefix: 'plv8pf' });
  await t.query(`
    CREATE TABLE pf_src (id int PRIMARY KEY, v text NOT NULL);
    INSERT INTO pf_src SELECT g, 'v' || g FROM generate_series(1, ${N}) g;
    CREATE SEQUENCE pf_seq;
    CREATE FUNCTION pf_count() RETURNS bigint VOLATILE LANGUAGE sql AS 'SELECT count(*) FROM pf_src';
    CREATE FUNCTION pf_count_stable() RETURNS bigint STABLE LANGUAGE sql AS 'SELECT count(*) FROM pf_src';
    CREATE VIEW pf_vol AS SELECT id, pf_count() AS n FROM pf_src;
    ANALYZE pf_src;`);
  const procs = (await buildProcedures({ entry: fixtureEntry })).procedures;
  on = await Plv8Host.open({ connectionString: t.url, procedures: procs, begin: false, prefetchRows: 256 });
  off = await Plv8Host.open({ connectionString: t.url, procedures: procs, begin: false, prefetchRows: 0 });
});

afterAll(async () => {
  await on?.close();
  await off?.close();
  await t?.drop();
});

describe('a cursor read ahead gives what it gives without', () => {
  it('fetch(5000) to the end, INSERTs into its table in between: the rows of its snapshot', () => {
    const { value, readAheads } = both(`
      const plan = plv8.prepare(${JSON.stringify(SRC)});
      const count = plv8.prepare('SELECT count(*)::int AS n FROM pf_src');
      const c = plan.cursor();
      const got = [], seen = [];
      for (let i = 0; ; i++) {
        const rows = c.fetch(5000);
        if (rows === undefined) break;
        for (const r of rows) got.push(r.id + ':' + r.v);
        plv8.execute("INSERT INTO pf_src SELECT g, 'new' FROM generate_series($1::int, $1::int + 99) g", [100001 + 100 * i]);
        seen.push(count.execute()[0].n);
        if (rows.length < 5000) break;
      }
      c.close();
      return { got, seen };`);
    expect(value.got).toEqual(range(1, N).map((i) => `${i}:v${i}`));
    expect(value.seen).toEqual([N + 100, N + 200, N + 300, N + 400]);
    expect(readAheads).toBeGreaterThanOrEqual(4);
  });

  it('fetch(k) of varying k, fetch(), move(k) and close in the middle', () => {
    const ops: Array<[string, number]> = [
      ['f', 5000], ['f', 300], ['f', 4700], ['f', 3000], ['f1', 0], ['f', 1], ['m', 100], ['f', 2000], ['m', 0], ['m', 300],
      ['f', 256], ['f', 256], ['f', 100], ['m', 500], ['f', 300], ['f', 5000], ['f', 5000],
    ];
    const { value, readAheads } = both(`
      const c = plv8.prepare(${JSON.stringify(SRC)}).cursor();
      const other = plv8.prepare('SELECT id FROM pf_src WHERE id % 7 = 0 ORDER BY id').cursor();
      const out = [];
      for (const [op, k] of ${JSON.stringify(ops)}) {
        if (op === 'f') out.push(ids(c.fetch(k)));
        else if (op === 'f1') out.push(ids(c.fetch()));
        else { c.move(k); out.push('moved'); }
        out.push(ids(other.fetch(300)));
        plv8.execute('UPDATE pf_src SET v = v || $1 WHERE id = $2', ['!', 1 + out.length]);
      }
      out.push(c.close());
      out.push(attempt(() => c.fetch(10)));
      out.push(attempt(() => c.move(1)));
      out.push(attempt(() => c.close()));
      out.push(ids(other.fetch(5000)));
      return out;`);
    // the cursor's rows, by walking the same ops here
    let pos = 0;
    const want: unknown[] = [];
    let sevens = 0;
    const nextSevens = (k: number) => {
      const r: number[] = [];
      for (let i = 0; i < k && (sevens + 1) * 7 <= N; i++) r.push(++sevens * 7);
      return r.length === 0 ? null : r;
    };
    for (const [op, k] of ops) {
      if (op === 'f' || op === 'f1') {
        const n = op === 'f1' ? 1 : k;
        const rows = range(pos + 1, Math.min(N, pos + n));
        pos = Math.min(N + 1, pos + n);
        want.push(rows.length === 0 ? null : op === 'f1' ? rows[0] : rows);
      } else {
        pos = Math.min(N + 1, pos + k);
        want.push('moved');
      }
      want.push(nextSevens(300));
    }
    want.push(1, { error: 'cannot find cursor', code: null, detail: null, context: null });
    want.push({ error: 'cannot find cursor', code: null, detail: null, context: null }, { error: 'cannot find cursor', code: null, detail: null, context: null });
    want.push(nextSevens(5000));
    expect(value).toEqual(want);
    expect(readAheads).toBeGreaterThanOrEqual(3);
  });

  it('backward fetches and moves, and fetch(0), after reading ahead (also off the end)', () => {
    const { value, readAheads } = both(`
      const plan = plv8.prepare(${JSON.stringify(SRC)});
      const c = plan.cursor();
      const scroll = plv8.execute('SELECT is_scrollable FROM pg_cursors WHERE name = $1', [plv8.execute("SELECT name FROM pg_cursors WHERE statement LIKE '%pf_src ORDER BY id%' LIMIT 1")[0].name])[0].is_scrollable;
      const out = [scroll];
      out.push(ids(c.fetch(5000)).length, ids(c.fetch(10)), ids(c.fetch(-3)), ids(c.fetch(0)));
      c.move(-2);
      out.push(ids(c.fetch()), ids(c.fetch(5000)).slice(-1), ids(c.fetch(5000)).slice(-1));
      // 3000 at a time: the seventh chunk (read ahead) has 2000 rows and runs off the end
      const d = plan.cursor();
      for (let i = 0; i < 6; i++) out.push(ids(d.fetch(3000)).slice(-1));
      out.push(ids(d.fetch(500)).slice(-1), ids(d.fetch(-1)), ids(d.fetch(0)));
      // all of it in whole chunks: the chunk read ahead is empty, the server past the end
      const e = plan.cursor();
      for (let i = 0; i < 4; i++) out.push(ids(e.fetch(5000)).slice(-1));
      out.push(ids(e.fetch(-2)));
      const f = plan.cursor();
      for (let i = 0; i < 4; i++) out.push(ids(f.fetch(5000)).slice(-1));
      out.push(ids(f.fetch(0)), ids(f.fetch(1)));
      const g = plan.cursor();
      for (let i = 0; i < 4; i++) out.push(ids(g.fetch(5000)).slice(-1));
      g.move(-1);
      out.push(ids(g.fetch(1)), ids(g.fetch(-1)));
      return out;`);
    expect(value).toEqual([
      true, 5000, range(5001, 5010), [5009, 5008, 5007], [5007], 5006, [10006], [15006],
      [3000], [6000], [9000], [12000], [15000], [18000], [18500], [18499], [18499],
      [5000], [10000], [15000], [20000], [19999, 19998],
      [5000], [10000], [15000], [20000], [20000], null,
      [5000], [10000], [15000], [20000], [20000], [19999],
    ]);
    expect(readAheads).toBeGreaterThanOrEqual(10);
  });

  it('a cursor that cannot scan backward fails backward as it does without reading ahead', () => {
    const { value, readAheads } = both(`
      const c = plv8.prepare('SELECT id % 15000 AS id, count(*)::int AS n FROM pf_src GROUP BY 1').cursor();
      const out = [plv8.execute('SELECT bool_or(is_scrollable) AS s FROM pg_cursors')[0].s];
      out.push(ids(c.fetch(5000)).length, ids(c.fetch(10)).length);
      out.push(attempt(() => c.fetch(-1)), attempt(() => c.fetch(5)), attempt(() => c.close()));
      out.push(plv8.execute('SELECT 1 AS one')[0].one);
      return out;`);
    expect(value[0]).toBe(false);
    expect(value[3]).toMatchObject({ error: 'cursor can only scan forward', code: '55000' });
    expect(value[4]).toMatchObject({ code: '55000' });
    expect(value[4].error).toMatch(/cannot be run/);
    expect(value[6]).toBe(1);
    expect(readAheads).toBeGreaterThanOrEqual(1);
  });
});

describe('an error in a chunk read ahead', () => {
  const FAILING = 'SELECT g AS id, 1 / (g - 6000) AS x FROM generate_series(1, 10000) g';

  it('is thrown by the fetch that reaches it, as it is without, and the transaction goes on', () => {
    const { value, readAheads } = both(`
      const c = plv8.prepare(${JSON.stringify(FAILING)}).cursor();
      const out = [ids(c.fetch(5000)).slice(-1)];
      // the chunk read ahead fails while this runs: this must not meet an aborted transaction
      out.push(plv8.execute("INSERT INTO pf_src VALUES (700001, 'x') RETURNING id")[0].id);
      out.push(attempt(() => ids(c.fetch(5000))));
      out.push(plv8.execute('SELECT count(*)::int AS n FROM pf_src')[0].n);
      out.push(attempt(() => ids(c.fetch(1))), attempt(() => c.close()));
      return out;`);
    expect(value[0]).toEqual([5000]);
    expect(value[1]).toBe(700001);
    expect(value[2]).toMatchObject({ error: 'division by zero', code: '22012' });
    expect(value[3]).toBe(N + 1);
    expect(value[4].code).toBe('55000');
    expect(readAheads).toBeGreaterThanOrEqual(1);
  });

  it('a statement sent while a failing chunk is still read meets no aborted transaction', () => {
    // each row costs (an md5 of 10 kB): the chunk read ahead fails long after the INSERT is sent
    const slow = 'SELECT g AS id, length(md5(repeat(g::text, 2500))) + 1 / (g - 9999) AS x FROM generate_series(1, 10000) g';
    const { value, readAheads } = both(`
      const c = plv8.prepare(${JSON.stringify(slow)}).cursor();
      const out = [ids(c.fetch(5000)).slice(-1)];
      out.push(attempt(() => plv8.execute("INSERT INTO pf_src VALUES (700002, 'x') RETURNING id")[0].id));
      out.push(attempt(() => ids(c.fetch(5000))), plv8.execute('SELECT count(*)::int AS n FROM pf_src')[0].n);
      return out;`);
    expect(value[0]).toEqual([5000]);
    expect(value[1]).toEqual({ ok: 700002 });
    expect(value[2]).toMatchObject({ error: 'division by zero', code: '22012' });
    expect(value[3]).toBe(N + 1);
    expect(readAheads).toBe(1);
  });

  it('the rows before the failing one are still there for smaller fetches and moves', () => {
    const { value, readAheads } = both(`
      const plan = plv8.prepare(${JSON.stringify(FAILING)});
      const c = plan.cursor();
      const out = [ids(c.fetch(5000)).length];
      out.push(ids(c.fetch(500)).slice(-1), ids(c.fetch()), ids(c.fetch(498)).slice(-1), attempt(() => ids(c.fetch(1))));
      const d = plan.cursor();
      d.fetch(5000);
      d.move(999);
      out.push(plv8.execute('SELECT 2 AS two')[0].two, attempt(() => ids(d.fetch())));
      const e = plan.cursor();
      e.fetch(5000);
      out.push(attempt(() => e.move(1000)), attempt(() => e.close()));
      const f = plan.cursor();
      f.fetch(5000);
      out.push(f.close(), plv8.execute('SELECT 3 AS three')[0].three);
      return out;`);
    expect(value.slice(0, 4)).toEqual([5000, [5500], 5501, [5999]]);
    expect(value[4]).toMatchObject({ error: 'division by zero', code: '22012' });
    expect(value[5]).toBe(2);
    expect(value[6]).toMatchObject({ error: 'division by zero', code: '22012' });
    expect(value[7]).toMatchObject({ error: 'division by zero', code: '22012' });
    expect(value[8]).toEqual({ ok: 1 });
    expect(value.slice(9)).toEqual([1, 3]);
    expect(readAheads).toBeGreaterThanOrEqual(4);
  });
});

describe('subtransactions', () => {
  it('a cursor opened in a subtransaction rolled back is gone, read ahead or not', () => {
    const { value, readAheads } = both(`
      const plan = plv8.prepare(${JSON.stringify(SRC)});
      let c, d;
      const out = [attempt(() => plv8.subtransaction(() => { c = plan.cursor(); c.fetch(5000); throw new Error('undo'); }))];
      out.push(attempt(() => ids(c.fetch(5000))));
      out.push(attempt(() => plv8.subtransaction(() => { d = plan.cursor(); d.fetch(5000); d.fetch(5000); d.fetch(100); throw new Error('undo'); })));
      out.push(attempt(() => ids(d.fetch(100))), attempt(() => d.move(1)), attempt(() => d.close()));
      return out;`);
    expect(value[1]).toMatchObject({ code: '34000' });
    expect(value[1].error).toBe('cursor "plv8_ctx_cursor_N" does not exist');
    expect(value[3]).toMatchObject({ code: '34000' });
    expect(readAheads).toBeGreaterThanOrEqual(2);
  });

  it('an older cursor keeps its position and what was read ahead after a rollback', () => {
    const { value, readAheads } = both(`
      const plan = plv8.prepare(${JSON.stringify(SRC)});
      const c = plan.cursor();
      const out = [ids(c.fetch(5000)).slice(-1)];
      out.push(attempt(() => plv8.subtransaction(() => { out.push(ids(c.fetch(5000)).slice(-1)); throw new Error('undo'); })));
      out.push(ids(c.fetch(5000)).slice(-1));
      const d = plan.cursor();
      d.fetch(5000);
      out.push(attempt(() => plv8.subtransaction(() => {
        plv8.execute("INSERT INTO pf_src VALUES (900001, 'x')");
        out.push(ids(d.fetch(100)).slice(-1));
        throw new Error('undo');
      })));
      out.push(ids(d.fetch(5000)).slice(-1), plv8.execute('SELECT count(*)::int AS n FROM pf_src')[0].n);
      const e = plan.cursor();
      e.fetch(5000);
      out.push(plv8.subtransaction(() => { const x = plan.cursor(); x.fetch(5000); e.fetch(300); return 'kept'; }));
      out.push(ids(e.fetch(5000)).slice(-1));
      return out;`);
    expect(value).toEqual([
      [5000], [10000], { error: 'undo', code: null, detail: null, context: null }, [15000],
      [5100], { error: 'undo', code: null, detail: null, context: null }, [10100], N, 'kept', [10300],
    ]);
    expect(readAheads).toBeGreaterThanOrEqual(5);
  });

  it("a cursor opened in a subtransaction of the host's own API that rolls back is gone too", () => {
    const { value: a, readAheads } = inBoth(on, off, (h) => {
      let err: unknown;
      try {
        h.plv8.subtransaction(() => {
          runBody(h, `globalThis.pfSub = plv8.prepare(${JSON.stringify(SRC)}).cursor(); return ids(pfSub.fetch(5000));`);
          throw new Error('undo');
        });
      } catch (e) {
        err = (e as Error).message;
      }
      return [err, runBody(h, `return [attempt(() => ids(pfSub.fetch(100))), plv8.execute('SELECT 5 AS five')[0].five];`)];
    });
    expect(readAheads).toBe(1);
    expect(a).toEqual(['undo', [{ error: 'cursor "plv8_ctx_cursor_N" does not exist', code: '34000', detail: null, context: null }, 5]]);
  });

  it('a cursor opened in a subtransaction that commits goes on reading', () => {
    const { value } = both(`
      const plan = plv8.prepare(${JSON.stringify(SRC)});
      let c;
      plv8.subtransaction(() => { c = plan.cursor(); c.fetch(5000); });
      return [ids(c.fetch(5000)).slice(-1), ids(c.fetch(10000)).slice(-1), ids(c.fetch(10))];`);
    expect(value).toEqual([[10000], [20000], null]);
  });
});

describe('what is not read ahead', () => {
  it('a cursor over a volatile function (nextval, or reading the table anew) is not read ahead', () => {
    const { value, readAheads } = both(`
      plv8.execute("SELECT setval('pf_seq', 1, false)");
      const out = [];
      const c = plv8.prepare("SELECT id, nextval('pf_seq')::text AS s FROM pf_src ORDER BY id").cursor();
      for (let i = 0; i < 3; i++) { out.push(c.fetch(1000).slice(-1)[0].s); out.push(plv8.execute("SELECT nextval('pf_seq')::text AS s")[0].s); }
      for (const sql of ['SELECT id, pf_count()::text AS n FROM pf_src ORDER BY id', 'SELECT id, n::text FROM pf_vol',
                         'SELECT id FROM pf_src ORDER BY id FOR UPDATE']) {
        const d = plv8.prepare(sql).cursor();
        for (let i = 0; i < 3; i++) {
          out.push(d.fetch(300).slice(-1)[0].n ?? null);
          plv8.execute("INSERT INTO pf_src SELECT g, 'x' FROM generate_series($1::int, $1::int + 9) g", [200000 + out.length * 10]);
        }
      }
      return out;`);
    expect(value.slice(0, 6)).toEqual([1000, 1001, 2001, 2002, 3002, 3003].map(String));
    expect(value.slice(6, 9)).toEqual([N, N + 10, N + 20].map(String));
    expect(value.slice(9, 12)).toEqual([N + 30, N + 40, N + 50].map(String));
    expect(readAheads).toBe(0);
  });

  it('a stable function reads the snapshot: read ahead', () => {
    const { value, readAheads } = both(`
      const out = [];
      const d = plv8.prepare('SELECT id, pf_count_stable()::text AS n FROM pf_src ORDER BY id').cursor();
      for (let i = 0; i < 3; i++) {
        out.push(d.fetch(300).slice(-1)[0].n);
        plv8.execute("INSERT INTO pf_src SELECT g, 'x' FROM generate_series($1::int, $1::int + 9) g", [300000 + i * 10]);
      }
      return out;`);
    expect(value).toEqual([N, N, N].map(String));
    expect(readAheads).toBeGreaterThanOrEqual(2);
  });
});

describe('calls and transactions ending while a chunk is read', () => {
  function session(h: Plv8Host): unknown[] {
    const out: unknown[] = [];
    h.begin();
    out.push(runBody(h, `globalThis.pfStash = plv8.prepare(${JSON.stringify(SRC)}).cursor(); return ids(pfStash.fetch(5000)).slice(-1);`));
    out.push(runBody(h, `return [plv8.execute('SELECT count(*)::int AS n FROM pf_src')[0].n, ids(pfStash.fetch(100)).slice(-1)];`));
    try {
      h.run(`const c = plv8.prepare(${JSON.stringify(SRC)}).cursor(); c.fetch(5000); throw new Error('boom');`);
    } catch (e) {
      out.push((e as Error).message);
    }
    h.begin();
    out.push(runBody(h, `return [attempt(() => ids(pfStash.fetch(100))), plv8.execute('SELECT count(*)::int AS n FROM pf_src')[0].n];`));
    out.push(runBody(h, `const c = plv8.prepare(${JSON.stringify(SRC)}).cursor(); c.fetch(5000); return 'left open';`));
    h.commit();
    h.begin();
    out.push(runBody(h, `const c = plv8.prepare(${JSON.stringify(SRC)}).cursor(); return [ids(c.fetch(5000)).slice(-1), ids(c.fetch(5000)).slice(-1)];`));
    h.rollback();
    return out;
  }

  it('the next call and the next transaction are not disturbed', () => {
    const before = on.readAheads;
    const a = session(on);
    expect(on.readAheads - before).toBeGreaterThanOrEqual(4);
    const b = session(off);
    expect(a).toEqual(b);
    expect(a[0]).toEqual([5000]);
    expect(a[1]).toEqual([N, [5100]]);
    expect(a[2]).toBe('boom');
    expect((a[3] as any)[0]).toMatchObject({ code: '34000' });
    expect(a.slice(4)).toEqual(['left open', [[5000], [10000]]]);
  });
});
