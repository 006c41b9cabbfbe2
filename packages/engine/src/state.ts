import { divRoundHalfUpNonNegative } from './decimal.ts';
import { EngineInputError, describeValue } from './errors.ts';
import { Lot } from './lot.ts';
import { compareCodePoints } from './trade-order.ts';
import { BuyLot } from './account-book.ts';
import { METHODS, POOLINGS } from './types.ts';
import type { Method, OpenLot, Pooling, SymbolState, Watermark } from './types.ts';
import { Origin, TIME_FORMAT, canonicalAmount, fail, isValidTime, parseAmount } from './validate.ts';

/**
 * Inventory state of one symbol. The JSON form ({@link SymbolState}) is what callers store
 * (jsonb) and pass back; this module converts it to and from the engine's working form, validating
 * it on the way in (a state is input too: it may have been edited or produced by an older build).
 */

/** State of a symbol before any trade. */
export function emptyState(symbol: string, method: Method, pooling: Pooling = 'universal'): SymbolState {
  if (typeof symbol !== 'string' || symbol.length === 0) {
    throw new EngineInputError(`state: symbol must be a non-empty string, got ${describeValue(symbol)}`, null, 'state.symbol', symbol);
  }
  checkMethod(method, symbol);
  checkPooling(pooling, symbol);
  // a universal state's JSON is as it was before pooling existed
  return pooling === 'universal'
    ? { symbol, method, lots: [], watermark: null, tradesProcessed: 0 }
    : { symbol, method, pooling, lots: [], watermark: null, tradesProcessed: 0 };
}

function checkPooling(pooling: unknown, symbol: string): asserts pooling is Pooling {
  if (!(POOLINGS as readonly unknown[]).includes(pooling)) {
    throw new EngineInputError(
      `state of ${symbol}: pooling must be one of ${POOLINGS.join(', ')}, got ${describeValue(pooling)}`,
      null,
      'state.pooling',
      pooling,
    );
  }
}

function checkMethod(method: unknown, symbol: string): asserts method is Method {
  if (!(METHODS as readonly unknown[]).includes(method)) {
    throw new EngineInputError(
      `state of ${symbol}: method must be one of ${METHODS.join(', ')}, got ${describeValue(method)}`,
      null,
      'state.method',
      method,
    );
  }
}

/** Working form of a state. */
export interface LoadedState {
  symbol: string;
  method: Method;
  pooling: Pooling;
  /** universal: open lots in processing order. */
  lots: Lot[];
  /** per_account: the open pieces, by lot in processing order (a lot's BuyLot shared by its pieces). */
  pieces: LoadedPiece[];
  /** per_account: the distinct open lots' order ids. */
  buyIds: string[];
  watermark: Watermark | null;
  tradesProcessed: number;
}

function stateError(symbol: string, field: string, problem: string, value: unknown): never {
  throw new EngineInputError(`state of ${symbol}: ${field} ${problem}, got ${describeValue(value)}`, null, `state.${field}`, value);
}

export interface LoadedPiece {
  buy: BuyLot;
  account: string;
  remaining: bigint;
}

