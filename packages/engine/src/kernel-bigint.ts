import { AMOUNT_SCALE, PRODUCT_SCALE, divRoundHalfUpNonNegative, formatFixed, pow10 } from './decimal.ts';
import { Lot } from './lot.ts';
import type { LotBook } from './lot-book.ts';
import { unmatchedSeverity } from './run.ts';
import type { Run } from './run.ts';
import type { TradeInput } from './types.ts';
import { readTrade } from './validate.ts';

/** 10^18: lifts a MONEY_SCALE (18) fee share to PRODUCT_SCALE (36). */
const MONEY_TO_PRODUCT = pow10(PRODUCT_SCALE - AMOUNT_SCALE);

/**
 * General arithmetic kernel: amounts as BigInt at AMOUNT_SCALE (18), products exact at
 * PRODUCT_SCALE (36), fee shares rounded at MONEY_SCALE (18). Handles any valid input.
 * Processes trades[start..] into run.rows / run.reviews.
 */
export function runBigInt(run: Run, book: LotBook<Lot>, trades: readonly TradeInput[], start: number): void {
  const { symbol, rows, reviews, ctx, cur } = run;
  const n = trades.length;
  for (let t = start; t < n; t++) {
    readTrade(trades[t] as TradeInput, t, ctx, cur);
    if (cur.isBuy) {
      book.push(new Lot(cur.orderId, cur.time, cur.priceText, cur.sizeText, cur.feeText, cur.price, cur.size, cur.fee, cur.size, 0n, run.ord++));
      continue;
    }

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
        details: { requested: cur.sizeText, available: formatFixed(available, AMOUNT_SCALE), unmatched: unmatchedText, sellTime },
      });
    }
  }
}
