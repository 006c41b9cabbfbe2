import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AMOUNT_SCALE,
  DecimalSyntaxError,
  MONEY_SCALE,
  PRODUCT_SCALE,
  add,
  canonicalDecimalText,
  compare,
  divRoundHalfAway,
  divide,
  formatDecimal,
  formatFixed,
  isCanonicalText,
  mul,
  parseDecimal,
  parseFixed,
  roundToScale,
  sub,
} from '../src/decimal.ts';

const issueOf = (f: () => unknown): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof DecimalSyntaxError) return e.issue;
    throw e;
  }
};

describe('decimal: scales', () => {
  it('rounds money at 18 places and keeps products at 36', () => {
    expect(MONEY_SCALE).toBe(18);
    expect(AMOUNT_SCALE).toBe(18);
    expect(PRODUCT_SCALE).toBe(36);
  });
});

describe('decimal: parsing', () => {
  it('parses plain decimals to a coefficient at scale 18', () => {
    expect(parseFixed('1', 18, false)).toBe(10n ** 18n);
    expect(parseFixed('1.25', 18, false)).toBe(125n * 10n ** 16n);
    expect(parseFixed('0.000000000000000001', 18, false)).toBe(1n);
    expect(parseFixed('123456789012345.5', 18, false)).toBe(1234567890123455n * 10n ** 17n);
    expect(parseFixed('1000000000000000', 18, false)).toBe(10n ** 33n);
    expect(parseFixed('007.50', 18, false)).toBe(75n * 10n ** 17n);
    expect(parseFixed('0', 18, false)).toBe(0n);
    expect(parseFixed('-2.5', 18, true)).toBe(-25n * 10n ** 17n);
    expect(parseFixed('-0', 18, true)).toBe(0n);
  });

  it('accepts zeros beyond 18 places but no other digits', () => {
    expect(parseFixed('1.5000000000000000000000', 18, false)).toBe(15n * 10n ** 17n);
    expect(parseFixed('0.1234567890123456780', 18, false)).toBe(123456789012345678n);
    expect(issueOf(() => parseFixed('0.0000000000000000001', 18, false))).toBe('too-many-places');
    expect(issueOf(() => parseFixed('1.1234567890123456789', 18, false))).toBe('too-many-places');
  });

  it('rejects everything that is not a plain decimal', () => {
    for (const bad of ['', ' ', '1 ', ' 1', '+1', '1e5', '1E5', '1e-5', 'NaN', 'Infinity', '-Infinity', '.5', '5.', '1.2.3', '1,5', '0x10', '١', '--1', '-', '1_000', '½', '1.5\n']) {
      expect(issueOf(() => parseFixed(bad, 18, true)), bad).toBe('syntax');
    }
    expect(issueOf(() => parseFixed(1.5 as unknown as string, 18, false))).toBe('not-a-string');
    expect(issueOf(() => parseFixed(null as unknown as string, 18, false))).toBe('not-a-string');
  });

  it('distinguishes a negative amount from a malformed one', () => {
    expect(issueOf(() => parseFixed('-1', 18, false))).toBe('negative');
    expect(issueOf(() => parseFixed('-0', 18, false))).toBe('negative');
    expect(issueOf(() => parseFixed('-abc', 18, false))).toBe('syntax');
  });

  it('parseDecimal keeps the natural scale', () => {
    expect(parseDecimal('1.50')).toEqual({ coefficient: 150n, scale: 2 });
    expect(parseDecimal('42')).toEqual({ coefficient: 42n, scale: 0 });
    expect(parseDecimal('-0.001')).toEqual({ coefficient: -1n, scale: 3 });
    expect(() => parseDecimal('-1', { allowNegative: false })).toThrow(DecimalSyntaxError);
    expect(() => parseDecimal('0.1234', { maxScale: 3 })).toThrow(/at most 3 decimal places/);
  });
});

