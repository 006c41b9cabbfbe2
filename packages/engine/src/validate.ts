import { AMOUNT_SCALE, DecimalSyntaxError, describeIssue, formatFixed, isCanonicalText, parseFixed } from './decimal.ts';
import { EngineInputError, describeValue } from './errors.ts';
import { IdIndex } from './id-index.ts';
import { formatNano, parseNano, parsedCanonical } from './nano.ts';
import { compareCodePoints, sideRank } from './trade-order.ts';
import type { TradeInput, Watermark } from './types.ts';

/**
 * Input validation. Every check throws {@link EngineInputError} naming the trade (or state lot)
 * and the field. The engine validates each trade before it processes it and returns nothing when
 * any trade of the batch is invalid, so a batch is accepted whole or not at all.
 */

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True for a fixed-width UTC time `YYYY-MM-DDTHH:MM:SS.ffffffZ` naming a real instant. */
export function isValidTime(t: unknown): t is string {
  if (typeof t !== 'string' || t.length !== 27) return false;
  if (
    t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 84 /* T */ ||
    t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58 || t.charCodeAt(19) !== 46 || t.charCodeAt(26) !== 90 /* Z */
  ) {
    return false;
  }
  const y0 = t.charCodeAt(0) - 48;
  const y1 = t.charCodeAt(1) - 48;
  const y2 = t.charCodeAt(2) - 48;
  const y3 = t.charCodeAt(3) - 48;
  const mo0 = t.charCodeAt(5) - 48;
  const mo1 = t.charCodeAt(6) - 48;
  const d0 = t.charCodeAt(8) - 48;
  const d1 = t.charCodeAt(9) - 48;
  const h0 = t.charCodeAt(11) - 48;
  const h1 = t.charCodeAt(12) - 48;
  const mi0 = t.charCodeAt(14) - 48;
  const mi1 = t.charCodeAt(15) - 48;
  const s0 = t.charCodeAt(17) - 48;
  const s1 = t.charCodeAt(18) - 48;
  const f0 = t.charCodeAt(20) - 48;
  const f1 = t.charCodeAt(21) - 48;
  const f2 = t.charCodeAt(22) - 48;
  const f3 = t.charCodeAt(23) - 48;
  const f4 = t.charCodeAt(24) - 48;
  const f5 = t.charCodeAt(25) - 48;
  // Every one a digit, without a branch per character: x | (9 − x) < 0 exactly when x ∉ 0..9.
  const below = y0 | y1 | y2 | y3 | mo0 | mo1 | d0 | d1 | h0 | h1 | mi0 | mi1 | s0 | s1 | f0 | f1 | f2 | f3 | f4 | f5;
  const above =
    (9 - y0) | (9 - y1) | (9 - y2) | (9 - y3) | (9 - mo0) | (9 - mo1) | (9 - d0) | (9 - d1) | (9 - h0) | (9 - h1) |
    (9 - mi0) | (9 - mi1) | (9 - s0) | (9 - s1) | (9 - f0) | (9 - f1) | (9 - f2) | (9 - f3) | (9 - f4) | (9 - f5);
  if ((below | above) < 0) return false;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const month = mo0 * 10 + mo1;
  const day = d0 * 10 + d1;
  if (year < 1 || month < 1 || month > 12 || day < 1 || h0 * 10 + h1 > 23 || mi0 > 5 || s0 > 5) return false;
  if (day <= 28) return true;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month] as number);
  return day <= dim;
}

export const TIME_FORMAT = 'YYYY-MM-DDTHH:MM:SS.ffffffZ';

/**
 * Where a value comes from, for error messages: a trade of the batch (`lotIndex` null) or an open
 * lot of the state. The message label is only built when an error is thrown.
 */
export class Origin {
  constructor(
    readonly orderId: string | null,
    readonly symbol: string,
    /** Index of the trade in the batch, or null for the state. */
    readonly index: number | null,
    /** Index of the lot in state.lots, or null for a trade. */
    readonly lotIndex: number | null = null,
  ) {}
  get label(): string {
    const who = this.orderId === null ? `#${this.index ?? this.lotIndex}` : JSON.stringify(this.orderId);
    return this.lotIndex === null ? `trade ${who} (${this.symbol})` : `state of ${this.symbol}: open lot ${who}`;
  }
  get fieldPrefix(): string {
    return this.lotIndex === null ? '' : `state.lots[${this.lotIndex}].`;
  }
}

export function fail(origin: Origin, field: string, problem: string, value: unknown): never {
  throw new EngineInputError(
    `${origin.label}: ${origin.fieldPrefix}${field} ${problem}, got ${describeValue(value)}`,
    origin.orderId,
    origin.fieldPrefix + field,
    value,
    origin.index,
  );
}

