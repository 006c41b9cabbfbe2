/**
 * The Node PLV8 host against a real PostgreSQL: PLV8 3.x conversions both ways, execute
 * semantics (row counts, per-statement subtransactions, error fields), transactions,
 * prepare/cursor, session globals, and the isolation of the vm context.
 * Procedures come from a fixture bundle (packages/plv8/test/fixtures/procedures.ts).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildProcedures, packSqlstate, Plv8Error, Plv8Host, PLV8_VERSION, type GeneratedProcedure, type HostMessage,
} from '../../packages/plv8/src/index.ts';
import { EXEC_ERROR_FIELDS } from '../../packages/plv8/src/host/api.ts';
import { MISSING_BUILTINS } from '../../packages/plv8/src/v8-baseline.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const fixtureEntry = fileURLToPath(new URL('../../packages/plv8/test/fixtures/procedures.ts', import.meta.url));

let t: TestSchema;
let procs: GeneratedProcedure[];
let host: Plv8Host;
const messages: HostMessage[] = [];

/** Runs a body in the PLV8 context and returns its JSON result (plain data of the Node realm). */
function runJson<T = unknown>(body: string): T {
  return JSON.parse(host.run(`return JSON.stringify((function () { ${body} })(), (k, v) => typeof v === 'bigint' ? v + 'n' : v);`) as string) as T;
}

beforeAll(async () => {
  t = await createTestSchema({ migrated: false, prefix: 'plv8h' });
  procs = (await buildProcedures({ entry: fixtureEntry })).procedures;
  host = await Plv8Host.open({ connectionString: t.url, procedures: procs, onMessage: (m) => messages.push(m) });
});

afterAll(async () => {
  await host?.close();
  await t?.drop();
});

beforeEach(() => {
  host.begin(); // no-op when a transaction is open
  messages.length = 0;
});

describe('PostgreSQL → JS (execute results)', () => {
  it('converts every type like PLV8 3.x, into the vm realm', () => {
    const r = runJson<Record<string, unknown>>(`
      const row = plv8.execute(\`SELECT 42::int8 AS i8, (SELECT count(*) FROM generate_series(1, 3)) AS cnt,
          12345678901234567.89::numeric AS num, 0.1::numeric AS dec, 7::int2 AS i2, 2.5::float8 AS f8, true AS b,
          '2024-03-04 05:06:07.891234+00'::timestamptz AS tstz, '2024-01-02'::date AS d,
          '2024-01-02 03:04:05.678912'::timestamp AS ts,
          '{"a": [1, 2.5, null], "big": 123456789012345678901}'::jsonb AS jb, '{"k": "v"}'::json AS js,
          ARRAY[1, NULL, 3] AS ints, ARRAY['a,b', 'q"uote', NULL, ''] AS texts, ARRAY[1, 2]::int8[] AS bigs,
          ARRAY[[1, 2], [3, 4]] AS grid, ARRAY[1.5, 2]::numeric[] AS nums,
          '\\\\x00ff10'::bytea AS bytes, NULL::text AS nothing, 'x'::varchar AS vc, 'abc'::name AS nm,
          '1 day'::interval AS iv, row(1, 'a')::record AS rec\`)[0];
      const out = {};
      for (const [k, v] of Object.entries(row)) {
        out[k] = { type: v === null ? 'null' : typeof v, date: v instanceof Date, array: v instanceof Array,
                   bytes: v instanceof Uint8Array, plain: v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype,
                   value: v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? Array.from(v) : v };
      }
      return out;`);
    expect(r.i8).toMatchObject({ type: 'bigint', value: '42n' });
    expect(r.cnt).toMatchObject({ type: 'bigint', value: '3n' }); // count(*) is int8: a BigInt even when small
    expect(r.num).toMatchObject({ type: 'number', value: 12345678901234568 }); // numeric → lossy Number
    expect(r.dec).toMatchObject({ type: 'number', value: 0.1 });
    expect(r.i2).toMatchObject({ type: 'number', value: 7 });
    expect(r.f8).toMatchObject({ type: 'number', value: 2.5 });
    expect(r.b).toMatchObject({ type: 'boolean', value: true });
    expect(r.tstz).toMatchObject({ type: 'object', date: true, value: '2024-03-04T05:06:07.891Z' });
    expect(r.d).toMatchObject({ date: true, value: '2024-01-02T00:00:00.000Z' });
    expect(r.ts).toMatchObject({ date: true, value: '2024-01-02T03:04:05.678Z' }); // UTC fields = wall clock
    expect(r.jb).toMatchObject({ plain: true, value: { a: [1, 2.5, null], big: 123456789012345680000 } });
    expect(r.js).toMatchObject({ plain: true, value: { k: 'v' } });
    expect(r.ints).toMatchObject({ array: true, value: [1, null, 3] });
    expect(r.texts).toMatchObject({ array: true, value: ['a,b', 'q"uote', null, ''] });
    expect(r.bigs).toMatchObject({ array: true, value: ['1n', '2n'] });
    expect(r.grid).toMatchObject({ array: true, value: [1, 2, 3, 4] }); // multi-dimensional arrives flattened
    expect(r.nums).toMatchObject({ value: [1.5, 2] });
    expect(r.bytes).toMatchObject({ bytes: true, value: [0, 255, 16] });
    expect(r.nothing).toMatchObject({ type: 'null', value: null });
    expect(r.vc).toMatchObject({ type: 'string', value: 'x' });
    expect(r.nm).toMatchObject({ type: 'string', value: 'abc' });
    expect(r.iv).toMatchObject({ type: 'string', value: '1 day' });
    expect(r.rec).toMatchObject({ plain: true, value: { f1: '1', f2: 'a' } });
  });

  it('reads composite columns as objects and domain-typed table columns as strings', () => {
    const r = runJson(`
      plv8.execute("CREATE TYPE pair AS (n numeric, tags text[])");
      plv8.execute("CREATE DOMAIN positive AS int CHECK (VALUE > 0)");
      plv8.execute("CREATE TABLE with_domain (d positive, p pair)");
      plv8.execute("INSERT INTO with_domain VALUES (5, row(1.5, ARRAY['x', 'y z']))");
      return plv8.execute("SELECT d, p, d + 1 AS computed FROM with_domain")[0];`);
    expect(r).toEqual({ d: '5', p: { n: 1.5, tags: ['x', 'y z'] }, computed: 6 });
    host.rollback();
  });
});

