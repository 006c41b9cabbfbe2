/** Public data types of the allocation engine. All of them are plain JSON-serialisable data. */

/** Lot selection method: FIFO oldest first, LIFO newest first, HIFO highest price first (ties oldest first). */
export type Method = 'fifo' | 'lifo' | 'hifo';

export const METHODS: readonly Method[] = ['fifo', 'lifo', 'hifo'];

/** One fill of the ledger, as read from `trade_records` (numerics as text). */
export interface TradeInput {
  orderId: string;
  symbol: string;
  /** 'buy' | 'sell' (anything else is rejected). */
  side: string;
  /** Decimal strings: size > 0, price > 0, fee (total_fees_usd) ≥ 0; at most 18 decimal places. */
  size: string;
  price: string;
  fee: string;
  /** Fixed-width UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds), so string order = time order. */
  time: string;
}

/** One (sell, consumed lot) match, or the unmatched remainder of a sell (buy* fields null). */
export interface AllocationRow {
  symbol: string;
  sellOrderId: string;
  buyOrderId: string | null;
  /** 1..n within the sell, in consumption order (the unmatched remainder, if any, is last). */
  seq: number;
  allocatedSize: string;
  buyPrice: string | null;
  sellPrice: string;
  buyTime: string | null;
  sellTime: string;
  /** Share of the buy's fee (cumulative rounding along that buy's consumption, at MONEY_SCALE). */
  buyFee: string | null;
  /** Share of the sell's fee (cumulative rounding along the sell's rows; sums exactly to the fee). */
  sellFee: string;
  /** buyPrice × allocatedSize + buyFee (exact); null when unmatched. */
  costBasis: string | null;
  /** sellPrice × allocatedSize − sellFee (exact). */
  proceeds: string;
  /** proceeds − costBasis (exact); null when unmatched. */
  pnl: string | null;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface ReviewItem {
  issueType: 'unmatched_sell';
  symbol: string;
  orderId: string;
  severity: Severity;
  details: {
    /** Sell size. */
    requested: string;
    /** Open inventory of the symbol when the sell was processed. */
    available: string;
    /** requested − available: the size of the unmatched row. */
    unmatched: string;
    sellTime: string;
  };
}

/** An open (not fully consumed) buy lot. Decimal fields are canonical decimal strings. */
export interface OpenLot {
  orderId: string;
  time: string;
  price: string;
  size: string;
  fee: string;
  /** Size not yet consumed: 0 < remaining ≤ size. */
  remaining: string;
}

/** Position of the last processed trade; the next batch must start strictly after it. */
export interface Watermark {
  time: string;
  side: 'buy' | 'sell';
  orderId: string;
}

/**
 * Per-symbol inventory state after the last processed trade: stored as jsonb, fed back to
 * `allocate` to continue incrementally. Lots are listed in processing order (oldest first)
 * whatever the method.
 */
export interface SymbolState {
  symbol: string;
  method: Method;
  lots: OpenLot[];
  watermark: Watermark | null;
  /** Number of trades processed into this state since emptyState. */
  tradesProcessed: number;
}

export interface AllocateResult {
  rows: AllocationRow[];
  state: SymbolState;
  reviews: ReviewItem[];
}
