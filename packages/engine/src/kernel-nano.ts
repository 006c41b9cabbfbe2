import { ABSENT } from './id-index.ts';
import { FastLot } from './lot.ts';
import type { LotBook } from './lot-book.ts';
import { E9, NANO_IN, SHARE_QD, Wide, addWide, feeShareQ, formatNano, formatParts, formatWide, mulNano, mulParts, parseNanoTo, setSum, subShare } from './nano.ts';
import { unmatchedSeverityNano } from './run.ts';
import type { Run } from './run.ts';
import { compareCodePoints } from './trade-order.ts';
import type { TradeInput } from './types.ts';
import { checkSequence, isValidTime, readAmountsFast, readHeader } from './validate.ts';

// Scratch values (the engine is synchronous and not re-entrant).
const COST = new Wide();
const PROCEEDS = new Wide();
const PNL = new Wide();

/**
 * Fast arithmetic kernel (see nano.ts): same semantics and same output as runBigInt, for trades
 * whose amounts are nano amounts. Processes trades[start..] and returns the index of the first
 * trade it cannot take (amounts outside the fast range, or invalid ones, which the BigInt
 * kernel then reports), or trades.length when done. That trade has not been consumed: its
 * uniqueness/order check has not run.
 *
 * Each trade is first read by an inline check that accepts only a valid, in-order, fast-range
 * trade; anything else goes through the general checks of validate.ts (readHeader,
 * readAmountsFast, checkSequence), which either accept it too or throw the precise error, so
 * errors and their order are those of the general checks.
 *
 * Fee shares are kept as (q, d): q nano units plus d 1e-18 units (see feeShareQ), in locals and
 * lot fields, so that no object is allocated per row except the row and its strings.
 */
