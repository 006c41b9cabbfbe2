/**
 * Lots per account and transfers (issue 14; docs/CONTRACT.md §5): per_account pooling against a
 * test-local exact-rational reference, universal pooling unchanged by accounts and transfers,
 * resumability at every split point with transfers, and hand-worked cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineInputError, allocate, emptyState, validateBatch } from '../src/index.ts';
import type { AllocateResult, LedgerEvent, Method, SymbolState, TradeInput } from '../src/index.ts';
import { ledgerArb, referenceAllocate } from './helpers.ts';
import { Q, eventsArb, referenceAccounts } from './accounts-reference.ts';

const METHODS: Method[] = ['fifo', 'lifo', 'hifo'];
const SEED = Number(process.env.FC_SEED ?? 20251201);
const params = (numRuns: number) => ({ numRuns, seed: SEED });

function same(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
}

const perAccount = (events: readonly LedgerEvent[], method: Method): AllocateResult =>
  allocate(emptyState('SOL-USD', method, 'per_account'), events);

function inBatches(events: readonly LedgerEvent[], state0: SymbolState, cuts: readonly number[]): AllocateResult {
  let state = state0;
  const rows: AllocateResult['rows'] = [];
  const reviews: AllocateResult['reviews'] = [];
  let from = 0;
  for (const cut of [...cuts, events.length]) {
    const r = allocate(state, events.slice(from, cut));
    rows.push(...r.rows);
    reviews.push(...r.reviews);
    state = JSON.parse(JSON.stringify(r.state)) as SymbolState;
    from = cut;
  }
  return { rows, reviews, state };
}

/** The trades alone, without accounts: what the ledger was before issue 14. */
const today = (events: readonly LedgerEvent[]): TradeInput[] =>
  events.filter((e): e is TradeInput => e.side !== 'transfer').map(({ account: _account, ...t }) => t);

describe('per_account pooling', () => {
  it('equals the exact-rational reference on random ledgers with accounts and transfers (1,500 ledgers × 3 methods)', () => {
    fc.assert(
      fc.property(eventsArb({ maxLength: 30 }), (events) => {
        for (const method of METHODS) {
          const res = perAccount(events, method);
          const ref = referenceAccounts(events, method);
          same(res.rows, ref.rows);
          same(res.reviews, ref.reviews);
          same(res.state.lots, ref.lots);
          expect(res.state.tradesProcessed).toBe(events.length);
        }
      }),
      params(1500),
    );
  });

  it('keeps the invariants: per sell Σ = size, per buy Σ ≤ size and fee shares = fee when consumed, lots only from the account (800 ledgers)', () => {
    fc.assert(
      fc.property(eventsArb({ maxLength: 40, accounts: 4 }), fc.constantFrom(...METHODS), (events, method) => {
        const res = perAccount(events, method);
        const trades = new Map(events.filter((e): e is TradeInput => e.side !== 'transfer').map((t) => [t.orderId, t]));
        const perSell = new Map<string, Q>();
        const perBuy = new Map<string, { size: Q; fee: Q }>();
        for (const r of res.rows) {
          const sell = trades.get(r.sellOrderId)!;
          expect(r.account).toBe(sell.account);
          perSell.set(r.sellOrderId, (perSell.get(r.sellOrderId) ?? new Q(0n)).add(Q.of(r.allocatedSize)));
          if (r.buyOrderId === null) continue;
          const b = perBuy.get(r.buyOrderId) ?? { size: new Q(0n), fee: new Q(0n) };
          perBuy.set(r.buyOrderId, { size: b.size.add(Q.of(r.allocatedSize)), fee: b.fee.add(Q.of(r.buyFee!)) });
        }
        for (const t of trades.values()) {
          if (t.side === 'sell') expect(perSell.get(t.orderId)!.cmp(Q.of(t.size))).toBe(0);
          const b = perBuy.get(t.orderId);
          if (t.side !== 'buy' || !b) continue;
          expect(b.size.cmp(Q.of(t.size))).toBeLessThanOrEqual(0);
          if (b.size.cmp(Q.of(t.size)) === 0) expect(b.fee.cmp(Q.of(t.fee))).toBe(0);
        }
        // open pieces + consumed = bought, per buy
        const open = new Map<string, Q>();
        for (const l of res.state.lots) open.set(l.orderId, (open.get(l.orderId) ?? new Q(0n)).add(Q.of(l.remaining)));
        for (const t of trades.values()) {
          if (t.side !== 'buy') continue;
          const used = perBuy.get(t.orderId)?.size ?? new Q(0n);
          expect(used.add(open.get(t.orderId) ?? new Q(0n)).cmp(Q.of(t.size))).toBe(0);
        }
      }),
      params(800),
    );
  });

  it('is resumable at every split point, with transfers, through a JSON round trip (600 ledgers)', () => {
    fc.assert(
      fc.property(eventsArb({ maxLength: 18 }), fc.constantFrom(...METHODS), (events, method) => {
        const whole = perAccount(events, method);
        for (let k = 0; k <= events.length; k++) same(inBatches(events, emptyState('SOL-USD', method, 'per_account'), [k]), whole);
      }),
      params(600),
    );
  });

  it('with one account and no transfers equals universal pooling, the account added to each row (600 ledgers)', () => {
    fc.assert(
      fc.property(ledgerArb({ maxLength: 30 }), fc.constantFrom(...METHODS), (trades, method) => {
        const universal = allocate(emptyState('SOL-USD', method), trades);
        const accounts = perAccount(trades, method);
        same(accounts.rows, universal.rows.map((r) => ({ ...r, account: 'default' })));
        same(accounts.reviews, universal.reviews.map((r) => ({ ...r, details: { ...r.details, account: 'default' } })));
        same(accounts.state.lots, universal.state.lots.map((l) => ({ ...l, account: 'default' })));
      }),
      params(600),
    );
  });
});

