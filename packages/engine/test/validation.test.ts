/** Every kind of bad input throws EngineInputError naming the trade and the field; nothing partial. */
import { describe, expect, it } from 'vitest';
import { EngineInputError, allocate, emptyState, validateBatch } from '../src/index.ts';
import type { SymbolState, TradeInput } from '../src/index.ts';
import { deepFreeze } from './helpers.ts';

const T = (orderId: string, side: string, size: unknown, price: unknown, fee: unknown, time: unknown, symbol: unknown = 'SOL-USD'): TradeInput =>
  ({ orderId, symbol, side, size, price, fee, time }) as TradeInput;
const good = (): TradeInput[] => [
  T('b1', 'buy', '2', '100', '0.1', '2025-01-01T00:00:00.000000Z'),
  T('b2', 'buy', '1', '110', '0', '2025-01-02T00:00:00.000000Z'),
  T('s1', 'sell', '1.5', '120', '0.05', '2025-01-03T00:00:00.000000Z'),
];

/** Runs allocate (both kernels) and validateBatch, expects the same EngineInputError from each. */
function expectInputError(trades: unknown[], orderId: string | null, field: string, message?: RegExp, state?: SymbolState): EngineInputError {
  const st = deepFreeze(state ?? emptyState('SOL-USD', 'fifo'));
  const batch = deepFreeze(trades) as TradeInput[];
  const errors: EngineInputError[] = [];
  for (const f of [() => allocate(st, batch), () => allocate(st, batch, { kernel: 'bigint' }), () => validateBatch(st, batch)]) {
    let caught: unknown = null;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EngineInputError);
    errors.push(caught as EngineInputError);
  }
  const err = errors[0] as EngineInputError;
  for (const other of errors) {
    expect(other.message).toBe(err.message);
    expect(other.field).toBe(err.field);
  }
  expect(err.orderId).toBe(orderId);
  expect(err.field).toBe(field);
  if (message) expect(err.message).toMatch(message);
  return err;
}

/** Replaces one field of the last (sell) trade of the good ledger. */
const withBad = (field: keyof TradeInput | 'none', value: unknown): unknown[] => {
  const trades = good() as unknown as Record<string, unknown>[];
  if (field !== 'none') (trades[2] as Record<string, unknown>)[field] = value;
  return trades;
};

describe('validation: amounts', () => {
  it('names the trade and field in the message', () => {
    const err = expectInputError(withBad('size', '0'), 's1', 'size');
    expect(err.message).toBe('trade "s1" (SOL-USD): size must be > 0, got "0"');
    expect(err.value).toBe('0');
    expect(err.index).toBe(2);
    expect(err.name).toBe('EngineInputError');
  });

  it.each([
    ['size', '1e5', /plain decimal/],
    ['size', '1E-5', /plain decimal/],
    ['size', 'NaN', /plain decimal/],
    ['size', 'Infinity', /plain decimal/],
    ['size', ' 1', /plain decimal/],
    ['size', '+1', /plain decimal/],
    ['size', '.5', /plain decimal/],
    ['size', '5.', /plain decimal/],
    ['size', '1,5', /plain decimal/],
    ['size', '', /plain decimal/],
    ['price', 'abc', /plain decimal/],
    ['price', '0x10', /plain decimal/],
    ['fee', '1.2.3', /plain decimal/],
    ['size', '0.0000000000000000001', /at most 18 decimal places/],
    ['price', '1.1234567890123456789', /at most 18 decimal places/],
    ['fee', '0.0000000000000000005', /at most 18 decimal places/],
    ['size', '0', /size must be > 0/],
    ['size', '0.000', /size must be > 0/],
    ['size', '-1', /size must be > 0/],
    ['price', '0', /price must be > 0/],
    ['price', '-5.5', /price must be > 0/],
    ['fee', '-0.01', /fee must be >= 0/],
    ['fee', '-0', /fee must be >= 0/],
    ['size', 1.5, /size must be a decimal string, got 1.5 \(number\)/],
    ['price', null, /price must be a decimal string, got null/],
    ['fee', undefined, /fee must be a decimal string, got undefined/],
    ['fee', Number.NaN, /must be a decimal string/],
    ['price', { value: '1' }, /must be a decimal string/],
  ] as const)('%s = %j', (field, value, message) => {
    expectInputError(withBad(field, value), 's1', field, message);
  });

  it('rejects a bigint amount', () => {
    expectInputError(withBad('size', 10n), 's1', 'size', /size must be a decimal string, got 10n \(bigint\)/);
  });

  it('accepts non-canonical but valid text and prints it canonically', () => {
    const r = allocate(emptyState('SOL-USD', 'fifo'), [
      T('b1', 'buy', '002.500', '100.0', '0.10', '2025-01-01T00:00:00.000000Z'),
      T('s1', 'sell', '2.5000000000000000000000', '0120', '0.00', '2025-01-03T00:00:00.000000Z'),
    ]);
    expect(r.rows[0]).toMatchObject({ allocatedSize: '2.5', buyPrice: '100', sellPrice: '120', buyFee: '0.1', sellFee: '0' });
  });
});

