/**
 * Batches of whole symbols, for the runner (one transaction each) and for fifo_compute itself
 * (bounded memory per batch inside one call).
 */

/** Whole symbols in order, a new batch whenever the next symbol would pass maxTrades. */
export function batchSymbols<T extends { trades: number }>(items: readonly T[], maxTrades: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let n = 0;
  for (const it of items) {
    if (cur.length > 0 && n + it.trades > maxTrades) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(it);
    n += it.trades;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
