/**
 * The fast kernel reads each trade with an inline check and falls back to the general checks of
 * validate.ts on anything unusual; it formats through formatParts. These properties compare both
 * with the general paths: random ledgers with one corrupted or unusual trade give the same result,
 * or the same error, on the fast and the BigInt kernel and in validateBatch; formatted values near
 * the limits of the fast range equal the BigInt formatter's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineInputError, allocate, emptyState, validateBatch } from '../src/index.ts';
import type { Method, SymbolState, TradeInput } from '../src/index.ts';
import { formatFixed } from '../src/decimal.ts';
import { MAX_NANO, formatNano, formatParts } from '../src/nano.ts';
import { ledgerArb } from './helpers.ts';

const SEED = Number(process.env.FC_SEED ?? 20251201);

type Outcome = { ok: true; json: string } | { ok: false; message: string; field: string; index: number | null; orderId: string | null };

function outcome(f: () => unknown): Outcome {
  try {
    return { ok: true, json: JSON.stringify(f()) };
  } catch (e) {
    if (!(e instanceof EngineInputError)) throw e;
    return { ok: false, message: e.message, field: e.field, index: e.index, orderId: e.orderId };
  }
}

/** Ways to make one trade of the batch unusual (valid or not). */
const KINDS = [
  'dup-batch',
  'dup-lot',
  'dup-watermark',
  'earlier-time',
  'same-time-smaller-id',
  'bad-time',
  'feb-30',
  'wrong-symbol',
  'bad-side',
  'empty-id',
  'size-zero',
  'price-zero',
  'fee-negative',
  'fee-10-places',
  'size-huge',
  'padded-amounts',
  'leading-zeros',
  'not-an-object',
  'number-size',
] as const;
type Kind = (typeof KINDS)[number];

function corrupt(trades: TradeInput[], state: SymbolState, i: number, kind: Kind): unknown[] {
  const out: unknown[] = trades.map((t) => ({ ...t }));
  const t = out[i] as Record<string, unknown>;
  const prev = (i > 0 ? out[i - 1] : null) as TradeInput | null;
  switch (kind) {
    case 'dup-batch':
      if (prev) t.orderId = (out[Math.floor(i / 2)] as TradeInput).orderId;
      break;
    case 'dup-lot':
      if (state.lots.length > 0) t.orderId = state.lots[state.lots.length - 1]!.orderId;
      break;
    case 'dup-watermark':
      if (state.watermark) t.orderId = state.watermark.orderId;
      break;
    case 'earlier-time':
      t.time = '2023-12-31T23:59:59.999999Z';
      break;
    case 'same-time-smaller-id':
      if (prev) {
        t.time = prev.time;
        t.side = prev.side;
        t.orderId = '!' + prev.orderId;
      }
      break;
    case 'bad-time':
      t.time = String(t.time).replace('T', ' ');
      break;
    case 'feb-30':
      t.time = '2099-02-30T00:00:00.000000Z';
      break;
    case 'wrong-symbol':
      t.symbol = 'OTHER';
      break;
    case 'bad-side':
      t.side = 'Buy';
      break;
    case 'empty-id':
      t.orderId = '';
      break;
    case 'size-zero':
      t.size = '0.000';
      break;
    case 'price-zero':
      t.price = '0';
      break;
    case 'fee-negative':
      t.fee = '-1';
      break;
    case 'fee-10-places':
      t.fee = '0.0000000001';
      break;
    case 'size-huge':
      t.size = '9007199.254740992';
      break;
    case 'padded-amounts':
      for (const k of ['size', 'price', 'fee']) t[k] = String(t[k]).includes('.') ? `${t[k]}000` : `${t[k]}.0`;
      break;
    case 'leading-zeros':
      for (const k of ['size', 'price', 'fee']) t[k] = `00${t[k]}`;
      break;
    case 'not-an-object':
      out[i] = null;
      break;
    case 'number-size':
      t.size = 1;
      break;
  }
  return out;
}

describe('fast kernel: inline trade checks and formatting', () => {
  it('gives the result or the error of the general checks on ledgers with one unusual trade', () => {
    const arb = fc.record({
      trades: ledgerArb({ regime: 'nano', minLength: 2, maxLength: 40 }),
      method: fc.constantFrom<Method>('fifo', 'lifo', 'hifo'),
      cut: fc.nat(),
      at: fc.nat(),
      kind: fc.constantFrom(...KINDS),
    });
    fc.assert(
      fc.property(arb, ({ trades, method, cut, at, kind }) => {
        const k = 1 + (cut % (trades.length - 1));
        const state = JSON.parse(JSON.stringify(allocate(emptyState('SOL-USD', method), trades.slice(0, k)).state)) as SymbolState;
        const batch = trades.slice(k);
        const bad = corrupt(batch, state, at % batch.length, kind) as TradeInput[];
        const fast = outcome(() => allocate(state, bad));
        expect(fast).toEqual(outcome(() => allocate(state, bad, { kernel: 'bigint' })));
        const checked = outcome(() => validateBatch(state, bad));
        if (fast.ok) expect(checked.ok).toBe(true);
        else expect(checked).toEqual(fast);
      }),
      { numRuns: 3000, seed: SEED },
    );
  });

  it('formats values near the limits like the BigInt formatter', () => {
    const digits9 = fc.oneof(
      fc.integer({ min: 0, max: 999_999_999 }),
      fc.tuple(fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 1, max: 9 })).map(([x, k]) => x - (x % 10 ** k)),
      fc.constantFrom(0, 1, 10, 100_000_000, 999_999_999, 900_000_000, 5),
    );
    const high = fc.oneof(
      fc.integer({ min: 0, max: MAX_NANO }),
      fc.integer({ min: 2 ** 31 - 5, max: 2 ** 31 + 5 }),
      fc.integer({ min: MAX_NANO - 1000, max: MAX_NANO }),
      fc.constantFrom(0, 1, 9, 10, 99_999_999, 100_000_000, 999_999_999, 1e9, 1e15, 1e15 - 1),
    );
    fc.assert(
      fc.property(fc.boolean(), high, digits9, digits9, (neg, h, m, l) => {
        const v = BigInt(h) * 10n ** 18n + BigInt(m) * 10n ** 9n + BigInt(l);
        expect(formatParts(neg, h, m, l)).toBe(formatFixed(neg ? -v : v, 18));
      }),
      { numRuns: 20000, seed: SEED },
    );
    fc.assert(
      fc.property(fc.oneof(high, digits9), (n) => {
        expect(formatNano(n)).toBe(formatFixed(BigInt(n), 9));
      }),
      { numRuns: 5000, seed: SEED },
    );
  });
});
