/**
 * Realized PnL read from v_sell_pnl (migration 015), the one definition of the per-sell figures
 * (quote, day, fees, unmatched proceeds, matched / win / loss flags) that v_pnl_by_symbol,
 * v_daily_pnl, v_pnl_by_source, v_pnl_by_trigger and v_pnl_totals also count and add, over a
 * range of sell times. Every sum is done in SQL; money stays decimal text. Every total and
 * every group is per quote currency.
 */
import type pg from 'pg';
import type { BreakdownRow, GroupBy, ReportRequest, UnmatchedSellRow } from '../report/query.ts';
import { utcIso } from './sql.ts';

export type PnlRange = Pick<ReportRequest, 'version' | 'from' | 'to' | 'tz' | 'account'>;

/** A report's range as instants: sells in [from, to), or [from, to] when toInclusive; days in tz. */
export interface ResolvedRange {
  version: number;
  tz: string;
  from: string | null;
  to: string | null;
  toInclusive: boolean;
  /** Only this account's sells; null: every account. */
  account: string | null;
}

/**
 * The bounds as instants: a date alone is that whole day in the range's time zone (--from its
 * start, --to up to the next day's start), a time is itself (--to inclusive).
 */
export async function resolveRange(client: pg.Client, req: PnlRange): Promise<ResolvedRange> {
  const dayStart = async (date: string, plusDays: number): Promise<string> => {
    if (req.tz === 'UTC') return new Date(Date.parse(`${date}T00:00:00Z`) + plusDays * 86_400_000).toISOString();
    const { rows: [x] } = await client.query<{ t: Date }>(
      `SELECT (($1::date + $2::int)::timestamp AT TIME ZONE $3::text) AS t`, [date, plusDays, req.tz]);
    return x!.t.toISOString();
  };
  const bound = async (b: PnlRange['from'], plusDays: number) =>
    (b === null ? null : b.dateOnly ? dayStart(b.time.toISOString().slice(0, 10), plusDays) : b.time.toISOString());
  return {
    version: req.version,
    tz: req.tz,
    from: await bound(req.from, 0),
    to: await bound(req.to, 1),
    toInclusive: !(req.to?.dateOnly ?? false),
    account: req.account ?? null,
  };
}

/** $1 version, $2 time zone, $3 from, $4 to, $5 whether `to` is inclusive, $6 account: the metric functions' arguments too. */
export function rangeParams(r: ResolvedRange): unknown[] {
  return [r.version, r.tz, r.from, r.to, r.toInclusive, r.account];
}

/** The aggregates of the totals views (migration 015), over the filtered sells `s` of v_sell_pnl. */
const FIGURES = `
       count(*)::int                                                   AS sells,
       (count(*) FILTER (WHERE s.is_win))::int                         AS winning_sells,
       (count(*) FILTER (WHERE s.is_loss))::int                        AS losing_sells,
       (count(*) FILTER (WHERE s.is_matched))::int                     AS matched_sells,
       round(100.0 * count(*) FILTER (WHERE s.is_win) / nullif(count(*) FILTER (WHERE s.is_matched), 0), 1)::text AS win_rate_pct,
       coalesce(sum(s.proceeds_usd), 0)::text                          AS proceeds_usd,
       coalesce(sum(s.cost_basis_usd), 0)::text                        AS cost_basis_usd,
       coalesce(sum(s.realized_pnl_usd), 0)::text                      AS realized_pnl_usd,
       coalesce(sum(s.fees_usd), 0)::text                              AS fees_usd,
       (count(*) FILTER (WHERE s.has_unmatched))::int                  AS unmatched_sells,
       coalesce(sum(s.unmatched_proceeds_usd), 0)::text                AS unmatched_proceeds_usd,
       ${utcIso('min(s.sell_time)')}                                      AS first_sell_time,
       ${utcIso('max(s.sell_time)')}                                      AS last_sell_time`;

