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
 * d = 1e4 (q < 1e9 < 2^30, spacing ≤ 2^-23 < 2·1e-5), a < 2^53 with d = 1e8 (q < 2^27, half
 * the spacing ≤ 2^-27 < 1e-8) and a < 2^53 with d = 10 (q < 2^50, half the spacing ≤ 2^-4 < 0.1).
 * `(x / d) | 0` on x < 2^31 is the same floor.
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

/**
 * out = ±(x + y) for magnitudes x, y in limbs (h, m, l with 0 ≤ m, l < 1e9): the carries of
 * one column at most, so every sum stays < 2^53. The one place limbs are added.
 */
export function setSum(out: Wide, neg: boolean, xh: number, xm: number, xl: number, yh: number, ym: number, yl: number): void {
  let l = xl + yl;
  let m = xm + ym;
  let h = xh + yh;
  if (l >= E9) {
    l -= E9;
    m += 1;
  }
  if (m >= E9) {
    m -= E9;
    h += 1;
  }
  out.neg = neg;
  out.h = h;
  out.m = m;
  out.l = l;
}

/** out = ±(x − y) for magnitudes x ≥ y in limbs: the one place limbs are subtracted. */
function setDifference(out: Wide, neg: boolean, xh: number, xm: number, xl: number, yh: number, ym: number, yl: number): void {
  let l = xl - yl;
  let m = xm - ym;
  let h = xh - yh;
  if (l < 0) {
    l += E9;
    m -= 1;
  }
  if (m < 0) {
    m += E9;
    h -= 1;
  }
  out.neg = neg;
  out.h = h;
  out.m = m;
  out.l = l;
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
  if (an === bn) {
    setSum(out, an, ah, am, al, bh, bm, bl);
    return;
  }
  const c = cmpMag(ah, am, al, bh, bm, bl);
  if (c === 0) setZero(out);
  else if (c > 0) setDifference(out, an, ah, am, al, bh, bm, bl); // |larger| − |smaller|, its sign
  else setDifference(out, bn, bh, bm, bl, ah, am, al);
}

