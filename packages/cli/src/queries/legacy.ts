/** The legacy stored PnL of an adopted trade_records against a version (v_legacy_comparison, migration 007). */
import type pg from 'pg';

export const LEGACY_SELL_COLUMNS = [
  'symbol', 'sell_order_id', 'sell_time', 'verdict', 'legacy_pnl_usd', 'new_pnl_usd', 'pnl_difference_usd',
  'discrepancy_usd', 'error_factor', 'sign_flipped', 'legacy_parent_id', 'new_buy_order_ids', 'parent_differs',
  'legacy_cost_basis_usd', 'new_cost_basis_usd', 'legacy_proceeds_usd', 'new_proceeds_usd',
  'sell_size', 'matched_size', 'unmatched_size', 'legacy_pnl_column',
  'legacy_parent_time', 'legacy_parent_age_days', 'new_buy_time', 'new_buy_age_days', 'age_gap_days', 'what_happened',
];

export interface LegacyFilter {
  version: number;
  symbols: string[] | null;
  sort: 'discrepancy' | 'factor' | 'age';
  /** Only the sells that differ (verdict not same/rounding). */
  differing: boolean;
  limit: number | null;
}

export interface LegacyCounts {
  sells: string;
  sells_differing: string;
  parents_differing: string;
  verdicts: Record<string, string> | null;
}

export async function adoptionState(client: pg.Client): Promise<{ adopted: boolean; legacy_sells: string }> {
  const { rows: [adoption] } = await client.query<{ adopted: boolean; legacy_sells: string }>(
    `SELECT EXISTS (SELECT 1 FROM fifo_adoption) AS adopted,
            (SELECT count(*) FROM trade_records_legacy_snapshot WHERE lower(side) = 'sell')::text AS legacy_sells`);
  return adoption!;
}

const WHERE = `allocation_version = $1 AND ($2::text[] IS NULL OR symbol = ANY ($2::text[]))`;

/**
 * v_legacy_comparison with, per sell, when the legacy parent was bought and how old it was at the
 * sell, next to the oldest lot the new allocation uses ("matched to a September buy" shows as an
 * age gap), and what happened to a sell the ledger cannot match: `unmatched_now` (the bot matched
 * a buy: one the ledger does not have, or one earlier sells use up) is told apart from
 * `unmatched_both` (the bot stored no parent and no PnL: it never matched the sell either).
 * Ages are in days (2 decimals); age_gap = legacy age − new age, positive when the bot's parent
 * was older.
 */
const COMPARED = `
  WITH c AS (SELECT * FROM v_legacy_comparison WHERE ${WHERE}),
  aged AS (
    SELECT c.*, p.order_id IS NOT NULL AS parent_in_ledger, fifo_utc(p.order_time) AS legacy_parent_time,
           n.new_buy_time,
           extract(epoch FROM c.sell_time - fifo_utc(p.order_time)) AS legacy_age_s,
           extract(epoch FROM c.sell_time - n.new_buy_time) AS new_age_s
      FROM c
      LEFT JOIN trade_records p ON p.order_id = c.legacy_parent_id
      LEFT JOIN LATERAL (
        SELECT min(a.buy_time) AS new_buy_time FROM fifo_allocations a
         WHERE a.allocation_version = c.allocation_version AND a.symbol = c.symbol
           AND a.sell_order_id = c.sell_order_id AND a.buy_order_id IS NOT NULL) n ON true
  ),
  told AS (
    SELECT aged.*,
           CASE WHEN verdict = 'unmatched_now' AND legacy_parent_id IS NULL AND coalesce(legacy_pnl_usd, 0) = 0
                THEN 'unmatched_both' ELSE verdict END AS told_verdict,
           round(legacy_age_s / 86400, 2) AS legacy_parent_age_days,
           round(new_age_s / 86400, 2) AS new_buy_age_days,
           round((legacy_age_s - new_age_s) / 86400, 2) AS age_gap_days,
           CASE
             WHEN verdict = 'unmatched_now' AND legacy_parent_id IS NULL AND coalesce(legacy_pnl_usd, 0) = 0
               THEN 'neither matched it: the bot stored no parent and no PnL, the ledger holds no buy for it'
             WHEN verdict = 'unmatched_now' AND legacy_parent_id IS NULL
               THEN 'the bot stored PnL without a parent; the ledger holds no buy for it'
             WHEN verdict = 'unmatched_now' AND NOT parent_in_ledger
               THEN 'the bot matched buy ' || legacy_parent_id || ', which the ledger does not have; the ledger holds no buy for it'
             WHEN verdict = 'unmatched_now'
               THEN 'the bot matched buy ' || legacy_parent_id || ', which earlier sells use up in the ledger''s order'
             WHEN parent_differs AND NOT parent_in_ledger
               THEN 'the bot matched buy ' || legacy_parent_id || ', which the ledger does not have'
             WHEN parent_differs AND legacy_age_s > new_age_s
               THEN 'the bot matched an older buy than the ledger does'
             WHEN parent_differs AND legacy_age_s < new_age_s
               THEN 'the bot matched a newer buy than the ledger does'
             WHEN parent_differs THEN 'the bot matched another buy than the ledger does'
           END AS what_happened
      FROM aged
  )`;

