/**
 * Balance reconciliation: each compared balance becomes a ledger_drift review item (drift) or
 * resolves a pending one of the same moment (within dust), all in one transaction. The
 * statements are in queries/reconciliation.ts and queries/reviews.ts.
 */
import type pg from 'pg';
import type { Balance } from '../ledger-io/balances.ts';
import { compareBalances, type BalanceComparison } from '../queries/reconciliation.ts';
import { resolveDriftItem, upsertDriftItem, type DriftItem } from '../queries/reviews.ts';

export interface ReconciledRow extends BalanceComparison {
  review_id?: string | null;
}

/** A balance's item key: its moment, and its account when it has one (accounts of one symbol never collide). */
export function driftKey(r: BalanceComparison): string {
  return r.account === null ? `asof:${r.as_of}` : `account:${r.account}:asof:${r.as_of}`;
}

/** The review item a drifting balance files: which way it drifts says what is missing from the ledger. */
export function driftItem(version: number, r: BalanceComparison, context: { dust: string; file: string }): DriftItem {
  const ledgerMore = r.drift.startsWith('-');
  return {
    version,
    symbol: r.item_symbol,
    key: driftKey(r),
    severity: ledgerMore ? 'high' : 'medium',
    details: {
      asset: r.asset, symbols: r.symbols ?? [], as_of: r.as_of, ...(r.account === null ? {} : { account: r.account }),
      exchange_balance: r.exchange_balance,
      ledger_open_size: r.ledger_open_size, open_lots: r.open_lots, drift: r.drift, dust: context.dust, file: context.file, line: r.line,
      direction: ledgerMore ? 'ledger_holds_more' : 'exchange_holds_more',
      hint: ledgerMore
        ? 'the ledger holds lots the exchange does not: sells (or withdrawals) are missing from the ledger; these lots would be matched to later sells (zombie lots)'
        : 'the exchange holds more than the ledger: buys (or deposits) are missing from the ledger; later sells will be unmatched',
    },
  };
}

/** Compares the balances and files or resolves their drift items in one transaction. */
export async function reconcileBalances(
  client: pg.Client, version: number, balances: readonly Balance[], context: { dust: string; file: string },
): Promise<ReconciledRow[]> {
  const rows: ReconciledRow[] = await compareBalances(client, version, balances, context.dust);
  await client.query('BEGIN');
  try {
    for (const r of rows) {
      if (r.status === 'drift') r.review_id = await upsertDriftItem(client, driftItem(version, r, context));
      else await resolveDriftItem(client, version, r.item_symbol, driftKey(r));
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
  return rows;
}
