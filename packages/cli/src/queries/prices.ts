/** market_prices (migration 017): every statement on it the CLI runs. */
import type pg from 'pg';
import type { MarketPrice } from '../ledger-io/prices.ts';

export interface PriceChange {
  line: number;
  symbol: string;
  time: string;
  source: string;
  before: string;
  after: string;
}

export interface PriceImport {
  read: number;
  inserted: number;
  updated: PriceChange[];
  unchanged: number;
}

const CHUNK = 10_000;

/**
 * Inserts new keys and updates changed prices (a price numerically equal to the stored one
 * is unchanged), in the caller's transaction. Imports are serialized by a table lock so the
 * reported before/after values are the ones replaced.
 */
export async function upsertPrices(client: pg.Client, prices: readonly MarketPrice[]): Promise<PriceImport> {
  await client.query('LOCK TABLE market_prices IN SHARE ROW EXCLUSIVE MODE');
  const out: PriceImport = { read: prices.length, inserted: 0, updated: [], unchanged: 0 };
  for (let i = 0; i < prices.length; i += CHUNK) {
    const part = prices.slice(i, i + CHUNK);
    const { rows } = await client.query<{ line: number; symbol: string; time: string; source: string; before: string | null; after: string; status: string }>(
      `WITH input AS (
         SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::numeric[], $5::text[])
                    AS u(line, symbol, price_time, price, source)
       ), prev AS (
         SELECT i.line, m.price AS old_price
           FROM input i JOIN market_prices m
             ON m.symbol = i.symbol AND m.price_time = i.price_time AND m.source = i.source
       ), up AS (
         INSERT INTO market_prices AS m (symbol, price_time, price, source)
         SELECT symbol, price_time, price, source FROM input
         ON CONFLICT (symbol, price_time, source) DO UPDATE SET price = excluded.price, recorded_at = now()
          WHERE m.price <> excluded.price
       )
       SELECT i.line, i.symbol, to_char(i.price_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time, i.source,
              p.old_price::text AS before, i.price::text AS after,
              CASE WHEN p.line IS NULL THEN 'inserted' WHEN p.old_price <> i.price THEN 'updated' ELSE 'unchanged' END AS status
         FROM input i LEFT JOIN prev p USING (line)
        ORDER BY i.line`,
      [part.map((p) => p.line), part.map((p) => p.symbol), part.map((p) => p.time), part.map((p) => p.price), part.map((p) => p.source)]);
    for (const r of rows) {
      if (r.status === 'inserted') out.inserted++;
      else if (r.status === 'unchanged') out.unchanged++;
      else out.updated.push({ line: r.line, symbol: r.symbol, time: r.time, source: r.source, before: r.before!, after: r.after });
    }
  }
  return out;
}

/**
 * Sample prices for a demo ledger: each symbol's last trade price at that trade's time (the
 * last one in processing order), under `source`; a price already there is kept. Returns how
 * many were added.
 */
export async function insertSamplePrices(client: pg.Client, source = 'demo-sample'): Promise<number> {
  const { rowCount } = await client.query(
    `INSERT INTO market_prices (symbol, price_time, price, source)
     SELECT DISTINCT ON (symbol) symbol, fifo_utc(order_time), price::numeric, $1
       FROM trade_records
      ORDER BY symbol, fifo_utc(order_time) DESC, fifo_side_rank(side) DESC, order_id COLLATE "C" DESC
     ON CONFLICT (symbol, price_time, source) DO NOTHING`, [source]);
  return rowCount ?? 0;
}

/** The symbols among `symbols` that the ledger holds no fill of (a typo, or not traded yet). */
export async function symbolsNotInLedger(client: pg.Client, symbols: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ symbol: string }>(
    `SELECT u.symbol FROM unnest($1::text[]) AS u(symbol)
      WHERE NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.symbol = u.symbol)
      ORDER BY u.symbol COLLATE "C"`, [[...new Set(symbols)]]);
  return rows.map((r) => r.symbol);
}
