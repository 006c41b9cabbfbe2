import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCodePoints, compareTrades, sortTrades } from '../src/index.ts';

describe('processing order', () => {
  it('orders by time, then buys before sells, then orderId', () => {
    const t = (orderId: string, side: string, time: string) => ({ orderId, side, time });
    const trades = [
      t('b', 'sell', '2025-01-01T00:00:00.000001Z'),
      t('z', 'buy', '2025-01-01T00:00:00.000001Z'),
      t('a', 'sell', '2025-01-01T00:00:00.000001Z'),
      t('c', 'buy', '2025-01-01T00:00:00.000000Z'),
      t('a', 'buy', '2025-01-01T00:00:00.000001Z'),
    ];
    expect(sortTrades(trades).map((x) => `${x.side}:${x.orderId}`)).toEqual(['buy:c', 'buy:a', 'buy:z', 'sell:a', 'sell:b']);
    expect(trades[0]!.orderId).toBe('b'); // input untouched
    expect(compareTrades(trades[0]!, trades[0]!)).toBe(0);
  });

  it('compares order ids by code point, i.e. UTF-8 byte order = PostgreSQL COLLATE "C"', () => {
    expect(compareCodePoints('A', 'a')).toBe(-1);
    expect(compareCodePoints('order-10', 'order-9')).toBe(-1);
    expect(compareCodePoints('ab', 'abc')).toBe(-1);
    // U+FFFF sorts before U+1F600 by code point, although its UTF-16 unit is larger than the surrogate
    expect(compareCodePoints('x\uFFFF', 'x\u{1F600}')).toBe(-1);
    expect('x\uFFFF' < 'x\u{1F600}').toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const bytes = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
        expect(compareCodePoints(a, b)).toBe(bytes);
      }),
      { numRuns: 3000 },
    );
  });
});