/**
 * Parses an amount at AMOUNT_SCALE; `positive` → must be > 0, else ≥ 0. Negative amounts are never
 * accepted (sizes, prices and fees are never negative).
 */
export function parseAmount(value: unknown, field: string, positive: boolean, origin: Origin): bigint {
  if (typeof value !== 'string') return fail(origin, field, 'must be a decimal string', value);
  let v: bigint;
  try {
    v = parseFixed(value, AMOUNT_SCALE, false);
  } catch (e) {
    if (!(e instanceof DecimalSyntaxError)) throw e;
    const problem = e.issue === 'negative' ? (positive ? 'must be > 0' : 'must be >= 0') : describeIssue(e.issue, AMOUNT_SCALE);
    return fail(origin, field, problem, value);
  }
  if (positive && v === 0n) return fail(origin, field, 'must be > 0', value);
  return v;
}

/** Canonical text of an already parsed amount (reuses the input text when it is canonical). */
export function canonicalAmount(text: string, value: bigint): string {
  return isCanonicalText(text) ? text : formatFixed(value, AMOUNT_SCALE);
}

/** A trade being validated; the engine reuses one instance per batch (no per-trade allocation). */
export class TradeCursor {
  index = -1;
  orderId = '';
  time = '';
  side = '';
  isBuy = false;
  /** sideRank(side): 0 buy, 1 transfer, 2 sell. */
  rank = 2;
  /** Amounts as received. */
  rawSize: unknown = undefined;
  rawPrice: unknown = undefined;
  rawFee: unknown = undefined;
  /** Canonical texts of the amounts. */
  sizeText = '';
  priceText = '';
  feeText = '';
  /** Amounts at AMOUNT_SCALE (set by readAmountsBig). */
  size = 0n;
  price = 0n;
  fee = 0n;
  /** Amounts as nano integers (set by readAmountsFast). */
  sizeN = 0;
  priceN = 0;
  feeN = 0;
}

/** Ordering and uniqueness context of a batch. */
export class BatchContext {
  readonly symbol: string;
  /** Key of the previous trade (initially the watermark). */
  prevTime: string | null;
  /** sideRank of the previous trade. */
  prevRank: number;
  prevSide: string;
  prevOrderId: string;
  prevIsWatermark: boolean;
  /** orderId → index in the batch (-1: open lot of the state, -2: the watermark trade). */
  readonly seen: IdIndex;
  private transferIds: IdIndex | null = null;

  /** `expectedIds`: about how many order ids the batch will record (sizes `seen` once). */
  constructor(symbol: string, watermark: Watermark | null, readonly transfers = false, expectedIds = 0) {
    this.symbol = symbol;
    this.seen = new IdIndex(expectedIds);
    this.prevTime = watermark ? watermark.time : null;
    this.prevSide = watermark ? watermark.side : 'sell';
    this.prevRank = sideRank(this.prevSide);
    this.prevOrderId = watermark ? watermark.orderId : '';
    this.prevIsWatermark = true;
    if (watermark) (watermark.side === 'transfer' ? this.seenTransfers : this.seen).set(watermark.orderId, -2);
  }

  /** Transfer ids seen (their own namespace, per_account pooling); made on first use. */
  get seenTransfers(): IdIndex {
    return (this.transferIds ??= new IdIndex());
  }
}

/**
 * Checks of a trade, in this order: shape and orderId, symbol, side, time (readHeader); size,
 * price, fee (readAmountsFast / readAmountsBig); uniqueness and processing order (checkSequence).
 * Both arithmetic paths run the same checks in the same order, so they report the same error.
 */
export function readHeader(raw: TradeInput, index: number, ctx: BatchContext, cur: TradeCursor): void {
  const symbol = ctx.symbol;
  if (typeof raw !== 'object' || raw === null) {
    throw new EngineInputError(`trade #${index} (${symbol}): must be an object, got ${describeValue(raw)}`, null, 'trade', raw, index);
  }
  const orderId = raw.orderId;
  if (typeof orderId !== 'string' || orderId.length === 0) {
    throw new EngineInputError(
      `trade #${index} (${symbol}): orderId must be a non-empty string, got ${describeValue(orderId)}`,
      null,
      'orderId',
      orderId,
      index,
    );
  }
  if (raw.symbol !== symbol) fail(new Origin(orderId, symbol, index), 'symbol', `must be ${JSON.stringify(symbol)} (the state's symbol)`, raw.symbol);
  const side = raw.side;
  if (side !== 'buy' && side !== 'sell' && !(side === 'transfer' && ctx.transfers)) {
    fail(new Origin(orderId, symbol, index), 'side', ctx.transfers ? "must be 'buy', 'sell' or 'transfer'" : "must be 'buy' or 'sell'", side);
  }
  const time = raw.time;
  // A tie with the previous trade (or the watermark) repeats a time already validated.
  const prevTime = ctx.prevTime;
  if ((prevTime === null || time !== prevTime) && !isValidTime(time)) fail(new Origin(orderId, symbol, index), 'time', `must be UTC text ${TIME_FORMAT}`, time);
  cur.index = index;
  cur.orderId = orderId;
  cur.time = time;
  cur.side = side;
  cur.isBuy = side === 'buy';
  cur.rank = sideRank(side);
  cur.rawSize = raw.size;
  cur.rawPrice = raw.price;
  cur.rawFee = raw.fee;
}

