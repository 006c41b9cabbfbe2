import { AMOUNT_SCALE, PRODUCT_SCALE, divRoundHalfUpNonNegative, formatFixed, pow10 } from './decimal.ts';
import { Lot } from './lot.ts';
import { createLotBook } from './lot-book.ts';
import { loadState, toOpenLot } from './state.ts';
import type { AllocateResult, AllocationRow, ReviewItem, Severity, SymbolState, TradeInput, Watermark } from './types.ts';
import { BatchContext, TradeCursor, readTrade } from './validate.ts';

/** 10^18: lifts a MONEY_SCALE (18) fee share to PRODUCT_SCALE (36). */
const MONEY_TO_PRODUCT = pow10(PRODUCT_SCALE - AMOUNT_SCALE);

/**
 * Severity of an unmatched sell:
 * - `critical`: nothing at all was open (the whole sell is unmatched: a missing buy, or a sell
 *   recorded under the wrong symbol);
 * - `medium`: the shortfall is dust, at most 0.1% of the sell (typically a fee charged in the base
 *   currency or exchange rounding);
 * - `high`: any other shortfall.
 */
export function unmatchedSeverity(requested: bigint, available: bigint): Severity {
  if (available === 0n) return 'critical';
  const unmatched = requested - available;
  return unmatched * 1000n <= requested ? 'medium' : 'high';
}

/**
 * Allocates a batch of trades of one symbol, continuing from `state`.
 *
 * Trades must be in processing order (time, buys before sells, orderId), all strictly after the
 * state's watermark, all of the state's symbol, with unique order ids. Any invalid trade or state
 * throws EngineInputError and nothing is returned. The input state is not modified.
 *
 * Resumable: allocate(allocate(s, a).state, b) gives the same rows and state as allocate(s, a ++ b),
 * also when the intermediate state went through JSON.
 */
export function allocate(state: SymbolState, trades: readonly TradeInput[]): AllocateResult {
  const loaded = loadState(state);
  const symbol = loaded.symbol;
  const book = createLotBook(loaded.method);
  for (const lot of loaded.lots) book.push(lot);
  const ctx = new BatchContext(symbol, loaded.watermark);
  for (const lot of loaded.lots) ctx.seen.set(lot.orderId, -1);
  let ord = loaded.lots.length;

  const rows: AllocationRow[] = [];
  const reviews: ReviewItem[] = [];
  const cur = new TradeCursor();
  const n = trades.length;

  for (let t = 0; t < n; t++) {
    readTrade(trades[t] as TradeInput, t, ctx, cur);
    if (cur.isBuy) {
      book.push(new Lot(cur.orderId, cur.time, cur.priceText, cur.sizeText, cur.feeText, cur.price, cur.size, cur.fee, cur.size, 0n, ord++));
      continue;
    }

    // A sell: consume lots in method order until covered.
    const sellId = cur.orderId;
    const sellTime = cur.time;
    const sellSize = cur.size;
    const sellPrice = cur.price;
    const sellPriceText = cur.priceText;
    const sellFee = cur.fee;
    let need = sellSize;
    let sellFeeTaken = 0n;
    let seq = 0;
    for (;;) {
      const lot = book.peek();
      if (lot === undefined) break;
      const rem = lot.remaining;
      const lotDone = rem <= need;
      const alloc = lotDone ? rem : need;
      need -= alloc;

      // Buy fee share: cumulative rounding along the lot's consumption.
      let buyShare: bigint;
      const lotFee = lot.fee;
      if (lotFee === 0n) buyShare = 0n;
      else if (lotDone) buyShare = lotFee - lot.feeTaken;
      else {
        const cum = divRoundHalfUpNonNegative(lotFee * (lot.size - rem + alloc), lot.size);
        buyShare = cum - lot.feeTaken;
        lot.feeTaken = cum;
      }
      // Sell fee share: cumulative rounding along the sell's rows.
      let sellShare: bigint;
      if (sellFee === 0n) sellShare = 0n;
      else if (need === 0n) sellShare = sellFee - sellFeeTaken;
      else {
        const cum = divRoundHalfUpNonNegative(sellFee * (sellSize - need), sellSize);
        sellShare = cum - sellFeeTaken;
        sellFeeTaken = cum;
      }

      const cost = lot.price * alloc + buyShare * MONEY_TO_PRODUCT;
      const proceeds = sellPrice * alloc - sellShare * MONEY_TO_PRODUCT;
      rows.push({
        symbol,
        sellOrderId: sellId,
        buyOrderId: lot.orderId,
        seq: ++seq,
        allocatedSize: alloc === sellSize ? cur.sizeText : alloc === lot.size ? lot.sizeText : formatFixed(alloc, AMOUNT_SCALE),
        buyPrice: lot.priceText,
        sellPrice: sellPriceText,
        buyTime: lot.time,
        sellTime,
        buyFee: buyShare === 0n ? '0' : buyShare === lotFee ? lot.feeText : formatFixed(buyShare, AMOUNT_SCALE),
        sellFee: sellShare === 0n ? '0' : sellShare === sellFee ? cur.feeText : formatFixed(sellShare, AMOUNT_SCALE),
        costBasis: formatFixed(cost, PRODUCT_SCALE),
        proceeds: formatFixed(proceeds, PRODUCT_SCALE),
        pnl: formatFixed(proceeds - cost, PRODUCT_SCALE),
      });

      if (lotDone) book.pop();
      else lot.remaining = rem - alloc;
      if (need === 0n) break;
    }

    if (need > 0n) {
      // Oversell: every open lot is consumed; the remainder is an explicit unmatched row.
      const sellShare = sellFee - sellFeeTaken;
      const unmatchedText = need === sellSize ? cur.sizeText : formatFixed(need, AMOUNT_SCALE);
      rows.push({
        symbol,
        sellOrderId: sellId,
        buyOrderId: null,
        seq: ++seq,
        allocatedSize: unmatchedText,
        buyPrice: null,
        sellPrice: sellPriceText,
        buyTime: null,
        sellTime,
        buyFee: null,
        sellFee: sellShare === 0n ? '0' : sellShare === sellFee ? cur.feeText : formatFixed(sellShare, AMOUNT_SCALE),
        costBasis: null,
        proceeds: formatFixed(sellPrice * need - sellShare * MONEY_TO_PRODUCT, PRODUCT_SCALE),
        pnl: null,
      });
      const available = sellSize - need;
      reviews.push({
        issueType: 'unmatched_sell',
        symbol,
        orderId: sellId,
        severity: unmatchedSeverity(sellSize, available),
        details: {
          requested: cur.sizeText,
          available: formatFixed(available, AMOUNT_SCALE),
          unmatched: unmatchedText,
          sellTime,
        },
      });
    }
  }

  let watermark: Watermark | null = loaded.watermark;
  if (n > 0) watermark = { time: cur.time, side: cur.isBuy ? 'buy' : 'sell', orderId: cur.orderId };
  const lots = book.toArray();
  const openLots = new Array(lots.length);
  for (let i = 0; i < lots.length; i++) openLots[i] = toOpenLot(lots[i] as Lot);
  return {
    rows,
    state: { symbol, method: loaded.method, lots: openLots, watermark, tradesProcessed: loaded.tradesProcessed + n },
    reviews,
  };
}
