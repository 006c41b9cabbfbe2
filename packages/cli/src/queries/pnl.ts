/**
 * Realized PnL over a range of sell times, read from v_sell_pnl (migration 015, the per-sell
 * figures). The aggregate figures (sells, win rate, realized PnL, ...) are not written here:
 * they are the rows of fifo_pnl_figure_defs (migration 021), the same rows the PnL views
 * (v_pnl_by_symbol, v_daily_pnl, v_pnl_totals, ...) are generated from, spliced into one grouped
 * query. Every sum is done in SQL; money stays decimal text. Every total and every group is per
 * quote currency.
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

/** A figure of fifo_pnl_figures('report'): its column, type and aggregate over v_sell_pnl's columns. */
interface FigureDef {
  name: string;
  sql_type: string;
  expression: string;
}

/** The report's figures, as migration 021 defines them for the views too. */
async function reportFigures(client: pg.Client): Promise<FigureDef[]> {
  try {
    const { rows } = await client.query<FigureDef>(`SELECT name, sql_type, expression FROM fifo_pnl_figures('report')`);
    return rows;
  } catch (e) {
    if ((e as { code?: string }).code === '42883') {
      throw new Error('the schema predates migration 021 (the PnL figures): run `fifo migrate up`');
    }
    throw e;
  }
}

/** A figure as the report carries it: counts as numbers, times in the CLI's UTC format, the rest exact text. */
function reportColumn(f: FigureDef): string {
  if (!/^[a-z][a-z0-9_]*$/.test(f.name)) throw new Error(`PnL figure name ${JSON.stringify(f.name)} is not a plain identifier`);
  const e = `(${f.expression})`;
  const value = ['bigint', 'integer', 'smallint'].includes(f.sql_type) ? `${e}::int`
    : f.sql_type === 'timestamp with time zone' ? utcIso(e) : `${e}::text`;
  return `${value} AS "${f.name}"`;
}

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
  const figures = await reportFigures(client);
  const pnl = figures.find((f) => f.name === 'realized_pnl_usd');
  if (!pnl) throw new Error('fifo_pnl_figures(\'report\') has no realized_pnl_usd');
  const keys = groupings.map((g) => `${KEY[g]} AS k_${g}`).join(', ');
  // which grouping set a row belongs to: the one whose key is not rolled up
  const grp = `CASE ${groupings.map((g) => `WHEN grouping(k_${g}) = 0 THEN '${g}'`).join(' ')} ELSE 'total' END`;
  const key = `CASE ${groupings.map((g) => `WHEN grouping(k_${g}) = 0 THEN k_${g}`).join(' ')} END`;
  const { rows } = await client.query<Grouped>(
    `WITH s AS (SELECT s.*, ${keys} FROM (${SELLS}) s)
     SELECT ${grp} AS grp, ${key} AS key, s.quote, ${figures.map(reportColumn).join(',\n            ')},
            (sum(${pnl.expression}) OVER (PARTITION BY ${grp}, s.quote ORDER BY ${key} COLLATE "C"))::text AS cumulative_pnl_usd
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
