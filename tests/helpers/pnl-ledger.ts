/**
 * A hand-worked ledger for the PnL views, written straight into trade_records and
 * fifo_allocations (no engine), so it loads on a schema at any migration from 013 on.
 * Version 1 (version 2 holds s1's matched part only):
 *   SOL-USD s1 (bot, tp)  2 matched @ 12 from b1 @ 10: cost 20.1, proceeds 23.8, PnL 3.7 (won); 1 unmatched, proceeds 11.9
 *   ETH-USD s2 (manual, sl) 0.5 @ 120 from b2 @ 100: cost 50, proceeds 60, PnL 10 (won)
 *   ETH-USD s3 (manual, sl) 0.5 @ 90:  cost 50, proceeds 44.95, PnL -5.05 (lost)
 *   ETH-USD s5 (untagged)   0.1 @ 100: cost 10, proceeds 10, PnL 0 (breakeven: matched, neither won nor lost)
 *   SOL-BTC s4 1 @ 0.002 wholly unmatched, proceeds 0.00199
 *   USD: 4 sells, 2 won, 1 lost, 1 breakeven, win rate 2/4 = 50.0 %, PnL 8.65; BTC: 1 sell, none matched
 */
import type { TestSchema } from './db.ts';

export async function insertPnlLedger(t: Pick<TestSchema, 'query'>): Promise<void> {
  await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'lifo')`);
  await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger) VALUES
    ('b1', 'SOL-USD', 'buy', 2, 10, 0.1, '2025-01-01Z', 'bot', NULL), ('s1', 'SOL-USD', 'sell', 3, 12, 0.3, '2025-01-02Z', 'bot', 'tp'),
    ('b2', 'ETH-USD', 'buy', 1.1, 100, 0, '2025-01-01Z', NULL, NULL), ('s2', 'ETH-USD', 'sell', 0.5, 120, 0, '2025-01-03Z', 'manual', 'sl'),
    ('s3', 'ETH-USD', 'sell', 0.5, 90, 0.05, '2025-01-03 23:59Z', 'manual', 'sl'), ('s5', 'ETH-USD', 'sell', 0.1, 100, 0, '2025-01-05Z', NULL, NULL),
    ('s4', 'SOL-BTC', 'sell', 1, 0.002, 0.00001, '2025-01-04Z', NULL, NULL)`);
  await t.query(`INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id,
      allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd) VALUES
    (1, 'SOL-USD', 's1', 1, 'b1', 2, 10, 12, '2025-01-01Z', '2025-01-02Z', 0.1, 0.2, 20.1, 23.8, 3.7),
    (1, 'SOL-USD', 's1', 2, NULL, 1, NULL, 12, NULL, '2025-01-02Z', NULL, 0.1, NULL, 11.9, NULL),
    (1, 'ETH-USD', 's2', 1, 'b2', 0.5, 100, 120, '2025-01-01Z', '2025-01-03Z', 0, 0, 50, 60, 10),
    (1, 'ETH-USD', 's3', 1, 'b2', 0.5, 100, 90, '2025-01-01Z', '2025-01-03 23:59Z', 0, 0.05, 50, 44.95, -5.05),
    (1, 'ETH-USD', 's5', 1, 'b2', 0.1, 100, 100, '2025-01-01Z', '2025-01-05Z', 0, 0, 10, 10, 0),
    (1, 'SOL-BTC', 's4', 1, NULL, 1, NULL, 0.002, NULL, '2025-01-04Z', NULL, 0.00001, NULL, 0.00199, NULL),
    (2, 'SOL-USD', 's1', 1, 'b1', 2, 10, 12, '2025-01-01Z', '2025-01-02Z', 0.1, 0.2, 20.1, 23.8, 3.7)`);
  await t.query(`DELETE FROM fifo_dirty_symbols`); // the allocations above are the computation
}
