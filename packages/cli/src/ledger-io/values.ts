/**
 * Validation of values read from files and flags. Money and sizes stay decimal text end to
 * end (PostgreSQL numeric does the arithmetic); nothing here goes through a binary float.
 * Each parser returns the normalized value or throws a ValueError whose message names the
 * problem; callers prefix the file line and column.
 */

export class ValueError extends Error {}

const MAX_INT_DIGITS = 16; // the ledger caps sizes, prices and fees at 1e15
/** 1e15 as digits: integer parts without leading zeros compare as text when they are as long. */
const MAX_INT = '1000000000000000';

export interface DecimalRule {
  /** Zero allowed (fees); otherwise the value must be > 0. */
  allowZero?: boolean;
  /** Negative values allowed (balances are never negative; this is for completeness). */
  allowNegative?: boolean;
  maxScale?: number;
}

/**
 * A plain decimal number such as `12`, `0.5`, `1234.000001`: no exponent, no thousands
 * separators. Trailing zeros of the fraction are dropped; at most 18 decimal places remain.
 */
export function parseDecimal(raw: string, rule: DecimalRule = {}): string {
  const v = raw.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(v);
  if (v === '' ) throw new ValueError('is empty');
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    if (/^[+-]?[\d.,]+$/.test(v) && v.includes(',')) throw new ValueError(`${JSON.stringify(raw)} has a thousands separator or decimal comma (write 1234.5)`);
    if (/e/i.test(v) && /\d/.test(v)) throw new ValueError(`${JSON.stringify(raw)} uses an exponent (write the plain decimal)`);
    throw new ValueError(`${JSON.stringify(raw)} is not a decimal number`);
  }
  const negative = m[1] === '-';
  const intPart = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const maxScale = rule.maxScale ?? 18;
  if (frac.length > maxScale) throw new ValueError(`${JSON.stringify(raw)} has more than ${maxScale} decimal places`);
  if (intPart.length > MAX_INT_DIGITS || (intPart.length === MAX_INT_DIGITS && (intPart > MAX_INT || (intPart === MAX_INT && frac !== '')))) {
    throw new ValueError(`${JSON.stringify(raw)} is larger than 1e15`);
  }
  const zero = intPart === '0' && frac === '';
  if (negative && !zero && !rule.allowNegative) throw new ValueError(`${JSON.stringify(raw)} is negative`);
  if (zero && !rule.allowZero) throw new ValueError(`${JSON.stringify(raw)} must be greater than 0`);
  const body = frac ? `${intPart}.${frac}` : intPart;
  return negative && !zero ? `-${body}` : body;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The ledger's time range (UTC): 1970-01-01T00:00Z ≤ t < 10000-01-01T00:00Z. */
export const MIN_TIME_MS = 0;
export const END_TIME_MS = Date.UTC(10000, 0, 1);

export interface IsoTime {
  /** ISO text with an explicit offset, for PostgreSQL (keeps microseconds). */
  text: string;
  /** Milliseconds since the epoch (UTC), truncated below the millisecond. */
  ms: number;
  /** Whether the input digits below the millisecond were all zero. */
  exactMs: boolean;
  dateOnly: boolean;
}

export interface TimeRule {
  /** Offset-less times are UTC (else they are an error naming --utc). */
  assumeUtc?: boolean;
  /** A bare date (YYYY-MM-DD) is midnight UTC. */
  allowDate?: boolean;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s?(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Whether `raw` has the shape of an ISO-8601 date or time (calendar validity aside). */
export function looksLikeIsoTime(raw: string): boolean {
  return ISO_TIME.test(raw.trim());
}

/**
 * The one time parser (files and flags): ISO 8601, calendar-checked (no Feb 30, no 24:61),
 * within the ledger's range in UTC (after applying the offset), never read in the machine's
 * local zone. Throws a ValueError saying what is wrong.
 */
export function parseIsoTime(raw: string, rule: TimeRule = {}): IsoTime {
  const v = raw.trim();
  const m = ISO_TIME.exec(v);
  if (!m || (m[4] === undefined && !rule.allowDate)) {
    throw new ValueError(`${JSON.stringify(raw)} is not an ISO-8601 time such as 2025-01-31T12:00:00Z`);
  }
  const [, y, mo, d, h = '00', mi = '00', s = '00', fracPart = '', zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 && leap ? 29 : DAYS[month - 1];
  if (month < 1 || month > 12 || dim === undefined || day < 1 || day > dim) throw new ValueError(`${JSON.stringify(raw)} is not a calendar date`);
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw new ValueError(`${JSON.stringify(raw)} is not a time of day`);
  const dateOnly = m[4] === undefined;
  let offset = zone;
  if (!offset) {
    if (!rule.assumeUtc && !dateOnly) throw new ValueError(`${JSON.stringify(raw)} has no UTC offset (add Z or +HH:MM, or pass --utc to read such times as UTC)`);
    offset = 'Z';
  }
  if (offset === 'z' || offset === 'UTC') offset = 'Z';
  let offsetMinutes = 0;
  if (offset !== 'Z') {
    const om = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset)!;
    if (Number(om[2]) > 14 || Number(om[3] ?? 0) > 59) throw new ValueError(`${JSON.stringify(raw)} has an impossible UTC offset`);
    offset = `${om[1]}${om[2]}:${om[3] ?? '00'}`;
    offsetMinutes = (om[1] === '-' ? -1 : 1) * (Number(om[2]) * 60 + Number(om[3] ?? 0));
  }
  const digits = fracPart.slice(1);
  const ms = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), Number(digits.slice(0, 3).padEnd(3, '0'))) - offsetMinutes * 60_000;
  if (year < 1970 || !(ms >= MIN_TIME_MS && ms < END_TIME_MS)) {
    throw new ValueError(`${JSON.stringify(raw)} is out of range (times from 1970-01-01 up to 9999-12-31 UTC, after applying the offset)`);
  }
  return { text: `${y}-${mo}-${d}T${h}:${mi}:${s}${fracPart}${offset}`, ms, exactMs: /^0*$/.test(digits.slice(3)), dateOnly };
}

