/**
 * Exact decimal arithmetic on scaled BigInt.
 *
 * A decimal is an integer coefficient and a scale: value = coefficient / 10^scale. Parsing,
 * addition, subtraction and multiplication are exact; the only rounding operation is
 * {@link divRoundHalfAway} / {@link roundToScale}, which rounds half away from zero — the rule of
 * PostgreSQL's `round(numeric, s)`.
 *
 * The allocation engine keeps every input amount (size, price, fee) at scale {@link AMOUNT_SCALE}
 * (18), keeps products (price × size) exact at scale {@link PRODUCT_SCALE} (36), and rounds only
 * fee shares, at {@link MONEY_SCALE} (18).
 *
 * Text format accepted: plain decimals only, `digits[.digits]`, optionally with a leading `-` where
 * the caller allows negatives. No `+`, no exponent, no spaces, no `.5` / `5.`, no NaN/Infinity.
 * Text produced: canonical plain decimals — no exponent, no trailing fractional zeros, no leading
 * zeros, no `-0` (e.g. `1.5`, `0`, `-0.25`, `0.000000000000000001`), which PostgreSQL parses into
 * `numeric` exactly.
 */

/**
 * Scale (decimal places) at which fee shares are rounded: 18 places, half away from zero.
 * A fee share is therefore within 1e-18 of fee × allocated / size, and cumulative rounding makes
 * the shares of one fee sum exactly to the fee.
 */
export const MONEY_SCALE = 18;
/** Maximum decimal places of an input amount (size, price, fee); all are held at this scale. */
export const AMOUNT_SCALE = 18;
/** Scale of exact products of two amounts (price × size) and of the money columns built on them. */
export const PRODUCT_SCALE = AMOUNT_SCALE * 2;

export interface Decimal {
  readonly coefficient: bigint;
  readonly scale: number;
}

const POW10_CACHE: bigint[] = [];
{
  let p = 1n;
  for (let i = 0; i <= 80; i++) {
    POW10_CACHE.push(p);
    p *= 10n;
  }
}

/** 10^n as a bigint (cached for n ≤ 80). */
export function pow10(n: number): bigint {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`pow10: bad exponent ${n}`);
  const cached = POW10_CACHE[n];
  return cached !== undefined ? cached : 10n ** BigInt(n);
}

const ZEROS: string[] = [];
for (let i = 0, z = ''; i <= 80; i++, z += '0') ZEROS.push(z);

function zeros(n: number): string {
  return ZEROS[n] ?? '0'.repeat(n);
}

/** Why a text is not an acceptable decimal. */
export type DecimalSyntaxIssue = 'not-a-string' | 'syntax' | 'negative' | 'too-many-places';

/** Thrown by the parsers; callers turn it into a message naming their field. */
export class DecimalSyntaxError extends Error {
  readonly issue: DecimalSyntaxIssue;
  readonly text: unknown;
  constructor(issue: DecimalSyntaxIssue, text: unknown, maxScale: number) {
    super(describeIssue(issue, maxScale));
    this.name = 'DecimalSyntaxError';
    this.issue = issue;
    this.text = text;
  }
}

/** Human wording of a syntax issue, used in error messages. */
export function describeIssue(issue: DecimalSyntaxIssue, maxScale: number = AMOUNT_SCALE): string {
  switch (issue) {
    case 'not-a-string':
      return 'must be a decimal string';
    case 'syntax':
      return 'must be a plain decimal (digits with an optional fraction; no exponent, sign, spaces, NaN or Infinity)';
    case 'negative':
      return 'must not be negative';
    case 'too-many-places':
      return `must have at most ${maxScale} decimal places`;
  }
}

/**
 * Parses plain decimal text to its coefficient at `scale`: "1.25" at scale 18 → 1250000000000000000n.
 * Fraction digits beyond `scale` are accepted only when they are all zeros (the value itself then
 * has at most `scale` places); otherwise 'too-many-places'. Never rounds.
 */