/** Sells of version $1 in [$3, $4) — or [$3, $4] when $5 is true (the rule of migration 016's functions). */
const RANGE = (t: string) => `${t}.allocation_version = $1
     AND ($3::timestamptz IS NULL OR ${t}.sell_time >= $3::timestamptz)
     AND ($4::timestamptz IS NULL OR ${t}.sell_time < $4::timestamptz OR ($5::boolean AND ${t}.sell_time = $4::timestamptz))`;
/** With local_day: the day of the sell in the range's zone $2 (in UTC, v_sell_pnl's day). */
const SELLS = `SELECT t.*, (t.sell_time AT TIME ZONE $2::text)::date AS local_day FROM v_sell_pnl t
  WHERE ${RANGE('t')} AND ($6::text IS NULL OR t.account = $6::text)`;

const KEY: Record<GroupBy, string> = {
  symbol: 's.symbol',
  day: `to_char(s.local_day, 'YYYY-MM-DD')`,
  source: 's.source',
  trigger: 's.trigger',
  account: 's.account',
};

export type Grouped = BreakdownRow & { grp: GroupBy | 'total' };

/**
 * The totals and every requested grouping in one pass over the sells (GROUPING SETS): on a
 * large ledger the per-sell aggregation of v_sell_pnl is the cost, so it is paid once. The
 * quote currency is in every grouping set, so no row adds two currencies.
 */
export async function pnlFigures(client: pg.Client, req: ResolvedRange, groupings: readonly GroupBy[]): Promise<Grouped[]> {
  const keys = groupings.map((g) => `${KEY[g]} AS k_${g}`).join(', ');
  // which grouping set a row belongs to: the one whose key is not rolled up
  const grp = `CASE ${groupings.map((g) => `WHEN grouping(k_${g}) = 0 THEN '${g}'`).join(' ')} ELSE 'total' END`;
  const key = `CASE ${groupings.map((g) => `WHEN grouping(k_${g}) = 0 THEN k_${g}`).join(' ')} END`;
  const { rows } = await client.query<Grouped>(
    `WITH s AS (SELECT s.*, ${keys} FROM (${SELLS}) s)
     SELECT ${grp} AS grp, ${key} AS key, s.quote, ${FIGURES},
            coalesce(sum(s.unmatched_size), 0)::text AS unmatched_size,
            (sum(coalesce(sum(s.realized_pnl_usd), 0)) OVER (PARTITION BY ${grp}, s.quote ORDER BY ${key} COLLATE "C"))::text AS cumulative_pnl_usd
       FROM s
      GROUP BY GROUPING SETS ((s.quote), ${groupings.map((g) => `(s.quote, k_${g})`).join(', ')})
      ORDER BY 1, s.quote COLLATE "C", ${key} COLLATE "C" NULLS LAST`,
    rangeParams(req));
  return rows;
}

/** Unmatched sells of the range, newest first, at most `limit`. */
export async function unmatchedSells(client: pg.Client, req: ResolvedRange, limit: number): Promise<UnmatchedSellRow[]> {
  const { rows } = await client.query<UnmatchedSellRow>(
    `SELECT u.symbol, u.sell_order_id, ${utcIso('u.sell_time')} AS sell_time, u.sell_price::text, u.sell_size::text,
            u.unmatched_size::text, u.unmatched_proceeds_usd::text, u.review_id::text, u.review_status
       FROM v_unmatched_sells u
      WHERE ${RANGE('u')} AND $2::text IS NOT NULL  -- the zone ($2) does not matter here
        AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM trade_records r WHERE r.order_id = u.sell_order_id AND r.symbol = u.symbol AND r.account = $6::text))
      ORDER BY u.sell_time DESC, u.symbol COLLATE "C", u.sell_order_id COLLATE "C"
      LIMIT $7`,
    [...rangeParams(req), limit]);
  return rows;
}
