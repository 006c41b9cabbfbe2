/**
 * fifo_validate(allocation_version): every invariant of SPEC §3 that a query can check,
 * read from v_allocation_discrepancies (NULL version: every version).
 */
import { query } from './plv8-api.ts';

export interface Discrepancy {
  allocation_version: number | null;
  symbol: string;
  order_id: string;
  check_name: string;
  expected: string | null;
  actual: string | null;
  details: string;
}

export interface ValidateSummary {
  ok: boolean;
  count: number;
  byCheck: Record<string, number>;
  /** The first `limit` discrepancies, ordered by check, symbol, order id. */
  discrepancies: Discrepancy[];
}

export function validate(allocationVersion: number | null, limit: number | null): ValidateSummary {
  const version = allocationVersion === null ? null : Number(allocationVersion);
  const max = limit === null ? 1000 : Number(limit);
  const counts = query<{ check_name: string; n: string }>(
    `SELECT check_name, count(*)::text AS n FROM v_allocation_discrepancies
      WHERE $1::int IS NULL OR allocation_version = $1::int OR allocation_version IS NULL
      GROUP BY check_name ORDER BY check_name`, [version]);
  const byCheck: Record<string, number> = {};
  let count = 0;
  for (const c of counts) {
    byCheck[c.check_name] = Number(c.n);
    count += Number(c.n);
  }
  const discrepancies = count === 0 ? [] : query<Discrepancy>(
    `SELECT allocation_version, symbol, order_id, check_name, expected, actual, details
       FROM v_allocation_discrepancies
      WHERE $1::int IS NULL OR allocation_version = $1::int OR allocation_version IS NULL
      ORDER BY check_name, symbol, order_id LIMIT $2`, [version, max]);
  return { ok: count === 0, count, byCheck, discrepancies };
}
