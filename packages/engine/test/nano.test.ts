/**
 * The fast kernel's arithmetic (integers in doubles, see src/nano.ts) against BigInt, on random
 * values biased towards the limits of its range.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFixed, isCanonicalText, parseFixed } from '../src/decimal.ts';
import { MAX_NANO, Wide, addWide, feeShare, formatNano, formatWide, mulNano, parseNano, parsedCanonical, setNano, wideToBigInt } from '../src/nano.ts';

const nanoArb = fc.oneof(
  fc.integer({ min: 0, max: MAX_NANO }),
  fc.integer({ min: MAX_NANO - 1_000_000, max: MAX_NANO }),
  fc.integer({ min: 0, max: 2_000_000_000 }),
  fc.constantFrom(0, 1, 999_999_999, 1_000_000_000, 1_000_000_001, 99_999, 100_000, 9_007_199_000_000_000, MAX_NANO - 1, MAX_NANO),
  fc.integer({ min: 0, max: 9007199 }).map((i) => i * 1e9 + 999_999_999).filter((v) => v <= MAX_NANO),
);
const wideOf = (v: bigint): Wide => {
  const w = new Wide();
  const a = v < 0n ? -v : v;
  w.neg = v < 0n;
  w.h = Number(a / 10n ** 18n);
  w.m = Number((a / 10n ** 9n) % 10n ** 9n);
  w.l = Number(a % 10n ** 9n);
  return w;
};
const wideArb = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });

describe('nano arithmetic', () => {
  it('multiplies exactly', () => {
    fc.assert(
      fc.property(nanoArb, nanoArb, (x, y) => {
        const w = new Wide();
        mulNano(w, x, y);
        expect(wideToBigInt(w)).toBe(BigInt(x) * BigInt(y));
        expect(w.m < 1e9 && w.l < 1e9 && w.m >= 0 && w.l >= 0).toBe(true);
      }),
      { numRuns: 20000 },
    );
  });

  it('adds and subtracts signed Wides exactly', () => {
    fc.assert(
      fc.property(wideArb, wideArb, fc.boolean(), (a, b, subtract) => {
        const w = new Wide();
        addWide(w, wideOf(a), wideOf(b), subtract);
        expect(wideToBigInt(w)).toBe(subtract ? a - b : a + b);
        if (a === (subtract ? b : -b)) expect(w.neg).toBe(false);
      }),
      { numRuns: 10000 },
    );
  });

  it('computes fee shares round(f·c/s) at 18 places, half away from zero', () => {
    const cases = fc.oneof(
      fc.tuple(nanoArb, nanoArb, nanoArb),
      // small sizes that are multiples of 2^10 produce exact half ties
      fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }).map((k) => k * 1024)),
    );
    fc.assert(
      fc.property(cases, ([f, a, b]) => {
        const s = Math.max(a, b, 1);
        const c = Math.min(a, b, s);
        const w = new Wide();
        feeShare(w, f, c, s);
        const num = BigInt(f) * BigInt(c) * 10n ** 9n;
        const den = BigInt(s);
        let q = num / den;
        if ((num % den) * 2n >= den) q += 1n;
        expect(wideToBigInt(w)).toBe(q);
      }),
      { numRuns: 20000 },
    );
  });

  it('formats like the BigInt formatter', () => {
    fc.assert(
      fc.property(wideArb, (v) => {
        expect(formatWide(wideOf(v))).toBe(formatFixed(v, 18));
      }),
      { numRuns: 10000 },
    );
    fc.assert(
      fc.property(nanoArb, (n) => {
        expect(formatNano(n)).toBe(formatFixed(BigInt(n), 9));
        const w = new Wide();
        setNano(w, n);
        expect(wideToBigInt(w)).toBe(BigInt(n) * 10n ** 9n);
      }),
      { numRuns: 10000 },
    );
  });

  it('parses exactly the texts inside its range and declines the rest', () => {
    const text = fc.oneof(
      nanoArb.map((n) => formatNano(n)),
      nanoArb.map((n) => formatNano(n) + (n % 1e9 === 0 ? '.000' : '000')),
      nanoArb.map((n) => '00' + formatNano(n)),
      fc.constantFrom('9007199.254740991', '9007199.254740992', '9007200', '0.0000000001', '1.0000000000', '1e5', '-1', '+1', '.5', '5.', '', '00001.5', '1.5.5', '１'),
      fc.stringMatching(/^-?\d{1,20}(\.\d{1,20})?$/),
    );
    fc.assert(
      fc.property(text, (t) => {
        const n = parseNano(t);
        let expected = -1;
        try {
          const v = parseFixed(t, 18, false);
          if (v % 10n ** 9n === 0n && v / 10n ** 9n <= BigInt(MAX_NANO)) expected = Number(v / 10n ** 9n);
        } catch {
          expected = -1;
        }
        expect(n).toBe(expected);
        if (n >= 0) expect(parsedCanonical).toBe(isCanonicalText(t));
      }),
      { numRuns: 20000 },
    );
  });
});
