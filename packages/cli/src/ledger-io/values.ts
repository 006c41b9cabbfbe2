/**
 * Validation of values read from files and flags. Money and sizes stay decimal text end to
 * end (PostgreSQL numeric does the arithmetic); nothing here goes through a binary float.
 * Each parser returns the normalized value or throws a ValueError whose message names the
 * problem; callers prefix the file line and column.
 */

export class ValueError extends Error {}

const MAX_INT_DIGITS = 16; // the ledger caps sizes, prices and fees at 1e15

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
  if (intPart.length > MAX_INT_DIGITS || BigInt(intPart) > 10n ** 15n || (BigInt(intPart) === 10n ** 15n && frac !== '')) {
    throw new ValueError(`${JSON.stringify(raw)} is larger than 1e15`);
  }
  const zero = intPart === '0' && frac === '';
  if (negative && !zero && !rule.allowNegative) throw new ValueError(`${JSON.stringify(raw)} is negative`);
  if (zero && !rule.allowZero) throw new ValueError(`${JSON.stringify(raw)} must be greater than 0`);
  const body = frac ? `${intPart}.${frac}` : intPart;
  return negative && !zero ? `-${body}` : body;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * An ISO-8601 timestamp with a UTC offset (`2025-01-02T03:04:05.123456Z`, `... +01:00`).
 * Without an offset it is an error unless `assumeUtc` (then it is UTC). Returned as text
 * for PostgreSQL to parse (keeps microseconds, which a JS Date would drop).
 */
export function parseTimestamp(raw: string, opts: { assumeUtc?: boolean } = {}): string {
  const v = raw.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s?(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/.exec(v);
  if (!m) throw new ValueError(`${JSON.stringify(raw)} is not an ISO-8601 time such as 2025-01-31T12:00:00Z`);
  const [, y, mo, d, h, mi, s, fracPart, zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 && leap ? 29 : DAYS[month - 1];
  if (month < 1 || month > 12 || dim === undefined || day < 1 || day > dim) throw new ValueError(`${JSON.stringify(raw)} is not a calendar date`);
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) throw new ValueError(`${JSON.stringify(raw)} is not a time of day`);
  if (year < 1970 || year > 9999) throw new ValueError(`${JSON.stringify(raw)} is out of range`);
  let offset = zone;
  if (!offset) {
    if (!opts.assumeUtc) throw new ValueError(`${JSON.stringify(raw)} has no UTC offset (add Z or +HH:MM, or pass --utc to read such times as UTC)`);
    offset = 'Z';
  }
  if (offset === 'z' || offset === 'UTC') offset = 'Z';
  if (offset !== 'Z') {
    const om = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset)!;
    if (Number(om[2]) > 14 || Number(om[3] ?? 0) > 59) throw new ValueError(`${JSON.stringify(raw)} has an impossible UTC offset`);
    offset = `${om[1]}${om[2]}:${om[3] ?? '00'}`;
  }
  return `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${fracPart ?? ''}${offset}`;
}

/** buy or sell, any case. */
export function parseSide(raw: string): 'buy' | 'sell' {
  const v = raw.trim().toLowerCase();
  if (v === 'buy' || v === 'sell') return v;
  throw new ValueError(`${JSON.stringify(raw)} is neither buy nor sell`);
}

const SYMBOL = /^[A-Za-z0-9._]{1,32}-[A-Za-z0-9._]{1,32}$/;

/** BASE-QUOTE (SOL-USD); `SOL/USD` and `SOL_USD`-free forms are not guessed, only `/` becomes `-`. Upper-cased. */
export function parseSymbol(raw: string): string {
  const v = raw.trim().replace('/', '-').toUpperCase();
  if (!SYMBOL.test(v)) throw new ValueError(`${JSON.stringify(raw)} is not a symbol of the form BASE-QUOTE (e.g. SOL-USD)`);
  return v;
}

/** An asset code such as SOL or BTC. */
export function parseAsset(raw: string): string {
  const v = raw.trim().toUpperCase();
  if (!/^[A-Z0-9._]{1,32}$/.test(v)) throw new ValueError(`${JSON.stringify(raw)} is not an asset code such as SOL`);
  return v;
}

/** An identifier (order id, trade id): non-blank, no control characters, at most `max` characters. */
export function parseId(raw: string, max = 120): string {
  const v = raw.trim();
  if (v === '') throw new ValueError('is empty');
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new ValueError(`${JSON.stringify(raw)} contains control characters`);
  if (v.length > max) throw new ValueError(`is longer than ${max} characters`);
  return v;
}

/**
 * A decimal text rounded to `places` (half away from zero) for display, exactly (BigInt,
 * never a float). Non-decimal input (null, '') is returned as is.
 */
export function roundDecimal<T extends string | null | undefined>(text: T, places = 2): T | string {
  if (text === null || text === undefined) return text;
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return text;
  const [, sign, int, frac = ''] = m;
  if (frac.length <= places) return `${sign}${int}${places > 0 ? `.${frac.padEnd(places, '0')}` : ''}`;
  let units = BigInt(int! + frac.slice(0, places));
  if (Number(frac[places]) >= 5) units += 1n;
  const digits = units.toString().padStart(places + 1, '0');
  const body = places > 0 ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return /^[0.]+$/.test(body) ? body : `${sign}${body}`;
}
