/** Shared helpers of the issue 11 experiments (not part of the product). */
import pg from 'pg';

export const url = process.env.DATABASE_URL ?? 'postgres://fifo@127.0.0.1:54740/fifo_exp';

export async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

export async function timed(c: pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  const t0 = performance.now();
  await c.query(sql, params);
  return performance.now() - t0;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const COLS = `allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
  buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, computation_id`;
/** the source rows with version 2 (what every variant inserts) */
export const SRC_SELECT = `SELECT 2, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
  buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, computation_id
  FROM exp_src`;

export async function uptime(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