export function runNano(run: Run, book: LotBook<FastLot>, trades: readonly TradeInput[], start: number): number {
  const { symbol, rows, reviews, ctx, cur } = run;
  const seen = ctx.seen;
  const n = trades.length;
  for (let t = start; t < n; t++) {
    const raw = trades[t] as TradeInput;
    let orderId = '';
    let time = '';
    let isBuy = false;
    let sizeText = '';
    let priceText = '';
    let feeText = '';
    let size = 0;
    let price = 0;
    let fee = 0;
    let ok = false;
    if (typeof raw === 'object' && raw !== null) {
      orderId = raw.orderId;
      const side = raw.side;
      time = raw.time;
      if (typeof orderId === 'string' && orderId.length !== 0 && raw.symbol === symbol && (side === 'buy' || side === 'sell') && typeof time === 'string') {
        isBuy = side === 'buy';
        const rank = isBuy ? 0 : 2;
        const prevTime = ctx.prevTime;
        // `>` first: most trades are later than the previous one, so the equality test (a second
        // string comparison) runs only for ties and errors.
        const inOrder =
          prevTime === null
            ? isValidTime(time)
            : time > prevTime
              ? isValidTime(time)
              : time === prevTime && (rank > ctx.prevRank || (rank === ctx.prevRank && compareCodePoints(orderId, ctx.prevOrderId) > 0));
        const rs = raw.size;
        const rp = raw.price;
        const rf = raw.fee;
        if (inOrder && typeof rs === 'string' && typeof rp === 'string' && typeof rf === 'string') {
          const cs = parseNanoTo(rs, 0);
          const cp = cs >= 0 ? parseNanoTo(rp, 1) : -1;
          const cf = cp >= 0 ? parseNanoTo(rf, 2) : -1;
          const amounts = NANO_IN;
          size = amounts[0] as number;
          price = amounts[1] as number;
          fee = amounts[2] as number;
          if (cf >= 0 && size > 0 && price > 0) {
            sizeText = cs === 1 ? rs : formatNano(size);
            priceText = cp === 1 ? rp : formatNano(price);
            feeText = fee === 0 ? '0' : cf === 1 ? rf : formatNano(fee);
            // One lookup: a duplicate leaves the first entry in place (checkSequence reports it below).
            if (seen.add(orderId, t) === ABSENT) {
              ok = true;
              ctx.prevTime = time;
              ctx.prevRank = rank;
              ctx.prevSide = side;
              ctx.prevOrderId = orderId;
              ctx.prevIsWatermark = false;
            }
          }
        }
      }
    }
    if (!ok) {
      readHeader(raw, t, ctx, cur);
      if (!readAmountsFast(cur)) return t;
      checkSequence(ctx, cur);
      orderId = cur.orderId;
      time = cur.time;
      isBuy = cur.isBuy;
      sizeText = cur.sizeText;
      priceText = cur.priceText;
      feeText = cur.feeText;
      size = cur.sizeN;
      price = cur.priceN;
      fee = cur.feeN;
    }

    if (isBuy) {
      book.push(new FastLot(orderId, time, priceText, sizeText, feeText, price, size, fee, size, 0, 0, run.ord++));
      continue;
    }

    const sellPriceHi = Math.floor(price / E9); // exact (see nano.ts)
    const sellPriceLo = price - sellPriceHi * E9;
    let need = size;
    // Sell fee assigned so far: takenQ·1e9 + takenD (1e-18 units).
    let takenQ = 0;
    let takenD = 0;
    let seq = 0;
    for (;;) {
      const lot = book.peek();
      if (lot === undefined) break;
      const rem = lot.remaining;
      const lotDone = rem <= need;
      const alloc = lotDone ? rem : need;
      need -= alloc;

      const allocHi = Math.floor(alloc / E9);
      const allocLo = alloc - allocHi * E9;
      mulParts(COST, lot.priceHi, lot.priceLo, allocHi, allocLo);
      mulParts(PROCEEDS, sellPriceHi, sellPriceLo, allocHi, allocLo);

      // Buy fee share: cumulative rounding along the lot's consumption (share = cum − taken ≥ 0).
      const lotFee = lot.fee;
      let buyFeeText = '0';
      if (lotFee !== 0) {
        let cq = lotFee;
        let cd = 0;
        if (!lotDone) {
          const io = SHARE_QD;
          io[0] = lotFee;
          io[1] = lot.size - rem + alloc;
          io[2] = lot.size;
          feeShareQ();
          cq = io[0] as number;
          cd = io[1] as number;
        }
        let sq = cq - lot.takenQ;
        let sd = cd - lot.takenD;
        if (sd < 0) {
          sd += E9;
          sq -= 1;
        }
        lot.takenQ = cq;
        lot.takenD = cd;
        buyFeeText = sq === lotFee && sd === 0 ? lot.feeText : formatShare(sq, sd);
        addShare(COST, sq, sd);
      }
      // Sell fee share: cumulative rounding along the sell's rows.
      let sellFeeText = '0';
      if (fee !== 0) {
        let cq = fee;
        let cd = 0;
        if (need !== 0) {
          const io = SHARE_QD;
          io[0] = fee;
          io[1] = size - need;
          io[2] = size;
          feeShareQ();
          cq = io[0] as number;
          cd = io[1] as number;
        }
        let sq = cq - takenQ;
        let sd = cd - takenD;
        if (sd < 0) {
          sd += E9;
          sq -= 1;
        }
        takenQ = cq;
        takenD = cd;
        sellFeeText = sq === fee && sd === 0 ? feeText : formatShare(sq, sd);
        subShare(PROCEEDS, sq, sd);
      }
      addWide(PNL, PROCEEDS, COST, true);
      rows.push({
        symbol,
        sellOrderId: orderId,
        buyOrderId: lot.orderId,
        seq: ++seq,
        allocatedSize: alloc === size ? sizeText : alloc === lot.size ? lot.sizeText : formatNano(alloc),
        buyPrice: lot.priceText,
        sellPrice: priceText,
        buyTime: lot.time,
        sellTime: time,
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
      mulNano(PROCEEDS, price, need);
      let sellFeeText = '0';
      if (fee !== 0) {
        let sq = fee - takenQ;
        let sd = -takenD;
        if (sd < 0) {
          sd += E9;
          sq -= 1;
        }
        sellFeeText = sq === fee && sd === 0 ? feeText : formatShare(sq, sd);
        subShare(PROCEEDS, sq, sd);
      }
      const unmatchedText = need === size ? sizeText : formatNano(need);
      rows.push({
        symbol,
        sellOrderId: orderId,
        buyOrderId: null,
        seq: ++seq,
        allocatedSize: unmatchedText,
        buyPrice: null,
        sellPrice: priceText,
        buyTime: null,
        sellTime: time,
        buyFee: null,
        sellFee: sellFeeText,
        costBasis: null,
        proceeds: formatWide(PROCEEDS),
        pnl: null,
      });
      const available = size - need;
      reviews.push({
        issueType: 'unmatched_sell',
        symbol,
        orderId,
        severity: unmatchedSeverityNano(size, available),
        details: { requested: sizeText, available: formatNano(available), unmatched: unmatchedText, sellTime: time },
      });
    }
  }
  if (n > start) {
    // The last trade, for the watermark (the inline check does not fill the cursor).
    cur.time = ctx.prevTime as string;
    cur.orderId = ctx.prevOrderId;
    cur.isBuy = ctx.prevRank === 0;
  }
  return n;
}

/** out += q·1e9 + d (1e-18 units) for out ≥ 0, q ≥ 0, 0 ≤ d < 1e9: every sum stays < 2^53. */
function addShare(out: Wide, q: number, d: number): void {
  const qh = Math.floor(q / E9); // exact (see nano.ts)
  setSum(out, out.neg, out.h, out.m, out.l, qh, q - qh * E9, d);
}

/** Canonical text of the fee share q·1e9 + d (1e-18 units). */
function formatShare(q: number, d: number): string {
  const qh = Math.floor(q / E9); // exact (see nano.ts)
  return formatParts(false, qh, q - qh * E9, d);
}
