/**
 * Fast exact arithmetic for the common case, on integers held in doubles.
 *
 * No binary fractions are involved: every value here is an INTEGER count of units, and every
 * operation is arranged so that each intermediate integer stays below 2^53, where doubles are
 * exact (like an int53). Two forms:
 *
 * - a "nano" amount: an integer count of 1e-9 units, 0 ≤ n ≤ MAX_NANO (< 2^53), i.e. an amount with
 *   at most 9 decimal places below ~9,007,199. Sizes, prices and fees in this range use the fast
 *   path; anything else (more places, bigger magnitudes) makes the engine use scaled BigInt.
 * - a {@link Wide}: a signed integer count of 1e-18 units in three base-1e9 limbs,
 *   ±(h·1e18 + m·1e9 + l), 0 ≤ m, l < 1e9, 0 ≤ h < 2^53. Products of two nano amounts and fee
 *   shares (MONEY_SCALE = 18) are Wides, exactly.
 *
 * Division with remainder by 1e9 uses Math.floor of the rounded quotient followed by an exact
 * correction step (the remainder x − q·d is computed exactly and brought into [0, d)), so no
 * result depends on the rounding of a floating-point quotient.
 *
 * The results are identical to the BigInt path (checked by differential property tests).
 */

export const E9 = 1e9;
/** Largest nano amount accepted by the fast path (2^53 − 1). */
export const MAX_NANO = Number.MAX_SAFE_INTEGER;

/*
 * Exact floor division by a power of ten. For an integer 0 ≤ a < 2^53 and d = 1e9, the quotient
 * q = a/d is below 2^24, where the spacing of doubles is at most 2^-29; the fractional part of a/d
 * is a multiple of 1/d = 1e-9 > 2^-30 (half that spacing), so the correctly rounded a/d never
 * reaches the next integer and Math.floor(a / d) is the exact quotient (and a − q·d the exact
 * remainder, an integer < 2^53). The same argument covers a < 1e14 with d = 1e5 and a < 1e13 with
 * d = 1e4 (q < 1e9 < 2^30, spacing ≤ 2^-23 < 2·1e-5). `(x / d) | 0` on x < 2^31 is the same floor.
 * These are the only divisions used, apart from the quotient estimate of mulDivFloor, which is
 * corrected exactly.
 */

/** Signed integer count of 1e-18 units: ±(h·1e18 + m·1e9 + l). */
export class Wide {
  neg = false;
  h = 0;
  m = 0;
  l = 0;
}

export function setZero(out: Wide): void {
  out.neg = false;
  out.h = 0;
  out.m = 0;
  out.l = 0;
}

export function copyWide(out: Wide, a: Wide): void {
  out.neg = a.neg;
  out.h = a.h;
  out.m = a.m;
  out.l = a.l;
}

export function isZeroWide(a: Wide): boolean {
  return a.h === 0 && a.m === 0 && a.l === 0;
}

/** out = n · 1e9 (a nano amount as a Wide). */
export function setNano(out: Wide, n: number): void {
  const h = Math.floor(n / E9); // exact (see top)
  out.neg = false;
  out.h = h;
  out.m = n - h * E9;
  out.l = 0;
}

/** out = x · y for nano amounts x, y (integers 0 ≤ x, y < 2^53): an exact 1e-18-unit product. */
export function mulNano(out: Wide, x: number, y: number): void {
  const x1 = Math.floor(x / E9); // exact (see top)
  const y1 = Math.floor(y / E9);
  mulParts(out, x1, x - x1 * E9, y1, y - y1 * E9);
}

/**
 * out = x · y from the base-1e9 digits of two nano amounts, x = x1·1e9 + x0 and y = y1·1e9 + y0
 * (x1, y1 < 9,007,200; x0, y0 < 1e9). The kernel splits a lot's price once, not once per row.
 */
