/**
 * Tax lots in the shape of IRS Form 8949 (columns a–h), one row per allocation: the sold
 * quantity of one lot. Amounts are rounded to cents per row and the gain is the difference
 * of the rounded amounts, so every row adds up as the form requires; the exact amounts
 * follow for traceability, with the sell and buy order ids. A sell's unmatched remainder is a
 * row with date acquired UNKNOWN, no cost basis, no gain and a note: never a zero basis.
 */
import type pg from 'pg';

export const FORM_8949_COLUMNS = [
  'description', 'date_acquired', 'date_sold', 'proceeds', 'cost_basis', 'adjustment_code', 'adjustment_amount',
  'gain_or_loss', 'term', 'quantity', 'symbol', 'sell_order_id', 'buy_order_id',
  'proceeds_exact', 'cost_basis_exact', 'gain_or_loss_exact', 'note', 'account',
] as const;

export interface LotRow {
  description: string;
  date_acquired: string;
  date_sold: string;
  proceeds: string;
  cost_basis: string | null;
  adjustment_code: string;
  adjustment_amount: string;
  gain_or_loss: string | null;
  term: 'short' | 'long' | 'unknown';
  quantity: string;
  symbol: string;
  sell_order_id: string;
  buy_order_id: string | null;
  proceeds_exact: string;
  cost_basis_exact: string | null;
  gain_or_loss_exact: string | null;
  note: string;
  /** The sell's account. */
  account: string;
}

/** Totals of one term in one quote currency (amounts are never added across currencies). */
export interface TermTotals {
  quote: string;
  term: string;
  rows: string;
  proceeds: string;
  cost_basis: string | null;
  gain_or_loss: string | null;
}

/**
 * The lots sold in `year` (sell date in `tz`), in sell order, and totals per quote currency and
 * term; with `account`, only that account's sells. Reads v_tax_lots.
 */
export async function taxLots(client: pg.Client, version: number, year: number, tz: string, account: string | null = null): Promise<{ rows: LotRow[]; totals: TermTotals[] }> {
  const lots = `
    SELECT l.*,
           (l.buy_time AT TIME ZONE $3)::date  AS acquired,
           (l.sell_time AT TIME ZONE $3)::date AS sold,
           round(l.proceeds_usd, 2)            AS proceeds_cents,
           round(l.cost_basis_usd, 2)          AS cost_cents
      FROM v_tax_lots l
     WHERE l.allocation_version = $1
       AND l.sell_time >= make_timestamptz($2, 1, 1, 0, 0, 0, $3)
       AND l.sell_time <  make_timestamptz($2 + 1, 1, 1, 0, 0, 0, $3)
       AND ($4::text IS NULL OR l.account = $4)`;
  const { rows } = await client.query<LotRow>(
    `SELECT l.description,
            coalesce(to_char(l.acquired, 'MM/DD/YYYY'), 'UNKNOWN')            AS date_acquired,
            to_char(l.sold, 'MM/DD/YYYY')                                     AS date_sold,
            l.proceeds_cents::text                                            AS proceeds,
            l.cost_cents::text                                                AS cost_basis,
            ''                                                                AS adjustment_code,
            ''                                                                AS adjustment_amount,
            (l.proceeds_cents - l.cost_cents)::text                           AS gain_or_loss,
            CASE WHEN l.buy_order_id IS NULL THEN 'unknown'
                 WHEN l.sold > (l.acquired + interval '1 year')::date THEN 'long' ELSE 'short' END AS term,
            trim_scale(l.quantity)::text                                      AS quantity,
            l.symbol, l.sell_order_id, l.buy_order_id,
            l.proceeds_usd::text                                              AS proceeds_exact,
            l.cost_basis_usd::text                                            AS cost_basis_exact,
            l.gain_or_loss_usd::text                                          AS gain_or_loss_exact,
            concat_ws('; ',
              CASE WHEN l.buy_order_id IS NULL THEN
                'UNMATCHED: no buy in the ledger covers this quantity, cost basis unknown'
                || coalesce(' (review ' || l.unmatched_review_id || ': fifo review show ' || l.unmatched_review_id || ')', '') END,
              CASE WHEN l.quote_currency <> 'USD' THEN 'amounts in ' || l.quote_currency || ', not USD' END) AS note,
            l.account
       FROM (${lots}) l
      ORDER BY l.sell_time, l.sell_order_id COLLATE "C", l.allocation_seq`, [version, year, tz, account]);
  const { rows: totals } = await client.query<TermTotals>(
    `SELECT x.quote_currency AS quote, x.lot_term AS term, count(*)::text AS rows, sum(x.proceeds_cents)::text AS proceeds,
            sum(x.cost_cents)::text AS cost_basis, sum(x.proceeds_cents - x.cost_cents)::text AS gain_or_loss
       FROM (SELECT l.quote_currency, l.proceeds_cents, l.cost_cents,
                    CASE WHEN l.buy_order_id IS NULL THEN 'unknown'
                         WHEN l.sold > (l.acquired + interval '1 year')::date THEN 'long' ELSE 'short' END AS lot_term
               FROM (${lots}) l) x
      GROUP BY x.quote_currency, x.lot_term
      ORDER BY x.quote_currency COLLATE "C", CASE x.lot_term WHEN 'short' THEN 0 WHEN 'long' THEN 1 ELSE 2 END`, [version, year, tz, account]);
  return { rows, totals };
}