/**
 * Parses the amounts as nano integers when all three are plain decimals within the fast range
 * (≤ 9 places, < ~9e6) and size, price > 0. Returns false otherwise (the caller then uses
 * readAmountsBig, which accepts them at full range or throws the precise error).
 */
export function readAmountsFast(cur: TradeCursor): boolean {
  const rs = cur.rawSize;
  const rp = cur.rawPrice;
  const rf = cur.rawFee;
  if (typeof rs !== 'string' || typeof rp !== 'string' || typeof rf !== 'string') return false;
  const size = parseNano(rs);
  if (size <= 0) return false;
  cur.sizeText = parsedCanonical ? rs : formatNano(size);
  const price = parseNano(rp);
  if (price <= 0) return false;
  cur.priceText = parsedCanonical ? rp : formatNano(price);
  const fee = parseNano(rf);
  if (fee < 0) return false;
  cur.feeText = fee === 0 ? '0' : parsedCanonical ? rf : formatNano(fee);
  cur.sizeN = size;
  cur.priceN = price;
  cur.feeN = fee;
  return true;
}

/** Parses the amounts at AMOUNT_SCALE (any valid amount); throws EngineInputError when invalid. */
export function readAmountsBig(cur: TradeCursor, ctx: BatchContext): void {
  const origin = new Origin(cur.orderId, ctx.symbol, cur.index);
  const size = parseAmount(cur.rawSize, 'size', true, origin);
  const price = parseAmount(cur.rawPrice, 'price', true, origin);
  const fee = parseAmount(cur.rawFee, 'fee', false, origin);
  cur.size = size;
  cur.price = price;
  cur.fee = fee;
  cur.sizeText = canonicalAmount(cur.rawSize as string, size);
  cur.priceText = canonicalAmount(cur.rawPrice as string, price);
  cur.feeText = fee === 0n ? '0' : canonicalAmount(cur.rawFee as string, fee);
}

/** Uniqueness of the orderId, then processing order (strictly after the previous trade / the watermark). */
export function checkSequence(ctx: BatchContext, cur: TradeCursor): void {
  const orderId = cur.orderId;
  const index = cur.index;
  const seen = cur.rank === 1 ? ctx.seenTransfers : ctx.seen;
  const before = seen.get(orderId);
  if (before !== undefined) {
    const where = before === -1 ? 'an open lot of the state' : before === -2 ? "the state's watermark trade" : `trade #${before} of the batch`;
    fail(new Origin(orderId, ctx.symbol, index), 'orderId', `is a duplicate (same orderId as ${where})`, orderId);
  }
  seen.set(orderId, index);
  const time = cur.time;
  const rank = cur.rank;
  const prevTime = ctx.prevTime;
  if (prevTime !== null) {
    let field: string | null = null;
    if (time < prevTime) field = 'time';
    else if (time === prevTime) {
      if (rank !== ctx.prevRank) {
        if (rank < ctx.prevRank) field = 'side';
      } else if (compareCodePoints(orderId, ctx.prevOrderId) <= 0) field = 'orderId';
    }
    if (field !== null) {
      const prev = ctx.prevIsWatermark
        ? `the state's watermark (last processed trade "${ctx.prevOrderId}", ${ctx.prevSide} at ${prevTime})`
        : `the previous trade "${ctx.prevOrderId}" (${ctx.prevSide} at ${prevTime})`;
      const value = field === 'time' ? time : field === 'side' ? cur.side : orderId;
      const order = ctx.transfers ? 'time, buys, transfers, sells, id' : 'time, buys before sells, orderId';
      fail(
        new Origin(orderId, ctx.symbol, index),
        field,
        `is out of processing order (${order}): ${cur.side} at ${time} must come strictly after ${prev}`,
        value,
      );
    }
  }
  ctx.prevTime = time;
  ctx.prevRank = rank;
  ctx.prevSide = cur.side;
  ctx.prevOrderId = orderId;
  ctx.prevIsWatermark = false;
}

/** Full validation of one trade at AMOUNT_SCALE (BigInt amounts). */
export function readTrade(raw: TradeInput, index: number, ctx: BatchContext, cur: TradeCursor): void {
  readHeader(raw, index, ctx, cur);
  readAmountsBig(cur, ctx);
  checkSequence(ctx, cur);
}