export function mulParts(out: Wide, x1: number, x0: number, y1: number, y0: number): void {
  // x·y = x1·y1·1e18 + (x1·y0 + x0·y1)·1e9 + x0·y0; x1·y0 and x0·y1 are < 2^53.
  const a = x1 * y0;
  const b = x0 * y1;
  const ab = a + b; // exact when the rounded sum is < 2^53 (rounding is monotonic)
  let mid: number;
  let carry: number;
  if (ab < 9007199254740992) {
    carry = Math.floor(ab / E9);
    mid = ab - carry * E9;
  } else {
    const a1 = Math.floor(a / E9);
    const b1 = Math.floor(b / E9);
    carry = a1 + b1;
    mid = a - a1 * E9 + (b - b1 * E9); // < 2e9
  }
  // x0·y0 may reach 1e18: with x0 = xh·1e5 + xl, xh·y0 < 1e13 and xl·y0 < 1e14.
  const xh = Math.floor(x0 / 1e5);
  const p1 = xh * y0; // contributes p1·1e5 = p1h·1e9 + p1l·1e5
  const p1h = Math.floor(p1 / 1e4);
  const p0 = (x0 - xh * 1e5) * y0;
  const p0h = Math.floor(p0 / E9);
  let l = (p1 - p1h * 1e4) * 1e5 + (p0 - p0h * E9); // < 2e9
  let m = mid + p1h + p0h; // < 4e9
  const h = x1 * y1 + carry;
  if (l >= E9) {
    l -= E9;
    m += 1;
  }
  const c = Math.floor(m / E9);
  out.neg = false;
  out.h = h + c;
  out.m = m - c * E9;
  out.l = l;
}

function cmpMag(ah: number, am: number, al: number, bh: number, bm: number, bl: number): number {
  if (ah !== bh) return ah < bh ? -1 : 1;
  if (am !== bm) return am < bm ? -1 : 1;
  if (al !== bl) return al < bl ? -1 : 1;
  return 0;
}

/** out = a + b (or a − b when `subtract`); out may be a or b. */
export function addWide(out: Wide, a: Wide, b: Wide, subtract: boolean): void {
  const an = a.neg;
  const ah = a.h;
  const am = a.m;
  const al = a.l;
  const bn = subtract ? !b.neg : b.neg;
  const bh = b.h;
  const bm = b.m;
  const bl = b.l;
  let h: number;
  let m: number;
  let l: number;
  let neg: boolean;
  if (an === bn) {
    neg = an;
    l = al + bl;
    m = am + bm;
    h = ah + bh;
    if (l >= E9) {
      l -= E9;
      m += 1;
    }
    if (m >= E9) {
      m -= E9;
      h += 1;
    }
  } else {
    const c = cmpMag(ah, am, al, bh, bm, bl);
    if (c === 0) {
      setZero(out);
      return;
    }
    // |larger| − |smaller|
    let xh = ah,
      xm = am,
      xl = al,
      yh = bh,
      ym = bm,
      yl = bl;
    neg = an;
    if (c < 0) {
      xh = bh;
      xm = bm;
      xl = bl;
      yh = ah;
      ym = am;
      yl = al;
      neg = bn;
    }
    l = xl - yl;
    m = xm - ym;
    h = xh - yh;
    if (l < 0) {
      l += E9;
      m -= 1;
    }
    if (m < 0) {
      m += E9;
      h -= 1;
    }
  }
  out.neg = neg;
  out.h = h;
  out.m = m;
  out.l = l;
}

/*
 * Exact remainders in binary limbs. The quotient of a fee share is found from a floating-point
 * estimate and corrected with the exact remainder f·c − q·s. That remainder never needs decimal
 * digits, so it is computed in base-2^18 limbs: splitting by a power of two is exact (it only
 * changes the exponent), every limb product is < 2^36 and every column sum < 2^39, far below 2^53.
 * All values stay integers; no division by a non-power of two is needed.
 */
const B18 = 262144; // 2^18
const B36 = 68719476736; // 2^36

let REM_Q = 0;
/**
 * Exact division of the product f·c by s: returns q = floor(f·c / s) and leaves the remainder
 * f·c − q·s (in [0, s)) in REM_Q. Requires integers 0 ≤ f, c < 2^53, 0 < s < 2^53 and a quotient
 * < 2^53 (true when c ≤ s, since then q ≤ f, and when f < s, since then q < c).
 */
