/**
 * The fast kernel's fee share round(f·c·1e9 / s) (at 1e-18 units, half away from zero) against
 * BigInt, with the operands where a floating-point quotient estimate is most likely to be off:
 * near 2^53, exact quotients, remainders next to 0 and s, and exact half ties.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NANO, Wide, feeShare, wideToBigInt } from '../src/nano.ts';

function expected(f: number, c: number, s: number): bigint {
  const n = BigInt(f) * BigInt(c) * 10n ** 9n;
  const d = BigInt(s);
  const q = n / d;
  return (n - q * d) * 2n >= d ? q + 1n : q;
}

const edge = fc.oneof(
  fc.integer({ min: MAX_NANO - 5000, max: MAX_NANO }),
  fc.integer({ min: 1, max: 5000 }),
  fc.integer({ min: 2 ** 36 - 3, max: 2 ** 36 + 3 }),
  fc.integer({ min: 2 ** 18 - 3, max: 2 ** 18 + 3 }),
  fc.integer({ min: 999_999_990, max: 1_000_000_010 }),
  fc.integer({ min: 1, max: MAX_NANO }),
);

describe('fee share (exact remainder in binary limbs)', () => {
  it('equals the BigInt rounding for edge and random operands (c ≤ s)', () => {
    fc.assert(
      fc.property(edge, edge, edge, (f, a, b) => {
        const s = Math.max(a, b);
        const c = Math.min(a, b);
        const w = new Wide();
        feeShare(w, f, c, s);
        expect(wideToBigInt(w)).toBe(expected(f, c, s));
        expect(w.m < 1e9 && w.l < 1e9 && w.m >= 0 && w.l >= 0 && !w.neg).toBe(true);
      }),
      { numRuns: 50000 },
    );
  });

  it('is exact when the quotient is an integer or a half (the estimate sits on the boundary)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 26 }), fc.integer({ min: 1, max: 2 ** 26 }), fc.integer({ min: 0, max: 2 ** 20 }), (k, s0, f) => {
        // c/s = k/(k+1)·… : s a multiple of c's factors so that f·c·1e9/s lands on or next to integers
        const s = Math.min(MAX_NANO, s0 * 1024);
        for (const c of [s, s - 1, Math.floor(s / 2), Math.min(s, k)]) {
          if (c < 0) continue;
          for (const ff of [f, MAX_NANO - f, f * 1024]) {
            if (ff > MAX_NANO) continue;
            const w = new Wide();
            feeShare(w, ff, c, s);
            expect(wideToBigInt(w)).toBe(expected(ff, c, s));
          }
        }
      }),
      { numRuns: 5000 },
    );
  });
});
