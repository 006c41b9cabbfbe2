import { AccountBook, BuyLot } from './account-book.ts';
import { AMOUNT_SCALE, PRODUCT_SCALE, divRoundHalfUpNonNegative, formatFixed, pow10 } from './decimal.ts';
import { unmatchedSeverity } from './run.ts';
import type { Run } from './run.ts';
import type { LedgerEvent, Method, TradeInput } from './types.ts';
import { Origin, checkSequence, fail, parseAmount, readAmountsBig, readHeader, canonicalAmount } from './validate.ts';

const MONEY_TO_PRODUCT = pow10(PRODUCT_SCALE - AMOUNT_SCALE);

export const DEFAULT_ACCOUNT = 'default';

/** An account name as given: a non-empty string ('default' when the trade has none). */
function readAccount(value: unknown, field: string, origin: Origin, optional: boolean): string {
  if (value === undefined && optional) return DEFAULT_ACCOUNT;
  if (typeof value !== 'string' || value.length === 0) fail(origin, field, 'must be a non-empty string', value);
  return value;
}

/** Books by account, made on first use. */
export class Accounts {
  readonly books = new Map<string, AccountBook>();
  constructor(private readonly method: Method) {}
  book(account: string): AccountBook {
    let b = this.books.get(account);
    if (b === undefined) {
      b = new AccountBook(this.method);
      this.books.set(account, b);
    }
    return b;
  }
}

/**
 * per_account pooling (docs/CONTRACT.md §5): each account has its own book under the method; a
 * buy opens a lot in its account, a sell consumes its account's lots only, a transfer takes lots
 * out of its from-account as a sell would and puts the pieces into its to-account, where they
 * keep their buy's order id, time, price and fee state. BigInt arithmetic (as runBigInt, with the
 * same texts), so rows are exact and formatted like the universal kernels'.
 */
export function runAccounts(run: Run, accounts: Accounts, trades: readonly LedgerEvent[]): void {
  const { symbol, rows, reviews, ctx, cur } = run;
  const n = trades.length;
  for (let t = 0; t < n; t++) {
    const raw = trades[t] as LedgerEvent;
    readHeader(raw as TradeInput, t, ctx, cur);
    const origin = new Origin(cur.orderId, symbol, t);
    if (cur.rank === 1) {
      transfer(run, accounts, raw, origin);
      continue;
    }
    readAmountsBig(cur, ctx);
    const account = readAccount(raw.account, 'account', origin, true);
    checkSequence(ctx, cur);
    if (cur.isBuy) {
      const buy = new BuyLot(cur.orderId, cur.time, cur.priceText, cur.sizeText, cur.feeText, cur.price, cur.size, cur.fee, 0n, 0n, run.ord++);
      accounts.book(account).add(buy, cur.size);
      continue;
    }

    const book = accounts.book(account);
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
      const piece = book.peek();
      if (piece === undefined) break;
      const lot = piece.buy;
      const rem = piece.remaining;
      const pieceDone = rem <= need;
      const alloc = pieceDone ? rem : need;
      need -= alloc;

      // Buy fee share: cumulative rounding along the buy's consumption, over all its pieces.
      lot.consumed += alloc;
      let buyShare: bigint;
      const lotFee = lot.fee;
      if (lotFee === 0n) buyShare = 0n;
      else {
        const cum = lot.consumed === lot.size ? lotFee : divRoundHalfUpNonNegative(lotFee * lot.consumed, lot.size);
        buyShare = cum - lot.feeTaken;
        lot.feeTaken = cum;
      }
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
        account,
      });

      if (pieceDone) book.pop();
      else piece.remaining = rem - alloc;
      if (need === 0n) break;
    }

    if (need > 0n) {
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
        account,
      });
      const available = sellSize - need;
      reviews.push({
        issueType: 'unmatched_sell',
        symbol,
        orderId: sellId,
        severity: unmatchedSeverity(sellSize, available),
        details: { requested: cur.sizeText, available: formatFixed(available, AMOUNT_SCALE), unmatched: unmatchedText, sellTime, account },
      });
    }
  }
}

/** A transfer: the method's lots out of the from-account (splitting the last), into the to-account. */
function transfer(run: Run, accounts: Accounts, raw: LedgerEvent, origin: Origin): void {
  const { cur, ctx } = run;
  const size = parseAmount(raw.size, 'size', true, origin);
  const sizeText = canonicalAmount(raw.size, size);
  const from = readAccount(raw.account, 'account', origin, false);
  const to = readAccount((raw as { toAccount?: unknown }).toAccount, 'toAccount', origin, false);
  if (from === to) fail(origin, 'toAccount', `must differ from account (${JSON.stringify(from)})`, to);
  checkSequence(ctx, cur);
  const src = accounts.book(from);
  const dst = accounts.book(to);
  let need = size;
  while (need > 0n) {
    const piece = src.peek();
    if (piece === undefined) break;
    const rem = piece.remaining;
    if (rem <= need) {
      src.pop();
      dst.add(piece.buy, rem);
      need -= rem;
    } else {
      piece.remaining = rem - need;
      dst.add(piece.buy, need);
      need = 0n;
    }
  }
  if (need > 0n) {
    run.reviews.push({
      issueType: 'unmatched_transfer',
      symbol: run.symbol,
      orderId: cur.orderId,
      severity: 'high',
      details: {
        transferId: cur.orderId,
        fromAccount: from,
        toAccount: to,
        requested: sizeText,
        available: formatFixed(size - need, AMOUNT_SCALE),
        unmatched: need === size ? sizeText : formatFixed(need, AMOUNT_SCALE),
        transferTime: cur.time,
      },
    });
  }
}
