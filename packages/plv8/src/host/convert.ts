/**
 * PLV8 3.x type conversions, emulated over PostgreSQL's text format (see PLV8-NOTES §2 and
 * plv8_type.cc `ToValue` / `ToDatum`).
 *
 * Realm-agnostic: this module uses only ECMAScript built-ins and is evaluated twice — imported
 * by the host (Node realm) and bundled into the in-context runtime (the vm realm) — so that
 * values it builds (Date, Array, Uint8Array, plain objects) belong to the realm that evaluates
 * it. Input checks use cross-realm tests (Array.isArray, Object.prototype.toString) so values
 * from either realm are recognised.
 */

/** What the converters need to know about a PostgreSQL type. */
export interface TypeInfo {
  oid: number;
  name: string;
  /** pg_type.typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange. */
  typtype: string;
  /** pg_type.typcategory: 'A' arrays, 'C' composites, ... */
  category: string;
  /** Element type of an array type, else 0. */
  elem: number;
  /** Array delimiter (',' for everything but box). */
  delim: string;
  /** Columns of a composite type. */
  attrs: ReadonlyArray<readonly [name: string, oid: number]> | null;
}

export type TypeLookup = (oid: number) => TypeInfo;

export const OID = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, regproc: 24, text: 25, oid: 26,
  json: 114, xml: 142, point: 600, box: 603, float4: 700, float8: 701, unknown: 705, money: 790,
  bpchar: 1042, varchar: 1043, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184,
  interval: 1186, timetz: 1266, numeric: 1700, record: 2249, recordArray: 2287, void: 2278,
  uuid: 2950, jsonb: 3802,
} as const;

/** Built-in scalar types and their array types: [oid, name, arrayOid]. */
const BUILTIN_SCALARS: ReadonlyArray<readonly [number, string, number]> = [
  [16, 'bool', 1000], [17, 'bytea', 1001], [18, 'char', 1002], [19, 'name', 1003], [20, 'int8', 1016],
  [21, 'int2', 1005], [23, 'int4', 1007], [24, 'regproc', 1008], [25, 'text', 1009], [26, 'oid', 1028],
  [114, 'json', 199], [142, 'xml', 143], [600, 'point', 1017], [603, 'box', 1020], [700, 'float4', 1021],
  [701, 'float8', 1022], [790, 'money', 791], [869, 'inet', 1041], [650, 'cidr', 651], [829, 'macaddr', 1040],
  [1042, 'bpchar', 1014], [1043, 'varchar', 1015], [1082, 'date', 1182], [1083, 'time', 1183],
  [1114, 'timestamp', 1115], [1184, 'timestamptz', 1185], [1186, 'interval', 1187], [1266, 'timetz', 1270],
  [1560, 'bit', 1561], [1562, 'varbit', 1563], [1700, 'numeric', 1231], [2205, 'regclass', 2210],
  [2206, 'regtype', 2211], [2950, 'uuid', 2951], [3614, 'tsvector', 3643], [3802, 'jsonb', 3807],
  [4089, 'regnamespace', 4090], [2249, 'record', 2287],
];

const BUILTINS: Map<number, TypeInfo> = (() => {
  const m = new Map<number, TypeInfo>();
  for (const [oid, name, arr] of BUILTIN_SCALARS) {
    const category = oid === 2249 ? 'P' : 'X';
    m.set(oid, { oid, name, typtype: oid === 2249 ? 'p' : 'b', category, elem: 0, delim: ',', attrs: null });
    m.set(arr, { oid: arr, name: `_${name}`, typtype: 'b', category: 'A', elem: oid, delim: oid === 603 ? ';' : ',', attrs: null });
  }
  for (const [oid, name] of [[705, 'unknown'], [2278, 'void']] as const) {
    m.set(oid, { oid, name, typtype: 'p', category: 'P', elem: 0, delim: ',', attrs: null });
  }
  return m;
})();

/** A built-in type's info, or undefined when it must be read from pg_type. */
export function builtinType(oid: number): TypeInfo | undefined {
  return BUILTINS.get(oid);
}

