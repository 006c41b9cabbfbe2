/** Hand-computed cases, each run through both kernels. */
import { describe, expect, it } from 'vitest';
import { allocate, emptyState } from '../src/index.ts';
import type { AllocateResult, AllocationRow, Method, SymbolState, TradeInput } from '../src/index.ts';

const T = (orderId: string, side: 'buy' | 'sell', size: string, price: string, fee: string, time: string): TradeInput => ({
  orderId,
  symbol: 'SOL-USD',
  side,
  size,
  price,
  fee,
  time: time.length === 10 ? `${time}T12:00:00.000000Z` : time,
});

/** Allocates with both kernels, checks they agree, returns the result. */
function alloc(trades: TradeInput[], method: Method = 'fifo', state?: SymbolState): AllocateResult {
  const st = state ?? emptyState('SOL-USD', method);
  const a = allocate(st, trades);
  expect(allocate(st, trades, { kernel: 'bigint' })).toEqual(a);
  return a;
}

/** The interesting columns of a row: sell<buy size | buyFee sellFee | cost proceeds pnl. */
const brief = (r: AllocationRow) => `${r.sellOrderId}<${r.buyOrderId ?? '∅'} ${r.allocatedSize} | ${r.buyFee ?? '∅'} ${r.sellFee} | ${r.costBasis ?? '∅'} ${r.proceeds} ${r.pnl ?? '∅'}`;

describe('the users’ incident: no zombie buys', () => {
  const ledger = [
    T('sep-buy', 'buy', '10', '100', '0', '2025-09-03'),
    T('sep-sell', 'sell', '10', '105', '0', '2025-09-20'),
    T('dec-buy', 'buy', '5', '150', '0', '2025-12-05T14:00:00.000000Z'),
    T('dec-sell', 'sell', '5', '160', '0', '2025-12-05T18:30:00.000000Z'),
  ];

  it('matches the December sell to the same-day December buy once the September buy is consumed', () => {
    const r = alloc(ledger);
    expect(r.rows.map(brief)).toEqual(['sep-sell<sep-buy 10 | 0 0 | 1000 1050 50', 'dec-sell<dec-buy 5 | 0 0 | 750 800 50']);
    expect(r.rows[1]).toEqual({
      symbol: 'SOL-USD',
      sellOrderId: 'dec-sell',
      buyOrderId: 'dec-buy',
      seq: 1,
      allocatedSize: '5',
      buyPrice: '150',
      sellPrice: '160',
      buyTime: '2025-12-05T14:00:00.000000Z',
      sellTime: '2025-12-05T18:30:00.000000Z',
      buyFee: '0',
      sellFee: '0',
      costBasis: '750',
      proceeds: '800',
      pnl: '50',
    });
    expect(r.reviews).toEqual([]);
    expect(r.state.lots).toEqual([]);
  });

  it('also at the very same timestamp (buys first), and across batches', () => {
    const same = ledger.map((t) => (t.orderId === 'dec-sell' ? { ...t, time: '2025-12-05T14:00:00.000000Z' } : t));
    expect(alloc(same).rows.map((r) => r.buyOrderId)).toEqual(['sep-buy', 'dec-buy']);
    const first = alloc(ledger.slice(0, 2));
    const second = alloc(ledger.slice(2), 'fifo', JSON.parse(JSON.stringify(first.state)) as SymbolState);
    expect(second.rows.map(brief)).toEqual(['dec-sell<dec-buy 5 | 0 0 | 750 800 50']);
  });
});

