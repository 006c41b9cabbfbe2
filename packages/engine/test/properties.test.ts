/**
 * Property tests over random ledgers (fast-check): the invariants of docs/CONTRACT.md §6.1, equality with naive
 * reference allocators, resumability at every split point through JSON, determinism, and
 * equality of the fast and BigInt kernels. 10,505 generated ledgers in total (FC_SEED sets the seed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, emptyState } from '../src/index.ts';
import type { AllocateResult, Method, SymbolState, TradeInput } from '../src/index.ts';
import { R, checkInvariants, deepFreeze, fifoOverlap, ledgerArb, referenceAllocate } from './helpers.ts';

const METHODS: Method[] = ['fifo', 'lifo', 'hifo'];
const methodArb = fc.constantFrom<Method>(...METHODS);

/** Deep equality of plain data; compares JSON first (fast) and falls back to toEqual for a readable diff. */
function same(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
}
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
  it('satisfies every invariant and equals the naive reference, for each method (2,500 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 30 }), (trades) => {
        for (const method of METHODS) {
          const res = run(trades, method);
          checkInvariants(trades, res, method);
          same(res.rows, referenceAllocate(trades, method));
          expect(res.state.tradesProcessed).toBe(trades.length);
        }
      }),
      params(2500),
    );
  });

  it('FIFO equals the cumulative-range overlap formulation on ledgers without oversells (2,500 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 40, noOversell: true }), (trades) => {
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
      params(2500),
    );
  });

  it('is resumable at every split point, through a JSON round trip of the state (1,500 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 20 }), methodArb, (trades, method) => {
        const whole = run(trades, method);
        for (let k = 0; k <= trades.length; k++) same(runInBatches(trades, method, [k]), whole);
      }),
      params(1500),
    );
  });

  it('is resumable over random multi-batch partitions of longer ledgers (300 ledgers)', () => {
    fc.assert(
      fc.property(
        ledgerArb({ minLength: 50, maxLength: 200 }),
        methodArb,
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 12 }),
        (trades, method, rawCuts) => {
          const cuts = [...new Set(rawCuts.map((c) => Math.min(c, trades.length)))].sort((a, b) => a - b);
          const whole = run(trades, method);
          same(runInBatches(trades, method, cuts), whole);
        },
      ),
      params(300),
    );
  });

  it('fast and BigInt kernels give identical results, also when a batch switches kernels midway (2,500 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 40 }), methodArb, (trades, method) => {
        same(run(trades, method), run(trades, method, 'bigint'));
      }),
      params(2500),
    );
  });

  it('is deterministic and never mutates its inputs (1,200 ledgers)', () => {
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
      params(1200),
    );
  });

  it('handles ledgers with thousands of open lots (5 ledgers × 3 methods)', () => {
    fc.assert(
      fc.property(ledgerArb({ minLength: 2000, maxLength: 3000, buyBias: 0.85 }), (trades) => {
        for (const method of METHODS) {
          const res = run(trades, method);
          checkInvariants(trades, res, method);
          same(run(trades, method, 'bigint'), res);
          same(runInBatches(trades, method, [Math.floor(trades.length / 3), Math.floor((2 * trades.length) / 3)]), res);
        }
        same(run(trades, 'hifo').rows, referenceAllocate(trades, 'hifo'));
      }),
      params(5),
    );
  });
});