// ---------------------------------------------------------------------------------------------
// SQLSTATE packing (PostgreSQL's MAKE_SQLSTATE), as PLV8 exposes it in `error.code`.

export function packSqlstate(s: string): number {
  let code = 0;
  for (let i = 0; i < 5; i++) code += ((s.charCodeAt(i) - 48) & 0x3f) << (6 * i);
  return code;
}

export function unpackSqlstate(code: number): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += String.fromCharCode(((code >> (6 * i)) & 0x3f) + 48);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Text format parsers.

/** Splits an array literal into its (flattened) element texts; null for NULL elements. */
export function parseArrayText(text: string, delim = ','): Array<string | null> {
  let i = 0;
  if (text[0] === '[') {
    const eq = text.indexOf('=');
    if (eq < 0) throw new Error(`malformed array literal: ${text}`);
    i = eq + 1;
  }
  const out: Array<string | null> = [];
  let depth = 0;
  const n = text.length;
  for (; i < n; i++) {
    const c = text[i];
    if (c === '{') { depth++; continue; }
    if (c === '}') { depth--; continue; }
    if (c === delim || c === ' ' || c === '\t' || c === '\n') continue;
    if (c === '"') {
      let s = '';
      i++;
      for (; i < n; i++) {
        const d = text[i];
        if (d === '\\') { s += text[++i] ?? ''; continue; }
        if (d === '"') break;
        s += d;
      }
      out.push(s);
      continue;
    }
    let j = i;
    let s = '';
    for (; j < n; j++) {
      const d = text[j];
      if (d === delim || d === '}' || d === '{') break;
      if (d === '\\') { s += text[++j] ?? ''; continue; }
      s += d;
    }
    i = j - 1;
    s = s.trim();
    out.push(s.toUpperCase() === 'NULL' ? null : s);
  }
  if (depth !== 0) throw new Error(`malformed array literal: ${text}`);
  return out;
}

/** Splits a record literal `(a,"b c",)` into its field texts; null for NULL fields. */
export function parseRecordText(text: string): Array<string | null> {
  const out: Array<string | null> = [];
  const n = text.length - 1; // the closing ')'
  let i = 1;
  if (text === '()') return out;
  for (;;) {
    let s = '';
    let quoted = false;
    for (; i < n; i++) {
      const c = text[i];
      if (c === ',') break;
      if (c === '"') {
        quoted = true;
        i++;
        for (; i < n; i++) {
          const d = text[i];
          if (d === '\\') { s += text[++i] ?? ''; continue; }
          if (d === '"') {
            if (text[i + 1] === '"') { s += '"'; i++; continue; }
            break;
          }
          s += d;
        }
        continue;
      }
      if (c === '\\') { s += text[++i] ?? ''; continue; }
      s += c;
    }
    out.push(!quoted && s === '' ? null : s);
    if (i >= n) break;
    i++; // skip ','
  }
  return out;
}

const DT_RE = /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(\.\d+)?)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/**
 * Milliseconds since the epoch (with a fractional part for microseconds) of a date,
 * timestamp or timestamptz in ISO DateStyle; a timestamp without offset is read as UTC
 * (PLV8's "UTC fields = wall clock"). NaN for infinities.
 */
export function parseDateTimeMs(text: string): number {
  if (text === 'infinity' || text === '-infinity') return NaN;
  const m = DT_RE.exec(text);
  if (!m) throw new Error(`unrecognised date/time text: ${text}`);
  let year = Number(m[1]);
  if (m[12]) year = 1 - year;
  const d = new Date(0);
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), 0);
  let ms = d.getTime();
  if (m[7]) ms += Number(m[7]) * 1000;
  if (m[8]) {
    const off = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1000;
    ms -= m[8] === '-' ? -off : off;
  }
  return ms;
}

function hexToBytes(text: string): Uint8Array {
  if (!text.startsWith('\\x')) {
    // escape format (bytea_output = escape)
    const bytes: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 92) {
        if (text[i + 1] === '\\') { bytes.push(92); i++; } else { bytes.push(parseInt(text.slice(i + 1, i + 4), 8)); i += 3; }
      } else bytes.push(c);
    }
    return Uint8Array.from(bytes);
  }
  const n = (text.length - 2) >> 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = parseInt(text.substr(2 + 2 * i, 2), 16);
  return out;
}

