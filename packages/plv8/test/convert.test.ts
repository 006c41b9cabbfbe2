import { describe, expect, it } from 'vitest';
import {
  builtinType, decodeText, encodeValue, formatFloat15, OID, packSqlstate, parseArrayText, parseDateTimeMs,
  parseRecordText, toJsonbText, unpackSqlstate, type TypeInfo,
} from '../src/host/convert.ts';
import { returnShape } from '../src/procedures.ts';

const lookup = (oid: number): TypeInfo => {
  const t = builtinType(oid);
  if (!t) throw new Error(`no builtin ${oid}`);
  return t;
};
const dec = (text: string | null, oid: number) => decodeText(text, lookup(oid), lookup);
const enc = (v: unknown, oid: number) => encodeValue(v, lookup(oid), lookup);

describe('text parsers', () => {
  it('parses array literals (quotes, escapes, NULL, dimensions, nesting)', () => {
    expect(parseArrayText('{}')).toEqual([]);
    expect(parseArrayText('{1,NULL,3}')).toEqual(['1', null, '3']);
    expect(parseArrayText('{"a,b","q\\"x","NULL",""}')).toEqual(['a,b', 'q"x', 'NULL', '']);
    expect(parseArrayText('[0:1]={7,8}')).toEqual(['7', '8']);
    expect(parseArrayText('{{1,2},{3,4}}')).toEqual(['1', '2', '3', '4']);
    expect(parseArrayText('{(1,2);(3,4)}', ';')).toEqual(['(1,2)', '(3,4)']);
  });

  it('parses record literals', () => {
    expect(parseRecordText('(1,abc,,"",  "x""y\\\\z")')).toEqual(['1', 'abc', null, '', '  x"y\\z']);
    expect(parseRecordText('()')).toEqual([]);
  });

  it('reads date/time texts as epoch milliseconds (microseconds kept as a fraction)', () => {
    expect(parseDateTimeMs('2024-01-02')).toBe(Date.UTC(2024, 0, 2));
    expect(parseDateTimeMs('2024-01-02 03:04:05.678912')).toBeCloseTo(Date.UTC(2024, 0, 2, 3, 4, 5, 678) + 0.912, 3);
    expect(parseDateTimeMs('2024-01-02 03:04:05+05:30')).toBe(Date.UTC(2024, 0, 1, 21, 34, 5));
    expect(parseDateTimeMs('1900-01-01 00:00:00+00:09:21')).toBe(Date.UTC(1899, 11, 31, 23, 50, 39));
    expect(parseDateTimeMs('0044-03-15 BC')).toBe(Date.UTC(-43, 2, 15) - 0);
    expect(Number.isNaN(parseDateTimeMs('infinity'))).toBe(true);
  });
});

describe('PostgreSQL → JS', () => {
  it('follows PLV8 3.x: int8 BigInt, numeric lossy Number, dates as Date, bytea Uint8Array', () => {
    expect(dec('9007199254740993', OID.int8)).toBe(9007199254740993n);
    expect(dec('0.30000000000000000001', OID.numeric)).toBe(0.3);
    expect(dec('NaN', OID.numeric)).toBeNaN();
    expect((dec('2024-01-02 03:04:05.6789', OID.timestamp) as Date).toISOString()).toBe('2024-01-02T03:04:05.678Z');
    expect(dec('\\x00ff', OID.bytea)).toEqual(new Uint8Array([0, 255]));
    expect(dec('{1,NULL}', 1016)).toEqual([1n, null]);
    expect(dec('t', OID.bool)).toBe(true);
    expect(dec(null, OID.text)).toBeNull();
    expect(dec('12:00:00', OID.time)).toBe('12:00:00');
  });
});

