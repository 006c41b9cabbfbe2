/**
 * The manual review queue: one line per item, and closing an item (resolve or ignore) with a
 * note and who did it. Resolving an unmatched sell may add the missing inventory as an
 * opening-balance buy: a fact with source `manual-adjustment`, written by a plain INSERT so the
 * ledger trigger audits it and marks the symbol dirty like any fill. The statements are in
 * queries/reviews.ts; errors are DomainErrors the command words for its flags.
 */
import type pg from 'pg';
import { DomainError } from '../domain-error.ts';
import {
  closeReviewItem, factExists, findItem, insertOpeningBalance, onClient, sellContext, unmatchedSize,
  type OpeningFact, type OpeningInput, type ReviewItem,
} from '../queries/reviews.ts';

/** One line saying what the item is about. */
export function summary(item: Pick<ReviewItem, 'issue_type' | 'details'>): string {
  const d = item.details ?? {};
  const s = (k: string) => (d[k] === undefined || d[k] === null ? '?' : String(d[k]));
  switch (item.issue_type) {
    case 'unmatched_sell':
      return `sold ${s('requested')}, only ${s('available')} held: ${s('unmatched')} unmatched`;
    case 'ledger_drift':
      return `exchange ${s('exchange_balance')} vs ledger ${s('ledger_open_size')} of ${s('asset')} at ${s('as_of')}: drift ${s('drift')}`;
    case 'long_held_lot':
      return `${s('remaining_size')} open ${s('held_days')} days by ${s('as_of').slice(0, 10)}; usual holding ${s('median_days')} days (flagged after ${s('threshold_days')})`;
    default: {
      const text = JSON.stringify(d);
      return text.length > 80 ? `${text.slice(0, 77)}...` : text;
    }
  }
}

/** The item; DomainError no_such_review when there is none. */
export async function getItem(client: pg.Client, id: string, lock = false): Promise<ReviewItem> {
  const item = await findItem(client, id, lock);
  if (!item) throw new DomainError('no_such_review', 'no such review item (see fifo review list --status all)', `review ${id}`);
  return item;
}

function ensurePending(item: ReviewItem): void {
  if (item.status !== 'pending') {
    const when = item.resolved_at ? ` at ${item.resolved_at.toISOString()}` : '';
    throw new DomainError('review_closed', `review ${item.review_id} is already ${item.status} (by ${item.resolved_by ?? 'unknown'}${when}: ${JSON.stringify(item.resolution_note ?? '')}); closed items are never reopened`);
  }
}

export interface OpeningBalance {
  price: string;
  /** ISO time; default: one microsecond before the sell. */
  time: Date | null;
}

export interface CloseResult {
  item: ReviewItem;
  opening: OpeningFact | null;
}

/** The opening-balance buy that covers an unmatched sell's missing inventory, checked, not yet written. */
export async function planOpeningBalance(client: pg.Client, item: ReviewItem, opening: OpeningBalance): Promise<OpeningInput> {
  const subject = `review ${item.review_id}`;
  if (item.issue_type !== 'unmatched_sell') {
    throw new DomainError('not_unmatched_sell', `applies to unmatched_sell items, this one is ${item.issue_type}`, subject);
  }
  const ctx = await sellContext(client, item);
  if (!ctx.sell) throw new DomainError('sell_gone', `sell ${item.item_key} is no longer in the ledger`, subject);
  if (ctx.dirty) {
    throw new DomainError('symbol_dirty', `${item.symbol} changed since version ${item.allocation_version} was computed; run \`fifo compute --version ${item.allocation_version}\` first so the unmatched amount is current`, subject);
  }
  const size = await unmatchedSize(client, item);
  if (!size) throw new DomainError('fully_matched', `sell ${item.item_key} is fully matched in version ${item.allocation_version}; nothing to open`, subject);
  const orderId = `opening-${item.item_key}`;
  if (orderId.length > 200) throw new DomainError('opening_id_too_long', `the sell's order id is too long for an opening-balance order id`, subject);
  if (await factExists(client, orderId)) throw new DomainError('opening_exists', `${orderId} is already in the ledger`, subject);
  const sellTime = ctx.sell.order_time as Date;
  if (opening.time && opening.time.getTime() > sellTime.getTime()) {
    throw new DomainError('opening_after_sell', `is after the sell (${sellTime.toISOString()}): an opening balance must be held before it is sold`, opening.time.toISOString());
  }
  return { orderId, symbol: item.symbol, size, price: opening.price, time: opening.time, sellOrderId: item.item_key };
}

/** A pending item (DomainError otherwise), as closeItem finds it. */
export async function pendingItem(client: pg.Client, id: string, lock = false): Promise<ReviewItem> {
  const item = await getItem(client, id, lock);
  ensurePending(item);
  return item;
}

/** Resolves or ignores a pending item, in the caller's transaction. */
export async function closeItem(
  client: pg.Client,
  id: string,
  status: 'resolved' | 'ignored',
  note: string,
  opening: OpeningBalance | null,
): Promise<CloseResult> {
  const item = await pendingItem(client, id, true);
  const added = opening ? await insertOpeningBalance(onClient(client), await planOpeningBalance(client, item, opening)) : null;
  const closed = await closeReviewItem(client, id, status, note, added?.json ?? null);
  return { item: closed, opening: added?.fact ?? null };
}
