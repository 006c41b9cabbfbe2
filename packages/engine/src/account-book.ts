import type { Method } from './types.ts';

/**
 * Lots per account (per_account pooling). A buy is one {@link BuyLot} whatever the accounts
 * its quantity ends up in; each account holds {@link Piece}s of it. The fee rounding state
 * (consumed, feeTaken) is the buy's, so its fee shares add up to its fee over all its rows in
 * whichever accounts (docs/CONTRACT.md §5.4).
 */
export class BuyLot {
  constructor(
    readonly orderId: string,
    readonly time: string,
    readonly priceText: string,
    readonly sizeText: string,
    readonly feeText: string,
    /** Amounts at AMOUNT_SCALE (18). */
    readonly price: bigint,
    readonly size: bigint,
    readonly fee: bigint,
    /** Quantity consumed by sells so far, in any account. */
    public consumed: bigint,
    /** Fee shares already assigned: round(fee × consumed / size) at MONEY_SCALE. */
    public feeTaken: bigint,
    /** Position in processing order: the order of lots in every book (with price for HIFO). */
    readonly ord: number,
  ) {}
}

/** The part of a buy held by one account. */
export class Piece {
  constructor(
    readonly buy: BuyLot,
    /** > 0 while open. */
    public remaining: bigint,
  ) {}
}

/** True when a is consumed before b under the method. */
function before(method: Method, a: BuyLot, b: BuyLot): boolean {
  switch (method) {
    case 'fifo':
      return a.ord < b.ord;
    case 'lifo':
      return a.ord > b.ord;
    case 'hifo':
      return a.price > b.price || (a.price === b.price && a.ord < b.ord);
  }
}

/**
 * One account's open pieces: a binary heap in consumption order (the method's order of their
 * buys), O(log n) per push and pop, with a map from buy to piece so that a transferred piece
 * of a buy the account already holds is merged into it (an account holds one piece per buy).
 * A partly consumed top piece stays on top: its key is its buy's.
 */
export class AccountBook {
  private heap: Piece[] = [];
  private readonly byBuy = new Map<BuyLot, Piece>();

  constructor(private readonly method: Method) {}

  peek(): Piece | undefined {
    return this.heap[0];
  }

  /** Removes the top piece (fully consumed or moved whole). */
  pop(): void {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return;
    this.byBuy.delete(top.buy);
    const last = h.pop() as Piece;
    const n = h.length;
    if (n === 0) return;
    const m = this.method;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let c = l;
      let child = h[l] as Piece;
      if (l + 1 < n) {
        const right = h[l + 1] as Piece;
        if (before(m, right.buy, child.buy)) {
          c = l + 1;
          child = right;
        }
      }
      if (!before(m, child.buy, last.buy)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }

  /** Adds quantity of a buy to this account, at its place; merges with a piece of the same buy. */
  add(buy: BuyLot, quantity: bigint): void {
    const held = this.byBuy.get(buy);
    if (held !== undefined) {
      held.remaining += quantity;
      return;
    }
    const piece = new Piece(buy, quantity);
    this.byBuy.set(buy, piece);
    const h = this.heap;
    const m = this.method;
    let i = h.length;
    h.push(piece);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Piece;
      if (!before(m, buy, parent.buy)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = piece;
  }

  /** Open pieces (any order). */
  pieces(): Piece[] {
    return this.heap.slice();
  }
}