describe('JS → PostgreSQL (execute parameters)', () => {
  it('binds values the way PLV8 converts them into the inferred parameter types', () => {
    const r = runJson<Record<string, unknown>>(`
      const one = (sql, ...args) => plv8.execute(sql, args)[0].v;
      return {
        int8: one('SELECT $1::int8::text AS v', 9007199254740993n),
        numericFrom15: one('SELECT $1::numeric::text AS v', 0.1 + 0.2),       // %.15g like float8_numeric
        numericBig: one('SELECT $1::numeric::text AS v', 123456789.123456789),
        numericExact: one('SELECT $1::numeric::text AS v', '123456789.123456789'), // strings are exact
        int4Truncates: one('SELECT $1::int AS v', 7.9),
        float8: one('SELECT $1::float8::text AS v', 0.1 + 0.2),
        tstz: one('SELECT $1::timestamptz = timestamptz \\'2024-01-02 03:04:05.678+00\\' AS v', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))),
        ts: one('SELECT $1::timestamp::text AS v', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))),
        date: one('SELECT $1::date::text AS v', new Date(Date.UTC(2024, 0, 2))),
        textArray: one('SELECT $1::text[] AS v', ['x', null, 'y"z', 'a,b']),
        intArray: one('SELECT array_length($1::int[], 1) AS v', [1, 2, 3]),
        jsonbObject: one('SELECT $1::jsonb AS v', { a: 1n, b: [1.5, null], d: new Date(Date.UTC(2024, 0, 2)) }),
        jsonbFromString: one('SELECT jsonb_typeof($1::jsonb) AS v', '{"a":1}'),   // a JSON *string* in PLV8
        jsonFromString: one('SELECT json_typeof($1::json) AS v', '{"a":1}'),      // parsed as JSON text
        bytea: one('SELECT encode($1::bytea, \\'hex\\') AS v', new Uint8Array([1, 2, 255])),
        nullParam: one('SELECT $1::text IS NULL AS v', null),
        boolFromText: one('SELECT $1::bool AS v', 'f'),
        variadic: plv8.execute('SELECT $1::int + $2::int AS v', 2, 3)[0].v,
      };`);
    expect(r).toEqual({
      int8: '9007199254740993',
      numericFrom15: '0.3',
      numericBig: '123456789.123457',
      numericExact: '123456789.123456789',
      int4Truncates: 7,
      float8: '0.30000000000000004',
      tstz: true,
      ts: '2024-01-02 03:04:05.678',
      date: '2024-01-02',
      textArray: ['x', null, 'y"z', 'a,b'],
      intArray: 3,
      jsonbObject: { a: '1', b: [1.5, null], d: '2024-01-02T00:00:00.000Z' },
      jsonbFromString: 'string',
      jsonFromString: 'object',
      bytea: '0102ff',
      nullParam: true,
      boolFromText: false,
      variadic: 5,
    });
  });

  it('reports a parameter count mismatch like PLV8', () => {
    expect(() => host.run(`plv8.execute('SELECT $1::int, $2::int', [1]);`)).toThrow(/parameter numbers mismatch: 2 != 1/);
  });
});

