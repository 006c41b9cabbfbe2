/** The legacy stored PnL of an adopted trade_records against a version (v_legacy_comparison, migration 007). */
import type pg from 'pg';

export const LEGACY_SELL_COLUMNS = [
  'symbol', 'sell_order_id', 'sell_time', 'verdict', 'legacy_pnl_usd', 'new_pnl_usd', 'pnl_difference_usd',
  'discrepancy_usd', 'error_factor', 'sign_flipped', 'legacy_parent_id', 'new_buy_order_ids', 'parent_differs',
  'legacy_cost_basis_usd', 'new_cost_basis_usd', 'legacy_proceeds_usd', 'new_proceeds_usd',
  'sell_size', 'matched_size', 'unmatched_size', 'legacy_pnl_column',
];

export interface LegacyFilter {
  version: number;
  symbols: string[] | null;
  sort: 'discrepancy' | 'factor';
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

export async function legacySells(client: pg.Client, f: LegacyFilter): Promise<Record<string, unknown>[]> {
  const order = f.sort === 'factor'
    ? `coalesce(error_factor, CASE WHEN verdict = 'factor_10x_or_more' THEN 'Infinity'::numeric END) DESC NULLS LAST, discrepancy_usd DESC`
    : `discrepancy_usd DESC, error_factor DESC NULLS FIRST`;
  const { rows } = await client.query(
    `SELECT ${LEGACY_SELL_COLUMNS.join(', ')} FROM v_legacy_comparison
      WHERE ${WHERE} ${f.differing ? `AND verdict NOT IN ('same', 'rounding')` : ''}
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
    `SELECT count(*) AS sells,
            count(*) FILTER (WHERE verdict NOT IN ('same', 'rounding')) AS sells_differing,
            count(*) FILTER (WHERE parent_differs) AS parents_differing,
            (SELECT jsonb_object_agg(verdict, n) FROM (SELECT verdict, count(*) AS n FROM v_legacy_comparison
                                                        WHERE ${WHERE} GROUP BY verdict) c) AS verdicts
       FROM v_legacy_comparison WHERE ${WHERE}`, params);
  const { rows: quotes } = await client.query(
    `SELECT split_part(symbol, '-', 2) AS quote, count(*) AS sells,
            sum(legacy_pnl_usd) AS legacy_pnl_usd, sum(new_pnl_usd) AS new_pnl_usd,
            coalesce(sum(new_pnl_usd), 0) - coalesce(sum(legacy_pnl_usd), 0) AS pnl_difference_usd,
            sum(discrepancy_usd) AS gross_discrepancy_usd
       FROM v_legacy_comparison WHERE ${WHERE}
      GROUP BY 1 ORDER BY split_part(symbol, '-', 2) COLLATE "C"`, params);
  const { rows: bySymbol } = await client.query(
    `SELECT symbol, sells, legacy_pnl_usd, new_pnl_usd, pnl_difference_usd, gross_discrepancy_usd, worst_discrepancy_usd,
            sells_differing, sells_off_10x_or_more, sign_flips, parents_differing, unmatched_now, not_computed
       FROM v_legacy_comparison_by_symbol WHERE ${WHERE}
      ORDER BY gross_discrepancy_usd DESC, symbol COLLATE "C"
      ${f.limit === null ? '' : `LIMIT ${f.limit}`}`, params);
  return { counts: counts!, quotes, bySymbol };
}