function mulDivFloor(f: number, c: number, s: number): number {
  // Estimate: fl(fl(f·c)/s) is within q·2^-52 < 2 of f·c/s, so |q − floor(f·c/s)| ≤ 3 and
  // |f·c − q·s| < 4s < 2^55 below.
  let q = Math.floor((f * c) / s);
  if (q > MAX_NANO) q = MAX_NANO;
  const f2 = Math.floor(f / B36);
  const fr = f - f2 * B36;
  const f1 = Math.floor(fr / B18);
  const f0 = fr - f1 * B18;
  const c2 = Math.floor(c / B36);
  const cr = c - c2 * B36;
  const c1 = Math.floor(cr / B18);
  const c0 = cr - c1 * B18;
  const q2 = Math.floor(q / B36);
  const qr = q - q2 * B36;
  const q1 = Math.floor(qr / B18);
  const q0 = qr - q1 * B18;
  const s2 = Math.floor(s / B36);
  const sr = s - s2 * B36;
  const s1 = Math.floor(sr / B18);
  const s0 = sr - s1 * B18;
  // Columns of f·c − q·s at 2^0, 2^18, ..., 2^72 (each |D| < 2^39), then carries.
  let t = f0 * c0 - q0 * s0;
  let k = Math.floor(t / B18);
  const l0 = t - k * B18;
  t = f0 * c1 + f1 * c0 - q0 * s1 - q1 * s0 + k;
  k = Math.floor(t / B18);
  const l1 = t - k * B18;
  t = f0 * c2 + f1 * c1 + f2 * c0 - q0 * s2 - q1 * s1 - q2 * s0 + k;
  k = Math.floor(t / B18);
  const l2 = t - k * B18;
  // r = hi·2^36 + lo with 0 ≤ lo < 2^36; |r| < 2^55 bounds |hi| < 2^20 (the 2^54 and 2^72
  // columns fold into hi exactly: f2, c2, q2, s2 < 2^17).
  let hi = (f1 * c2 + f2 * c1 - q1 * s2 - q2 * s1 + k + (f2 * c2 - q2 * s2) * B18) * B18 + l2;
  let lo = l1 * B18 + l0;
  while (hi < 0) {
    // r < 0: q is one too big; r += s
    q -= 1;
    lo += s0 + s1 * B18;
    hi += s2;
    if (lo >= B36) {
      lo -= B36;
      hi += 1;
    }
  }
  const sLo = s1 * B18 + s0;
  while (hi > s2 || (hi === s2 && lo >= sLo)) {
    // r ≥ s: q is one too small; r −= s
    q += 1;
    lo -= sLo;
    hi -= s2;
    if (lo < 0) {
      lo += B36;
      hi -= 1;
    }
  }
  REM_Q = hi * B36 + lo; // 0 ≤ r < s < 2^53: exact
  return q;
}

/**
 * out = round(f · c / s) at 1e-18 units (i.e. round(f·c·1e9 / s)), half away from zero, for nano
 * amounts with 0 ≤ c ≤ s, s > 0, f ≥ 0: the cumulative fee share of `c` out of size `s`.
 */
export function feeShare(out: Wide, f: number, c: number, s: number): void {
  if (c === s) {
    setNano(out, f);
    return;
  }
  if (f === 0 || c === 0) {
    setZero(out);
    return;
  }
  let q = mulDivFloor(f, c, s); // integer nano part
  const r = REM_Q; // 0 ≤ r < s
  // Next 9 digits: d = floor(r·1e9 / s), remainder r2.
  let d = mulDivFloor(r, E9, s);
  const r2 = REM_Q;
  if (r2 * 2 >= s) {
    d += 1;
    if (d === E9) {
      d = 0;
      q += 1;
    }
  }
  setNano(out, q);
  out.l = d;
}

/**
 * Three-digit groups, so that formatting is a few concatenations of shared strings: padded
 * '000'..'999', trimmed of trailing zeros ('120' → '12'), plain ('7'), and the same with a
 * leading '.' for the first fraction group.
 */
const G3: string[] = [];
const G3_TRIMMED: string[] = [];
const G3_PLAIN: string[] = [];
const DOT_G3: string[] = [];
const DOT_G3_TRIMMED: string[] = [];
for (let i = 0; i < 1000; i++) {
  const plain = '' + i;
  const padded = i < 10 ? '00' + plain : i < 100 ? '0' + plain : plain;
  const trimmed = i % 100 === 0 ? padded.slice(0, 1) : i % 10 === 0 ? padded.slice(0, 2) : padded;
  G3.push(padded);
  G3_PLAIN.push(plain);
  G3_TRIMMED.push(trimmed);
  DOT_G3.push('.' + padded);
  DOT_G3_TRIMMED.push('.' + trimmed);
}

/** Decimal digits of an integer 0 ≤ x < 2^53 (no exponent). */
function intText(x: number): string {
  if (x < 1000) return G3_PLAIN[x] as string;
  if (x < 1e6) {
    const a = (x / 1000) | 0;
    return (G3_PLAIN[a] as string) + (G3[x - a * 1000] as string);
  }
  if (x < 1e9) {
    const a = (x / 1e6) | 0;
    const r = x - a * 1e6;
    const b = (r / 1000) | 0;
    return (G3_PLAIN[a] as string) + (G3[b] as string) + (G3[r - b * 1000] as string);
  }
  return '' + x; // integers < 2^53 print exactly, without exponent
}