describe('procedure calls (arguments and results)', () => {
  it('delivers arguments as PLV8 values of the declared types, in the vm realm', () => {
    const r = host.call<Array<Record<string, unknown>>>('fx_describe_args', [
      123n, '12345678901234567.89', new Date(Date.UTC(2024, 2, 4, 5, 6, 7, 891)), new Date(Date.UTC(2024, 0, 2)),
      new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), { a: [1, 2] }, ['a', null], new Uint8Array([1, 2, 255]), null, 5.9,
    ]);
    expect(r.map((d) => d.type)).toEqual(['bigint', 'number', 'object', 'object', 'object', 'object', 'object', 'object', 'null', 'number']);
    expect(r[0]).toMatchObject({ text: '123n' });
    expect(r[1]).toMatchObject({ text: '12345678901234568' });
    expect(r[2]).toMatchObject({ isDate: true, text: '2024-03-04T05:06:07.891Z' });
    expect(r[3]).toMatchObject({ isDate: true, text: '2024-01-02T00:00:00.000Z' });
    expect(r[4]).toMatchObject({ isDate: true, text: '2024-01-02T03:04:05.678Z' });
    expect(r[5]).toMatchObject({ tag: '[object Object]', text: '{"a":[1,2]}' });
    expect(r[6]).toMatchObject({ isArray: true, text: '["a",null]' });
    expect(r[7]).toMatchObject({ isBytes: true, text: '1,2,255' });
    expect(r[9]).toMatchObject({ text: '5' }); // a Number into int4 is truncated (ToInt32)
  });

  it('converts results back like PLV8 (int8, numeric, jsonb, date, bytea)', () => {
    expect(host.call('fx_returns_int8')).toBe(9007199254740993n);
    expect(host.call('fx_returns_numeric', [0.1, 0.2])).toBe(0.3); // Number → numeric is %.15g
    expect(host.call('fx_returns_jsonb')).toEqual({
      big: '12', frac: 0.3, when: '2024-01-02T03:04:05.500Z', list: [1, 'two', null], nested: { ok: true },
    });
    const d = host.call<Date>('fx_returns_date', [new Date(Date.UTC(2024, 0, 2, 12))]);
    expect(d).toBeInstanceOf(Date); // the caller's realm
    expect(d.toISOString()).toBe('2024-01-02T00:00:00.000Z');
    expect(Array.from(host.call<Uint8Array>('fx_echo_bytes', [new Uint8Array([0, 15])]))).toEqual([255, 240]);
    expect(host.call('fx_strict', [null])).toBeNull(); // STRICT: not called
  });

  it('returns sets: TABLE rows via return_next, SETOF via a returned array', () => {
    expect(host.call('fx_table', [2])).toEqual([{ i: 1, label: 'row 1', big: 10n }, { i: 2, label: 'row 2', big: 20n }]);
    expect(host.call('fx_setof_ints', [4])).toEqual([0, 1, 4, 9]);
    expect(() => host.call('fx_bad_row')).toThrow(/field name \/ property name mismatch/);
  });

  it('finds other procedures with plv8.find_function (no SQL conversion)', () => {
    expect(host.call('fx_call_other', [3])).toEqual({ squares: [0, 1, 4] });
  });

  it('rejects unknown procedures and wrong argument counts', () => {
    expect(() => host.call('nope')).toThrow(expect.objectContaining({ sqlerrcode: '42883' }));
    host.begin();
    expect(() => host.call('fx_insert', ['x'])).toThrow(/takes 2 argument/);
  });
});