// ---------------------------------------------------------------------------------------------
// SQL text → JS value (PLV8 ToValue).

/** Decodes the text form of a value of type `info` the way PLV8 converts the datum. */
export function decodeText(text: string | null, info: TypeInfo, lookup: TypeLookup): unknown {
  if (text === null) return null;
  if (info.category === 'A' || info.oid === OID.recordArray) {
    const elemInfo = info.oid === OID.recordArray ? lookup(OID.record) : lookup(info.elem);
    return parseArrayText(text, info.delim).map((t) => decodeText(t, elemInfo, lookup));
  }
  if (info.category === 'C' || info.oid === OID.record) {
    const fields = parseRecordText(text);
    const obj: Record<string, unknown> = {};
    if (info.attrs) {
      info.attrs.forEach(([name, oid], i) => { obj[name] = decodeText(fields[i] ?? null, lookup(oid), lookup); });
    } else {
      fields.forEach((f, i) => { obj[`f${i + 1}`] = f; });
    }
    return obj;
  }
  switch (info.oid) {
    case OID.oid:
    case OID.int2:
    case OID.int4:
    case OID.float4:
    case OID.float8:
    case OID.numeric:
      return Number(text);
    case OID.bool:
      return text === 't' || text === 'true';
    case OID.int8:
      return BigInt(text);
    case OID.date:
    case OID.timestamp:
    case OID.timestamptz:
      return new Date(parseDateTimeMs(text));
    case OID.bytea:
      return hexToBytes(text);
    case OID.json:
    case OID.jsonb:
      return JSON.parse(text);
    default:
      return text;
  }
}

// ---------------------------------------------------------------------------------------------
// JS value → SQL text (PLV8 ToDatum).

const objToString = Object.prototype.toString;
const isDate = (v: unknown): v is Date => typeof v === 'object' && v !== null && objToString.call(v) === '[object Date]';
const isObjectLike = (v: unknown): v is object => (typeof v === 'object' && v !== null) || typeof v === 'function';

/** `%.15g` as PostgreSQL's float8_numeric prints it (then numeric_in reads it). */
export function formatFloat15(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (n === 0) return '0';
  const s = n.toPrecision(15);
  const e = s.indexOf('e');
  const mant = e < 0 ? s : s.slice(0, e);
  const exp = e < 0 ? '' : s.slice(e);
  const trimmed = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
  return trimmed + exp;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Date → the timestamp text PLV8's EpochToTimestampTz stores (ms precision, UTC fields). */
function formatTimestampUtc(d: Date, withZone: boolean): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError('Invalid Date cannot be converted to a timestamp');
  const y = d.getUTCFullYear();
  const yearText = y <= 0 ? pad(1 - y, 4) : pad(y, 4);
  const frac = ms - Math.floor(ms / 1000) * 1000;
  const s = `${yearText}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(frac, 3)}`;
  return s + (withZone ? '+00' : '') + (y <= 0 ? ' BC' : '');
}

/** Date → date: PLV8's EpochToDate truncates (toward zero) the days since 2000-01-01. */
function formatDateFromEpoch(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError('Invalid Date cannot be converted to a date');
  const days = Math.trunc((ms - 946_684_800_000) / 86_400_000);
  const day = new Date(946_684_800_000 + days * 86_400_000);
  const y = day.getUTCFullYear();
  return `${y <= 0 ? pad(1 - y, 4) : pad(y, 4)}-${pad(day.getUTCMonth() + 1, 2)}-${pad(day.getUTCDate(), 2)}${y <= 0 ? ' BC' : ''}`;
}

