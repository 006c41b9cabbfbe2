/**
 * One-dimensional arrays of text, int4, numeric and timestamptz in PostgreSQL's binary format
 * (array_recv and the element's recv function), for the parameters of a statement.
 *
 * PLV8 builds an array parameter in the server: each element goes through the element type's
 * input function (a string into numeric is numeric_in, exact; a string into timestamptz is
 * timestamptz_in). Over a connection the same array is sent as one literal that the server
 * splits and parses again: for a write of 5,000 allocation rows that is the larger part of the
 * server's time. The binary form carries the same values ready made.
 *
 * Only values whose binary form is certain to be the value the input function would give are
 * encoded; for anything else (a number into numeric, a Date, a time without an explicit UTC
 * offset, a NUL in a text) `encodeArray` returns null and the caller sends the literal as
 * before, so the server's own input function decides and errors are the server's.
 */

export const BINARY_ELEMENT_OIDS = { text: 25, int4: 23, numeric: 1700, timestamptz: 1184 } as const;

/** The built-in array types (not domains over them) whose parameters go in the binary form, by element type. */
export const BINARY_ARRAY_TYPES: ReadonlyMap<number, number> = new Map([
  [1009, BINARY_ELEMENT_OIDS.text],
  [1007, BINARY_ELEMENT_OIDS.int4],
  [1231, BINARY_ELEMENT_OIDS.numeric],
  [1185, BINARY_ELEMENT_OIDS.timestamptz],
]);

/** Limits of the fast forms; longer values go as text (say why: numeric_in accepts far more). */
const MAX_NUMERIC_CHARS = 1000;
const MAX_TEXT_CHARS = 1 << 20;
/** Microseconds since 2000-01-01 stay exact doubles (< 2^53) between these years. */
const MIN_YEAR = 1800;
const MAX_YEAR = 2250;
const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;

// eslint-disable-next-line no-control-regex
const NUL = /\u0000/;
/** Days of each month in a common year (for the day-of-month check). */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Bytes of the header of a one-dimensional array (ndim, flags, element type, length, lower bound). */
const HEADER = 20;

/*
 * One encoder per element type, each with its own loop (a call site that sees one function
 * stays inlined), writing big-endian into a buffer sized before the first element. Each
 * returns the end of what it wrote, or -1 when an element has no certain binary form. A column
 * often repeats its last value (a sell's price, time and id over its rows; the symbol and
 * account over a symbol's): the bytes of the last element are copied then.
 */

/** b[p..] = b[from..to] (a few bytes: a loop costs less than copyWithin's call). */
function repeat(b: Uint8Array, p: number, from: number, to: number): number {
  for (let j = from; j < to; j++) b[p++] = b[j] as number;
  return p;
}

function put32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

function writeTexts(values: readonly unknown[], b: Uint8Array, p: number): number {
  let last: unknown = null, lastAt = 0, lastEnd = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      put32(b, p, -1);
      p += 4;
      continue;
    }
    if (v === last) {
      p = repeat(b, p, lastAt, lastEnd);
      continue;
    }
    const s = v as string;
    const n = s.length;
    const at = p + 4;
    let k = 0;
    for (; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c === 0 || c > 0x7f) break;
      b[at + k] = c;
    }
    let end = at + k;
    if (k < n) {
      if (NUL.test(s)) return -1;
      end = utf8Into(s, k, b, end);
    }
    put32(b, p, end - at);
    last = v;
    lastAt = p;
    lastEnd = end;
    p = end;
  }
  return p;
}

/**
 * UTF-8 of s[i..] into b at p (the runtime runs in a bare vm context: no TextEncoder). A lone
 * surrogate becomes U+FFFD, as node-postgres' own encoding of a text parameter does.
 */
function utf8Into(s: string, i: number, b: Uint8Array, p: number): number {
  const n = s.length;
  for (; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
      continue;
    }
    if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        b[p++] = 0xf0 | (c >> 18);
        b[p++] = 0x80 | ((c >> 12) & 0x3f);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    b[p++] = 0xe0 | (c >> 12);
    b[p++] = 0x80 | ((c >> 6) & 0x3f);
    b[p++] = 0x80 | (c & 0x3f);
  }
  return p;
}

/** As PLV8 converts a Number into int4: ToInt32 (truncates and wraps). */
function writeInt4s(values: readonly unknown[], b: Uint8Array, p: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      put32(b, p, -1);
      p += 4;
      continue;
    }
    put32(b, p, 4);
    put32(b, p + 4, (v as number) | 0);
    p += 8;
  }
  return p;
}

