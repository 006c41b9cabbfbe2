import type pg from 'pg';
import type { GeneratedTrade } from './ledger-generator.ts';

/** Inserts trades in chunks through json_to_recordset: one statement per chunk. */
export async function insertTrades(client: pg.Client, trades: readonly GeneratedTrade[], chunk = 20_000): Promise<void> {
  for (let i = 0; i < trades.length; i += chunk) {
    await client.query(
      `INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger)
       SELECT order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger
         FROM json_to_recordset($1::json) AS r(order_id text, symbol text, side text, size numeric, price numeric,
              total_fees_usd numeric, order_time timestamptz, source text, trigger text)`,
      [JSON.stringify(trades.slice(i, i + chunk))]);
  }
}
