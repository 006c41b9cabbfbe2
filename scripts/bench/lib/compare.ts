/**
 * Row-for-row comparison of two allocation versions: same keys (symbol, sell, seq) and the
 * same buy, size, prices, times and every money column (numeric equality: 1.50 = 1.5).
 */
import type pg from 'pg';

export interface Comparison {
  rowsA: number;
  rowsB: number;
  onlyA: number;
  onlyB: number;
  differing: number;
  example: string | null;
  equal: boolean;
}

const PAIR = `
  FROM (SELECT * FROM fifo_allocations WHERE allocation_version = $1) a
  FULL JOIN (SELECT * FROM fifo_allocations WHERE allocation_version = $2) b
    ON a.symbol = b.symbol AND a.sell_order_id = b.sell_order_id AND a.allocation_seq = b.allocation_seq`;
const DIFFERS = `(a.buy_order_id, a.allocated_size, a.buy_price, a.sell_price, a.buy_time, a.sell_time, a.buy_fee_usd,
    a.sell_fee_usd, a.cost_basis_usd, a.proceeds_usd, a.pnl_usd)
  IS DISTINCT FROM (b.buy_order_id, b.allocated_size, b.buy_price, b.sell_price, b.buy_time, b.sell_time, b.buy_fee_usd,
    b.sell_fee_usd, b.cost_basis_usd, b.proceeds_usd, b.pnl_usd)`;

export async function compareVersions(client: pg.Client, a: number, b: number): Promise<Comparison> {
  const { rows: [r] } = await client.query<Record<string, string>>(
    `SELECT count(a.symbol) AS rows_a, count(b.symbol) AS rows_b,
            count(*) FILTER (WHERE b.symbol IS NULL) AS only_a, count(*) FILTER (WHERE a.symbol IS NULL) AS only_b,
            count(*) FILTER (WHERE a.symbol IS NOT NULL AND b.symbol IS NOT NULL AND ${DIFFERS}) AS differing
     ${PAIR}`, [a, b]);
  const c = {
    rowsA: Number(r!.rows_a), rowsB: Number(r!.rows_b), onlyA: Number(r!.only_a), onlyB: Number(r!.only_b),
    differing: Number(r!.differing), example: null as string | null, equal: false,
  };
  c.equal = c.onlyA === 0 && c.onlyB === 0 && c.differing === 0 && c.rowsA > 0;
  if (!c.equal) {
    const { rows } = await client.query(`SELECT row_to_json(a) AS a, row_to_json(b) AS b ${PAIR}
      WHERE a.symbol IS NULL OR b.symbol IS NULL OR ${DIFFERS} LIMIT 1`, [a, b]);
    if (rows[0]) c.example = JSON.stringify(rows[0]);
  }
  return c;
}