/**
 * `-?digits(.digits)?` only: what numeric_in reads the same way whatever the settings. The
 * base-10000 digits go straight after a 12-byte header filled in at the end: the integer part
 * grouped from the point leftwards, the fraction from the point rightwards, leading and
 * trailing zero groups left out (as numeric_in stores them).
 */
function writeNumerics(values: readonly unknown[], b: Uint8Array, p: number): number {
  let last: unknown = null, lastAt = 0, lastEnd = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      put32(b, p, -1);
      p += 4;
      continue;
    }
    if (v === last) {
      p = repeat(b, p, lastAt, lastEnd);
      continue;
    }
    const s = v as string;
    const n = s.length;
    let k = s.charCodeAt(0) === 45 ? 1 : 0;
    const neg = k === 1;
    const point = s.indexOf('.', k);
    const dot = point < 0 ? n : point;
    if (dot === k || dot === n - 1) return -1;
    const dscale = point < 0 ? 0 : n - dot - 1;
    const head = p + 4;
    let q = head + 8;
    let count = 0;
    while (k < dot && s.charCodeAt(k) === 48) k++; // leading zeros
    // Integer part: groups from the left, the first one short (and not zero); each character checked once.
    let weight = ((dot - k + 3) >> 2) - 1;
    let started = k < dot;
    let width = (dot - k) % 4 || 4;
    for (let j = k; j < dot; j += width, width = 4) {
      let d = 0;
      for (let m = 0; m < width; m++) {
        const c = s.charCodeAt(j + m) - 48;
        if (c < 0 || c > 9) return -1;
        d = d * 10 + c;
      }
      b[q] = d >>> 8;
      b[q + 1] = d;
      q += 2;
      count++;
    }
    if (!started) weight = 0;
    // Fraction: groups of four from the point, the last padded with zeros; the first has weight -1.
    for (let j = dot + 1; j < n; j += 4) {
      let d = 0;
      for (let m = 0; m < 4; m++) {
        let c = 0;
        if (j + m < n) {
          c = s.charCodeAt(j + m) - 48;
          if (c < 0 || c > 9) return -1;
        }
        d = d * 10 + c;
      }
      if (!started) {
        weight--;
        if (d === 0) continue;
        started = true;
      }
      b[q] = d >>> 8;
      b[q + 1] = d;
      q += 2;
      count++;
    }
    // Trailing zero groups (of 10000, of 1.00000) carry no digits.
    while (count > 0 && b[q - 2] === 0 && b[q - 1] === 0) {
      q -= 2;
      count--;
    }
    if (count === 0) weight = 0;
    put32(b, p, 8 + 2 * count);
    b[head] = count >>> 8;
    b[head + 1] = count;
    b[head + 2] = weight >>> 8;
    b[head + 3] = weight;
    const sign = neg && count > 0 ? NUMERIC_NEG : NUMERIC_POS;
    b[head + 4] = sign >>> 8;
    b[head + 5] = sign;
    b[head + 6] = dscale >>> 8;
    b[head + 7] = dscale;
    last = v;
    lastAt = p;
    lastEnd = q;
    p = q;
  }
  return p;
}

function digitsAt(s: string, at: number, len: number): number {
  let d = 0;
  for (let j = 0; j < len; j++) {
    const c = s.charCodeAt(at + j) - 48;
    if (c < 0 || c > 9) return -1;
    d = d * 10 + c;
  }
  return d;
}

/** Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (no Date: see global-bindings.ts). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
const PG_EPOCH_DAYS = daysFromCivil(2000, 1, 1);

/**
 * `YYYY-MM-DD[T ]HH:MI:SS[.f{1,6}]` then `Z`, `+00`, `+0000` or `+00:00`: an instant that
 * timestamptz_in reads the same whatever DateStyle and TimeZone say.
 */
