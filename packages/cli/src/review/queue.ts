/**
 * The manual review queue: listing, one item with its context, and closing an item (resolve
 * or ignore) with a note and who did it. Resolving an unmatched sell may add the missing
 * inventory as an opening-balance buy: a fact with source `manual-adjustment`, written by a
 * plain INSERT so the ledger trigger audits it and marks the symbol dirty like any fill.
 */
import type pg from 'pg';
import { CliError } from '../errors.ts';

export const STATUSES = ['pending', 'resolved', 'ignored', 'all'] as const;
export type StatusFilter = (typeof STATUSES)[number];

export interface ListFilter {
  version: number;
  status: StatusFilter;
  type: string | null;
  symbols: string[] | null;
  limit: number;
}

export interface ReviewItem {
  review_id: string;
  allocation_version: number;
  symbol: string;
  order_id: string | null;
  issue_type: string;
  item_key: string;
  severity: string;
  status: string;
  details: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution_note: string | null;
}

/** One line saying what the item is about. */
export function summary(item: Pick<ReviewItem, 'issue_type' | 'details'>): string {
  const d = item.details ?? {};
  const s = (k: string) => (d[k] === undefined || d[k] === null ? '?' : String(d[k]));
  switch (item.issue_type) {
    case 'unmatched_sell':
      return `sold ${s('requested')}, only ${s('available')} held: ${s('unmatched')} unmatched`;
    case 'ledger_drift':
      return `exchange ${s('exchange_balance')} vs ledger ${s('ledger_open_size')} of ${s('asset')} at ${s('as_of')}: drift ${s('drift')}`;
    default: {
      const text = JSON.stringify(d);
      return text.length > 80 ? `${text.slice(0, 77)}...` : text;
    }
  }
}

export async function listItems(client: pg.Client, f: ListFilter): Promise<{ items: ReviewItem[]; total: number }> {
  const where = `allocation_version = $1 AND ($2 = 'all' OR status = $2) AND ($3::text IS NULL OR issue_type = $3)
                 AND ($4::text[] IS NULL OR symbol = ANY ($4::text[]))`;
  const params = [f.version, f.status, f.type, f.symbols];
  const { rows } = await client.query<ReviewItem>(
    `SELECT review_id, allocation_version, symbol, order_id, issue_type, item_key, severity, status, details,
            created_at, updated_at, resolved_at, resolved_by, resolution_note
       FROM manual_review_queue WHERE ${where}
      ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
               created_at, review_id
      LIMIT $5`, [...params, f.limit]);
  const { rows: n } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM manual_review_queue WHERE ${where}`, params);
  return { items: rows, total: Number(n[0]!.n) };
}

export async function getItem(client: pg.Client, id: string, lock = false): Promise<ReviewItem> {
  const { rows } = await client.query<ReviewItem>(
    `SELECT review_id, allocation_version, symbol, order_id, issue_type, item_key, severity, status, details,
            created_at, updated_at, resolved_at, resolved_by, resolution_note
       FROM manual_review_queue WHERE review_id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  const item = rows[0];
  if (!item) throw new CliError(`review ${id}: no such review item (see fifo review list --status all)`);
  return item;
}

/** The sell fact and this version's allocation rows of an unmatched_sell item. */
export async function sellContext(client: pg.Client, item: ReviewItem): Promise<{ sell: Record<string, unknown> | null; allocations: Record<string, unknown>[]; dirty: boolean }> {
  const { rows: sell } = await client.query(
    `SELECT order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger
       FROM trade_records WHERE order_id = $1 AND symbol = $2`, [item.item_key, item.symbol]);
  const { rows: allocations } = await client.query(
    `SELECT allocation_seq, buy_order_id, allocated_size, buy_price, buy_time, cost_basis_usd, proceeds_usd, pnl_usd
       FROM fifo_allocations WHERE allocation_version = $1 AND symbol = $2 AND sell_order_id = $3
      ORDER BY allocation_seq`, [item.allocation_version, item.symbol, item.item_key]);
  const { rows: dirty } = await client.query(
    `SELECT 1 FROM fifo_dirty_symbols WHERE allocation_version = $1 AND symbol = $2`, [item.allocation_version, item.symbol]);
  return { sell: sell[0] ?? null, allocations, dirty: dirty.length > 0 };
}

