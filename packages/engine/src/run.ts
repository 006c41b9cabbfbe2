import type { AllocationRow, ReviewItem, Severity } from './types.ts';
import { BatchContext, TradeCursor } from './validate.ts';
import type { Watermark } from './types.ts';

/** Mutable context of one allocate() call, shared by the two arithmetic kernels. */
export class Run {
  readonly rows: AllocationRow[] = [];
  readonly reviews: ReviewItem[] = [];
  readonly cur = new TradeCursor();
  readonly ctx: BatchContext;
  /** Processing-order position of the next lot. */
  ord: number;

  constructor(
    readonly symbol: string,
    readonly watermark: Watermark | null,
    /** The state's open lots' order ids (in ctx.seen as -1). */
    readonly lotOrderIds: readonly string[],
    transfers = false,
    /** Number of events of the batch (sizes the order id table). */
    events = 0,
  ) {
    this.ctx = new BatchContext(symbol, watermark, transfers, lotOrderIds.length + events + 1);
    for (const id of lotOrderIds) this.ctx.seen.set(id, -1);
    this.ord = lotOrderIds.length;
  }
}

/**
 * Severity of an unmatched sell (sizes in any common unit):
 * - `critical`: nothing at all was open (the whole sell is unmatched: a missing buy, or a sell
 *   recorded under the wrong symbol);
 * - `medium`: the shortfall is dust, at most 0.1% of the sell (typically a fee charged in the base
 *   currency, or exchange rounding);
 * - `high`: any other shortfall.
 */
export function unmatchedSeverity(requested: bigint, available: bigint): Severity {
  if (available === 0n) return 'critical';
  const unmatched = requested - available;
  return unmatched * 1000n <= requested ? 'medium' : 'high';
}

/** {@link unmatchedSeverity} for nano sizes (compared as BigInt: ×1000 may exceed 2^53; oversells are rare). */
export function unmatchedSeverityNano(requested: number, available: number): Severity {
  return unmatchedSeverity(BigInt(requested), BigInt(available));
}
