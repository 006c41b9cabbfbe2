import { AMOUNT_SCALE, formatFixed } from './decimal.ts';
import { runBigInt } from './kernel-bigint.ts';
import { runNano } from './kernel-nano.ts';
import { FastLot, Lot } from './lot.ts';
import { createLotBook } from './lot-book.ts';
import type { LotBook } from './lot-book.ts';
import { MAX_NANO, SHARE_QD, feeShareQ, formatNano, setShareArgs } from './nano.ts';
import { Run } from './run.ts';
import { checkBatch, loadState } from './state.ts';
import type { LoadedState } from './state.ts';
import type { Piece } from './account-book.ts';
import { Accounts, runAccounts } from './kernel-accounts.ts';
import { compareCodePoints } from './trade-order.ts';
import type { AllocateResult, LedgerEvent, OpenLot, SymbolState, TradeInput, Watermark } from './types.ts';

/** Options of {@link allocate}. */
export interface AllocateOptions {
  /**
   * 'auto' (default): fast exact kernel while amounts allow, else BigInt. 'bigint': BigInt kernel
   * only (same results; used to cross-check the kernels).
   */
  kernel?: 'auto' | 'bigint';
}

const E9N = 1000000000n;
const MAX_NANO_N = BigInt(MAX_NANO);

/**
 * Allocates a batch of trades of one symbol, continuing from `state` (docs/CONTRACT.md §5).
 *
 * Trades must be in processing order (time, buys, transfers, sells, id), strictly after the
 * state's watermark, of the state's symbol, with unique order ids. Any invalid trade or state
 * throws EngineInputError and nothing is returned. The input state is not modified.
 *
 * Resumable: allocate(allocate(s, a).state, b) gives the same rows and state as
 * allocate(s, a ++ b), also when the intermediate state went through JSON.
 *
 * Arithmetic: the batch runs on the fast exact kernel (nano.ts) while every amount is within
 * its range, and switches to the general BigInt kernel for good at the first trade (or state lot)
 * that is not. Both are exact and give identical output.
 */
export function allocate(state: SymbolState, events: readonly LedgerEvent[], options: AllocateOptions = {}): AllocateResult {
  const loaded = loadState(state);
  checkBatch(events, loaded.symbol);
  if (loaded.pooling === 'per_account') return allocateAccounts(loaded, events);
  // universal: accounts and transfers are ignored (the result is the one without them)
  const trades = (hasTransfer(events) ? events.filter((e) => e.side !== 'transfer') : events) as readonly TradeInput[];
  const method = loaded.method;
  const run = new Run(loaded.symbol, loaded.watermark, loaded.lots.map((l) => l.orderId), false, trades.length);
  const n = trades.length;

  let openLots: OpenLot[];
  const fastLots = options.kernel === 'bigint' ? null : toFastLots(loaded.lots);
  let bigBook: LotBook<Lot> | null = null;
  let start = 0;
  if (fastLots !== null) {
    const fastBook = createLotBook<FastLot>(method);
    for (const lot of fastLots) fastBook.push(lot);
    start = runNano(run, fastBook, trades, 0);
    if (start < n) {
      bigBook = createLotBook<Lot>(method);
      for (const lot of fastBook.toArray()) bigBook.push(toBigLot(lot));
    } else {
      openLots = fastBook.toArray().map(fastOpenLot);
    }
  } else {
    bigBook = createLotBook<Lot>(method);
    for (const lot of loaded.lots) bigBook.push(lot);
  }
  if (bigBook !== null) {
    runBigInt(run, bigBook, trades, start);
    openLots = bigBook.toArray().map(bigOpenLot);
  }
  run.ctx.seen.release();

  let watermark: Watermark | null = loaded.watermark;
  if (n > 0) {
    const cur = run.cur;
    watermark = { time: cur.time, side: cur.isBuy ? 'buy' : 'sell', orderId: cur.orderId };
  }
  return {
    rows: run.rows,
    state: { symbol: loaded.symbol, method, lots: openLots!, watermark, tradesProcessed: loaded.tradesProcessed + n },
    reviews: run.reviews,
  };
}