/** out −= q·1e9 + d (1e-18 units), for out ≥ 0, q ≥ 0, 0 ≤ d < 1e9; the result may be negative. */
export function subShare(out: Wide, q: number, d: number): void {
  const qh = Math.floor(q / E9); // exact (see top)
  const qm = q - qh * E9;
  const h = out.h;
  const m = out.m;
  const l = out.l;
  const c = cmpMag(h, m, l, qh, qm, d);
  if (c === 0) setZero(out);
  else if (c > 0) setDifference(out, false, h, m, l, qh, qm, d);
  else setDifference(out, true, qh, qm, d, h, m, l);
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
// x / 2^k is x · 2^-k exactly (only the exponent changes): multiplications instead of divisions.
const INV18 = 1 / B18;
const INV36 = 1 / B36;

/*
 * Results of more than one number, and doubles that may exceed the small-integer range, are
 * passed in Float64Arrays: a double returned from a call, or stored in a module variable, is a
 * heap object (an allocation per call); a typed-array element is not.
 */
const QR = new Float64Array(3); // mulDivFloor: [f, c, s] in, [quotient, remainder] out
/**
 * Exact division of the product f·c by s (f, c, s in QR[0..2]): q = floor(f·c / s) in QR[0] and
 * the remainder f·c − q·s (in [0, s)) in QR[1]. Requires integers 0 ≤ f, c < 2^53, 0 < s < 2^53 and a quotient
 * < 2^53 (true when c ≤ s, since then q ≤ f, and when f < s, since then q < c).
 */
function mulDivFloor(): void {
  const f = QR[0] as number;
  const c = QR[1] as number;
  const s = QR[2] as number;
  // Estimate: fl(fl(f·c)/s) is within q·2^-52 < 2 of f·c/s, so |q − floor(f·c/s)| ≤ 3 and
  // |f·c − q·s| < 4s < 2^55 below.
  let q = Math.floor((f * c) / s);
  if (q > MAX_NANO) q = MAX_NANO;
  const f2 = Math.floor(f * INV36);
  const fr = f - f2 * B36;
  const f1 = Math.floor(fr * INV18);
  const f0 = fr - f1 * B18;
  const c2 = Math.floor(c * INV36);
  const cr = c - c2 * B36;
  const c1 = Math.floor(cr * INV18);
  const c0 = cr - c1 * B18;
  const q2 = Math.floor(q * INV36);
  const qr = q - q2 * B36;
  const q1 = Math.floor(qr * INV18);
  const q0 = qr - q1 * B18;
  const s2 = Math.floor(s * INV36);
  const sr = s - s2 * B36;
  const s1 = Math.floor(sr * INV18);
  const s0 = sr - s1 * B18;
  // Columns of f·c − q·s at 2^0, 2^18, ..., 2^72 (each |D| < 2^39), then carries.
  let t = f0 * c0 - q0 * s0;
  let k = Math.floor(t * INV18);
  const l0 = t - k * B18;
  t = f0 * c1 + f1 * c0 - q0 * s1 - q1 * s0 + k;
  k = Math.floor(t * INV18);
  const l1 = t - k * B18;
  t = f0 * c2 + f1 * c1 + f2 * c0 - q0 * s2 - q1 * s1 - q2 * s0 + k;
  k = Math.floor(t * INV18);
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
  QR[0] = q;
  QR[1] = hi * B36 + lo; // 0 ≤ r < s < 2^53: exact
}

/** The arguments [f, c, s] and then the result [q, d] of {@link feeShareQ}. */
export const SHARE_QD = new Float64Array(3);

/**
 * round(f · c / s) at 1e-18 units, half away from zero, for nano amounts with 0 ≤ c ≤ s, s > 0,
 * f ≥ 0 (in SHARE_QD[0..2]): the cumulative fee share of `c` out of size `s`. Leaves its nano
 * part q (≤ f < 2^53) in SHARE_QD[0] and the next nine digits d (< 1e9) in SHARE_QD[1]: the
 * share is q·1e9 + d.
 */
export function feeShareQ(): void {
  const io = SHARE_QD;
  const f = io[0] as number;
  const c = io[1] as number;
  const s = io[2] as number;
  if (c === s) {
    io[1] = 0;
    return;
  }
  if (f === 0 || c === 0) {
    io[0] = 0;
    io[1] = 0;
    return;
  }
  const qr = QR;
  // (qr[0], qr[1], qr[2]) = (f, c, s)
  qr[0] = f;
  qr[1] = c;
  qr[2] = s;
  mulDivFloor();
  let q = qr[0] as number; // integer nano part
  // Next 9 digits: d = floor(r·1e9 / s) with r = qr[1] (0 ≤ r < s), remainder r2.
  qr[0] = qr[1] as number;
  qr[1] = E9;
  mulDivFloor();
  let d = qr[0] as number;
  const r2 = qr[1] as number;
  if (r2 * 2 >= s) {
    d += 1;
    if (d === E9) {
      d = 0;
      q += 1;
    }
  }
  io[0] = q;
  io[1] = d;
}

/** SHARE_QD = [f, c, s], then {@link feeShareQ}. */
export function setShareArgs(f: number, c: number, s: number): void {
  SHARE_QD[0] = f;
  SHARE_QD[1] = c;
  SHARE_QD[2] = s;
}

/** out = {@link feeShareQ} as a Wide. */
export function feeShare(out: Wide, f: number, c: number, s: number): void {
  setShareArgs(f, c, s);
  feeShareQ();
  setNano(out, SHARE_QD[0] as number);
  out.l = SHARE_QD[1] as number;
}

/*
 * Formatting writes the characters of a number into CH (char codes) and makes its text with one
 * String.fromCharCode call of exactly that many arguments, so that every text is one flat string.
 * Concatenating shared digit groups instead makes a tree of 3–6 strings per number, and a row
 * keeps its texts alive until the caller takes them, so each extra string is copied by the
 * garbage collector (measured: the texts were the largest cost of a row).
 *
 * Layout in CH: the sign, the integer digits, the point and the 18 fraction digits; trailing
 * fraction zeros are then cut by scanning back. Digits are written two at a time from PAIRS
 * (half the divisions).
 */
const CH: number[] = [];
for (let i = 0; i < 40; i++) CH.push(48);
const fcc = String.fromCharCode;
/** Char codes of the two digits of 0..99: tens at 2i, ones at 2i + 1. */
const PAIRS: number[] = [];
for (let i = 0; i < 100; i++) PAIRS.push(48 + ((i / 10) | 0), 48 + (i % 10));

/** The text of CH[0..n-1] (1 ≤ n ≤ 40). */
function textOf(n: number): string {
  const c = CH;
  switch (n) {
    case 1:
      return fcc(c[0]!);
    case 2:
      return fcc(c[0]!, c[1]!);
    case 3:
      return fcc(c[0]!, c[1]!, c[2]!);
    case 4:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!);
    case 5:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!);
    case 6:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!);
    case 7:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!);
    case 8:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!);
    case 9:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!);
    case 10:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!);
    case 11:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!);
    case 12:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!);
    case 13:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!);
    case 14:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!);
    case 15:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!);
    case 16:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!);
    case 17:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!);
    case 18:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!);
    case 19:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!);
    case 20:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!);
    case 21:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!);
    case 22:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!);
    case 23:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!);
    case 24:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!);
    case 25:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!);
    case 26:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!);
    case 27:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!);
    case 28:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!);
    case 29:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!);
    case 30:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!);
    case 31:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!);
    case 32:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!);
    case 33:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!, c[32]!);
    case 34:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!, c[32]!, c[33]!);
    case 35:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!, c[32]!, c[33]!, c[34]!);
    case 36:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!, c[32]!, c[33]!, c[34]!, c[35]!);
    case 37:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!, c[32]!, c[33]!, c[34]!, c[35]!, c[36]!);
    case 38:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!, c[32]!, c[33]!, c[34]!, c[35]!, c[36]!, c[37]!);
    case 39:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!, c[32]!, c[33]!, c[34]!, c[35]!, c[36]!, c[37]!, c[38]!);
    case 40:
      return fcc(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!, c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!, c[28]!, c[29]!, c[30]!, c[31]!, c[32]!, c[33]!, c[34]!, c[35]!, c[36]!, c[37]!, c[38]!, c[39]!);
  }
  throw new RangeError(`text of ${n} characters`);
}