/** Validates a SymbolState (e.g. parsed back from jsonb) into its working form. Does not modify it. */
export function loadState(state: SymbolState): LoadedState {
  if (typeof state !== 'object' || state === null) {
    throw new EngineInputError(`state must be an object, got ${describeValue(state)}`, null, 'state', state);
  }
  const symbol = state.symbol;
  if (typeof symbol !== 'string' || symbol.length === 0) stateError('?', 'symbol', 'must be a non-empty string', symbol);
  checkMethod(state.method, symbol);
  const pooling = state.pooling === undefined ? 'universal' : state.pooling;
  checkPooling(pooling, symbol);
  const tradesProcessed = state.tradesProcessed;
  if (typeof tradesProcessed !== 'number' || !Number.isSafeInteger(tradesProcessed) || tradesProcessed < 0) {
    stateError(symbol, 'tradesProcessed', 'must be a non-negative integer', tradesProcessed);
  }
  let watermark: Watermark | null = null;
  const w = state.watermark;
  if (w !== null && w !== undefined) {
    if (typeof w !== 'object') stateError(symbol, 'watermark', 'must be an object or null', w);
    if (!isValidTime(w.time)) stateError(symbol, 'watermark.time', `must be UTC text ${TIME_FORMAT}`, w.time);
    if (w.side !== 'buy' && w.side !== 'sell' && !(w.side === 'transfer' && pooling === 'per_account')) {
      stateError(symbol, 'watermark.side', pooling === 'per_account' ? "must be 'buy', 'sell' or 'transfer'" : "must be 'buy' or 'sell'", w.side);
    }
    if (typeof w.orderId !== 'string' || w.orderId.length === 0) stateError(symbol, 'watermark.orderId', 'must be a non-empty string', w.orderId);
    watermark = { time: w.time, side: w.side, orderId: w.orderId };
  }
  const rawLots = state.lots;
  if (!Array.isArray(rawLots)) stateError(symbol, 'lots', 'must be an array', rawLots);
  if (rawLots.length > 0 && watermark === null) stateError(symbol, 'watermark', 'must be set when there are open lots', null);
  if (pooling === 'per_account') {
    const { pieces, buyIds } = loadPieces(symbol, rawLots, watermark);
    return { symbol, method: state.method, pooling, lots: [], pieces, buyIds, watermark, tradesProcessed };
  }

  const lots: Lot[] = new Array<Lot>(rawLots.length);
  const ids = new Set<string>();
  let prev: Lot | null = null;
  for (let i = 0; i < rawLots.length; i++) {
    const raw = rawLots[i] as OpenLot;
    if (typeof raw !== 'object' || raw === null) stateError(symbol, `lots[${i}]`, 'must be an object', raw);
    const orderId = raw.orderId;
    if (typeof orderId !== 'string' || orderId.length === 0) {
      fail(new Origin(null, symbol, null, i), 'orderId', 'must be a non-empty string', orderId);
    }
    const origin = new Origin(orderId, symbol, null, i);
    if (ids.has(orderId)) fail(origin, 'orderId', 'is a duplicate', orderId);
    ids.add(orderId);
    if (!isValidTime(raw.time)) fail(origin, 'time', `must be UTC text ${TIME_FORMAT}`, raw.time);
    const price = parseAmount(raw.price, 'price', true, origin);
    const size = parseAmount(raw.size, 'size', true, origin);
    const fee = parseAmount(raw.fee, 'fee', false, origin);
    const remaining = parseAmount(raw.remaining, 'remaining', true, origin);
    if (remaining > size) fail(origin, 'remaining', `must be <= size (${raw.size})`, raw.remaining);
    const time = raw.time;
    if (prev !== null && (time < prev.time || (time === prev.time && compareCodePoints(orderId, prev.orderId) <= 0))) {
      fail(origin, 'time', 'is out of processing order (lots must be listed oldest first)', time);
    }
    if (watermark !== null) {
      const wm = watermark;
      const after =
        time > wm.time || (time === wm.time && wm.side === 'buy' && compareCodePoints(orderId, wm.orderId) > 0);
      if (after) fail(origin, 'time', `is after the state's watermark (${wm.side} "${wm.orderId}" at ${wm.time})`, time);
    }
    const feeTaken = fee === 0n || remaining === size ? 0n : divRoundHalfUpNonNegative(fee * (size - remaining), size);
    const lot: Lot = new Lot(
      orderId,
      time,
      canonicalAmount(raw.price, price),
      canonicalAmount(raw.size, size),
      fee === 0n ? '0' : canonicalAmount(raw.fee, fee),
      price,
      size,
      fee,
      remaining,
      feeTaken,
      i,
    );
    lots[i] = lot;
    prev = lot;
  }
  return { symbol, method: state.method, pooling, lots, pieces: [], buyIds: [], watermark, tradesProcessed };
}

/** True when a lot at (time, orderId) comes after the watermark in processing order. */
function afterWatermark(time: string, orderId: string, wm: Watermark | null): boolean {
  return wm !== null && (time > wm.time || (time === wm.time && wm.side === 'buy' && compareCodePoints(orderId, wm.orderId) > 0));
}

