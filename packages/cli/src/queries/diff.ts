/** Two allocation versions compared (fifo_diff_by_symbol / fifo_diff_by_sell, migration 007). */
import type pg from 'pg';

export interface DiffRequest {
  from: number;
  to: number;
  symbols: string[] | null;
  /** Sells listed, largest PnL difference first. */
  limit: number;
}

export interface DiffData {
  bySymbol: Record<string, unknown>[];
  /** Per quote currency (the part of the symbol after the dash): USD is never added to BTC. */
  quotes: Record<string, unknown>[];
  bySell: Record<string, unknown>[];
}

export async function diffVersions(client: pg.Client, r: DiffRequest): Promise<DiffData> {
  const { rows: bySymbol } = await client.query(
    `SELECT * FROM fifo_diff_by_symbol($1, $2)
      WHERE $3::text[] IS NULL OR symbol = ANY ($3::text[])
      ORDER BY abs(pnl_difference_usd) DESC, abs(cost_basis_difference_usd) DESC, sells_differing DESC, symbol COLLATE "C"`,
    [r.from, r.to, r.symbols]);
  const { rows: quotes } = await client.query(
    `SELECT split_part(symbol, '-', 2) AS quote,
            sum(from_pnl_usd) AS from_pnl_usd, sum(to_pnl_usd) AS to_pnl_usd,
            coalesce(sum(to_pnl_usd), 0) - coalesce(sum(from_pnl_usd), 0) AS pnl_difference_usd,
            sum(from_cost_basis_usd) AS from_cost_basis_usd, sum(to_cost_basis_usd) AS to_cost_basis_usd,
            coalesce(sum(sells_differing), 0) AS sells_differing,
            count(*) FILTER (WHERE sells_differing > 0 OR pnl_difference_usd <> 0) AS symbols_differing
       FROM fifo_diff_by_symbol($1, $2) WHERE $3::text[] IS NULL OR symbol = ANY ($3::text[])
      GROUP BY 1 ORDER BY split_part(symbol, '-', 2) COLLATE "C"`,
    [r.from, r.to, r.symbols]);
  const { rows: bySell } = await client.query(
    `SELECT * FROM fifo_diff_by_sell($1, $2)
      WHERE $3::text[] IS NULL OR symbol = ANY ($3::text[])
      ORDER BY abs(pnl_difference_usd) DESC, abs(cost_basis_difference_usd) DESC, sell_time, sell_order_id COLLATE "C"
      LIMIT $4`,
    [r.from, r.to, r.symbols, r.limit]);
  return { bySymbol, quotes, bySell };
}