export function parseFixed(text: string, scale: number, allowNegative: boolean): bigint {
  if (typeof text !== 'string') throw new DecimalSyntaxError('not-a-string', text, scale);
  const n = text.length;
  let start = 0;
  if (n > 0 && text.charCodeAt(0) === 45 /* - */) {
    if (!allowNegative) {
      // Still distinguish "-abc" (syntax) from "-1" (negative) for a precise message.
      checkDigits(text, 1, scale);
      throw new DecimalSyntaxError('negative', text, scale);
    }
    start = 1;
  }
  const dot = checkDigits(text, start, scale);
  let digits: string;
  if (dot < 0) {
    digits = text.slice(start) + zeros(scale);
  } else {
    let fracLen = n - dot - 1;
    if (fracLen > scale) {
      for (let i = dot + 1 + scale; i < n; i++) {
        if (text.charCodeAt(i) !== 48) throw new DecimalSyntaxError('too-many-places', text, scale);
      }
      fracLen = scale;
    }
    digits = text.slice(start, dot) + text.slice(dot + 1, dot + 1 + fracLen) + zeros(scale - fracLen);
  }
  const value = BigInt(digits);
  return start === 1 ? -value : value;
}

/** Validates `digits[.digits]` from `start`; returns the dot position or -1. */
function checkDigits(text: string, start: number, scale: number): number {
  const n = text.length;
  if (n === start) throw new DecimalSyntaxError('syntax', text, scale);
  let dot = -1;
  for (let i = start; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (dot >= 0) throw new DecimalSyntaxError('syntax', text, scale);
      dot = i;
    } else if (c < 48 || c > 57) {
      throw new DecimalSyntaxError('syntax', text, scale);
    }
  }
  if (dot === start || dot === n - 1) throw new DecimalSyntaxError('syntax', text, scale);
  return dot;
}

/**
 * True when syntactically valid decimal `text` is already in canonical form, so it can be reused
 * as output without formatting. Cheap: looks at a few characters only.
 */
export function isCanonicalText(text: string): boolean {
  const n = text.length;
  const neg = text.charCodeAt(0) === 45;
  const first = neg ? 1 : 0;
  const last = text.charCodeAt(n - 1);
  const hasDot = text.indexOf('.') >= 0;
  if (hasDot && last === 48) return false; // trailing fractional zero (also "0.0", "-0.0")
  if (text.charCodeAt(first) === 48) {
    // A leading zero is canonical only as the sole integer digit: "0" or "0.xxx".
    if (n > first + 1 && text.charCodeAt(first + 1) !== 46) return false;
    if (neg && !hasDot) return false; // "-0"
  }
  return true;
}

/**
 * Canonical text of a coefficient at `scale`: no exponent, no trailing fractional zeros, no
 * leading zeros, no negative zero.
 */
export function formatFixed(coefficient: bigint, scale: number): string {
  if (coefficient === 0n) return '0';
  const neg = coefficient < 0n;
  const s = (neg ? -coefficient : coefficient).toString();
  const len = s.length;
  const intLen = len - scale;
  let end = len;
  const minEnd = intLen > 0 ? intLen : 0;
  while (end > minEnd && s.charCodeAt(end - 1) === 48) end--;
  let out: string;
  if (intLen <= 0) {
    out = '0.' + zeros(-intLen) + s.slice(0, end);
  } else if (end === intLen) {
    out = intLen === len ? s : s.slice(0, intLen);
  } else {
    out = s.slice(0, intLen) + '.' + s.slice(intLen, end);
  }
  return neg ? '-' + out : out;
}

/**
 * Integer division n / d rounded half away from zero (PostgreSQL numeric rounding). d ≠ 0.
 */
export function divRoundHalfAway(n: bigint, d: bigint): bigint {
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  if (n >= 0n) {
    const q = n / d;
    const r = n - q * d;
    return r * 2n >= d ? q + 1n : q;
  }
  const m = -n;
  const q = m / d;
  const r = m - q * d;
  return r * 2n >= d ? -(q + 1n) : -q;
}

