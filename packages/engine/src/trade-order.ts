/**
 * Processing order of trades within a symbol (docs/CONTRACT.md §5.1): order_time, then buys, then
 * transfers (per_account pooling), then sells at equal time, then order_id (transfer_id).
 *
 * Times are fixed-width UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so text order is time order.
 * Order ids are compared by Unicode code point, which is the byte order of their UTF-8 encoding,
 * i.e. PostgreSQL `COLLATE "C"` on a UTF-8 database. For the usual ASCII ids (and anything in
 * the Basic Multilingual Plane below U+E000) this is identical to a plain JS `<` comparison.
 */

/** Minimal shape needed for ordering (TradeInput satisfies it). */
export interface TradeOrderKey {
  readonly time: string;
  readonly side: string;
  readonly orderId: string;
}

/** Rank of a side in the processing order: buys (0), transfers (1), sells (2). */
export function sideRank(side: string): number {
  return side === 'buy' ? 0 : side === 'transfer' ? 1 : 2;
}

/**
 * Compares strings in Unicode code point order (= UTF-8 byte order = PostgreSQL COLLATE "C").
 * Returns -1, 0 or 1.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 code unit order differs from code point order only for units ≥ 0xD800: surrogates
      // (D800–DFFF, i.e. code points ≥ U+10000) must sort after E000–FFFF.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** Processing-order comparator: negative when `a` is processed before `b`. */
export function compareTrades(a: TradeOrderKey, b: TradeOrderKey): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  const ra = sideRank(a.side);
  const rb = sideRank(b.side);
  if (ra !== rb) return ra - rb;
  return compareCodePoints(a.orderId, b.orderId);
}

/** Sorts a copy of `trades` into processing order (stable; does not modify the input). */
export function sortTrades<T extends TradeOrderKey>(trades: readonly T[]): T[] {
  return trades.slice().sort(compareTrades);
}
