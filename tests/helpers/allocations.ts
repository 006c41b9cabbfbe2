import type { TestSchema } from './db.ts';

/** A checksum of a version's allocation rows, leaving out when and by which run they were written. */
export async function allocationChecksum(t: TestSchema, version = 1): Promise<{ rows: number; md5: string }> {
  const [r] = await t.query<{ rows: string; md5: string }>(
    `SELECT count(*)::text AS rows, coalesce(md5(string_agg(
              concat_ws('|', symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price,
                        buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd),
              E'\\n' ORDER BY symbol COLLATE "C", sell_order_id COLLATE "C", allocation_seq)), '') AS md5
       FROM fifo_allocations WHERE allocation_version = $1`, [version]);
  return { rows: Number(r!.rows), md5: r!.md5 };
}