function ensurePending(item: ReviewItem): void {
  if (item.status !== 'pending') {
    const when = item.resolved_at ? ` at ${item.resolved_at.toISOString()}` : '';
    throw new CliError(`review ${item.review_id} is already ${item.status} (by ${item.resolved_by ?? 'unknown'}${when}: ${JSON.stringify(item.resolution_note ?? '')}); closed items are never reopened`);
  }
}

export interface OpeningBalance {
  price: string;
  /** ISO time; default: one microsecond before the sell. */
  time: Date | null;
}

export interface OpeningFact {
  order_id: string;
  symbol: string;
  size: string;
  price: string;
  order_time: Date;
}

export interface CloseResult {
  item: ReviewItem;
  opening: OpeningFact | null;
}

/** Resolves or ignores a pending item, in the caller's transaction. */
export async function closeItem(
  client: pg.Client,
  id: string,
  status: 'resolved' | 'ignored',
  note: string,
  opening: OpeningBalance | null,
): Promise<CloseResult> {
  const item = await getItem(client, id, true);
  ensurePending(item);
  let fact: OpeningFact | null = null;
  let factJson: string | null = null;
  if (opening) {
    if (item.issue_type !== 'unmatched_sell') {
      throw new CliError(`review ${id}: --opening-balance applies to unmatched_sell items, this one is ${item.issue_type}`);
    }
    const ctx = await sellContext(client, item);
    if (!ctx.sell) throw new CliError(`review ${id}: sell ${item.item_key} is no longer in the ledger`);
    if (ctx.dirty) {
      throw new CliError(`review ${id}: ${item.symbol} changed since version ${item.allocation_version} was computed; run \`fifo compute --version ${item.allocation_version}\` first so the unmatched amount is current`);
    }
    const { rows: un } = await client.query<{ size: string | null }>(
      `SELECT sum(allocated_size)::text AS size FROM fifo_allocations
        WHERE allocation_version = $1 AND symbol = $2 AND sell_order_id = $3 AND buy_order_id IS NULL`,
      [item.allocation_version, item.symbol, item.item_key]);
    const size = un[0]?.size;
    if (!size) throw new CliError(`review ${id}: sell ${item.item_key} is fully matched in version ${item.allocation_version}; nothing to open (resolve without --opening-balance)`);
    const orderId = `opening-${item.item_key}`;
    if (orderId.length > 200) throw new CliError(`review ${id}: the sell's order id is too long for an opening-balance order id`);
    const { rows: exists } = await client.query('SELECT 1 FROM trade_records WHERE order_id = $1', [orderId]);
    if (exists.length > 0) throw new CliError(`review ${id}: ${orderId} is already in the ledger`);
    const sellTime = ctx.sell.order_time as Date;
    if (opening.time && opening.time.getTime() > sellTime.getTime()) {
      throw new CliError(`--time ${opening.time.toISOString()} is after the sell (${sellTime.toISOString()}): an opening balance must be held before it is sold`);
    }
    const { rows: ins } = await client.query<OpeningFact & { json: unknown }>(
      `INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger)
       SELECT $1, $2, 'buy', $3::numeric, $4::numeric, 0, coalesce($5::timestamptz, t.order_time::timestamptz - interval '1 microsecond'),
              'manual-adjustment', 'opening-balance'
         FROM trade_records t WHERE t.order_id = $6
       RETURNING order_id, symbol, size::text AS size, price::text AS price, order_time,
                 jsonb_build_object('order_id', order_id, 'size', size, 'price', price, 'order_time', order_time) AS json`,
      [orderId, item.symbol, size, opening.price, opening.time, item.item_key]);
    const { json, ...row } = ins[0]!;
    fact = row;
    factJson = JSON.stringify(json);
  }
  const { rows } = await client.query<ReviewItem>(
    `UPDATE manual_review_queue
        SET status = $2, resolved_at = now(), updated_at = now(), resolved_by = current_user, resolution_note = $3,
            details = CASE WHEN $4::jsonb IS NULL THEN details ELSE details || jsonb_build_object('opening_balance', $4::jsonb) END
      WHERE review_id = $1
      RETURNING review_id, allocation_version, symbol, order_id, issue_type, item_key, severity, status, details,
                created_at, updated_at, resolved_at, resolved_by, resolution_note`,
    [id, status, note, factJson]);
  return { item: rows[0]!, opening: fact };
}
