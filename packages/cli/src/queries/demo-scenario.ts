/** The two ledger changes `fifo demo` makes between its computations (version 1). */
import type pg from 'pg';
import { utcIso } from './sql.ts';

export interface LateFill {
  order_id: string;
  symbol: string;
  /** UTC ISO time. */
  order_time: string;
  size: string;
  /** The oversell it covers. */
  covers: string;
}

/** A back-dated buy covering the earliest oversell, ten minutes before it, as an exporter finding it late would add it. */
export async function addBackdatedFill(client: pg.Client): Promise<LateFill | undefined> {
  const { rows: [late] } = await client.query<LateFill>(
    `WITH u AS (
       SELECT symbol, sell_order_id, sell_time, sell_price, unmatched_size FROM v_unmatched_sells
        WHERE allocation_version = 1 ORDER BY sell_time, symbol COLLATE "C", sell_order_id COLLATE "C" LIMIT 1)
     INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger)
     SELECT u.symbol || '-late-fill', u.symbol, 'buy', u.unmatched_size, round(u.sell_price * 0.99, 4),
            round(round(u.sell_price * 0.99, 4) * u.unmatched_size * 0.006, 8), u.sell_time - interval '10 minutes', 'scalper', NULL
       FROM u
     RETURNING order_id, symbol, ${utcIso('order_time')} AS order_time, size::text,
               (SELECT sell_order_id FROM u) AS covers`);
  return late;
}

export interface CorrectedFill {
  order_id: string;
  old_price: string;
  price: string;
  old_fee: string;
  fee: string;
}

/** The latest sell of the first symbol with its price and fee revised by 0.2 % (an exchange correction). */
export async function correctLatestSell(client: pg.Client): Promise<CorrectedFill | undefined> {
  const { rows: [fix] } = await client.query<CorrectedFill>(
    `WITH target AS (
       SELECT t.order_id, t.price AS old_price, t.total_fees_usd AS old_fee FROM trade_records t
        WHERE t.side = 'sell' AND t.symbol = (SELECT min(symbol COLLATE "C") FROM trade_records)
        ORDER BY t.order_time DESC, t.order_id LIMIT 1)
     UPDATE trade_records t SET price = round(t.price * 1.002, 4), total_fees_usd = round(t.total_fees_usd * 1.002, 8)
       FROM target WHERE t.order_id = target.order_id
     RETURNING t.order_id, target.old_price::text, t.price::text, target.old_fee::text, t.total_fees_usd::text AS fee`);
  return fix;
}

export interface DemoPrices {
  priced: number;
  /** Priced three days before its last fill: stale at the report's time. */
  stale: string | null;
  /** No price at all: its position is shown with an unknown value. */
  unpriced: string | null;
  /** The UTC day of the last fill (the report runs up to its end). */
  last_day: string;
}

/**
 * Sample market prices (migration 017): every symbol at 1 % above its last fill's price, at
 * the time of the ledger's last fill, except the first (no price) and the second (priced three
 * days earlier: stale).
 */
export async function addMarketPrices(client: pg.Client): Promise<DemoPrices> {
  const { rows: [r] } = await client.query<DemoPrices>(
    `WITH lastp AS (
       SELECT DISTINCT ON (symbol) symbol, price, fifo_utc(order_time) AS t FROM trade_records
        ORDER BY symbol, order_time DESC, order_id),
     ranked AS (SELECT l.*, row_number() OVER (ORDER BY l.symbol COLLATE "C") AS n FROM lastp l),
     ins AS (
       INSERT INTO market_prices (symbol, price_time, price, source)
       SELECT symbol, (SELECT max(t) FROM lastp) - CASE WHEN n = 2 THEN interval '3 days' ELSE interval '0' END,
              round(price::numeric * 1.01, 4), 'demo'
         FROM ranked WHERE n > 1
       RETURNING symbol)
     SELECT (SELECT count(*)::int FROM ins) AS priced,
            (SELECT symbol FROM ranked WHERE n = 2) AS stale,
            (SELECT symbol FROM ranked WHERE n = 1) AS unpriced,
            (SELECT to_char(max(t) AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM lastp) AS last_day`);
  return r!;
}