describe('validation: trade fields', () => {
  it.each(['BUY', 'Sell', 'short', '', null, 1])('side %j', (side) => {
    expectInputError(withBad('side', side), 's1', 'side', /side must be 'buy' or 'sell'/);
  });

  it.each([
    '2025-01-03T00:00:00Z',
    '2025-01-03T00:00:00.000Z',
    '2025-01-03 00:00:00.000000Z',
    '2025-01-03T00:00:00.000000+00:00',
    '2025-01-03T00:00:00.000000z',
    '2025-02-30T00:00:00.000000Z',
    '2023-02-29T00:00:00.000000Z',
    '2025-13-01T00:00:00.000000Z',
    '2025-01-03T24:00:00.000000Z',
    '2025-01-03T00:60:00.000000Z',
    '2025-01-03T00:00:60.000000Z',
    '0000-01-03T00:00:00.000000Z',
    '2025-01-03T00:00:00.00000aZ',
    '',
    null,
    1735862400000,
  ])('time %j', (time) => {
    expectInputError(withBad('time', time), 's1', 'time', /time must be UTC text YYYY-MM-DDTHH:MM:SS.ffffffZ/);
  });

  it('checks the time of the first trade (no previous time) and of a trade that follows a tie', () => {
    for (const time of [null, undefined, '', 'x']) {
      expectInputError([T('b1', 'buy', '1', '1', '0', time)], 'b1', 'time', /time must be UTC text/);
    }
    const tie = '2025-01-01T00:00:00.000000Z';
    expectInputError(
      [T('b1', 'buy', '1', '1', '0', tie), T('b2', 'buy', '1', '1', '0', tie), T('s1', 'sell', '1', '1', '0', '2025-01-01T00:00:00.00000Z')],
      's1',
      'time',
      /time must be UTC text/,
    );
  });

  it('accepts leap days', () => {
    expect(() => allocate(emptyState('SOL-USD', 'fifo'), [T('b', 'buy', '1', '1', '0', '2024-02-29T23:59:59.999999Z')])).not.toThrow();
  });

  it('rejects a trade of another symbol', () => {
    expectInputError(withBad('symbol', 'BTC-USD'), 's1', 'symbol', /symbol must be "SOL-USD" \(the state's symbol\), got "BTC-USD"/);
  });

  it('rejects a batch that is not an array', () => {
    for (const f of [() => allocate(emptyState('SOL-USD', 'fifo'), {} as never), () => validateBatch(emptyState('SOL-USD', 'fifo'), null as never)]) {
      expect(f).toThrow(EngineInputError);
      expect(f).toThrow(/trades of SOL-USD must be an array/);
    }
  });

  it('rejects a missing or empty orderId, and a non-object trade', () => {
    const trades = good() as unknown[];
    (trades[1] as Record<string, unknown>).orderId = '';
    const e1 = expectInputError(trades, null, 'orderId', /^trade #1 \(SOL-USD\): orderId must be a non-empty string, got ""$/);
    expect(e1.index).toBe(1);
    const t2 = good() as unknown[];
    (t2[1] as Record<string, unknown>).orderId = 42;
    expectInputError(t2, null, 'orderId', /got 42 \(number\)/);
    const t3 = good() as unknown[];
    t3[1] = null;
    expectInputError(t3, null, 'trade', /trade #1 \(SOL-USD\): must be an object, got null/);
  });
});

describe('validation: order, watermark and duplicates', () => {
  it('rejects trades out of processing order within the batch', () => {
    const earlier = good();
    earlier[2] = T('s1', 'sell', '1', '120', '0', '2025-01-01T00:00:00.000000Z'); // before b2
    expectInputError(earlier, 's1', 'time', /out of processing order.*previous trade "b2"/);
    // a buy after a sell at the same time
    expectInputError(
      [T('s0', 'sell', '1', '1', '0', '2025-01-01T00:00:00.000000Z'), T('b0', 'buy', '1', '1', '0', '2025-01-01T00:00:00.000000Z')],
      'b0',
      'side',
      /buys before sells/,
    );
    // same time and side: orderId order
    expectInputError(
      [T('b9', 'buy', '1', '1', '0', '2025-01-01T00:00:00.000000Z'), T('b1', 'buy', '1', '1', '0', '2025-01-01T00:00:00.000000Z')],
      'b1',
      'orderId',
      /out of processing order/,
    );
  });

  it('rejects trades at or before the state watermark', () => {
    const first = allocate(emptyState('SOL-USD', 'fifo'), good());
    const state = JSON.parse(JSON.stringify(first.state)) as SymbolState;
    expectInputError([T('s2', 'sell', '1', '1', '0', '2025-01-02T12:00:00.000000Z')], 's2', 'time', /state's watermark \(last processed trade "s1"/, state);
    // same time as the watermark sell: a buy cannot follow it, nor a sell with a smaller id
    expectInputError([T('b3', 'buy', '1', '1', '0', '2025-01-03T00:00:00.000000Z')], 'b3', 'side', /watermark/, state);
    expectInputError([T('s0', 'sell', '1', '1', '0', '2025-01-03T00:00:00.000000Z')], 's0', 'orderId', /watermark/, state);
    // but a later sell at the same time is fine
    expect(allocate(state, [T('s2', 'sell', '0.5', '1', '0', '2025-01-03T00:00:00.000000Z')]).rows).toHaveLength(1);
  });

  it('rejects duplicate order ids in the batch, of open lots and of the watermark trade', () => {
    const dup = good();
    dup[2] = T('b1', 'sell', '1', '120', '0', '2025-01-03T00:00:00.000000Z');
    expectInputError(dup, 'b1', 'orderId', /duplicate \(same orderId as trade #0 of the batch\)/);
    const state = JSON.parse(JSON.stringify(allocate(emptyState('SOL-USD', 'fifo'), good()).state)) as SymbolState;
    expect(state.lots.map((l) => l.orderId)).toEqual(['b1', 'b2']);
    expectInputError([T('b2', 'sell', '1', '1', '0', '2025-02-01T00:00:00.000000Z')], 'b2', 'orderId', /an open lot of the state/, state);
    expectInputError([T('s1', 'sell', '1', '1', '0', '2025-02-01T00:00:00.000000Z')], 's1', 'orderId', /watermark trade/, state);
  });

  it('returns nothing when only the last trade is bad, and leaves the state untouched', () => {
    const state = deepFreeze(JSON.parse(JSON.stringify(allocate(emptyState('SOL-USD', 'fifo'), good().slice(0, 2)).state)) as SymbolState);
    const before = JSON.stringify(state);
    const batch = [T('s1', 'sell', '0.5', '120', '0', '2025-01-03T00:00:00.000000Z'), T('s2', 'sell', '0.5', '120', 'x', '2025-01-04T00:00:00.000000Z')];
    expect(() => allocate(state, batch)).toThrow(EngineInputError);
    expect(JSON.stringify(state)).toBe(before);
  });
});

describe('validation: state', () => {
  const base = (): SymbolState => JSON.parse(JSON.stringify(allocate(emptyState('SOL-USD', 'fifo'), good()).state)) as SymbolState;
  const stateError = (mutate: (s: Record<string, any>) => void, orderId: string | null, field: string, message?: RegExp) => {
    const s = base() as unknown as Record<string, any>;
    mutate(s);
    expectInputError([], orderId, field, message, s as unknown as SymbolState);
  };

  it('checks the method, the symbol and the counters', () => {
    expect(() => emptyState('SOL-USD', 'avg' as never)).toThrow(/method must be one of fifo, lifo, hifo/);
    expect(() => emptyState('', 'fifo')).toThrow(EngineInputError);
    stateError((s) => (s.method = 'FIFO'), null, 'state.method');
    stateError((s) => (s.symbol = 5), null, 'state.symbol');
    stateError((s) => (s.tradesProcessed = -1), null, 'state.tradesProcessed');
    stateError((s) => (s.lots = {}), null, 'state.lots');
    stateError((s) => (s.watermark = null), null, 'state.watermark', /must be set when there are open lots/);
    stateError((s) => (s.watermark.time = 'yesterday'), null, 'state.watermark.time');
  });

  it('checks each open lot', () => {
    stateError((s) => (s.lots[0].remaining = '3'), 'b1', 'state.lots[0].remaining', /state of SOL-USD: open lot "b1": state.lots\[0\].remaining must be <= size/);
    stateError((s) => (s.lots[0].remaining = '0'), 'b1', 'state.lots[0].remaining', /must be > 0/);
    stateError((s) => (s.lots[1].price = '1e3'), 'b2', 'state.lots[1].price');
    stateError((s) => (s.lots[1].fee = -1), 'b2', 'state.lots[1].fee');
    stateError((s) => (s.lots[1].orderId = 'b1'), 'b1', 'state.lots[1].orderId', /duplicate/);
    stateError((s) => s.lots.reverse(), 'b1', 'state.lots[1].time', /oldest first/);
    stateError((s) => (s.lots[1].time = '2025-06-01T00:00:00.000000Z'), 'b2', 'state.lots[1].time', /after the state's watermark/);
  });
});
