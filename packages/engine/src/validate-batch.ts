import { checkBatch, loadState } from './state.ts';
import type { SymbolState, TradeInput } from './types.ts';
import { BatchContext, TradeCursor, readTrade } from './validate.ts';

/**
 * Runs every check `allocate` runs (state shape, each trade's fields, symbol, processing order,
 * watermark, duplicate ids) without allocating. Throws EngineInputError on the first problem.
 */
export function validateBatch(state: SymbolState, trades: readonly TradeInput[]): void {
  const loaded = loadState(state);
  checkBatch(trades, loaded.symbol);
  const ctx = new BatchContext(loaded.symbol, loaded.watermark);
  for (const lot of loaded.lots) ctx.seen.set(lot.orderId, -1);
  const cur = new TradeCursor();
  for (let t = 0; t < trades.length; t++) readTrade(trades[t] as TradeInput, t, ctx, cur);
}