describe('universal pooling', () => {
  it("ignores accounts and transfers: today's results on every generated ledger (1,000 ledgers × 3 methods)", () => {
    fc.assert(
      fc.property(eventsArb({ maxLength: 30 }), (events) => {
        for (const method of METHODS) {
          const withAccounts = allocate(emptyState('SOL-USD', method), events);
          const before = allocate(emptyState('SOL-USD', method), today(events));
          same(withAccounts, before);
          same(withAccounts.rows, referenceAllocate(today(events), method));
          expect(JSON.stringify(withAccounts.state)).not.toContain('pooling');
          expect(JSON.stringify(withAccounts.state)).not.toContain('account');
        }
      }),
      params(1000),
    );
  });
});

// ---- hand-worked cases ----------------------------------------------------------------------

const T = (s: number) => `2025-03-01T00:00:${String(s).padStart(2, '0')}.000000Z`;
const buy = (orderId: string, account: string, size: string, price: string, fee: string, s: number): TradeInput =>
  ({ orderId, symbol: 'SOL-USD', side: 'buy', size, price, fee, time: T(s), account });
const sell = (orderId: string, account: string, size: string, price: string, fee: string, s: number): TradeInput =>
  ({ orderId, symbol: 'SOL-USD', side: 'sell', size, price, fee, time: T(s), account });
const move = (orderId: string, from: string, to: string, size: string, s: number): LedgerEvent =>
  ({ orderId, symbol: 'SOL-USD', side: 'transfer', size, time: T(s), account: from, toAccount: to });