/** Writes the 9 decimal digits of the integer 0 ≤ x < 1e9 (zero-padded) into CH[p..p+8]. */
function put9(x: number, p: number): void {
  const c = CH;
  const d = PAIRS;
  let y = x | 0;
  let q = (y / 100) | 0; // exact: int32 division
  let r = (y - q * 100) << 1;
  c[p + 8] = d[r + 1]!;
  c[p + 7] = d[r]!;
  y = q;
  q = (y / 100) | 0;
  r = (y - q * 100) << 1;
  c[p + 6] = d[r + 1]!;
  c[p + 5] = d[r]!;
  y = q;
  q = (y / 100) | 0;
  r = (y - q * 100) << 1;
  c[p + 4] = d[r + 1]!;
  c[p + 3] = d[r]!;
  y = q;
  q = (y / 100) | 0;
  r = (y - q * 100) << 1;
  c[p + 2] = d[r + 1]!;
  c[p + 1] = d[r]!;
  c[p] = 48 + q;
}

/** Number of decimal digits of an integer 0 ≤ x < 2^53. */
function digitCount(x: number): number {
  let d = 1;
  if (x >= 1e8) {
    x = Math.floor(x / 1e8); // exact (see top); < 1e8 since x < 2^53 < 1e16
    d = 9;
  }
  return x < 10 ? d : x < 100 ? d + 1 : x < 1e3 ? d + 2 : x < 1e4 ? d + 3 : x < 1e5 ? d + 4 : x < 1e6 ? d + 5 : x < 1e7 ? d + 6 : d + 7;
}

