import { allocate } from './allocate.ts';
import { checkBatch, loadState } from './state.ts';
import type { LedgerEvent, SymbolState, TradeInput } from './types.ts';
import { BatchContext, TradeCursor, readTrade } from './validate.ts';

/**
 * Runs every check `allocate` runs (state shape, each trade's fields, symbol, processing order,
 * watermark, duplicate ids) without allocating. Throws EngineInputError on the first problem.
 */
export function validateBatch(state: SymbolState, trades: readonly LedgerEvent[]): void {
  const loaded = loadState(state);
  checkBatch(trades, loaded.symbol);
  // per_account: the checks run as the allocation runs (accounts, transfers); its result is dropped
  if (loaded.pooling === 'per_account') {
    allocate(state, trades);
    return;
  }
  const ctx = new BatchContext(loaded.symbol, loaded.watermark, false, loaded.lots.length + trades.length + 1);
  for (const lot of loaded.lots) ctx.seen.set(lot.orderId, -1);
  const cur = new TradeCursor();
  // universal: transfers are ignored, as allocate ignores them
  const fills = trades.some((e) => (e as LedgerEvent | null)?.side === 'transfer') ? trades.filter((e) => e.side !== 'transfer') : trades;
  for (let t = 0; t < fills.length; t++) readTrade(fills[t] as TradeInput, t, ctx, cur);
}