/**
 * An ISO-8601 timestamp with a UTC offset (`2025-01-02T03:04:05.123456Z`, `... +01:00`).
 * Without an offset it is an error unless `assumeUtc` (then it is UTC). Returned as text
 * for PostgreSQL to parse (keeps microseconds, which a JS Date would drop).
 */
export function parseTimestamp(raw: string, opts: { assumeUtc?: boolean } = {}): string {
  return parseIsoTime(raw, { assumeUtc: opts.assumeUtc }).text;
}

/** buy or sell, any case. */
export function parseSide(raw: string): 'buy' | 'sell' {
  const v = raw.trim().toLowerCase();
  if (v === 'buy' || v === 'sell') return v;
  throw new ValueError(`${JSON.stringify(raw)} is neither buy nor sell`);
}

/** The ledger's symbol shape BASE-QUOTE (the watcher checks NOTIFY payloads with it too). */
export const SYMBOL_PATTERN = /^[A-Za-z0-9._]{1,32}-[A-Za-z0-9._]{1,32}$/;

/** BASE-QUOTE (SOL-USD); `SOL/USD` and `SOL_USD`-free forms are not guessed, only `/` becomes `-`. Upper-cased. */
export function parseSymbol(raw: string): string {
  const v = raw.trim().replace('/', '-').toUpperCase();
  if (!SYMBOL_PATTERN.test(v)) throw new ValueError(`${JSON.stringify(raw)} is not a symbol of the form BASE-QUOTE (e.g. SOL-USD)`);
  return v;
}

/** An asset code such as SOL or BTC. */
export function parseAsset(raw: string): string {
  const v = raw.trim().toUpperCase();
  if (!/^[A-Z0-9._]{1,32}$/.test(v)) throw new ValueError(`${JSON.stringify(raw)} is not an asset code such as SOL`);
  return v;
}

/**
 * Characters an order id may not hold: exactly the ledger's rule (migration 010, `hidden`;
 * a test compares the two code point by code point), plus NUL and the surrogates, which
 * PostgreSQL text cannot hold at all. C0/C1 controls and DEL (tab, LF, CR included), spaces
 * other than U+0020, the invisible format characters (soft hyphen, zero-width spaces and
 * joiners, bidi controls, BOM, Arabic letter mark, tags), fillers, the combining grapheme
 * joiner, variation selectors, private use and non-characters.
 */
export const ID_FORBIDDEN_CHARS =
  '\\u0000-\\u001F\\u007F-\\u009F\\u00A0\\u00AD\\u1680\\u180E\\u2000-\\u200F\\u2028-\\u202F\\u205F-\\u206F\\u3000\\uFEFF' +
  '\\u034F\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890-\\u0891\\u08E2\\u115F\\u1160\\u180B-\\u180F\\u3164' +
  '\\uD800-\\uF8FF\\uFE00-\\uFE0F\\uFFA0\\uFFF0-\\uFFFF\\u{110BD}\\u{110CD}\\u{13430}-\\u{1345F}' +
  '\\u{1BCA0}-\\u{1BCA3}\\u{1D173}-\\u{1D17A}\\u{E0000}-\\u{E0FFF}\\u{F0000}-\\u{10FFFF}';
const ID_FORBIDDEN = new RegExp(`[${ID_FORBIDDEN_CHARS}]`, 'u');

/** The ledger's order_id length limit, in characters (code points, as PostgreSQL counts). */
export const MAX_ID_CHARS = 200;

export function charCount(v: string): number {
  let n = 0;
  for (const _ of v) n++;
  return n;
}

/**
 * An identifier (order id, trade id): surrounding ASCII spaces dropped; then 1 to `max`
 * characters (code points), none of ID_FORBIDDEN_CHARS.
 */
export function parseId(raw: string, max = MAX_ID_CHARS): string {
  const v = raw.replace(/^ +| +$/g, '');
  if (v === '') throw new ValueError('is empty');
  const n = charCount(v);
  if (n > max) throw new ValueError(`is too long: ${n} characters, at most ${max}`);
  const bad = ID_FORBIDDEN.exec(v);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new ValueError(`${JSON.stringify(raw)} contains an invisible, control or non-ASCII space character (U+${cp})`);
  }
  return v;
}