/** The columns of a COMPARED row as LEGACY_SELL_COLUMNS names them (verdict: the told one). */
const SELECTED = LEGACY_SELL_COLUMNS.map((c) => (c === 'verdict' ? 'told_verdict AS verdict' : c)).join(', ');

export async function legacySells(client: pg.Client, f: LegacyFilter): Promise<Record<string, unknown>[]> {
  const order = f.sort === 'factor'
    ? `coalesce(error_factor, CASE WHEN verdict = 'factor_10x_or_more' THEN 'Infinity'::numeric END) DESC NULLS LAST, discrepancy_usd DESC`
    : f.sort === 'age'
      ? `abs(legacy_age_s - new_age_s) DESC NULLS LAST, discrepancy_usd DESC`
      : `discrepancy_usd DESC, error_factor DESC NULLS FIRST`;
  const { rows } = await client.query(
    `${COMPARED}
     SELECT ${SELECTED} FROM told
      WHERE true ${f.differing ? `AND verdict NOT IN ('same', 'rounding')` : ''}
      ORDER BY ${order}, sell_time, sell_order_id COLLATE "C"
      ${f.limit === null ? '' : `LIMIT ${f.limit}`}`, [f.version, f.symbols]);
  return rows;
}

/** Counts over every sell; amounts per quote currency (the part of the symbol after the dash); per symbol. */
export async function legacySummary(client: pg.Client, f: LegacyFilter): Promise<{
  counts: LegacyCounts; quotes: Record<string, unknown>[]; bySymbol: Record<string, unknown>[];
}> {
  const params = [f.version, f.symbols];
  const { rows: [counts] } = await client.query<LegacyCounts>(
    `${COMPARED}
     SELECT count(*) AS sells,
            count(*) FILTER (WHERE verdict NOT IN ('same', 'rounding')) AS sells_differing,
            count(*) FILTER (WHERE parent_differs) AS parents_differing,
            (SELECT jsonb_object_agg(told_verdict, n) FROM (SELECT told_verdict, count(*) AS n FROM told GROUP BY told_verdict) v) AS verdicts
       FROM told`, params);
  const { rows: quotes } = await client.query(
    `SELECT split_part(symbol, '-', 2) AS quote, count(*) AS sells,
            sum(legacy_pnl_usd) AS legacy_pnl_usd, sum(new_pnl_usd) AS new_pnl_usd,
            coalesce(sum(new_pnl_usd), 0) - coalesce(sum(legacy_pnl_usd), 0) AS pnl_difference_usd,
            sum(discrepancy_usd) AS gross_discrepancy_usd
       FROM v_legacy_comparison WHERE ${WHERE}
      GROUP BY 1 ORDER BY split_part(symbol, '-', 2) COLLATE "C"`, params);
  const { rows: bySymbol } = await client.query(
    `${COMPARED}, neither AS (SELECT symbol, count(*) AS n FROM told WHERE told_verdict = 'unmatched_both' GROUP BY symbol)
     SELECT symbol, sells, legacy_pnl_usd, new_pnl_usd, pnl_difference_usd, gross_discrepancy_usd, worst_discrepancy_usd,
            sells_differing, sells_off_10x_or_more, sign_flips, parents_differing,
            unmatched_now - coalesce(neither.n, 0) AS unmatched_now, coalesce(neither.n, 0) AS unmatched_both, not_computed
       FROM v_legacy_comparison_by_symbol LEFT JOIN neither USING (symbol) WHERE ${WHERE}
      ORDER BY gross_discrepancy_usd DESC, symbol COLLATE "C"
      ${f.limit === null ? '' : `LIMIT ${f.limit}`}`, params);
  return { counts: counts!, quotes, bySymbol };
}