describe('lots and sells', () => {
  it('one sell over 5 lots', () => {
    const r = alloc([
      T('b1', 'buy', '1', '10', '0.1', '2025-01-01'),
      T('b2', 'buy', '2', '11', '0.1', '2025-01-02'),
      T('b3', 'buy', '3', '12', '0.1', '2025-01-03'),
      T('b4', 'buy', '4', '13', '0.1', '2025-01-04'),
      T('b5', 'buy', '5', '14', '0.1', '2025-01-05'),
      T('s1', 'sell', '15', '20', '1.5', '2025-01-06'),
    ]);
    expect(r.rows.map(brief)).toEqual([
      's1<b1 1 | 0.1 0.1 | 10.1 19.9 9.8',
      's1<b2 2 | 0.1 0.2 | 22.1 39.8 17.7',
      's1<b3 3 | 0.1 0.3 | 36.1 59.7 23.6',
      's1<b4 4 | 0.1 0.4 | 52.1 79.6 27.5',
      's1<b5 5 | 0.1 0.5 | 70.1 99.5 29.4',
    ]);
    expect(r.rows.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(r.state.lots).toEqual([]);
  });

  it('one buy consumed by 5 sells', () => {
    const r = alloc([
      T('b1', 'buy', '10', '100', '1', '2025-01-01'),
      ...[1, 2, 3, 4, 5].map((i) => T(`s${i}`, 'sell', '2', String(100 + i), '0', `2025-01-0${i + 1}`)),
    ]);
    expect(r.rows.map(brief)).toEqual([
      's1<b1 2 | 0.2 0 | 200.2 202 1.8',
      's2<b1 2 | 0.2 0 | 200.2 204 3.8',
      's3<b1 2 | 0.2 0 | 200.2 206 5.8',
      's4<b1 2 | 0.2 0 | 200.2 208 7.8',
      's5<b1 2 | 0.2 0 | 200.2 210 9.8',
    ]);
    // after 3 sells the lot is still open with its remaining size
    const partial = alloc(
      [T('b1', 'buy', '10', '100', '1', '2025-01-01'), ...[1, 2, 3].map((i) => T(`s${i}`, 'sell', '2', '100', '0', `2025-01-0${i + 1}`))],
    );
    expect(partial.state.lots).toEqual([{ orderId: 'b1', time: '2025-01-01T12:00:00.000000Z', price: '100', size: '10', fee: '1', remaining: '4' }]);
    expect(partial.state.watermark).toEqual({ time: '2025-01-04T12:00:00.000000Z', side: 'sell', orderId: 's3' });
    expect(partial.state.tradesProcessed).toBe(4);
  });

  it('a fee of 0.01 split over 3 allocations sums to exactly 0.01 (buy side and sell side)', () => {
    const buySide = alloc([
      T('b1', 'buy', '3', '1', '0.01', '2025-01-01'),
      T('s1', 'sell', '1', '1', '0', '2025-01-02'),
      T('s2', 'sell', '1', '1', '0', '2025-01-03'),
      T('s3', 'sell', '1', '1', '0', '2025-01-04'),
    ]);
    expect(buySide.rows.map((r) => r.buyFee)).toEqual(['0.003333333333333333', '0.003333333333333334', '0.003333333333333333']);
    expect(buySide.rows.map((r) => r.costBasis)).toEqual(['1.003333333333333333', '1.003333333333333334', '1.003333333333333333']);
    const sellSide = alloc([
      T('b1', 'buy', '1', '1', '0', '2025-01-01'),
      T('b2', 'buy', '1', '1', '0', '2025-01-02'),
      T('b3', 'buy', '1', '1', '0', '2025-01-03'),
      T('s1', 'sell', '3', '2', '0.01', '2025-01-04'),
    ]);
    expect(sellSide.rows.map((r) => r.sellFee)).toEqual(['0.003333333333333333', '0.003333333333333334', '0.003333333333333333']);
    expect(sellSide.rows.map((r) => r.proceeds)).toEqual(['1.996666666666666667', '1.996666666666666666', '1.996666666666666667']);
    expect(sellSide.rows.map((r) => r.pnl)).toEqual(['0.996666666666666667', '0.996666666666666666', '0.996666666666666667']);
  });

  it('rounds an exact half share away from zero', () => {
    // fee 1e-18 over 2 halves: round(0.5e-18) = 1e-18, then 0
    const r = alloc([
      T('b1', 'buy', '2', '1', '0.000000000000000001', '2025-01-01'),
      T('s1', 'sell', '1', '1', '0.000000000000000001', '2025-01-02'),
      T('s2', 'sell', '1', '1', '0', '2025-01-03'),
    ]);
    expect(r.rows.map((x) => x.buyFee)).toEqual(['0.000000000000000001', '0']);
    // fast-kernel range: fee 1e-9 over a size of 1024e-9, first 1e-9 → 1e-9/1024 = 0.0000000000009765625 → …976563 at 18 places
    const f = alloc([
      T('b1', 'buy', '0.000001024', '1', '0.000000001', '2025-01-01'),
      T('s1', 'sell', '0.000000001', '1', '0', '2025-01-02'),
    ]);
    expect(f.rows[0]!.buyFee).toBe('0.000000000000976563');
  });

  it('keeps products exact beyond 18 places and handles extreme magnitudes', () => {
    const r = alloc([
      T('b1', 'buy', '0.000000000000000001', '0.000000000000000001', '0', '2025-01-01'),
      T('b2', 'buy', '1000000000000000', '123456789012345.123456789012345678', '0.000000000000000001', '2025-01-02'),
      T('s1', 'sell', '1000000000000000.000000000000000001', '999999999999999.999999999999999999', '999999999999999', '2025-01-03'),
    ]);
    expect(r.rows.map(brief)).toEqual([
      // values cross-checked with Python's decimal module at 200 digits
      's1<b1 0.000000000000000001 | 0 0.000000000000000001 | 0.000000000000000000000000000000000001 0.000999999999999998999999999999999999 0.000999999999999998999999999999999998',
      's1<b2 1000000000000000 | 0.000000000000000001 999999999999998.999999999999999999 | 123456789012345123456789012345.678000000000000001 999999999999999000000000000000.999000000000000001 876543210987653876543210987655.321',
    ]);
  });
});

describe('LIFO and HIFO on the same ledger', () => {
  const ledger = [
    T('b1', 'buy', '1', '100', '0', '2025-01-01'),
    T('b2', 'buy', '1', '300', '0', '2025-01-02'),
    T('b3', 'buy', '1', '200', '0', '2025-01-03'),
    T('s1', 'sell', '1.5', '250', '0', '2025-01-04'),
    T('s2', 'sell', '1', '260', '0', '2025-01-05'),
  ];

  it('FIFO: oldest first', () => {
    const r = alloc(ledger, 'fifo');
    expect(r.rows.map(brief)).toEqual([
      's1<b1 1 | 0 0 | 100 250 150',
      's1<b2 0.5 | 0 0 | 150 125 -25',
      's2<b2 0.5 | 0 0 | 150 130 -20',
      's2<b3 0.5 | 0 0 | 100 130 30',
    ]);
    expect(r.state.lots.map((l) => `${l.orderId}:${l.remaining}`)).toEqual(['b3:0.5']);
  });

  it('LIFO: newest first', () => {
    const r = alloc(ledger, 'lifo');
    expect(r.rows.map(brief)).toEqual([
      's1<b3 1 | 0 0 | 200 250 50',
      's1<b2 0.5 | 0 0 | 150 125 -25',
      's2<b2 0.5 | 0 0 | 150 130 -20',
      's2<b1 0.5 | 0 0 | 50 130 80',
    ]);
    expect(r.state.lots.map((l) => `${l.orderId}:${l.remaining}`)).toEqual(['b1:0.5']);
  });

  it('HIFO: highest price first', () => {
    const r = alloc(ledger, 'hifo');
    expect(r.rows.map(brief)).toEqual([
      's1<b2 1 | 0 0 | 300 250 -50',
      's1<b3 0.5 | 0 0 | 100 125 25',
      's2<b3 0.5 | 0 0 | 100 130 30',
      's2<b1 0.5 | 0 0 | 50 130 80',
    ]);
    expect(r.state.lots.map((l) => `${l.orderId}:${l.remaining}`)).toEqual(['b1:0.5']);
  });

  it('HIFO breaks price ties oldest first; LIFO takes a later buy at the sell time', () => {
    const tie = [
      T('b1', 'buy', '1', '5', '0', '2025-01-01'),
      T('b2', 'buy', '1', '7', '0', '2025-01-02'),
      T('b3', 'buy', '1', '7.00', '0', '2025-01-03'),
      T('s1', 'sell', '1.5', '8', '0', '2025-01-04'),
    ];
    expect(alloc(tie, 'hifo').rows.map((r) => `${r.buyOrderId}:${r.allocatedSize}`)).toEqual(['b2:1', 'b3:0.5']);
    const atSellTime = [...tie.slice(0, 3), T('b4', 'buy', '1', '1', '0', '2025-01-04'), T('s1', 'sell', '1', '8', '0', '2025-01-04')];
    expect(alloc(atSellTime, 'lifo').rows.map((r) => r.buyOrderId)).toEqual(['b4']);
  });
});

describe('unmatched sells', () => {
  it('nothing open: one unmatched row with the whole fee, and a critical review', () => {
    const r = alloc([T('s1', 'sell', '2', '50', '0.3', '2025-01-01')]);
    expect(r.rows).toEqual([
      {
        symbol: 'SOL-USD',
        sellOrderId: 's1',
        buyOrderId: null,
        seq: 1,
        allocatedSize: '2',
        buyPrice: null,
        sellPrice: '50',
        buyTime: null,
        sellTime: '2025-01-01T12:00:00.000000Z',
        buyFee: null,
        sellFee: '0.3',
        costBasis: null,
        proceeds: '99.7',
        pnl: null,
      },
    ]);
    expect(r.reviews).toEqual([
      {
        issueType: 'unmatched_sell',
        symbol: 'SOL-USD',
        orderId: 's1',
        severity: 'critical',
        details: { requested: '2', available: '0', unmatched: '2', sellTime: '2025-01-01T12:00:00.000000Z' },
      },
    ]);
  });

  it('partial: matched rows, then the remainder, fee shares summing to the fee; high vs medium (dust)', () => {
    const r = alloc([T('b1', 'buy', '1', '10', '0', '2025-01-01'), T('s1', 'sell', '3', '20', '0.03', '2025-01-02')]);
    expect(r.rows.map(brief)).toEqual(['s1<b1 1 | 0 0.01 | 10 19.99 9.99', 's1<∅ 2 | ∅ 0.02 | ∅ 39.98 ∅']);
    expect(r.reviews[0]).toMatchObject({ severity: 'high', details: { requested: '3', available: '1', unmatched: '2' } });
    const dust = alloc([T('b1', 'buy', '0.999', '10', '0', '2025-01-01'), T('s1', 'sell', '1', '20', '0', '2025-01-02')]);
    expect(dust.reviews[0]).toMatchObject({ severity: 'medium', details: { requested: '1', available: '0.999', unmatched: '0.001' } });
    // later buys do not retroactively cover an earlier oversell
    const later = alloc([T('s1', 'sell', '1', '20', '0', '2025-01-01'), T('b1', 'buy', '1', '10', '0', '2025-01-02')]);
    expect(later.rows.map((x) => x.buyOrderId)).toEqual([null]);
    expect(later.state.lots.map((l) => l.orderId)).toEqual(['b1']);
  });
});

describe('state', () => {
  it('is plain JSON and continues exactly where it stopped', () => {
    const trades = [
      T('b1', 'buy', '3', '10', '0.01', '2025-01-01'),
      T('s1', 'sell', '1', '11', '0', '2025-01-02'),
      T('b2', 'buy', '2', '12', '0', '2025-01-03'),
      T('s2', 'sell', '3', '13', '0', '2025-01-04'),
    ];
    const a = alloc(trades.slice(0, 2), 'hifo');
    expect(a.state).toEqual({
      symbol: 'SOL-USD',
      method: 'hifo',
      lots: [{ orderId: 'b1', time: '2025-01-01T12:00:00.000000Z', price: '10', size: '3', fee: '0.01', remaining: '2' }],
      watermark: { time: '2025-01-02T12:00:00.000000Z', side: 'sell', orderId: 's1' },
      tradesProcessed: 2,
    });
    const b = alloc(trades.slice(2), 'hifo', JSON.parse(JSON.stringify(a.state)) as SymbolState);
    const whole = alloc(trades, 'hifo');
    expect([...a.rows, ...b.rows]).toEqual(whole.rows);
    expect(b.state).toEqual(whole.state);
    // HIFO: s2 takes b2 (12) whole, then 1 of b1 (10); b1's fee shares follow its cumulative consumption 1/3, 2/3
    expect(whole.rows.map(brief)).toEqual([
      's1<b1 1 | 0.003333333333333333 0 | 10.003333333333333333 11 0.996666666666666667',
      's2<b2 2 | 0 0 | 24 26 2',
      's2<b1 1 | 0.003333333333333334 0 | 10.003333333333333334 13 2.996666666666666666',
    ]);
    expect(whole.state.lots.map((l) => `${l.orderId}:${l.remaining}`)).toEqual(['b1:1']);
  });

  it('an empty batch returns the state unchanged (a new object)', () => {
    const s = alloc([T('b1', 'buy', '1', '1', '0', '2025-01-01')]).state;
    const r = alloc([], 'fifo', s);
    expect(r.state).toEqual(s);
    expect(r.state).not.toBe(s);
    expect(r.rows).toEqual([]);
  });
});