/** PLV8's TimeAs8601 (used for Dates inside jsonb): gmtime seconds + (int)(fraction*1000). */
function timeAs8601(ms: number): string {
  const secs = Math.trunc(ms / 1000);
  const d = new Date(secs * 1000);
  const frac = Math.trunc((ms / 1000 - secs) * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(frac, 3)}Z`;
}

function bytesToHex(bytes: Uint8Array): string {
  let s = '\\x';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] as number).toString(16).padStart(2, '0');
  return s;
}

/** The bytes PLV8 sends for a typed array / ArrayBuffer into bytea, or null if not one. */
function bytesOf(v: unknown): Uint8Array | null {
  if (!isObjectLike(v)) return null;
  const tag = objToString.call(v);
  if (tag === '[object ArrayBuffer]') return new Uint8Array(v as ArrayBuffer);
  if (/^\[object (Uint8|Int8|Uint16|Int16|Uint32|Int32)Array\]$/.test(tag)) {
    const a = v as Uint8Array;
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  return null;
}

/** JSON number text of a Number the way PLV8's jsonb direct conversion stores it. */
function jsonbNumber(n: number): string {
  if (Number.isInteger(n) && n >= -2147483648 && n <= 4294967295 && !Object.is(n, -0)) return String(n);
  if (!Number.isFinite(n)) throw new Error(`cannot convert ${n} to jsonb`);
  return formatFloat15(n);
}

function jsonbScalar(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return jsonbNumber(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (isDate(v)) return Number.isNaN(v.getTime()) ? 'null' : JSON.stringify(timeAs8601(v.getTime()));
  return JSON.stringify(String(v)); // BigInt, Symbol (throws), ...: PLV8 stores their string form
}

function jsonbArray(a: readonly unknown[]): string {
  const parts: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const o = a[i];
    if (Array.isArray(o)) parts.push(jsonbArray(o));
    else if (isObjectLike(o)) parts.push(jsonbObject(o)); // a Date in an array becomes {} in PLV8
    else {
      const s = jsonbScalar(o);
      if (s !== undefined) parts.push(s);
    }
  }
  return `[${parts.join(',')}]`;
}

function jsonbObject(obj: object): string {
  const parts: string[] = [];
  for (const k of Object.keys(obj)) {
    const o = (obj as Record<string, unknown>)[k];
    let s: string | undefined;
    if (isDate(o)) s = jsonbScalar(o);
    else if (Array.isArray(o)) s = jsonbArray(o);
    else if (isObjectLike(o)) s = jsonbObject(o);
    else s = jsonbScalar(o);
    if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
  }
  return `{${parts.join(',')}}`;
}

/** JSON text of a JS value converted into jsonb by PLV8's direct conversion (3.1.9+/3.2.1+). */
export function toJsonbText(v: unknown): string {
  if (Array.isArray(v)) return jsonbArray(v);
  if (isObjectLike(v)) return jsonbObject(v);
  const s = jsonbScalar(v);
  return s ?? 'null';
}

function quoteArrayElement(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

function quoteRecordField(s: string): string {
  return `"${s.replace(/[\\"]/g, '$&$&')}"`;
}

/** "field name / property name mismatch" check and record literal for a composite type. */
function encodeRecord(v: unknown, info: TypeInfo, lookup: TypeLookup): string {
  if (!info.attrs) return String(v);
  if (!isObjectLike(v)) throw new Error('field name / property name mismatch');
  const obj = v as Record<string, unknown>;
  const fields = info.attrs.map(([name, oid]) => {
    if (!(name in obj)) throw new Error('field name / property name mismatch');
    const t = encodeValue(obj[name], lookup(oid), lookup);
    return t === null ? '' : quoteRecordField(t);
  });
  return `(${fields.join(',')})`;
}

/**
 * The text PostgreSQL receives when PLV8 converts the JS value `v` into type `info`
 * (ToDatum), or null for SQL NULL. Types without a special rule get `String(v)`, which the
 * server then parses with the type's input function — as PLV8 does.
 */