describe('decimal: formatting', () => {
  it('prints canonical plain decimals', () => {
    expect(formatFixed(0n, 18)).toBe('0');
    expect(formatFixed(15n * 10n ** 17n, 18)).toBe('1.5');
    expect(formatFixed(-25n * 10n ** 16n, 18)).toBe('-0.25');
    expect(formatFixed(1n, 18)).toBe('0.000000000000000001');
    expect(formatFixed(1n, 36)).toBe('0.000000000000000000000000000000000001');
    expect(formatFixed(10n ** 33n, 18)).toBe('1000000000000000');
    expect(formatFixed(1230n, 0)).toBe('1230');
    expect(formatFixed(-7n, 0)).toBe('-7');
    expect(formatFixed(12345678901234567890123456789n, 36)).toBe('0.000000012345678901234567890123456789');
  });

  it('formatting inverts parsing, and never prints an exponent', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.integer({ min: 0, max: 36 }), (c, s) => {
        const text = formatFixed(c, s);
        expect(text).toMatch(/^-?(0|[1-9]\d*)(\.\d*[1-9])?$/);
        expect(parseDecimal(text, { maxScale: 36 }).coefficient * 10n ** BigInt(s - parseDecimal(text, { maxScale: 36 }).scale)).toBe(c);
      }),
      { numRuns: 2000 },
    );
  });

  it('recognises canonical text', () => {
    for (const t of ['0', '1', '1.5', '-0.25', '0.000000000000000001', '10', '100.01']) expect(isCanonicalText(t), t).toBe(true);
    for (const t of ['00', '01', '1.50', '1.0', '0.0', '-0', '-0.0', '-01', '007.5']) expect(isCanonicalText(t), t).toBe(false);
    expect(canonicalDecimalText('007.500')).toBe('7.5');
    expect(canonicalDecimalText('-0.000')).toBe('0');
    expect(canonicalDecimalText('1.5000000000000000000000')).toBe('1.5');
  });
});

describe('decimal: rounding and arithmetic', () => {
  it('rounds half away from zero (PostgreSQL numeric round)', () => {
    expect(divRoundHalfAway(5n, 2n)).toBe(3n); // 2.5 → 3
    expect(divRoundHalfAway(-5n, 2n)).toBe(-3n); // -2.5 → -3
    expect(divRoundHalfAway(7n, 2n)).toBe(4n); // 3.5 → 4
    expect(divRoundHalfAway(-7n, 2n)).toBe(-4n);
    expect(divRoundHalfAway(4n, 3n)).toBe(1n); // 1.33 → 1
    expect(divRoundHalfAway(5n, 3n)).toBe(2n); // 1.67 → 2
    expect(divRoundHalfAway(-4n, 3n)).toBe(-1n);
    expect(divRoundHalfAway(5n, -2n)).toBe(-3n);
    expect(divRoundHalfAway(0n, 7n)).toBe(0n);
    expect(formatDecimal(roundToScale(parseDecimal('0.0000000000000000025', { maxScale: 19 }), 18))).toBe('0.000000000000000003');
    expect(formatDecimal(roundToScale(parseDecimal('-0.0000000000000000025', { maxScale: 19 }), 18))).toBe('-0.000000000000000003');
    expect(formatDecimal(roundToScale(parseDecimal('2.4999'), 0))).toBe('2');
    expect(formatDecimal(roundToScale(parseDecimal('2.5'), 0))).toBe('3');
    expect(formatDecimal(roundToScale(parseDecimal('-2.5'), 0))).toBe('-3');
  });

  it('rounding matches the definition on random values', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 20n }), (n, d) => {
        const q = divRoundHalfAway(n, d);
        // |n/d − q| ≤ 1/2, and exactly 1/2 only when q is away from zero
        const err = n - q * d; // (n/d − q)·d
        const twice = 2n * (err < 0n ? -err : err);
        expect(twice <= d).toBe(true);
        if (twice === d) expect(q === 0n ? false : (q > 0n) === (n > 0n)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('adds, subtracts, multiplies and divides exactly', () => {
    const d = (t: string) => parseDecimal(t, { maxScale: 36 });
    expect(formatDecimal(add(d('0.1'), d('0.2')))).toBe('0.3');
    expect(formatDecimal(sub(d('0.1'), d('0.3')))).toBe('-0.2');
    expect(formatDecimal(mul(d('123456789012345.5'), d('0.000000000000000001')))).toBe('0.0001234567890123455');
    expect(formatDecimal(mul(d('1000000000000000'), d('1000000000000000')))).toBe('1000000000000000000000000000000');
    expect(formatDecimal(divide(d('0.01'), d('3'), 18))).toBe('0.003333333333333333');
    expect(formatDecimal(divide(d('0.02'), d('3'), 18))).toBe('0.006666666666666667');
    expect(compare(d('1.50'), d('1.5'))).toBe(0);
    expect(compare(d('-1'), d('0.000000000000000001'))).toBe(-1);
  });
});
