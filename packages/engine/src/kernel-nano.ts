import { FastLot } from './lot.ts';
import type { LotBook } from './lot-book.ts';
import { E9, Wide, addWide, copyWide, feeShare, formatNano, formatWide, mulNano, mulParts, setNano, setZero } from './nano.ts';
import { unmatchedSeverityNano } from './run.ts';
import type { Run } from './run.ts';
import type { TradeInput } from './types.ts';
import { checkSequence, readAmountsFast, readHeader } from './validate.ts';

// Scratch values (the engine is synchronous and not re-entrant).
const BUY_SHARE = new Wide();
const SELL_SHARE = new Wide();
const SELL_TAKEN = new Wide();
const CUM = new Wide();
const COST = new Wide();
const PROCEEDS = new Wide();
const PNL = new Wide();

/**
 * Fast arithmetic kernel (see nano.ts): same semantics and same output as runBigInt, for trades
 * whose amounts are nano amounts. Processes trades[start..] and returns the index of the first
 * trade it cannot take (amounts outside the fast range, or invalid ones, which the BigInt
 * kernel then reports), or trades.length when done. That trade has not been consumed: its
 * uniqueness/order check has not run.
 */
export function runNano(run: Run, book: LotBook<FastLot>, trades: readonly TradeInput[], start: number): number {
  const { symbol, rows, reviews, ctx, cur } = run;
  const n = trades.length;
  for (let t = start; t < n; t++) {
    readHeader(trades[t] as TradeInput, t, ctx, cur);
    if (!readAmountsFast(cur)) return t;
    checkSequence(ctx, cur);
    if (cur.isBuy) {
      book.push(new FastLot(cur.orderId, cur.time, cur.priceText, cur.sizeText, cur.feeText, cur.priceN, cur.sizeN, cur.feeN, cur.sizeN, null, run.ord++));
      continue;
    }

    const sellId = cur.orderId;
    const sellTime = cur.time;
    const sellSize = cur.sizeN;
    const sellPrice = cur.priceN;
    const sellPriceText = cur.priceText;
    const sellFee = cur.feeN;
    const sellPriceHi = Math.floor(sellPrice / E9); // exact (see nano.ts)
    const sellPriceLo = sellPrice - sellPriceHi * E9;
    let need = sellSize;
    let sellTaken = false; // SELL_TAKEN holds the sell fee already assigned
    let seq = 0;
    for (;;) {
      const lot = book.peek();
      if (lot === undefined) break;
      const rem = lot.remaining;
      const lotDone = rem <= need;
      const alloc = lotDone ? rem : need;
      need -= alloc;

      // Buy fee share: cumulative rounding along the lot's consumption.
      const lotFee = lot.fee;
      let buyFeeText: string;
      if (lotFee === 0) buyFeeText = '0';
      else if (lotDone) {
        const taken = lot.taken;
        setNano(BUY_SHARE, lotFee);
        if (taken === null) buyFeeText = lot.feeText;
        else {
          addWide(BUY_SHARE, BUY_SHARE, taken, true);
          buyFeeText = formatWide(BUY_SHARE);
        }
      } else {
        feeShare(CUM, lotFee, lot.size - rem + alloc, lot.size);
        let taken = lot.taken;
        if (taken === null) {
          taken = new Wide();
          lot.taken = taken;
          copyWide(BUY_SHARE, CUM);
        } else addWide(BUY_SHARE, CUM, taken, true);
        copyWide(taken, CUM);
        buyFeeText = formatWide(BUY_SHARE);
      }
      // Sell fee share: cumulative rounding along the sell's rows.
      let sellFeeText: string;
      if (sellFee === 0) sellFeeText = '0';
      else if (need === 0) {
        setNano(SELL_SHARE, sellFee);
        if (!sellTaken) sellFeeText = cur.feeText;
        else {
          addWide(SELL_SHARE, SELL_SHARE, SELL_TAKEN, true);
          sellFeeText = formatWide(SELL_SHARE);
        }
      } else {
        feeShare(CUM, sellFee, sellSize - need, sellSize);
        if (!sellTaken) {
          copyWide(SELL_SHARE, CUM);
          sellTaken = true;
        } else addWide(SELL_SHARE, CUM, SELL_TAKEN, true);
        copyWide(SELL_TAKEN, CUM);
        sellFeeText = formatWide(SELL_SHARE);
      }

      const allocHi = Math.floor(alloc / E9);
      const allocLo = alloc - allocHi * E9;
      mulParts(COST, lot.priceHi, lot.priceLo, allocHi, allocLo);
      if (lotFee !== 0) addWide(COST, COST, BUY_SHARE, false);
      mulParts(PROCEEDS, sellPriceHi, sellPriceLo, allocHi, allocLo);
      if (sellFee !== 0) addWide(PROCEEDS, PROCEEDS, SELL_SHARE, true);
      addWide(PNL, PROCEEDS, COST, true);
      rows.push({
        symbol,
        sellOrderId: sellId,
        buyOrderId: lot.orderId,
        seq: ++seq,
        allocatedSize: alloc === sellSize ? cur.sizeText : alloc === lot.size ? lot.sizeText : formatNano(alloc),
        buyPrice: lot.priceText,
        sellPrice: sellPriceText,
        buyTime: lot.time,
        sellTime,
        buyFee: buyFeeText,
        sellFee: sellFeeText,
        costBasis: formatWide(COST),
        proceeds: formatWide(PROCEEDS),
        pnl: formatWide(PNL),
      });

      if (lotDone) book.pop();
      else lot.remaining = rem - alloc;
      if (need === 0) break;
    }

    if (need > 0) {
      // Oversell: every open lot is consumed; the remainder is an explicit unmatched row.
      let sellFeeText: string;
      mulNano(PROCEEDS, sellPrice, need);
      if (sellFee === 0) sellFeeText = '0';
      else {
        setNano(SELL_SHARE, sellFee);
        if (!sellTaken) sellFeeText = cur.feeText;
        else {
          addWide(SELL_SHARE, SELL_SHARE, SELL_TAKEN, true);
          sellFeeText = formatWide(SELL_SHARE);
        }
        addWide(PROCEEDS, PROCEEDS, SELL_SHARE, true);
      }
      const unmatchedText = need === sellSize ? cur.sizeText : formatNano(need);
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
        sellFee: sellFeeText,
        costBasis: null,
        proceeds: formatWide(PROCEEDS),
        pnl: null,
      });
      const available = sellSize - need;
      reviews.push({
        issueType: 'unmatched_sell',
        symbol,
        orderId: sellId,
        severity: unmatchedSeverityNano(sellSize, available),
        details: { requested: cur.sizeText, available: formatNano(available), unmatched: unmatchedText, sellTime },
      });
    }
  }
  setZero(SELL_TAKEN);
  return n;
}