/** Writes the decimal digits of the integer 0 ≤ x < 2^53 so that they end at CH[end − 1]. */
function putInt(x: number, end: number): void {
  const c = CH;
  let j = end;
  if (x >= 2147483648) {
    // beyond int32: one digit at a time in doubles, until the rest is < 2^31
    do {
      const q = Math.floor(x / 10); // exact (x < 2^53: see top)
      c[--j] = 48 + (x - q * 10); // the digit first: 48 + x may exceed 2^53
      x = q;
    } while (x >= 2147483648);
  }
  const d = PAIRS;
  let y = x | 0;
  while (y >= 100) {
    const q = (y / 100) | 0; // exact: int32 division
    const r = (y - q * 100) << 1;
    c[--j] = d[r + 1]!;
    c[--j] = d[r]!;
    y = q;
  }
  if (y >= 10) {
    c[--j] = d[(y << 1) + 1]!;
    c[--j] = d[y << 1]!;
  } else c[--j] = 48 + y;
}

/**
 * Canonical text of ±(h·1e18 + m·1e9 + l) 1e-18 units (0 ≤ h < 2^53, 0 ≤ m, l < 1e9): no exponent,
 * no trailing fractional zeros, no leading zeros, no "-0".
 */
export function formatParts(neg: boolean, h: number, m: number, l: number): string {
  const c = CH;
  let p = 0;
  if (neg) c[p++] = 45; // '-'
  if (l === 0 && m === 0) {
    if (h === 0) return '0';
    p += digitCount(h);
    putInt(h, p);
    return textOf(p);
  }
  p += digitCount(h);
  putInt(h, p);
  c[p] = 46; // '.'
  put9(m, p + 1);
  let e = p + 10;
  if (l !== 0) {
    put9(l, e);
    e += 9;
  }
  while (c[e - 1] === 48) e--; // the last group is not 0: stops before the point
  return textOf(e);
}

/** Canonical decimal text of a Wide (value in units of 1e-18). */
export function formatWide(a: Wide): string {
  return formatParts(a.neg, a.h, a.m, a.l);
}

/** Canonical decimal text of a nano amount. */
export function formatNano(n: number): string {
  const i = Math.floor(n / E9); // exact (see top)
  return formatParts(false, i, n - i * E9, 0);
}

/** BigInt value of a Wide in 1e-18 units (scale 18). */
export function wideToBigInt(a: Wide): bigint {
  const v = BigInt(a.h) * 1000000000000000000n + BigInt(a.m) * 1000000000n + BigInt(a.l);
  return a.neg ? -v : v;
}

/** Set by parseNano: whether the text it accepted is already canonical (reusable as output). */
export let parsedCanonical = false;

/** Nano amounts parsed by {@link parseNanoTo}, by slot. */
export const NANO_IN = new Float64Array(3);

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * Parses decimal text to a nano amount into NANO_IN[slot]. Returns 1 when the text is already
 * canonical (reusable as output), 0 when it is valid but not canonical, and -1 when it is not a
 * plain non-negative decimal with at most 9 significant decimal places and a value ≤
 * MAX_NANO·1e-9 (the caller then uses the BigInt parser, which either accepts it or reports the
 * precise problem).
 */
export function parseNanoTo(text: string, slot: number): number {
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
    NANO_IN[slot] = int * E9;
    return leadingZero ? 0 : 1;
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
  const v = int * E9 + frac * (POW10[9 - places] as number); // frac·10^(9−places) < 1e9: exact
  if (v > MAX_NANO) return -1;
  NANO_IN[slot] = v;
  return leadingZero || text.charCodeAt(n - 1) === 48 ? 0 : 1;
}

/**
 * Parses decimal text to a nano amount, or returns -1 (see {@link parseNanoTo}); sets
 * {@link parsedCanonical}.
 */
export function parseNano(text: string): number {
  const st = parseNanoTo(text, 0);
  if (st < 0) return -1;
  parsedCanonical = st === 1;
  return NANO_IN[0] as number;
}