/**
 * per_account lots: one entry per (lot, account), listed by lot in processing order and a lot's
 * pieces by account; the pieces of one lot agree on its facts and hold at most its size.
 */
function loadPieces(symbol: string, rawLots: readonly OpenLot[], watermark: Watermark | null): { pieces: LoadedPiece[]; buyIds: string[] } {
  const pieces: LoadedPiece[] = [];
  const buyIds: string[] = [];
  let prev: LoadedPiece | null = null;
  let held = 0n; // Σ remaining of the current lot's pieces
  const close = (p: LoadedPiece | null) => {
    if (p === null) return;
    const b = p.buy;
    b.consumed = b.size - held;
    b.feeTaken = b.fee === 0n || b.consumed === 0n ? 0n : divRoundHalfUpNonNegative(b.fee * b.consumed, b.size);
  };
  for (let i = 0; i < rawLots.length; i++) {
    const raw = rawLots[i] as OpenLot;
    if (typeof raw !== 'object' || raw === null) stateError(symbol, `lots[${i}]`, 'must be an object', raw);
    const orderId = raw.orderId;
    if (typeof orderId !== 'string' || orderId.length === 0) {
      fail(new Origin(null, symbol, null, i), 'orderId', 'must be a non-empty string', orderId);
    }
    const origin = new Origin(orderId, symbol, null, i);
    const account = raw.account;
    if (typeof account !== 'string' || account.length === 0) fail(origin, 'account', 'must be a non-empty string', account);
    if (!isValidTime(raw.time)) fail(origin, 'time', `must be UTC text ${TIME_FORMAT}`, raw.time);
    const price = parseAmount(raw.price, 'price', true, origin);
    const size = parseAmount(raw.size, 'size', true, origin);
    const fee = parseAmount(raw.fee, 'fee', false, origin);
    const remaining = parseAmount(raw.remaining, 'remaining', true, origin);
    const time = raw.time;
    let buy: BuyLot;
    if (prev !== null && orderId === prev.buy.orderId) {
      buy = prev.buy;
      if (compareCodePoints(account, prev.account) <= 0) fail(origin, 'account', 'is out of order (a lot\'s pieces are listed by account, once each)', account);
      if (time !== buy.time || price !== buy.price || size !== buy.size || fee !== buy.fee) {
        fail(origin, 'orderId', 'names pieces of one lot that disagree on its time, price, size or fee', orderId);
      }
      held += remaining;
    } else {
      if (prev !== null && (time < prev.buy.time || (time === prev.buy.time && compareCodePoints(orderId, prev.buy.orderId) <= 0))) {
        fail(origin, 'time', 'is out of processing order (lots must be listed oldest first)', time);
      }
      if (afterWatermark(time, orderId, watermark)) {
        const wm = watermark as Watermark;
        fail(origin, 'time', `is after the state's watermark (${wm.side} "${wm.orderId}" at ${wm.time})`, time);
      }
      close(prev);
      held = remaining;
      buy = new BuyLot(
        orderId,
        time,
        canonicalAmount(raw.price, price),
        canonicalAmount(raw.size, size),
        fee === 0n ? '0' : canonicalAmount(raw.fee, fee),
        price,
        size,
        fee,
        0n,
        0n,
        buyIds.length,
      );
      buyIds.push(orderId);
    }
    if (held > size) fail(origin, 'remaining', `must be <= size (${raw.size}) over the lot's pieces`, raw.remaining);
    const piece: LoadedPiece = { buy, account, remaining };
    pieces.push(piece);
    prev = piece;
  }
  close(prev);
  return { pieces, buyIds };
}

/** The batch itself must be an array (its elements are checked one by one). */
export function checkBatch(trades: unknown, symbol: string): void {
  if (!Array.isArray(trades)) {
    throw new EngineInputError(`trades of ${symbol} must be an array, got ${describeValue(trades)}`, null, 'trades', trades);
  }
}
