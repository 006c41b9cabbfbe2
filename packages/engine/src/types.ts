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
  /** The account that executed the fill (per_account pooling only; absent means 'default'). */
  account?: string;
}

/**
 * Pooling of lots within a symbol: `universal` (one book, accounts and transfers ignored) or
 * `per_account` (one book per account; transfers move lots between them).
 */
export type Pooling = 'universal' | 'per_account';

export const POOLINGS: readonly Pooling[] = ['universal', 'per_account'];

/**
 * A movement of the symbol's base asset from one account to another (per_account pooling).
 * It is processed after the buys and before the sells of its time (docs/CONTRACT.md §5.1).
 */
export interface TransferInput {
  /** The transfer id (its own namespace: compared only with other transfers at equal time). */
  orderId: string;
  symbol: string;
  side: 'transfer';
  /** Decimal string > 0, at most 18 decimal places. */
  size: string;
  time: string;
  /** From account. */
  account: string;
  toAccount: string;
}

/** What allocate() takes: fills, and (per_account) transfers. */
export type LedgerEvent = TradeInput | TransferInput;

export function isTransfer(e: LedgerEvent): e is TransferInput {
  return e.side === 'transfer';
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
  /** The sell's account (per_account pooling only). */
  account?: string;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export type ReviewItem = UnmatchedSellReview | UnmatchedTransferReview;

export interface UnmatchedSellReview {
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
    /** The sell's account (per_account pooling only; available is that account's inventory). */
    account?: string;
  };
}

/** The part of a transfer that exceeds the from-account's inventory (per_account pooling). */
export interface UnmatchedTransferReview {
  issueType: 'unmatched_transfer';
  symbol: string;
  /** The transfer id. */
  orderId: string;
  severity: 'high';
  details: {
    transferId: string;
    fromAccount: string;
    toAccount: string;
    /** Transfer size. */
    requested: string;
    /** Inventory of the from-account when the transfer was processed. */
    available: string;
    /** requested − available: the part that moved nothing. */
    unmatched: string;
    transferTime: string;
  };
}

/** An open (not fully consumed) buy lot. Decimal fields are canonical decimal strings. */
export interface OpenLot {
  orderId: string;
  time: string;
  price: string;
  size: string;
  fee: string;
  /** Size not yet consumed: 0 < remaining ≤ size (per_account: of this account's piece of the lot). */
  remaining: string;
  /** per_account pooling: the account holding this piece (a lot split by transfers has one piece per account). */
  account?: string;
}

/** Position of the last processed trade; the next batch must start strictly after it. */
export interface Watermark {
  time: string;
  side: 'buy' | 'sell' | 'transfer';
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
  /** Absent: universal (the JSON of a universal state is as before pooling existed). */
  pooling?: Pooling;
  /** per_account: listed by lot (processing order), a lot's pieces by account (code point order). */
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