describe('SQL semantics inside the host', () => {
  it('returns row counts for DML and utility statements', () => {
    const r = runJson(`
      return [
        plv8.execute('CREATE TABLE counted (v int)'),
        plv8.execute('INSERT INTO counted SELECT g FROM generate_series(1, 3) g'),
        plv8.execute('UPDATE counted SET v = v + 1 WHERE v > $1', [1]),
        plv8.execute('DELETE FROM counted WHERE v = 4'),
        plv8.execute('INSERT INTO counted VALUES (9) RETURNING v'),
        plv8.execute('UPDATE counted SET v = v; SELECT 1 AS x'),   // several commands without parameters
      ];`);
    expect(r).toEqual([0, 3, 2, 1, [{ v: 9 }], [{ x: 1 }]]);
    host.rollback();
  });

  it('keeps the transaction usable after a caught SQL error, with PLV8 error fields', async () => {
    host.run(`plv8.execute('CREATE TABLE uniq (v int CONSTRAINT uniq_v UNIQUE, CONSTRAINT v_small CHECK (v < 100))');`);
    const r = runJson<Record<string, unknown>>(`
      plv8.execute('INSERT INTO uniq VALUES (1)');
      let caught;
      try { plv8.execute('INSERT INTO uniq VALUES ($1)', [1]); }
      catch (e) {
        caught = { message: e.message, sqlerrcode: e.sqlerrcode, code: e.code, detail: e.detail, schema_name: e.schema_name,
                   table_name: e.table_name, constraint_name: e.constraint_name, isError: e instanceof Error };
      }
      plv8.execute('INSERT INTO uniq VALUES (2)');
      return { caught, rows: plv8.execute('SELECT v FROM uniq ORDER BY v').map((x) => x.v) };`);
    expect(r.caught).toEqual({
      message: 'duplicate key value violates unique constraint "uniq_v"', sqlerrcode: '23505', code: packSqlstate('23505'),
      detail: 'Key (v)=(1) already exists.', schema_name: t.schema, table_name: 'uniq', constraint_name: 'uniq_v', isError: true,
    });
    expect(r.rows).toEqual([1, 2]);
    const check = runJson(`try { plv8.execute('INSERT INTO uniq VALUES (500)'); } catch (e) { return [e.sqlerrcode, e.constraint_name, e.column_name ?? null]; }`);
    expect(check).toEqual(['23514', 'v_small', null]);
    host.commit();
    expect(await t.query('SELECT v FROM uniq ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }]);
  });

  it('rolls the whole transaction back on an uncaught exception', async () => {
    host.run(`plv8.execute('CREATE TABLE IF NOT EXISTS events (v int PRIMARY KEY)');`);
    host.commit();
    host.begin();
    expect(host.call('fx_insert', ['events', 1])).toBe(1);
    let err: unknown;
    try {
      host.call('fx_insert_then_throw', ['events', 2]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Plv8Error);
    expect(err).toMatchObject({ message: 'failed after inserting 2', sqlerrcode: 'XX000', procedure: 'fx_insert_then_throw' });
    expect(host.inTransaction).toBe(false);
    expect(await t.query('SELECT v FROM events')).toEqual([]); // the earlier insert of the transaction too
    // an uncaught SQL error keeps its SQLSTATE
    host.begin();
    expect(() => host.call('fx_insert_dup', ['events', 3])).toThrow(expect.objectContaining({ sqlerrcode: '23505' }));
    expect(await t.query('SELECT v FROM events')).toEqual([]);
    // elog(ERROR) uncaught
    host.begin();
    expect(() => host.run(`plv8.elog(ERROR, 'bad', 'input');`)).toThrow(expect.objectContaining({ message: 'bad input', sqlerrcode: 'XX000' }));
    // commit/rollback outside a transaction are no-ops, as in PostgreSQL
    expect(() => host.rollback()).not.toThrow();
    expect(() => host.commit()).not.toThrow();
  });

  it('rolls back a failed subtransaction as a whole and keeps a successful one', () => {
    const r = runJson(`
      plv8.execute('CREATE TABLE sub (v int)');
      let message;
      try {
        plv8.subtransaction(() => {
          plv8.execute('INSERT INTO sub VALUES (1)');
          plv8.execute('INSERT INTO sub VALUES (2)');
          throw new Error('abort both');
        });
      } catch (e) { message = e.message; }
      const kept = plv8.subtransaction(() => { plv8.execute('INSERT INTO sub VALUES (3)'); return 'done'; });
      try { plv8.subtransaction(() => plv8.execute('INSERT INTO sub VALUES (1 / 0)')); } catch (e) { message += ' / ' + e.message; }
      return { message, kept, rows: plv8.execute('SELECT v FROM sub').map((x) => x.v) };`);
    expect(r).toEqual({ message: 'abort both / division by zero', kept: 'done', rows: [3] });
    host.rollback();
  });

  it('supports prepared plans and cursors', () => {
    const r = runJson(`
      const plan = plv8.prepare('SELECT g, g * $1 AS x FROM generate_series(1, 10) g WHERE g > $2 ORDER BY g', ['int', 'int']);
      const some = plan.execute([2, 7]);
      const cur = plan.cursor([3, 0]);
      const first = cur.fetch();
      const next3 = cur.fetch(3);
      cur.move(2);
      const after = cur.fetch(2);
      const back = cur.fetch(-1);
      cur.close();
      const rest = plan.cursor([1, 8]);
      const tail = [rest.fetch(), rest.fetch(), rest.fetch()];
      rest.close();
      plan.free();
      let freed;
      try { plan.execute([1, 1]); } catch (e) { freed = e.message; }
      plv8.execute('CREATE TABLE planned (v numeric)');
      const ins = plv8.prepare('INSERT INTO planned VALUES ($1)', ['numeric']);
      const counts = [ins.execute([0.1 + 0.2]), ins.execute(['1.000000000000000001'])];
      ins.free();
      return { some, first, next3: next3.map((x) => x.g), after: after.map((x) => x.g), back: back.map((x) => x.g),
               tail: tail.map((x) => x === undefined ? 'undefined' : x.g), freed, counts,
               stored: plv8.execute('SELECT v::text AS v FROM planned').map((x) => x.v) };`);
    expect(r).toEqual({
      some: [{ g: 8, x: 16 }, { g: 9, x: 18 }, { g: 10, x: 20 }],
      first: { g: 1, x: 3 },
      next3: [2, 3, 4],
      after: [7, 8],
      back: [7],
      tail: [9, 10, 'undefined'],
      freed: 'plan has been freed',
      counts: [1, 1],
      stored: ['0.3', '1.000000000000000001'],
    });
    host.rollback();
  });

  it('forwards elog and server notices to the host', () => {
    host.call('fx_log', ['hi']);
    host.run(`plv8.execute("DO $$ BEGIN RAISE NOTICE 'from sql %', 42; END $$");`);
    expect(messages).toEqual([
      { level: 'NOTICE', message: 'notice: hi', source: 'elog' },
      { level: 'WARNING', message: 'warning: hi', source: 'elog' },
      { level: 'NOTICE', message: 'from sql 42', source: 'sql' },
    ]);
    expect(() => host.run(`plv8.elog(12345, 'x');`)).toThrow(/invalid error level/);
  });

  it('quotes like the SQL functions', async () => {
    const inputs = ['plain', 'Mixed', 'with space', 'select', "O'Reilly", 'back\\slash', 'q"uote'];
    const js = runJson(`const xs = ${JSON.stringify(inputs)};
      return xs.map((x) => [plv8.quote_ident(x), plv8.quote_literal(x), plv8.quote_nullable(x)]).concat([[plv8.quote_nullable(null)]]);`);
    const sql = await t.query<{ q: string[] }>(
      'SELECT ARRAY[quote_ident(x), quote_literal(x), quote_nullable(x)] AS q FROM unnest($1::text[]) WITH ORDINALITY u(x, i) ORDER BY i', [inputs]);
    expect(js).toEqual([...sql.map((r) => r.q), ['NULL']]);
  });

  it('runs plv8.execute for the caller in the Node realm (host.execute)', () => {
    const rows = host.execute('SELECT now() AS at, 5::int8 AS n, $1::text AS s', ['x']) as Array<Record<string, unknown>>;
    expect(rows[0]?.at).toBeInstanceOf(Date);
    expect(rows[0]).toMatchObject({ n: 5n, s: 'x' });
    expect(() => host.execute('SELECT 1/0')).toThrow(expect.objectContaining({ sqlerrcode: '22012' }));
    expect(host.execute('SELECT 1 AS ok')).toEqual([{ ok: 1 }]); // still usable
  });
});

describe('the PLV8 session', () => {
  it('keeps globals across calls and transactions, and evaluates the bundle once', () => {
    const first = host.call<number>('fx_counter');
    expect(host.call('fx_counter')).toBe(first + 1);
    host.commit();
    host.begin();
    expect(host.call('fx_counter')).toBe(first + 2);
    host.run(`globalThis.answer = 41;`);
    expect(host.run(`return ++answer;`)).toBe(42);
    expect(host.call('fx_evaluations')).toBe(1);
    expect(host.call('fx_bundle_info')).toEqual({ bundle: procs[0]?.bundleId });
    expect(procs.every((p) => p.bundleId === procs[0]?.bundleId)).toBe(true);
  });

  it('exposes no Node or Web globals, and no way back to the Node realm', () => {
    const names = ['require', 'process', 'Buffer', 'module', 'exports', '__dirname', '__filename', 'setTimeout', 'setInterval',
      'setImmediate', 'queueMicrotask', 'structuredClone', 'TextEncoder', 'TextDecoder', 'URL', 'fetch', 'atob', 'btoa', 'global'];
    const r = runJson<Record<string, unknown>>(`
      const names = ${JSON.stringify(names)};
      const viaExecute = plv8.execute.constructor.constructor('return typeof process')();
      let viaError;
      try { plv8.execute('SELECT 1/0'); } catch (e) { viaError = e.constructor.constructor('return typeof process')(); }
      const rows = plv8.execute('SELECT 1 AS a');
      return {
        types: names.map((n) => typeof globalThis[n]),
        viaExecute, viaError,
        rowsArePlain: Object.getPrototypeOf(rows) === Array.prototype && Object.getPrototypeOf(rows[0]) === Object.prototype,
        levels: [DEBUG5, LOG, INFO, NOTICE, WARNING, ERROR],
        version: plv8.version,
      };`);
    expect(r.types).toEqual(names.map(() => 'undefined'));
    expect(r).toMatchObject({ viaExecute: 'undefined', viaError: 'undefined', rowsArePlain: true, levels: [10, 15, 17, 18, 19, 21] });
    expect(r.version).toMatch(/^3\./);
  });

  it('fails to open with a clear error when the database is unreachable', async () => {
    const u = new URL(t.url);
    u.port = '1';
    await expect(Plv8Host.open({ connectionString: u.toString(), procedures: procs })).rejects.toThrow(/PLV8 host cannot connect/);
  });

  it('reports a lost connection and stays closed-able', async () => {
    const other = await Plv8Host.open({ connectionString: t.url, procedures: procs });
    await t.query('SELECT pg_terminate_backend($1)', [other.backendPid]);
    let err: unknown;
    for (let i = 0; i < 50 && err === undefined; i++) {
      try {
        other.call('fx_counter');
        other.commit();
        other.begin();
      } catch (e) {
        err = e;
      }
    }
    expect(err).toBeInstanceOf(Plv8Error);
    expect(['57P01', '08006', '08003']).toContain((err as Plv8Error).sqlerrcode);
    expect(() => other.call('fx_counter')).toThrow(Plv8Error);
    await other.close();
  });

  it('closes cleanly and refuses work afterwards', async () => {
    const other = await Plv8Host.open({ connectionString: t.url, procedures: procs });
    expect(other.call('fx_counter')).toBe(1); // its own session globals
    await other.close();
    await other.close(); // idempotent
    expect(() => other.call('fx_counter')).toThrow(expect.objectContaining({ sqlerrcode: '08003' }));
    const alive = await t.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [other.backendPid]);
    expect(alive[0]?.n ?? 0).toBeLessThanOrEqual(1); // the backend may still be exiting, but it is not ours any more
  });
});

/** What users measured on PLV8 3.1.10 (issue 12), where the host used to be laxer. */
describe('as strict as PLV8 3.1.10', () => {
  it('rethrows a new plain Error out of plv8.subtransaction, keeping only the message', () => {
    const r = runJson<Record<string, unknown>>(`
      plv8.execute('CREATE TABLE strict_sub (v int PRIMARY KEY)');
      plv8.execute('INSERT INTO strict_sub VALUES (1)');
      const grab = (fn) => {
        try { plv8.subtransaction(fn); return 'no error'; }
        catch (e) {
          return { type: typeof e, isError: e instanceof Error, plain: Object.getPrototypeOf(e) === Error.prototype,
                   name: e.name, message: e.message, own: Object.keys(e) };
        }
      };
      let self;
      return {
        sql: grab(() => { plv8.execute('INSERT INTO strict_sub VALUES (2)'); plv8.execute('INSERT INTO strict_sub VALUES (1)'); }),
        range: grab(() => { throw new RangeError('r'); }),
        custom: grab(() => { const e = new Error('with extras'); e.code = 12345; e.detail = 'd'; e.extra = 1; throw e; }),
        doubled: grab(() => { throw new Error('Error: twice'); }),
        string: grab(() => { throw 'just text'; }),
        number: grab(() => { throw 42; }),
        object: grab(() => { throw { message: 'not an Error' }; }),
        nothing: grab(() => { throw undefined; }),
        symbol: grab(() => { throw Symbol('s'); }),
        notAFunction: plv8.subtransaction(42) === undefined,
        thisIsFn: (() => { const f = function () { self = this; return 1; }; plv8.subtransaction(f); return self === f; })(),
        rows: plv8.execute('SELECT v FROM strict_sub ORDER BY v').map((x) => x.v),
      };`);
    const plain = (message: string) => ({ type: 'object', isError: true, plain: true, name: 'Error', message, own: [] });
    expect(r).toEqual({
      sql: plain('duplicate key value violates unique constraint "strict_sub_pkey"'), // no sqlerrcode, code, detail
      range: plain('RangeError: r'),
      custom: plain('with extras'),
      doubled: plain('twice'), // "Error: " is cut when PLV8 records the exception and again when it rethrows
      string: plain('just text'),
      number: plain('42'),
      object: plain('[object Object]'),
      nothing: plain('undefined'),
      symbol: plain('unknown exception'),
      notAFunction: true,
      thisIsFn: true,
      rows: [1], // the failed subtransaction's insert of 2 is rolled back
    });
    host.rollback();
  });

  it('lets an SQL error rethrown by a subtransaction reach the caller as XX000', () => {
    host.run(`plv8.execute('CREATE TABLE strict_dup (v int PRIMARY KEY)'); plv8.execute('INSERT INTO strict_dup VALUES (1)');`);
    expect(() => host.run(`plv8.subtransaction(() => plv8.execute('INSERT INTO strict_dup VALUES (1)'));`))
      .toThrow(expect.objectContaining({ sqlerrcode: 'XX000', message: expect.stringContaining('duplicate key') }));
  });

  it('throws a plain Error without sqlerrcode for elog(ERROR), and strings for elog misuse', () => {
    const r = runJson(`
      const out = {};
      try { plv8.elog(ERROR, 'bad', 42); } catch (e) {
        out.error = { message: e.message, plain: Object.getPrototypeOf(e) === Error.prototype, own: Object.keys(e), hasCode: 'sqlerrcode' in e };
      }
      try { plv8.elog(12345, 'x'); } catch (e) { out.level = typeof e + ': ' + e; }
      try { plv8.elog(NOTICE); } catch (e) { out.usage = typeof e + ': ' + e; }
      return out;`);
    expect(r).toEqual({
      error: { message: 'bad 42', plain: true, own: [], hasCode: false },
      level: 'string: invalid error level',
      usage: 'string: usage: plv8.elog(elevel, ...)',
    });
    expect(() => host.run(`plv8.elog(ERROR, 'uncaught');`)).toThrow(expect.objectContaining({ message: 'uncaught', sqlerrcode: 'XX000' }));
  });

  it('sets all eleven fields on an execute error as own properties, null when absent', () => {
    const r = runJson<Record<string, Record<string, unknown>>>(`
      const fields = ${JSON.stringify(EXEC_ERROR_FIELDS)};
      const grab = (sql) => {
        try { plv8.execute(sql); } catch (e) {
          const o = { message: e.message };
          for (const k of fields) o[k] = Object.prototype.hasOwnProperty.call(e, k) ? e[k] : 'missing';
          return o;
        }
      };
      return { zero: grab('SELECT 1/0'), syntax: grab('SELEC 1'),
               nested: grab("DO $$ BEGIN RAISE EXCEPTION 'inner' USING HINT = 'h'; END $$") };`);
    expect(EXEC_ERROR_FIELDS).toHaveLength(11);
    expect(r.zero).toEqual({
      message: 'division by zero', sqlerrcode: '22012', code: packSqlstate('22012'), schema_name: null, table_name: null,
      column_name: null, datatype_name: null, constraint_name: null, detail: null, hint: null,
      context: 'SQL statement "SELECT 1/0"', internalquery: null,
    });
    expect(r.syntax).toMatchObject({ sqlerrcode: '42601', internalquery: 'SELEC 1', context: null }); // SPI: a syntax error names the query
    expect(r.nested).toMatchObject({
      message: 'inner', sqlerrcode: 'P0001', hint: 'h',
      context: `PL/pgSQL function inline_code_block line 1 at RAISE\nSQL statement "DO $$ BEGIN RAISE EXCEPTION 'inner' USING HINT = 'h'; END $$"`,
    });
  });

  it('gives undefined from cursor.fetch(n) and fetch() past the end; a closed cursor is not found', () => {
    const r = runJson(`
      const plan = plv8.prepare('SELECT g FROM generate_series(1, 3) g ORDER BY g');
      const cur = plan.cursor();
      const all = cur.fetch(5).map((x) => x.g);
      const more = cur.fetch(2), one = cur.fetch(), back = cur.fetch(-2).map((x) => x.g);
      const closed = cur.close();
      let again, fetchClosed;
      try { cur.close(); } catch (e) { again = e.message; }
      try { cur.fetch(); } catch (e) { fetchClosed = e.message; }
      let mismatch;
      try { plv8.prepare('SELECT $1::int AS x', ['int']).execute([]); } catch (e) { mismatch = e.message; }
      return { all, more: String(more), one: String(one), back, closed, again, fetchClosed, freed: plan.free(), mismatch };`);
    expect(r).toEqual({
      all: [1, 2, 3], more: 'undefined', one: 'undefined', back: [3, 2], closed: 1, again: 'cannot find cursor',
      fetchClosed: 'cannot find cursor', freed: 0, mismatch: 'plan expected 1 argument(s), given is 0',
    });
    host.rollback();
  });

  it('reports plv8.version 3.1.10', () => {
    expect(PLV8_VERSION).toBe('3.1.10');
    expect(host.run('return plv8.version;')).toBe('3.1.10');
  });

  it('lacks the built-ins V8 10.2 lacks, and rejects the RegExp v flag', () => {
    const listed = MISSING_BUILTINS.map((b) => [b.owner, b.name]);
    const r = runJson<Record<string, unknown>>(`
      const resolve = (path) => path === 'globalThis' ? globalThis : path.split('.').reduce(
        (o, k, i) => (i === 0 && k === 'TypedArray' ? Object.getPrototypeOf(Int8Array) : o == null ? o : o[k]), globalThis);
      const present = ${JSON.stringify(listed)}.filter(([owner, name]) => { const o = resolve(owner); return o != null && name in o; });
      let ctor, call;
      try { new RegExp('a', 'v'); } catch (e) { ctor = [e instanceof SyntaxError, e.message]; }
      try { RegExp('a', 'gv'); } catch (e) { call = [e instanceof SyntaxError, e.message]; }
      const re = new RegExp('a+', 'g');
      return {
        present, ctor, call, unscopable: 'toSorted' in Array.prototype[Symbol.unscopables],
        stillWorks: ['xaay'.replace(re, '-'), re instanceof RegExp, /b/ instanceof RegExp, 'a,b'.split(/,/).length],
        es2022: [typeof [].at, typeof [].findLast, typeof Object.hasOwn, typeof structuredClone],
      };`);
    expect(r).toEqual({
      present: [],
      ctor: [true, "Invalid flags supplied to RegExp constructor 'v'"],
      call: [true, "Invalid flags supplied to RegExp constructor 'gv'"],
      unscopable: false,
      stillWorks: ['x-y', true, true, 2],
      es2022: ['function', 'function', 'function', 'undefined'],
    });
    expect(() => host.run('return /[a-z]/v.test("x");')).toThrow(expect.objectContaining({
      sqlerrcode: 'XX000', message: expect.stringMatching(/^SyntaxError: Invalid regular expression flags/),
    }));
  });

  it('fails a bundle that uses toSorted with the TypeError PLV8 3.1.10 gives', async () => {
    const base = { setof: false, strict: true, volatility: 'IMMUTABLE' as const, bundleId: 'es2023-sample' };
    const es2023: GeneratedProcedure[] = [
      { ...base, name: 'es_sorted', args: [['xs', 'int[]']], returns: 'int[]', body: 'return xs.toSorted((a, b) => a - b);' },
      { ...base, name: 'es_sorted_es2022', args: [['xs', 'int[]']], returns: 'int[]', body: 'return xs.slice().sort((a, b) => a - b);' },
    ];
    const other = await Plv8Host.open({ connectionString: t.url, procedures: es2023 });
    try {
      expect(other.call('es_sorted_es2022', [[3, 1, 2]])).toEqual([1, 2, 3]);
      expect(() => other.call('es_sorted', [[3, 1, 2]])).toThrow(expect.objectContaining({
        sqlerrcode: 'XX000', message: 'TypeError: xs.toSorted is not a function',
      }));
    } finally {
      await other.close();
    }
  });
});
