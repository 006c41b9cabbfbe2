/** What `fifo health` reads: v_allocation_health, the lag of dirty and stale symbols, the invariant count. */
import type pg from 'pg';

export async function readHealth(client: pg.Client, version: number): Promise<Record<string, unknown> | undefined> {
  const { rows } = await client.query('SELECT * FROM v_allocation_health WHERE allocation_version = $1', [version]);
  return rows[0];
}

export interface LagFacts {
  dirty_over_lag: number;
  dirty_over_lag_symbols: string[];
  oldest_dirty_minutes: string | null;
  dirty_within_lag: number;
  stale_not_dirty: number;
  stale_not_dirty_symbols: string[];
  running_minutes: string | null;
}

/** Dirty symbols older than `maxLagMinutes`, stale symbols without a marker, a run still running. */
export async function lagFacts(client: pg.Client, version: number, maxLagMinutes: number): Promise<LagFacts> {
  const { rows: [x] } = await client.query<LagFacts>(`
    WITH dirty AS (
      SELECT symbol, first_marked_at FROM fifo_dirty_symbols WHERE allocation_version = $1
    ), over AS (
      SELECT symbol FROM dirty WHERE first_marked_at < now() - make_interval(mins => $2) ORDER BY symbol COLLATE "C"
    ), stale AS (  -- trades after the snapshot's watermark (or no snapshot) with no dirty marker
      SELECT l.symbol
        FROM (SELECT symbol, max(order_time) AS last_trade_time FROM trade_records GROUP BY symbol) l
        LEFT JOIN fifo_inventory_snapshot s ON s.allocation_version = $1 AND s.symbol = l.symbol
       WHERE (s.watermark_time IS NULL OR l.last_trade_time > s.watermark_time)
         AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.symbol = l.symbol)
       ORDER BY l.symbol COLLATE "C"
    )
    SELECT (SELECT count(*) FROM over)::int                                        AS dirty_over_lag,
           (SELECT coalesce(array_agg(symbol), '{}') FROM (SELECT symbol FROM over LIMIT 10) o) AS dirty_over_lag_symbols,
           (SELECT round(extract(epoch FROM now() - min(first_marked_at)) / 60, 1)::text FROM dirty) AS oldest_dirty_minutes,
           (SELECT count(*) FROM dirty)::int - (SELECT count(*) FROM over)::int   AS dirty_within_lag,
           (SELECT count(*) FROM stale)::int                                       AS stale_not_dirty,
           (SELECT coalesce(array_agg(symbol), '{}') FROM (SELECT symbol FROM stale LIMIT 10) s) AS stale_not_dirty_symbols,
           (SELECT round(extract(epoch FROM now() - started_at) / 60, 1)::text
              FROM fifo_computation_log WHERE allocation_version = $1 AND status = 'running'
             ORDER BY computation_id DESC LIMIT 1)                                 AS running_minutes`,
    [version, maxLagMinutes]);
  return x!;
}

/** Rows of v_allocation_discrepancies for the version (a full pass over its allocations and facts). */
export async function invariantViolations(client: pg.Client, version: number): Promise<number> {
  const { rows: [v] } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM v_allocation_discrepancies WHERE allocation_version = $1 OR allocation_version IS NULL`, [version]);
  return v!.n;
}