describe('JS → PostgreSQL', () => {
  it('prints numbers into numeric like float8_numeric (%.15g)', () => {
    expect(formatFloat15(0.1 + 0.2)).toBe('0.3');
    expect(formatFloat15(123456789.123456789)).toBe('123456789.123457');
    expect(formatFloat15(1e21)).toBe('1e+21');
    expect(formatFloat15(0.00001234)).toBe('0.00001234');
    expect(formatFloat15(-0)).toBe('0');
    expect(enc(12n, OID.numeric)).toBe('12');
    expect(enc('1.000000000000000001', OID.numeric)).toBe('1.000000000000000001');
  });

  it('truncates and wraps integers like ToInt32, and keeps BigInt exact', () => {
    expect(enc(7.9, OID.int4)).toBe('7');
    expect(enc(2 ** 31, OID.int4)).toBe('-2147483648');
    expect(enc(40000, OID.int2)).toBe('-25536');
    expect(enc(2n ** 63n, OID.int8)).toBe('-9223372036854775808');
    expect(enc(1e20, OID.int8)).toBe('9223372036854775807');
    expect(enc(5n, OID.int4)).toBe('5'); // not a Number: lexical cast
  });

  it('stores Dates as PLV8 does (UTC wall clock for timestamp, truncated days for date)', () => {
    const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(enc(d, OID.timestamptz)).toBe('2024-01-02 03:04:05.678+00');
    expect(enc(d, OID.timestamp)).toBe('2024-01-02 03:04:05.678');
    expect(enc(d, OID.date)).toBe('2024-01-02');
    expect(enc(new Date(Date.UTC(1999, 11, 31, 12)), OID.date)).toBe('2000-01-01'); // EpochToDate truncates toward zero
    expect(enc('2024-05-06', OID.date)).toBe('2024-05-06');
  });

  it('converts into jsonb directly (BigInt → string, Date → ISO, %.15g numbers) and into json with JSON.stringify', () => {
    expect(toJsonbText({ a: 1n, b: 0.1 + 0.2, c: new Date(Date.UTC(2024, 0, 2)), d: [1, undefined, null], e: undefined, f: 3000000000 }))
      .toBe('{"a":"1","b":0.3,"c":"2024-01-02T00:00:00.000Z","d":[1,null],"f":3000000000}');
    expect(toJsonbText('{"a":1}')).toBe('"{\\"a\\":1}"');
    expect(toJsonbText([new Date(0)])).toBe('[{}]'); // a Date inside an array is an object without own keys
    expect(enc({ a: [1] }, OID.json)).toBe('{"a":[1]}');
    expect(enc('{"a":1}', OID.json)).toBe('{"a":1}');
    expect(() => enc({ a: 1n }, OID.json)).toThrow(TypeError);
  });

  it('builds array literals and bytea hex', () => {
    expect(enc(['a', null, 'q"\\'], 1009)).toBe('{"a",NULL,"q\\"\\\\"}');
    expect(enc([0.1 + 0.2, 2], 1231)).toBe('{"0.3","2"}');
    expect(() => enc('x', 1009)).toThrow(/not an Array/);
    expect(enc(new Uint8Array([1, 171]), OID.bytea)).toBe('\\x01ab');
    expect(enc(new Uint16Array([1]).buffer, OID.bytea)).toBe('\\x0100');
    expect(enc(true, OID.bool)).toBe('true');
    expect(enc(undefined, OID.text)).toBeNull();
  });
});

describe('SQLSTATE packing', () => {
  it('round-trips through PostgreSQL MAKE_SQLSTATE', () => {
    for (const s of ['23505', 'XX000', '22012', '2D000', 'P0001']) expect(unpackSqlstate(packSqlstate(s))).toBe(s);
    expect(packSqlstate('XX000')).toBe(2600);
  });
});

describe('return shapes', () => {
  it('parses TABLE(...) returns', () => {
    expect(returnShape({ returns: 'TABLE(i int, "Label" text, n numeric(20, 8))' })).toEqual({
      kind: 'table', columns: [['i', 'int'], ['Label', 'text'], ['n', 'numeric(20, 8)']],
    });
    expect(returnShape({ returns: 'void' })).toEqual({ kind: 'void' });
    expect(returnShape({ returns: 'SETOF jsonb' })).toEqual({ kind: 'scalar', type: 'jsonb' });
  });
});