/** Same as {@link divRoundHalfAway} for n ≥ 0, d > 0 (hot path of fee shares). */
export function divRoundHalfUpNonNegative(n: bigint, d: bigint): bigint {
  const q = n / d;
  return (n - q * d) * 2n >= d ? q + 1n : q;
}

// ---------------------------------------------------------------------------------------------
// General Decimal values (natural scale). Used by tests, tools and by anyone who needs exact
// arithmetic on amounts outside the engine's hot path.

/**
 * Parses plain decimal text to a Decimal at its natural scale ("1.50" → {150n, 2}).
 * Options: `maxScale` (default 18; more fraction digits → error unless they are all zeros, which
 * are then dropped) and `allowNegative` (default true).
 */
export function parseDecimal(text: string, options: { maxScale?: number; allowNegative?: boolean } = {}): Decimal {
  const maxScale = options.maxScale ?? AMOUNT_SCALE;
  const allowNegative = options.allowNegative ?? true;
  if (typeof text !== 'string') throw new DecimalSyntaxError('not-a-string', text, maxScale);
  const start = text.charCodeAt(0) === 45 ? 1 : 0;
  const dot = checkDigits(text, start, maxScale);
  let scale = dot < 0 ? 0 : text.length - dot - 1;
  if (scale > maxScale) scale = maxScale;
  const coefficient = parseFixed(text, scale, allowNegative);
  return { coefficient, scale };
}

/** Canonical text of a Decimal. */
export function formatDecimal(d: Decimal): string {
  return formatFixed(d.coefficient, d.scale);
}

/** Exact change of scale upwards; downwards rounds half away from zero. */
export function rescale(d: Decimal, scale: number): Decimal {
  if (scale === d.scale) return d;
  if (scale > d.scale) return { coefficient: d.coefficient * pow10(scale - d.scale), scale };
  return { coefficient: divRoundHalfAway(d.coefficient, pow10(d.scale - scale)), scale };
}

/** Rounds to `scale` places, half away from zero (like PostgreSQL round(numeric, scale)). */
export function roundToScale(d: Decimal, scale: number): Decimal {
  return scale >= d.scale ? d : rescale(d, scale);
}

export function add(a: Decimal, b: Decimal): Decimal {
  const s = a.scale > b.scale ? a.scale : b.scale;
  return { coefficient: rescale(a, s).coefficient + rescale(b, s).coefficient, scale: s };
}

export function sub(a: Decimal, b: Decimal): Decimal {
  const s = a.scale > b.scale ? a.scale : b.scale;
  return { coefficient: rescale(a, s).coefficient - rescale(b, s).coefficient, scale: s };
}

export function mul(a: Decimal, b: Decimal): Decimal {
  return { coefficient: a.coefficient * b.coefficient, scale: a.scale + b.scale };
}

/** a / b rounded half away from zero to `scale` places. b ≠ 0. */
export function divide(a: Decimal, b: Decimal, scale: number): Decimal {
  // a/b = (ca / 10^sa) / (cb / 10^sb); result coefficient = ca * 10^(scale + sb - sa) / cb
  const shift = scale + b.scale - a.scale;
  const num = shift >= 0 ? a.coefficient * pow10(shift) : a.coefficient;
  const den = shift >= 0 ? b.coefficient : b.coefficient * pow10(-shift);
  return { coefficient: divRoundHalfAway(num, den), scale };
}

export function compare(a: Decimal, b: Decimal): number {
  const s = a.scale > b.scale ? a.scale : b.scale;
  const x = rescale(a, s).coefficient;
  const y = rescale(b, s).coefficient;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZero(d: Decimal): boolean {
  return d.coefficient === 0n;
}

/** Canonical form of valid decimal text ("001.500" → "1.5"). */
export function canonicalDecimalText(text: string, maxScale: number = AMOUNT_SCALE): string {
  if (isCanonicalText(text)) {
    parseDecimal(text, { maxScale }); // validates
    return text;
  }
  return formatDecimal(parseDecimal(text, { maxScale }));
}