describe('per_account: hand-worked', () => {
  it('a lot bought on A, moved to B, sold on B keeps its acquisition date, basis and exact fee share', () => {
    const res = perAccount([
      buy('b1', 'A', '3', '10', '1', 1),
      move('t1', 'A', 'B', '2', 2),
      sell('s1', 'B', '2', '15', '0', 3),
      sell('s2', 'A', '1', '12', '0', 4),
    ], 'fifo');
    expect(res.reviews).toEqual([]);
    expect(res.rows.map((r) => [r.sellOrderId, r.account, r.buyOrderId, r.buyTime, r.allocatedSize, r.buyFee, r.costBasis, r.pnl])).toEqual([
      // fee 1 over 3 units: round(1 × 2/3) = 0.666666666666666667 for the first two units
      ['s1', 'B', 'b1', T(1), '2', '0.666666666666666667', '20.666666666666666667', '9.333333333333333333'],
      // the last unit takes the rest, so the shares add up to the fee exactly
      ['s2', 'A', 'b1', T(1), '1', '0.333333333333333333', '10.333333333333333333', '1.666666666666666667'],
    ]);
    expect(res.state.lots).toEqual([]);
  });

  it('a sell on A that universal pooling matches is unmatched under per_account (the lot is on B)', () => {
    const events = [buy('b1', 'B', '1', '10', '0', 1), sell('s1', 'A', '1', '12', '0', 2)];
    const universal = allocate(emptyState('SOL-USD', 'fifo'), events);
    expect(universal.rows.map((r) => r.buyOrderId)).toEqual(['b1']);
    const res = perAccount(events, 'fifo');
    expect(res.rows.map((r) => [r.buyOrderId, r.allocatedSize, r.account])).toEqual([[null, '1', 'A']]);
    expect(res.reviews).toEqual([
      { issueType: 'unmatched_sell', symbol: 'SOL-USD', orderId: 's1', severity: 'critical',
        details: { requested: '1', available: '0', unmatched: '1', sellTime: T(2), account: 'A' } },
    ]);
    expect(res.state.lots).toEqual([{ orderId: 'b1', time: T(1), price: '10', size: '1', fee: '0', remaining: '1', account: 'B' }]);
  });

  it('a lot split across two accounts, consumed interleaved: fee shares by the buy’s own cumulative rounding', () => {
    const res = perAccount([
      buy('b1', 'A', '3', '10', '0.000000000000000001', 1),
      move('t1', 'A', 'B', '1.5', 2),
      sell('s1', 'B', '1', '11', '0', 3), // 1 of 3: round(1e-18/3) = 0
      sell('s2', 'A', '1', '11', '0', 4), // 2 of 3: round(2e-18/3) = 1e-18 → share 1e-18
      sell('s3', 'B', '0.5', '11', '0', 5), // 2.5 of 3: still 1e-18 → share 0
      sell('s4', 'A', '0.5', '11', '0', 6), // all of it: 1e-18 → share 0
    ], 'fifo');
    expect(res.rows.map((r) => [r.sellOrderId, r.account, r.allocatedSize, r.buyFee])).toEqual([
      ['s1', 'B', '1', '0'],
      ['s2', 'A', '1', '0.000000000000000001'],
      ['s3', 'B', '0.5', '0'],
      ['s4', 'A', '0.5', '0'],
    ]);
    expect(res.state.lots).toEqual([]);
  });

  it('pieces in the receiving account are ordered by their original buy time (FIFO, LIFO, HIFO)', () => {
    const events = [
      buy('old', 'A', '1', '20', '0', 1),
      buy('mid', 'B', '1', '7', '0', 2),
      buy('new', 'B', '1', '9', '0', 2),
      move('t1', 'A', 'B', '1', 3),
      sell('s1', 'B', '1', '10', '0', 4),
    ];
    const first = (m: Method) => perAccount(events, m).rows[0]!.buyOrderId;
    expect(first('fifo')).toBe('old'); // bought first (on A), sold first on B
    expect(first('lifo')).toBe('new'); // 'new' is processed after 'mid' at the same time (id order)
    expect(first('hifo')).toBe('old'); // the moved piece keeps its price
  });

  it('the part of a transfer beyond the account’s inventory moves nothing and is an unmatched_transfer (high)', () => {
    const res = perAccount([buy('b1', 'A', '1', '10', '0', 1), move('t1', 'A', 'B', '1.25', 2)], 'fifo');
    expect(res.reviews).toEqual([{
      issueType: 'unmatched_transfer', symbol: 'SOL-USD', orderId: 't1', severity: 'high',
      details: { transferId: 't1', fromAccount: 'A', toAccount: 'B', requested: '1.25', available: '1', unmatched: '0.25', transferTime: T(2) },
    }]);
    expect(res.state.lots).toEqual([{ orderId: 'b1', time: T(1), price: '10', size: '1', fee: '0', remaining: '1', account: 'B' }]);
  });

  it('at equal times: buys, then transfers, then sells', () => {
    const res = perAccount([buy('b1', 'A', '1', '10', '0', 1), move('t1', 'A', 'B', '1', 1), sell('s1', 'B', '1', '12', '0', 1)], 'fifo');
    expect(res.rows.map((r) => r.buyOrderId)).toEqual(['b1']);
    expect(() => perAccount([buy('b1', 'A', '1', '10', '0', 1), sell('s1', 'B', '1', '12', '0', 1), move('t1', 'A', 'B', '1', 1)], 'fifo'))
      .toThrow(/side is out of processing order/);
  });

  it('refuses a transfer to its own account, a bad size and an empty account, naming the transfer', () => {
    const bad = (e: Partial<LedgerEvent>) => () => perAccount([{ ...move('t1', 'A', 'B', '1', 1), ...e } as LedgerEvent], 'fifo');
    expect(bad({ toAccount: 'A' } as never)).toThrow(EngineInputError);
    expect(bad({ toAccount: 'A' } as never)).toThrow(/trade "t1".*toAccount must differ from account/);
    expect(bad({ size: '0' })).toThrow(/size must be > 0/);
    expect(bad({ size: '-1' })).toThrow(/size must be > 0/);
    expect(bad({ account: '' })).toThrow(/account must be a non-empty string/);
    expect(() => perAccount([{ ...buy('b1', '', '1', '1', '0', 1) }], 'fifo')).toThrow(/account must be a non-empty string/);
  });

  it('validateBatch runs the same checks: transfers checked under per_account, ignored under universal', () => {
    const events = [buy('b1', 'A', '1', '10', '0', 1), move('t1', 'A', 'A', '1', 2)];
    expect(() => validateBatch(emptyState('SOL-USD', 'fifo', 'per_account'), events)).toThrow(/toAccount must differ/);
    expect(() => validateBatch(emptyState('SOL-USD', 'fifo'), events)).not.toThrow();
  });

  it('a transfer id is its own namespace; the same id twice is refused', () => {
    const res = perAccount([buy('x', 'A', '1', '10', '0', 1), move('x', 'A', 'B', '1', 2)], 'fifo');
    expect(res.state.lots[0]!.account).toBe('B');
    expect(() => perAccount([buy('b', 'A', '1', '10', '0', 1), move('x', 'A', 'B', '1', 2), move('x', 'B', 'A', '1', 3)], 'fifo'))
      .toThrow(/orderId is a duplicate/);
  });

  it('a state with pieces of one lot validates them', () => {
    const lot = { orderId: 'b1', time: T(1), price: '10', size: '3', fee: '1', remaining: '1' };
    const st = (lots: object[]): SymbolState => ({ symbol: 'SOL-USD', method: 'fifo', pooling: 'per_account', lots: lots as never, watermark: { time: T(2), side: 'transfer', orderId: 't1' }, tradesProcessed: 2 });
    const ok = allocate(st([{ ...lot, account: 'A' }, { ...lot, account: 'B', remaining: '2' }]), [sell('s1', 'B', '2', '11', '0', 3)]);
    expect(ok.rows.map((r) => r.buyFee)).toEqual(['0.666666666666666667']);
    expect(() => allocate(st([{ ...lot, account: 'B' }, { ...lot, account: 'A' }]), [])).toThrow(/account is out of order/);
    expect(() => allocate(st([{ ...lot, account: 'A', remaining: '2' }, { ...lot, account: 'B', remaining: '2' }]), [])).toThrow(/remaining must be <= size/);
    expect(() => allocate(st([{ ...lot, account: 'A' }, { ...lot, account: 'B', price: '11' }]), [])).toThrow(/disagree/);
    expect(() => allocate(st([{ ...lot }]), [])).toThrow(/account must be a non-empty string/);
    expect(() => allocate({ ...st([]), pooling: 'wallets' as never }, [])).toThrow(/pooling must be one of universal, per_account/);
    expect(() => allocate({ ...st([]), pooling: undefined }, [])).toThrow(/watermark.side must be 'buy' or 'sell'/);
  });
});