function hasTransfer(events: readonly LedgerEvent[]): boolean {
  for (let i = 0; i < events.length; i++) if ((events[i] as LedgerEvent | null)?.side === 'transfer') return true;
  return false;
}

/** per_account pooling: a book per account (kernel-accounts.ts). */
function allocateAccounts(loaded: LoadedState, events: readonly LedgerEvent[]): AllocateResult {
  const { symbol, method } = loaded;
  const run = new Run(symbol, loaded.watermark, loaded.buyIds, true, events.length);
  const accounts = new Accounts(method);
  for (const p of loaded.pieces) accounts.book(p.account).add(p.buy, p.remaining);
  runAccounts(run, accounts, events);
  run.ctx.seen.release();
  const open: Array<{ piece: Piece; account: string }> = [];
  for (const [account, book] of accounts.books) for (const piece of book.pieces()) open.push({ piece, account });
  open.sort((a, b) => a.piece.buy.ord - b.piece.buy.ord || compareCodePoints(a.account, b.account));
  const lots: OpenLot[] = open.map(({ piece, account }) => {
    const b = piece.buy;
    return {
      orderId: b.orderId,
      time: b.time,
      price: b.priceText,
      size: b.sizeText,
      fee: b.feeText,
      remaining: piece.remaining === b.size ? b.sizeText : formatFixed(piece.remaining, AMOUNT_SCALE),
      account,
    };
  });
  let watermark: Watermark | null = loaded.watermark;
  if (events.length > 0) {
    const cur = run.cur;
    watermark = { time: cur.time, side: cur.side as Watermark['side'], orderId: cur.orderId };
  }
  return {
    rows: run.rows,
    state: { symbol, method, pooling: 'per_account', lots, watermark, tradesProcessed: loaded.tradesProcessed + events.length },
    reviews: run.reviews,
  };
}

function toNano(v: bigint): number {
  return v % E9N === 0n && v / E9N <= MAX_NANO_N ? Number(v / E9N) : -1;
}

/** The state's lots in fast form, or null when any amount is outside the fast range. */
function toFastLots(lots: readonly Lot[]): FastLot[] | null {
  const out: FastLot[] = [];
  for (const lot of lots) {
    const price = toNano(lot.price);
    const size = toNano(lot.size);
    const fee = toNano(lot.fee);
    const remaining = toNano(lot.remaining);
    if (price < 0 || size < 0 || fee < 0 || remaining < 0) return null;
    let takenQ = 0;
    let takenD = 0;
    if (fee !== 0 && remaining !== size) {
      setShareArgs(fee, size - remaining, size);
      feeShareQ();
      takenQ = SHARE_QD[0] as number;
      takenD = SHARE_QD[1] as number;
    }
    out.push(new FastLot(lot.orderId, lot.time, lot.priceText, lot.sizeText, lot.feeText, price, size, fee, remaining, takenQ, takenD, lot.ord));
  }
  return out;
}

function toBigLot(l: FastLot): Lot {
  return new Lot(
    l.orderId,
    l.time,
    l.priceText,
    l.sizeText,
    l.feeText,
    BigInt(l.price) * E9N,
    BigInt(l.size) * E9N,
    BigInt(l.fee) * E9N,
    BigInt(l.remaining) * E9N,
    BigInt(l.takenQ) * E9N + BigInt(l.takenD),
    l.ord,
  );
}

function bigOpenLot(lot: Lot): OpenLot {
  return {
    orderId: lot.orderId,
    time: lot.time,
    price: lot.priceText,
    size: lot.sizeText,
    fee: lot.feeText,
    remaining: lot.remaining === lot.size ? lot.sizeText : formatFixed(lot.remaining, AMOUNT_SCALE),
  };
}

function fastOpenLot(lot: FastLot): OpenLot {
  return {
    orderId: lot.orderId,
    time: lot.time,
    price: lot.priceText,
    size: lot.sizeText,
    fee: lot.feeText,
    remaining: lot.remaining === lot.size ? lot.sizeText : formatNano(lot.remaining),
  };
}
