/**
 * @fifo-ledger/engine — pure, exact FIFO/LIFO/HIFO lot allocation (docs/CONTRACT.md §5).
 * No I/O and no Node APIs: bundled by esbuild (target es2022) into PLV8 procedures.
 */
export type {
  AllocateResult,
  AllocationRow,
  LedgerEvent,
  Method,
  Pooling,
  TransferInput,
  UnmatchedSellReview,
  UnmatchedTransferReview,
  OpenLot,
  ReviewItem,
  Severity,
  SymbolState,
  TradeInput,
  Watermark,
} from './types.ts';
export { METHODS, POOLINGS, isTransfer } from './types.ts';
export { allocate } from './allocate.ts';
export type { AllocateOptions } from './allocate.ts';
export { unmatchedSeverity } from './run.ts';
export { emptyState } from './state.ts';
export { compareTrades, compareCodePoints, sortTrades, sideRank } from './trade-order.ts';
export { EngineInputError } from './errors.ts';
export { validateBatch } from './validate-batch.ts';
export { isValidTime, TIME_FORMAT } from './validate.ts';
export {
  MONEY_SCALE,
  AMOUNT_SCALE,
  PRODUCT_SCALE,
  parseDecimal,
  formatDecimal,
  canonicalDecimalText,
  add as addDecimal,
  sub as subDecimal,
  mul as mulDecimal,
  divide as divideDecimal,
  compare as compareDecimal,
  roundToScale,
} from './decimal.ts';
export type { Decimal } from './decimal.ts';
