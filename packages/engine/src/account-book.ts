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
 * One account's open pieces, kept sorted in consumption order (array + head index). A buy is
 * appended in O(1) under FIFO and LIFO (it is the newest); a transferred piece goes to its place
 * as if bought in this account at its original time (binary search), merging with a piece of the
 * same buy already there.
 */
export class AccountBook {
  /** items[head..] in consumption order (LIFO: the array holds them oldest first, consumed from the end). */
  private items: Piece[] = [];
  private head = 0;

  constructor(private readonly method: Method) {}

  peek(): Piece | undefined {
    return this.method === 'lifo' ? (this.items.length > this.head ? this.items[this.items.length - 1] : undefined) : this.items[this.head];
  }

  /** Removes the top piece (fully consumed or moved whole). */
  pop(): void {
    if (this.method === 'lifo') this.items.pop();
    else {
      this.items[this.head] = undefined as unknown as Piece;
      this.head++;
    }
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Adds quantity of a buy to this account, at its place; merges with a piece of the same buy. */
  add(buy: BuyLot, quantity: bigint): void {
    const items = this.items;
    // array order: FIFO, LIFO by ord ascending; HIFO by consumption order
    const key = this.method === 'lifo' ? 'fifo' : this.method;
    const n = items.length;
    if (n === this.head || before(key, (items[n - 1] as Piece).buy, buy)) {
      items.push(new Piece(buy, quantity));
      return;
    }
    let lo = this.head;
    let hi = n - 1; // items[hi] is after buy (or the same buy)
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(key, (items[mid] as Piece).buy, buy)) lo = mid + 1;
      else hi = mid;
    }
    const at = items[lo] as Piece;
    if (at.buy === buy) at.remaining += quantity;
    else items.splice(lo, 0, new Piece(buy, quantity));
  }

  /** Open pieces (any order). */
  pieces(): Piece[] {
    return this.items.slice(this.head);
  }
}
