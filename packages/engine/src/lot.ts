import { E9 } from './nano.ts';

/** Internal mutable lot record with BigInt amounts (the general path). */
export class Lot {
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
    /** Unconsumed size at AMOUNT_SCALE; > 0 while the lot is open. */
    public remaining: bigint,
    /** Fee shares already assigned: round(fee × (size − remaining) / size) at MONEY_SCALE. */
    public feeTaken: bigint,
    /** Position in processing order (HIFO tie-break: oldest first). */
    readonly ord: number,
  ) {}
}

/**
 * Internal mutable lot record with nano amounts (the fast path; see nano.ts). All fields are
 * set in the constructor, in one order, so every lot has one shape.
 */
export class FastLot {
  /** The price's base-1e9 digits, for mulParts (split once per lot, not once per row). */
  readonly priceHi: number;
  readonly priceLo: number;
  constructor(
    readonly orderId: string,
    readonly time: string,
    readonly priceText: string,
    readonly sizeText: string,
    readonly feeText: string,
    /** Amounts as nano integers (1e-9 units). */
    readonly price: number,
    readonly size: number,
    readonly fee: number,
    public remaining: number,
    /**
     * Fee shares already assigned, round(fee × (size − remaining) / size) at 1e-18 units, as
     * takenQ·1e9 + takenD (takenQ ≤ fee < 2^53, takenD < 1e9; see feeShareQ).
     */
    public takenQ: number,
    public takenD: number,
    readonly ord: number,
  ) {
    const hi = Math.floor(price / E9); // exact (see nano.ts)
    this.priceHi = hi;
    this.priceLo = price - hi * E9;
  }
}