function writeTimestamptzs(values: readonly unknown[], b: Uint8Array, p: number): number {
  let last: unknown = null, lastAt = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      put32(b, p, -1);
      p += 4;
      continue;
    }
    if (v === last) {
      p = repeat(b, p, lastAt, lastAt + 12);
      continue;
    }
    const s = v as string;
    const n = s.length;
    if (n < 20 || n > 32) return -1;
    const sep = s.charCodeAt(10);
    if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 32) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return -1;
    const year = digitsAt(s, 0, 4), month = digitsAt(s, 5, 2), day = digitsAt(s, 8, 2);
    const hour = digitsAt(s, 11, 2), minute = digitsAt(s, 14, 2), second = digitsAt(s, 17, 2);
    if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
    const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (day > (MONTH_DAYS[month - 1] as number) + (leap ? 1 : 0)) return -1;
    let k = 19;
    let micros = 0;
    if (s.charCodeAt(k) === 46) {
      let j = k + 1;
      let scale = 100000;
      while (j < n && j - k <= 6) {
        const c = s.charCodeAt(j) - 48;
        if (c < 0 || c > 9) break;
        micros += c * scale;
        scale /= 10;
        j++;
      }
      if (j === k + 1) return -1;
      k = j;
    }
    const rest = n - k;
    const utc = rest === 1 ? s.charCodeAt(k) === 90
      : s.startsWith('+00', k) && (rest === 3 || (rest === 5 && s.startsWith('00', k + 3)) || (rest === 6 && s.startsWith(':00', k + 3)));
    if (!utc) return -1;
    const secs = (daysFromCivil(year, month, day) - PG_EPOCH_DAYS) * 86400 + hour * 3600 + minute * 60 + second;
    const total = secs * 1000000 + micros;
    const hi = Math.floor(total / 4294967296);
    put32(b, p, 8);
    put32(b, p + 4, hi);
    put32(b, p + 8, total - hi * 4294967296);
    last = v;
    lastAt = p;
    p += 12;
  }
  return p;
}

let scratch = new Uint8Array(1 << 16);

const WRITERS = new Map<number, (values: readonly unknown[], b: Uint8Array, p: number) => number>([
  [BINARY_ELEMENT_OIDS.text, writeTexts],
  [BINARY_ELEMENT_OIDS.int4, writeInt4s],
  [BINARY_ELEMENT_OIDS.numeric, writeNumerics],
  [BINARY_ELEMENT_OIDS.timestamptz, writeTimestamptzs],
]);

/**
 * Most bytes the array can take (header and length words included) and whether it has a
 * NULL, or null when an element is of a kind its type's writer does not take (the writer
 * may still refuse a value it takes). Text: up to three bytes per UTF-16 unit; numeric: a
 * base-10000 digit per four characters, plus one for the split at the point.
 */
function sized(oid: number, values: readonly unknown[]): { size: number; nulls: boolean } | null {
  let size = HEADER;
  let nulls = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      size += 4;
      nulls = true;
      continue;
    }
    switch (oid) {
      case BINARY_ELEMENT_OIDS.int4:
        if (typeof v !== 'number') return null;
        size += 8;
        break;
      case BINARY_ELEMENT_OIDS.text:
        if (typeof v !== 'string' || v.length > MAX_TEXT_CHARS) return null;
        size += 4 + v.length * 3;
        break;
      case BINARY_ELEMENT_OIDS.numeric:
        if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NUMERIC_CHARS) return null;
        size += 14 + 2 * ((v.length + 3) >> 2);
        break;
      default: // timestamptz
        if (typeof v !== 'string') return null;
        size += 12;
    }
  }
  return { size, nulls };
}

/**
 * The binary form of a one-dimensional array of `elemOid` (null and undefined elements are
 * NULL), or null when some element has no certain binary form.
 */
export function encodeArray(elemOid: number | keyof typeof BINARY_ELEMENT_OIDS, values: readonly unknown[]): Uint8Array | null {
  const oid = typeof elemOid === 'number' ? elemOid : BINARY_ELEMENT_OIDS[elemOid];
  const write = WRITERS.get(oid);
  if (write === undefined) return null;
  // Each element read once, into a plain array, as PLV8 converts them: a getter or a Proxy must
  // not see the sizing and the writing read it again (a value that changes between them, or a
  // statement run from a getter that reuses `scratch` under this call). Holes are NULL.
  const elems: unknown[] = Array.prototype.slice.call(values);
  const n = elems.length;
  const bound = sized(oid, elems);
  if (bound === null) return null;
  const size = bound.size;
  // Written into a buffer kept between calls, then copied out at its exact length: the bound
  // is up to three times the size for text, and a view posted to the database thread would
  // carry its whole buffer.
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
  const b = scratch;
  put32(b, 0, n === 0 ? 0 : 1);
  put32(b, 4, bound.nulls ? 1 : 0);
  put32(b, 8, oid);
  if (n === 0) return b.slice(0, 12);
  put32(b, 12, n);
  put32(b, 16, 1);
  const end = write(elems, b, HEADER);
  return end < 0 ? null : b.slice(0, end);
}
