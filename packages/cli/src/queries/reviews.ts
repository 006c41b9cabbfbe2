/** The manual review queue (manual_review_queue): every statement on it the CLI runs. */
import type pg from 'pg';

export type StatusFilter = 'pending' | 'resolved' | 'ignored' | 'all';

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

const ITEM = `review_id, allocation_version, symbol, order_id, issue_type, item_key, severity, status, details,
              created_at, updated_at, resolved_at, resolved_by, resolution_note`;

export async function listItems(client: pg.Client, f: ListFilter): Promise<{ items: ReviewItem[]; total: number }> {
  const where = `allocation_version = $1 AND ($2 = 'all' OR status = $2) AND ($3::text IS NULL OR issue_type = $3)
                 AND ($4::text[] IS NULL OR symbol = ANY ($4::text[]))`;
  const params = [f.version, f.status, f.type, f.symbols];
  const { rows } = await client.query<ReviewItem>(
    `SELECT ${ITEM}
       FROM manual_review_queue WHERE ${where}
      ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
               created_at, review_id
      LIMIT $5`, [...params, f.limit]);
  const { rows: n } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM manual_review_queue WHERE ${where}`, params);
  return { items: rows, total: Number(n[0]!.n) };
}

/** One item, or null; `lock` takes it FOR UPDATE in the caller's transaction. */
export async function findItem(client: pg.Client, id: string, lock = false): Promise<ReviewItem | null> {
  const { rows } = await client.query<ReviewItem>(
    `SELECT ${ITEM} FROM manual_review_queue WHERE review_id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
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

/** The part of the item's sell that no buy covers in its version (null: fully matched). */
export async function unmatchedSize(client: pg.Client, item: Pick<ReviewItem, 'allocation_version' | 'symbol' | 'item_key'>): Promise<string | null> {
  const { rows } = await client.query<{ size: string | null }>(
    `SELECT sum(allocated_size)::text AS size FROM fifo_allocations
      WHERE allocation_version = $1 AND symbol = $2 AND sell_order_id = $3 AND buy_order_id IS NULL`,
    [item.allocation_version, item.symbol, item.item_key]);
  return rows[0]?.size ?? null;
}

export async function factExists(client: pg.Client, orderId: string): Promise<boolean> {
  const { rows } = await client.query('SELECT 1 FROM trade_records WHERE order_id = $1', [orderId]);
  return rows.length > 0;
}

export interface OpeningFact {
  order_id: string;
  symbol: string;
  size: string;
  price: string;
  order_time: Date;
}

export interface OpeningInput {
  orderId: string; symbol: string; size: string; price: string; time: Date | null; sellOrderId: string;
}

/** Runs one statement and returns its rows: a pg client, or a what-if transaction (review/opening-impact.ts). */
export type RunSql = (sql: string, params: readonly unknown[]) => Promise<Record<string, unknown>[]>;

export const onClient = (client: pg.Client): RunSql => async (sql, params) => (await client.query(sql, [...params])).rows;

/** The opening-balance buy (source manual-adjustment), by default one microsecond before the sell; with its JSON for the item. */
export async function insertOpeningBalance(run: RunSql, f: OpeningInput): Promise<{ fact: OpeningFact; json: string }> {
  const rows = await run(
    `INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger)
     SELECT $1, $2, 'buy', $3::numeric, $4::numeric, 0, coalesce($5::timestamptz, t.order_time::timestamptz - interval '1 microsecond'),
            'manual-adjustment', 'opening-balance'
       FROM trade_records t WHERE t.order_id = $6
     RETURNING order_id, symbol, size::text AS size, price::text AS price, order_time,
               jsonb_build_object('order_id', order_id, 'size', size, 'price', price, 'order_time', order_time) AS json`,
    [f.orderId, f.symbol, f.size, f.price, f.time, f.sellOrderId]);
  const { json, ...fact } = rows[0]! as unknown as OpeningFact & { json: unknown };
  return { fact: { ...fact, order_time: new Date(fact.order_time) }, json: typeof json === 'string' ? json : JSON.stringify(json) };
}

/** Each sell of a symbol in a version: its lots (buy=size, in order) and its PnL. */
export interface SellMatch {
  sell_order_id: string;
  lots: string;
  pnl: string;
}

const SELL_MATCHES = `
  SELECT sell_order_id, string_agg(coalesce(buy_order_id, '(unmatched)') || '=' || allocated_size::text, ',' ORDER BY allocation_seq) AS lots,
         coalesce(sum(pnl_usd), 0)::text AS pnl
    FROM fifo_allocations WHERE allocation_version = $1 AND symbol = $2
   GROUP BY sell_order_id`;

export async function sellMatches(run: RunSql, version: number, symbol: string): Promise<SellMatch[]> {
  return (await run(SELL_MATCHES, [version, symbol])) as unknown as SellMatch[];
}

/** What changed since `before` (sellMatches of the same symbol): the other sells re-matched and their PnL, and the sell's own. */
export interface MatchChange {
  quote: string;
  /** Sells other than the item's whose lots differ. */
  other_sells: number;
  /** Their PnL, after − before (exact). */
  other_pnl: string;
  /** The item's sell, after − before. */
  sell_pnl: string;
  /** The symbol's PnL, after − before. */
  symbol_pnl: string;
}

export async function matchChange(run: RunSql, version: number, symbol: string, sellOrderId: string, before: readonly SellMatch[]): Promise<MatchChange> {
  const [r] = await run(
    `WITH before AS (SELECT * FROM unnest($3::text[], $4::text[], $5::numeric[]) AS b(sell_order_id, lots, pnl)),
          after AS (${SELL_MATCHES})
     SELECT split_part($2, '-', 2) AS quote,
            count(*) FILTER (WHERE sell_order_id <> $6 AND b.lots IS DISTINCT FROM a.lots)::int AS other_sells,
            coalesce(sum(coalesce(a.pnl::numeric, 0) - coalesce(b.pnl, 0)) FILTER (WHERE sell_order_id <> $6), 0)::text AS other_pnl,
            coalesce(sum(coalesce(a.pnl::numeric, 0) - coalesce(b.pnl, 0)) FILTER (WHERE sell_order_id = $6), 0)::text AS sell_pnl,
            coalesce(sum(coalesce(a.pnl::numeric, 0) - coalesce(b.pnl, 0)), 0)::text AS symbol_pnl
       FROM before b FULL JOIN after a USING (sell_order_id)`,
    [version, symbol, before.map((b) => b.sell_order_id), before.map((b) => b.lots), before.map((b) => b.pnl), sellOrderId]);
  return r as unknown as MatchChange;
}

/** Closes an item as `status` by current_user, adding the opening balance's JSON to its details. */
export async function closeReviewItem(client: pg.Client, id: string, status: 'resolved' | 'ignored', note: string, openingJson: string | null): Promise<ReviewItem> {
  const { rows } = await client.query<ReviewItem>(
    `UPDATE manual_review_queue
        SET status = $2, resolved_at = now(), updated_at = now(), resolved_by = current_user, resolution_note = $3,
            details = CASE WHEN $4::jsonb IS NULL THEN details ELSE details || jsonb_build_object('opening_balance', $4::jsonb) END
      WHERE review_id = $1
      RETURNING ${ITEM}`,
    [id, status, note, openingJson]);
  return rows[0]!;
}

export interface DriftItem {
  version: number;
  symbol: string;
  key: string;
  severity: 'high' | 'medium';
  details: Record<string, unknown>;
}

/**
 * A ledger_drift item upserted: a pending one is updated, a closed one is never reopened (its
 * id is returned all the same); null when there is none.
 */
export async function upsertDriftItem(client: pg.Client, d: DriftItem): Promise<string | null> {
  const { rows: up } = await client.query<{ review_id: string }>(
    `SELECT review_id::text FROM fifo_review_raise($1, jsonb_build_array(jsonb_build_object(
       'symbol', $2::text, 'issue_type', 'ledger_drift', 'item_key', $3::text, 'order_id', NULL, 'severity', $4::text, 'details', $5::jsonb)))`,
    [d.version, d.symbol, d.key, d.severity, JSON.stringify(d.details)]);
  if (up[0]) return up[0].review_id;
  const { rows: closed } = await client.query<{ review_id: string }>(
    `SELECT review_id::text FROM manual_review_queue WHERE allocation_version = $1 AND symbol = $2 AND issue_type = 'ledger_drift' AND item_key = $3`,
    [d.version, d.symbol, d.key]);
  return closed[0]?.review_id ?? null;
}

/** A pending drift item of the same moment that is now within dust is resolved. */
export async function resolveDriftItem(client: pg.Client, version: number, symbol: string, key: string): Promise<void> {
  await client.query(
    `UPDATE manual_review_queue SET status = 'resolved', resolved_at = now(), updated_at = now(),
            resolved_by = 'fifo_reconcile', resolution_note = 'within dust when reconciled again'
      WHERE allocation_version = $1 AND symbol = $2 AND issue_type = 'ledger_drift' AND item_key = $3 AND status = 'pending'`,
    [version, symbol, key]);
}

/** Pending items first by id, then closed ones; with the counts of both. */
export async function queueOverview(client: pg.Client, version: number, limit: number): Promise<{
  items: Record<string, unknown>[]; pending: number; closed: number;
}> {
  const { rows: items } = await client.query(
    `SELECT review_id, symbol, order_id, issue_type, severity, status,
            details->>'requested' AS requested, details->>'available' AS available, resolution_note
       FROM manual_review_queue WHERE allocation_version = $1
      ORDER BY status = 'pending', review_id LIMIT $2`, [version, limit]);
  const { rows: [counts] } = await client.query<{ pending: number; closed: number }>(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status <> 'pending')::int AS closed
       FROM manual_review_queue WHERE allocation_version = $1`, [version]);
  return { items, pending: counts?.pending ?? 0, closed: counts?.closed ?? 0 };
}

/** Pending items of a version per issue type, with up to five of their symbols. */
export async function pendingByType(client: pg.Client, version: number): Promise<Array<{ issue_type: string; n: number; nsym: number; symbols: string[] }>> {
  const { rows } = await client.query<{ issue_type: string; n: number; nsym: number; symbols: string[] }>(
    `SELECT issue_type, count(*)::int AS n, count(DISTINCT symbol)::int AS nsym,
            (array_agg(DISTINCT symbol ORDER BY symbol))[1:5] AS symbols
       FROM manual_review_queue WHERE allocation_version = $1 AND status = 'pending'
      GROUP BY issue_type ORDER BY issue_type`, [version]);
  return rows;
}