/**
 * Fraction digits of 0 < x < 1e9 (9 places) with the leading '.', trailing zeros removed when
 * `last`, else all nine digits.
 */
function fracText(x: number, dot: boolean, last: boolean): string {
  const a = (x / 1e6) | 0;
  const r = x - a * 1e6;
  const first = dot ? DOT_G3 : G3;
  if (last) {
    if (r === 0) return (dot ? DOT_G3_TRIMMED : G3_TRIMMED)[a] as string;
    const b = (r / 1000) | 0;
    const c = r - b * 1000;
    if (c === 0) return (first[a] as string) + (G3_TRIMMED[b] as string);
    return (first[a] as string) + (G3[b] as string) + (G3_TRIMMED[c] as string);
  }
  const b = (r / 1000) | 0;
  return (first[a] as string) + (G3[b] as string) + (G3[r - b * 1000] as string);
}

/** Canonical decimal text of a Wide (value in units of 1e-18). */
export function formatWide(a: Wide): string {
  const h = a.h;
  const m = a.m;
  const l = a.l;
  let s: string;
  if (l !== 0) {
    // All nine digits of m, then l without its trailing zeros: one concatenation per group.
    const ma = (m / 1e6) | 0; // m < 1e9 < 2^31 (see top)
    const mr = m - ma * 1e6;
    const mb = (mr / 1000) | 0;
    const la = (l / 1e6) | 0;
    const lr = l - la * 1e6;
    s = (h < 1000 ? (G3_PLAIN[h] as string) : intText(h)) + (DOT_G3[ma] as string) + (G3[mb] as string) + (G3[mr - mb * 1000] as string);
    if (lr === 0) s += G3_TRIMMED[la] as string;
    else {
      const lb = (lr / 1000) | 0;
      const lc = lr - lb * 1000;
      s += lc === 0 ? (G3[la] as string) + (G3_TRIMMED[lb] as string) : (G3[la] as string) + (G3[lb] as string) + (G3_TRIMMED[lc] as string);
    }
  } else if (m !== 0) s = intText(h) + fracText(m, true, true);
  else if (h === 0) return '0';
  else s = intText(h);
  return a.neg ? '-' + s : s;
}

/** Canonical decimal text of a nano amount. */
export function formatNano(n: number): string {
  const i = Math.floor(n / E9); // exact (see top)
  const f = n - i * E9;
  return f === 0 ? intText(i) : intText(i) + fracText(f, true, true);
}

/** BigInt value of a Wide in 1e-18 units (scale 18). */
export function wideToBigInt(a: Wide): bigint {
  const v = BigInt(a.h) * 1000000000000000000n + BigInt(a.m) * 1000000000n + BigInt(a.l);
  return a.neg ? -v : v;
}

/** Set by parseNano: whether the text it accepted is already canonical (reusable as output). */
export let parsedCanonical = false;

/**
 * Parses decimal text to a nano amount, or returns -1 when the text is not a plain non-negative
 * decimal with at most 9 significant decimal places and a value ≤ MAX_NANO·1e-9 (the caller then
 * uses the BigInt parser, which either accepts it or reports the precise problem).
 */
export function parseNano(text: string): number {
  const n = text.length;
  if (n === 0 || n > 40) return -1;
  let i = 0;
  let int = 0;
  let c = text.charCodeAt(0);
  if (c < 48 || c > 57) return -1;
  while (i < n) {
    c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    int = int * 10 + (c - 48);
    i++;
  }
  if (int > 9007199) return -1;
  const leadingZero = i > 1 && text.charCodeAt(0) === 48;
  if (i === n) {
    parsedCanonical = !leadingZero;
    return int * E9;
  }
  if (c !== 46 || i === n - 1) return -1;
  i++;
  // fraction: up to 9 digits, then only zeros
  let frac = 0;
  let places = 0;
  while (i < n && places < 9) {
    c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    frac = frac * 10 + (c - 48);
    places++;
    i++;
  }
  while (i < n) {
    if (text.charCodeAt(i) !== 48) return -1;
    i++;
  }
  parsedCanonical = !leadingZero && text.charCodeAt(n - 1) !== 48;
  while (places < 9) {
    frac *= 10;
    places++;
  }
  const v = int * E9 + frac;
  return v <= MAX_NANO ? v : -1;
}