export function encodeValue(v: unknown, info: TypeInfo, lookup: TypeLookup): string | null {
  if (info.category === 'A') {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v)) throw new Error('value is not an Array');
    const elemInfo = lookup(info.elem);
    const parts = Array.from(v, (e) => { // a hole is NULL, as in PLV8 (map would skip it)
      const t = elemInfo.category === 'C' ? encodeRecordOrNull(e, elemInfo, lookup) : encodeValue(e, elemInfo, lookup);
      return t === null ? 'NULL' : quoteArrayElement(t);
    });
    return `{${parts.join(info.delim)}}`;
  }
  if (info.category === 'C') return encodeRecordOrNull(v, info, lookup);
  if (v === undefined || v === null) return null;
  switch (info.oid) {
    case OID.oid:
      if (typeof v === 'number') return String(v >>> 0);
      break;
    case OID.bool:
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      break;
    case OID.int2:
      if (typeof v === 'number') return String(((v | 0) << 16) >> 16);
      break;
    case OID.int4:
      if (typeof v === 'number') return String(v | 0);
      break;
    case OID.int8:
      if (typeof v === 'bigint') return BigInt.asIntN(64, v).toString();
      if (typeof v === 'number') {
        if (Number.isNaN(v)) return '0';
        const t = Math.trunc(v);
        if (t >= 9.223372036854776e18) return '9223372036854775807';
        if (t <= -9.223372036854776e18) return '-9223372036854775808';
        return BigInt(t).toString();
      }
      break;
    case OID.float4:
      if (typeof v === 'number') return String(Math.fround(v));
      break;
    case OID.float8:
      if (typeof v === 'number') return String(v);
      break;
    case OID.numeric:
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number') return formatFloat15(v);
      break;
    case OID.date:
      if (isDate(v)) return formatDateFromEpoch(v);
      break;
    case OID.timestamp:
      if (isDate(v)) return formatTimestampUtc(v, false);
      break;
    case OID.timestamptz:
      if (isDate(v)) return formatTimestampUtc(v, true);
      break;
    case OID.bytea: {
      const b = bytesOf(v);
      if (b) return bytesToHex(b);
      break;
    }
    case OID.jsonb:
      return toJsonbText(v);
    case OID.json:
      if (isObjectLike(v)) {
        const s = JSON.stringify(v);
        return s === undefined ? 'undefined' : s;
      }
      break;
    default:
      break;
  }
  return String(v);
}

function encodeRecordOrNull(v: unknown, info: TypeInfo, lookup: TypeLookup): string | null {
  if (v === undefined || v === null) return null;
  return encodeRecord(v, info, lookup);
}

// ---------------------------------------------------------------------------------------------
// SQL quoting (plv8.quote_*), same results as the SQL functions.

export function quoteLiteral(s: unknown): string {
  const str = String(s);
  const escaped = str.replace(/'/g, "''");
  return str.includes('\\') ? `E'${escaped.replace(/\\/g, '\\\\')}'` : `'${escaped}'`;
}

export function quoteNullable(s: unknown): string {
  return s === null || s === undefined ? 'NULL' : quoteLiteral(s);
}

/** Reserved key words that quote_ident always quotes (PostgreSQL 15, RESERVED_KEYWORD). */
const RESERVED = new Set(('all analyse analyze and any array as asc asymmetric both case cast check collate column ' +
  'constraint create current_catalog current_date current_role current_time current_timestamp current_user default ' +
  'deferrable desc distinct do else end except false fetch for foreign from grant group having in initially ' +
  'intersect into lateral leading limit localtime localtimestamp not null offset on only or order placing primary ' +
  'references returning select session_user some symmetric table then to trailing true union unique user using ' +
  'variadic when where window with authorization binary collation concurrently cross current_schema freeze full ' +
  'ilike inner is isnull join left like natural notnull outer overlaps right similar tablesample verbose ' +
  'between bigint bit boolean char character coalesce dec decimal exists extract float greatest grouping inout int ' +
  'integer interval least national nchar none normalize nullif numeric out overlay position precision real row ' +
  'setof smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat xmlelement xmlexists ' +
  'xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable').split(' '));

export function quoteIdent(s: unknown): string {
  const str = String(s);
  if (/^[a-z_][a-z0-9_]*$/.test(str) && !RESERVED.has(str)) return str;
  return `"${str.replace(/"/g, '""')}"`;
}
