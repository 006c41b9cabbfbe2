/** Internal mutable lot record (the engine's working form of an OpenLot). */
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
