/**
 * The Node host sends array parameters of text, int4, numeric and timestamptz in the binary
 * format (packages/plv8/src/host/binary-arrays.ts). PLV8 builds the same arrays in the server
 * with each element's input function, so every value sent in binary must be the value the
 * input function gives for the same string, whatever the session's settings, and anything the
 * encoder is not certain of must go as text for the server to judge.
 *
 * 1. The encoder against the server itself: random strings, sent as a binary array and as an
 *    array literal, must come back as the same text, element for element.
 * 2. What has no certain binary form is refused (the host then sends the literal).
 * 3. Through the host: a procedure's statements with array parameters give the same rows and
 *    the same errors with binary arrays on and off, under odd DateStyle and TimeZone.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plv8Host } from '../../packages/plv8/src/index.ts';
import { encodeArray } from '../../packages/plv8/src/host/binary-arrays.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { inBoth, runBody } from '../helpers/read-ahead.ts';

let t: TestSchema;
let c: pg.Client;
let on: Plv8Host;
let off: Plv8Host;

beforeAll(async () => {
  t = await createTestSchema({ migrated: false, prefix: 'binarr' });
  c = new pg.Client({ connectionString: t.url });
  await c.connect();
  await c.query(`SET TimeZone = 'America/St_Johns'; SET DateStyle = 'SQL, DMY'`);
  await t.query(`CREATE TABLE ba_rows (k int, n numeric, ts timestamptz, s text)`);
  on = await Plv8Host.open({ connectionString: t.url, begin: false, binaryArrays: true });
  off = await Plv8Host.open({ connectionString: t.url, begin: false, binaryArrays: false });
});

afterAll(async () => {
  await on?.close();
  await off?.close();
  await c?.end();
  await t?.drop();
});

const quote = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`;
const literal = (xs: (string | null)[]) => `{${xs.map((x) => (x === null ? 'NULL' : quote(x))).join(',')}}`;

/** The elements as the server prints them, the array sent in binary and as a literal. */
async function bothWays(type: 'numeric' | 'timestamptz' | 'text', xs: (string | null)[]): Promise<{ binary: unknown[]; literal: unknown[] }> {
  const b = encodeArray(type, xs);
  expect(b, `no binary form for ${JSON.stringify(xs)}`).not.toBeNull();
  const sql = `SELECT x::text AS x, o FROM unnest($1::${type}[]) WITH ORDINALITY u(x, o) ORDER BY o`;
  const bin = await c.query(sql, [Buffer.from(b!.buffer, b!.byteOffset, b!.byteLength)]);
  const lit = await c.query(sql, [literal(xs)]);
  return { binary: bin.rows.map((r) => r.x), literal: lit.rows.map((r) => r.x) };
}

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const decimalText = fc
  .tuple(fc.boolean(), digits(1, 40), fc.option(digits(1, 40), { nil: undefined }), fc.nat(3), fc.nat(3))
  .map(([neg, int, frac, zl, zt]) => `${neg ? '-' : ''}${'0'.repeat(zl)}${int}${frac === undefined ? '' : `.${frac}${'0'.repeat(zt)}`}`);
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const utcText = fc
  .tuple(fc.integer({ min: 1800, max: 2250 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }),
    fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }),
    fc.option(digits(1, 6), { nil: undefined }), fc.constantFrom('Z', '+00', '+0000', '+00:00'), fc.constantFrom('T', ' '))
  .filter(([y, m, d]) => d <= new Date(Date.UTC(y, m, 0)).getUTCDate())
  .map(([y, m, d, h, mi, s, f, z, sep]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${f === undefined ? '' : `.${f}`}${z}`);

describe('the binary form is what the input function gives', () => {
  it('numeric: signs, leading and trailing zeros, long integer and fraction parts, zero', async () => {
    const fixed = ['0', '-0', '0.0', '-0.000', '00012.3400', '10000', '100000000', '0.0001', '0.00001', '1.00001', '9999.9999',
      '12345678901234567890.123456789012345678', '-5.5', '0.000000000000000001', '1000000000000000000000000000000000000.5'];
    const one = await bothWays('numeric', [...fixed, null]);
    expect(one.binary).toEqual(one.literal);
    await fc.assert(fc.asyncProperty(fc.array(fc.option(decimalText, { nil: null }), { minLength: 1, maxLength: 60 }), async (xs) => {
      const r = await bothWays('numeric', xs);
      expect(r.binary).toEqual(r.literal);
    }), { numRuns: 60 });
  });

  it('timestamptz: every UTC form, leap days, fractions of 1 to 6 digits, under a non-UTC TimeZone and DMY DateStyle', async () => {
    const fixed = ['2024-02-29T23:59:59.999999Z', '2000-01-01T00:00:00Z', '1999-12-31 23:59:59.5+00', '1800-01-01T00:00:00Z',
      '2250-12-31T23:59:59.999999+00:00', '1900-02-28T12:00:00.1+0000', '2100-03-01T00:00:00Z'];
    const one = await bothWays('timestamptz', [...fixed, null]);
    expect(one.binary).toEqual(one.literal);
    await fc.assert(fc.asyncProperty(fc.array(utcText, { minLength: 1, maxLength: 60 }), async (xs) => {
      const r = await bothWays('timestamptz', xs);
      expect(r.binary).toEqual(r.literal);
    }), { numRuns: 60 });
  });

  it('text: quotes, backslashes, commas, braces, NULL as a word, empty, non-ASCII and astral characters, a lone surrogate', async () => {
    const fixed = ['', 'NULL', 'null', 'a,b', '{x}', 'say "hi"', 'back\\slash', ' lead', 'trail ', 'tab\there', 'é', '日本', '😀x', 'x\uD800y', 'line\nbreak'];
    const one = await bothWays('text', [...fixed, null, 'NULL']);
    expect(one.binary).toEqual(one.literal);
    await fc.assert(fc.asyncProperty(fc.array(fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0')), { nil: null }), { maxLength: 40 }), async (xs) => {
      if (xs.length === 0) return;
      const r = await bothWays('text', xs);
      expect(r.binary).toEqual(r.literal);
    }), { numRuns: 60 });
  });

  it('values repeated next to each other and across NULLs (a repeat copies the last element\'s bytes)', async () => {
    // drawn from small pools so that runs of one value, and a value again after a NULL, are common
    const pooled = <T>(pool: fc.Arbitrary<T[]>) => pool.chain((xs) => fc.array(fc.option(fc.constantFrom(...xs), { nil: null, freq: 3 }), { minLength: 1, maxLength: 40 }));
    const cases = [
      ['numeric', pooled(fc.array(decimalText, { minLength: 1, maxLength: 3 }))],
      ['timestamptz', pooled(fc.array(utcText, { minLength: 1, maxLength: 3 }))],
      ['text', pooled(fc.array(fc.string({ maxLength: 6 }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 3 }))],
    ] as const;
    for (const [type, arb] of cases) {
      await fc.assert(fc.asyncProperty(arb as fc.Arbitrary<(string | null)[]>, async (xs) => {
        const r = await bothWays(type, xs);
        expect(r.binary).toEqual(r.literal);
      }), { numRuns: 60 });
    }
    const t = '2024-01-01T00:00:00Z';
    const again = await bothWays('timestamptz', [t, null, t, t, null, null, t]);
    expect(again.binary).toEqual(again.literal);
  });

  it('a repeated value (copied from the element before) and an empty array', async () => {
    const same = '1.5';
    const r = await bothWays('numeric', [same, same, null, same, '2', '2']);
    expect(r.binary).toEqual(['1.5', '1.5', null, '1.5', '2', '2']);
    const e = encodeArray('text', [])!;
    const rows = await c.query('SELECT cardinality($1::text[]) AS n', [Buffer.from(e.buffer, e.byteOffset, e.byteLength)]);
    expect(rows.rows[0].n).toBe(0);
  });
});

describe('no binary form: sent as text', () => {
  it.each([
    ['numeric', ['1e5']], ['numeric', [' 1']], ['numeric', ['+1']], ['numeric', ['.5']], ['numeric', ['5.']], ['numeric', ['NaN']],
    ['numeric', ['Infinity']], ['numeric', ['1_000']], ['numeric', [1.5]], ['numeric', [Number.MAX_SAFE_INTEGER]], ['numeric', ['']], ['numeric', ['1'.repeat(1001)]],
    ['timestamptz', ['2024-01-01 00:00:00']], ['timestamptz', ['2024-01-01T00:00:00+01']], ['timestamptz', ['2024-01-01T00:00:00-00']],
    ['timestamptz', ['1799-12-31T23:59:59Z']], ['timestamptz', ['2251-01-01T00:00:00Z']], ['timestamptz', ['2023-02-29T00:00:00Z']],
    ['timestamptz', ['2024-04-31T00:00:00Z']], ['timestamptz', ['2024-01-01T24:00:00Z']], ['timestamptz', ['2024-01-01T23:59:60Z']],
    ['timestamptz', ['2024-01-01T00:00:00.1234567Z']], ['timestamptz', ['2024-01-01T00:00:00.Z']], ['timestamptz', [new Date(0)]],
    ['timestamptz', ['2024-01-01T00:00:00z']], ['timestamptz', ['today']],
    ['text', ['a\0b']], ['text', [5]], ['text', [{}]], ['int4', ['5']],
  ] as const)('%s %s', (type, xs) => {
    expect(encodeArray(type, xs as unknown as unknown[])).toBeNull();
  });
});

describe('through the host: binary arrays on and off give the same answers', () => {
  const both = (body: string) => inBoth(on, off, (h) => runBody(h, '', body)).value;

  it('rows written from typed arrays, and read back', () => {
    const answer = both(`
      plv8.execute("SET LOCAL DateStyle = 'German'; SET LOCAL TimeZone = 'Asia/Kathmandu'");
      const n = plv8.execute('INSERT INTO ba_rows SELECT * FROM unnest($1::int[], $2::numeric[], $3::timestamptz[], $4::text[])',
        [[1, 2, 3, 4.7, -2147483649], ['1.50', '-0.0001', null, '1e3', '7'], ['2024-02-29T23:59:59.999999Z', '2024-01-01 00:00:00', null, '1700-01-01T00:00:00Z', '2024-06-01T12:00:00+00:00'],
         ['a,"b"', null, 'NULL', 'é😀', '']]);
      const rows = plv8.execute("SELECT k, n::text AS n, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS ts, s FROM ba_rows ORDER BY k");
      return { n, rows };`) as { n: number; rows: unknown[] };
    expect(answer.n).toBe(5);
    expect(answer.rows).toEqual([
      { k: 1, n: '1.50', ts: '2024-02-29 23:59:59.999999', s: 'a,"b"' },
      { k: 2, n: '-0.0001', ts: '2023-12-31 18:15:00.000000', s: null },
      { k: 3, n: null, ts: null, s: 'NULL' },
      { k: 4, n: '1000', ts: '1700-01-01 00:00:00.000000', s: 'é😀' },
      { k: 2147483647, n: '7', ts: '2024-06-01 12:00:00.000000', s: '' }, // ToInt32, as PLV8
    ]);
  });

  it('a value the input function refuses fails alike', () => {
    const answer = both(`
      const attempt = (f) => { try { return { ok: f() }; } catch (e) { return { error: e.message, code: e.sqlerrcode }; } };
      return [
        attempt(() => plv8.execute('SELECT cardinality($1::numeric[]) AS n', [['1.5', 'abc']])),
        attempt(() => plv8.execute('SELECT cardinality($1::timestamptz[]) AS n', [['2024-01-01T00:00:00Z', '2024-13-01T00:00:00Z']])),
        attempt(() => plv8.execute('SELECT cardinality($1::text[]) AS n', [['ok', 'nul\\u0000here']])),
        attempt(() => plv8.execute('SELECT $1::numeric[] AS a', [[1.5, 0.1 + 0.2]])),
      ];`) as Array<{ ok?: unknown; error?: string; code?: string }>;
    expect(answer[0]).toEqual({ error: 'invalid input syntax for type numeric: "abc"', code: '22P02' });
    expect(answer[1]!.code).toBe('22008');
    expect(answer[2]!.error).toBeDefined();
    expect(answer[3]).toEqual({ ok: [{ a: [1.5, 0.3] }] });
  });

  it('an array read once: holes are NULL, and a getter that changes its value or runs a statement sees one read', () => {
    const answer = both(`
      const sparse = ['1.5']; sparse[2] = '2.5';
      let reads = 0;
      const tricky = ['1.50', '2.25'];
      Object.defineProperty(tricky, 1, { get() {
        reads++;
        plv8.execute('SELECT cardinality($1::numeric[]) AS n', [['9.99', '8.88', '7.77']]);
        return reads === 1 ? '2.25' : 'abc';
      } });
      const texts = plv8.execute('SELECT x::text AS x FROM unnest($1::numeric[]) WITH ORDINALITY u(x, o) ORDER BY o', [sparse]).map((r) => r.x);
      const got = plv8.execute('SELECT x::text AS x FROM unnest($1::numeric[]) WITH ORDINALITY u(x, o) ORDER BY o', [tricky]).map((r) => r.x);
      return { texts, got, reads };`);
    expect(answer).toEqual({ texts: ['1.5', null, '2.5'], got: ['1.50', '2.25'], reads: 1 });
  });

  it('a prepared plan with declared array types', () => {
    const answer = both(`
      const plan = plv8.prepare('SELECT x::text AS x FROM unnest($1) x', ['numeric[]']);
      try { return plan.execute([['0012.300', '-0', null, '99999999999999999999.000000000000000001']]).map((r) => r.x); } finally { plan.free(); }`);
    expect(answer).toEqual(['12.300', '0', null, '99999999999999999999.000000000000000001']);
  });
});
