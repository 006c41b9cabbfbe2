/** What a book needs of a lot (Lot and FastLot both qualify). */
export interface BookLot {
  readonly price: number | bigint;
  readonly ord: number;
}
import type { Method } from './types.ts';

/**
 * Open lots of one symbol, ordered for consumption by the method. `peek` gives the lot the next
 * sell consumes; a partially consumed lot stays at the top (its key does not change).
 */
export interface LotBook<Lot extends BookLot> {
  push(lot: Lot): void;
  peek(): Lot | undefined;
  /** Removes the top lot (fully consumed). */
  pop(): void;
  /** Open lots in processing order (oldest first). */
  toArray(): Lot[];
}

/** FIFO: a queue (array + head index), O(1) per operation. */
class FifoBook<Lot extends BookLot> implements LotBook<Lot> {
  private items: Lot[] = [];
  private head = 0;
  push(lot: Lot): void {
    this.items.push(lot);
  }
  peek(): Lot | undefined {
    return this.items[this.head];
  }
  pop(): void {
    this.items[this.head] = undefined as unknown as Lot; // release for GC
    this.head++;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  toArray(): Lot[] {
    return this.items.slice(this.head);
  }
}

/** LIFO: a stack, O(1) per operation. */
class LifoBook<Lot extends BookLot> implements LotBook<Lot> {
  private items: Lot[] = [];
  push(lot: Lot): void {
    this.items.push(lot);
  }
  peek(): Lot | undefined {
    return this.items[this.items.length - 1];
  }
  pop(): void {
    this.items.pop();
  }
  toArray(): Lot[] {
    return this.items.slice();
  }
}

/** HIFO: a binary max-heap on (price desc, processing order asc), O(log n) push/pop. */
class HifoBook<Lot extends BookLot> implements LotBook<Lot> {
  private heap: Lot[] = [];

  /** True when a must be consumed before b. */
  private static before(a: BookLot, b: BookLot): boolean {
    return a.price > b.price || (a.price === b.price && a.ord < b.ord);
  }

  push(lot: Lot): void {
    const h = this.heap;
    let i = h.length;
    h.push(lot);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Lot;
      if (!HifoBook.before(lot, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = lot;
  }
  peek(): Lot | undefined {
    return this.heap[0];
  }
  pop(): void {
    const h = this.heap;
    const last = h.pop();
    const n = h.length;
    if (last === undefined || n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = h[l] as Lot;
      if (r < n) {
        const right = h[r] as Lot;
        if (HifoBook.before(right, child)) {
          c = r;
          child = right;
        }
      }
      if (!HifoBook.before(child, last)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
  toArray(): Lot[] {
    return this.heap.slice().sort((a, b) => a.ord - b.ord);
  }
}

export function createLotBook<Lot extends BookLot>(method: Method): LotBook<Lot> {
  switch (method) {
    case 'fifo':
      return new FifoBook<Lot>();
    case 'lifo':
      return new LifoBook<Lot>();
    case 'hifo':
      return new HifoBook<Lot>();
  }
}
