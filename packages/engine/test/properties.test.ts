/**
 * Property tests over random ledgers (fast-check): SPEC §3 invariants, equality with naive
 * reference allocators, resumability at every split point through JSON, determinism, and
 * equality of the fast and BigInt kernels. ≥ 10,000 generated ledgers in total.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, emptyState } from '../src/index.ts';
import type { AllocateResult, Method, SymbolState, TradeInput } from '../src/index.ts';
import { R, checkInvariants, deepFreeze, fifoOverlap, ledgerArb, referenceAllocate } from './helpers.ts';

const METHODS: Method[] = ['fifo', 'lifo', 'hifo'];
const methodArb = fc.constantFrom<Method>(...METHODS);
const SEED = Number(process.env.FC_SEED ?? 20251122);
const params = (numRuns: number) => ({ numRuns, seed: SEED });

const run = (trades: readonly TradeInput[], method: Method, kernel: 'auto' | 'bigint' = 'auto'): AllocateResult =>
  allocate(emptyState('SOL-USD', method), trades, { kernel });

/** allocate() over batches, with a JSON round trip of the state between them. */
function runInBatches(trades: readonly TradeInput[], method: Method, cuts: readonly number[]): AllocateResult {
  let state: SymbolState = emptyState('SOL-USD', method);
  const rows: AllocateResult['rows'] = [];
  const reviews: AllocateResult['reviews'] = [];
  let from = 0;
  for (const cut of [...cuts, trades.length]) {
    const r = allocate(state, trades.slice(from, cut));
    rows.push(...r.rows);
    reviews.push(...r.reviews);
    state = JSON.parse(JSON.stringify(r.state)) as SymbolState;
    from = cut;
  }
  return { rows, reviews, state };
}

describe('allocation properties', () => {
  it('satisfies every SPEC §3 invariant and equals the naive reference, for each method (3,000 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 40 }), (trades) => {
        for (const method of METHODS) {
          const res = run(trades, method);
          checkInvariants(trades, res, method);
          expect(res.rows).toEqual(referenceAllocate(trades, method));
          expect(res.state.tradesProcessed).toBe(trades.length);
        }
      }),
      params(3000),
    );
  });

  it('FIFO equals the cumulative-range overlap formulation on ledgers without oversells (2,000 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 60, noOversell: true }), (trades) => {
        const res = run(trades, 'fifo');
        expect(res.reviews).toEqual([]);
        const got = new Map<string, bigint>();
        for (const row of res.rows) {
          expect(row.buyOrderId).not.toBeNull();
          const key = `${row.sellOrderId}>${row.buyOrderId}`;
          got.set(key, (got.get(key) ?? 0n) + R(row.allocatedSize));
        }
        expect(got).toEqual(fifoOverlap(trades));
      }),
      params(2000),
    );
  });

  it('is resumable at every split point, through a JSON round trip of the state (2,000 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 24 }), methodArb, (trades, method) => {
        const whole = run(trades, method);
        for (let k = 0; k <= trades.length; k++) {
          const split = runInBatches(trades, method, [k]);
          expect(split.rows).toEqual(whole.rows);
          expect(split.reviews).toEqual(whole.reviews);
          expect(split.state).toEqual(whole.state);
        }
      }),
      params(2000),
    );
  });

  it('is resumable over random multi-batch partitions of longer ledgers (500 ledgers)', () => {
    fc.assert(
      fc.property(
        ledgerArb({ minLength: 50, maxLength: 250 }),
        methodArb,
        fc.array(fc.integer({ min: 0, max: 250 }), { maxLength: 12 }),
        (trades, method, rawCuts) => {
          const cuts = [...new Set(rawCuts.map((c) => Math.min(c, trades.length)))].sort((a, b) => a - b);
          const whole = run(trades, method);
          const split = runInBatches(trades, method, cuts);
          expect(split.rows).toEqual(whole.rows);
          expect(split.reviews).toEqual(whole.reviews);
          expect(split.state).toEqual(whole.state);
        },
      ),
      params(500),
    );
  });

  it('fast and BigInt kernels give identical results, also when a batch switches kernels midway (2,000 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 50 }), methodArb, (trades, method) => {
        const auto = run(trades, method);
        const big = run(trades, method, 'bigint');
        expect(auto).toEqual(big);
      }),
      params(2000),
    );
  });

  it('is deterministic and never mutates its inputs (1,000 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 40 }), methodArb, fc.integer({ min: 0, max: 40 }), (trades, method, cut) => {
        const k = Math.min(cut, trades.length);
        const first = run(trades.slice(0, k), method);
        const state = deepFreeze(JSON.parse(JSON.stringify(first.state)) as SymbolState);
        const rest = deepFreeze(trades.slice(k).map((t) => ({ ...t })));
        const a = allocate(state, rest);
        const b = allocate(state, rest);
        expect(a).toEqual(b);
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      params(1000),
    );
  });

  it('handles ledgers with thousands of open lots (8 ledgers × 3 methods)', () => {
    fc.assert(
      fc.property(ledgerArb({ minLength: 2500, maxLength: 4000, buyBias: 0.85 }), (trades) => {
        for (const method of METHODS) {
          const res = run(trades, method);
          checkInvariants(trades, res, method);
          expect(run(trades, method, 'bigint')).toEqual(res);
          expect(runInBatches(trades, method, [Math.floor(trades.length / 3), Math.floor((2 * trades.length) / 3)])).toEqual(res);
        }
        expect(run(trades, 'hifo').rows).toEqual(referenceAllocate(trades, 'hifo'));
      }),
      params(8),
    );
  });
});
