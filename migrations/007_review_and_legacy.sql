-- Up Migration
-- What the review workflow, version diff, legacy comparison, reconciliation and the tax-lot
-- export read (issue 6). SQL users query these and the CLI prints them: same numbers.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- A legacy value (jsonb text) as numeric when it is a plain decimal number, else NULL
-- (legacy columns may hold anything; a comparison must not fail on one odd row).
CREATE FUNCTION fifo_try_numeric(v text) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE WHEN v ~ '^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*$' THEN btrim(v)::numeric END;

-- Legacy stored PnL of every adopted sell against what each allocation version computes.
-- legacy_pnl_usd: the legacy pnl_usd, else realized_profit (the bot set both the same way).
-- discrepancy_usd ranks rows: |new − legacy| with a missing side counted as 0.
-- error_factor: max(|legacy|/|new|, |new|/|legacy|) — 1000 for the users' 1000x errors;
-- NULL when one side is zero and the other is not (an infinite factor) or one is missing.
CREATE VIEW v_legacy_comparison AS
WITH legacy AS (
  SELECT l.symbol, l.order_id AS sell_order_id, l.order_time AS legacy_sell_time,
         coalesce(fifo_try_numeric(l.legacy ->> 'pnl_usd'), fifo_try_numeric(l.legacy ->> 'realized_profit')) AS legacy_pnl_usd,
         CASE WHEN fifo_try_numeric(l.legacy ->> 'pnl_usd') IS NOT NULL THEN 'pnl_usd'
              WHEN fifo_try_numeric(l.legacy ->> 'realized_profit') IS NOT NULL THEN 'realized_profit' END AS legacy_pnl_column,
         nullif(l.legacy ->> 'parent_id', '') AS legacy_parent_id,
         fifo_try_numeric(l.legacy ->> 'cost_basis_usd') AS legacy_cost_basis_usd,
         coalesce(fifo_try_numeric(l.legacy ->> 'net_sale_proceeds_usd'), fifo_try_numeric(l.legacy ->> 'sale_proceeds_usd')) AS legacy_proceeds_usd
    FROM trade_records_legacy_snapshot l
   WHERE lower(l.side) = 'sell'
), buys AS (
  SELECT allocation_version, symbol, sell_order_id, array_agg(buy_order_id ORDER BY allocation_seq) AS new_buy_order_ids
    FROM fifo_allocations WHERE buy_order_id IS NOT NULL
   GROUP BY allocation_version, symbol, sell_order_id
), joined AS (
  SELECT v.allocation_version, l.*, n.sell_order_id IS NOT NULL AS computed,
         coalesce(n.sell_time, l.legacy_sell_time) AS sell_time, n.sell_size, n.matched_size, n.unmatched_size,
         n.realized_pnl_usd AS new_pnl_usd, n.cost_basis_usd AS new_cost_basis_usd, n.proceeds_usd AS new_proceeds_usd,
         b.new_buy_order_ids
    FROM legacy l
   CROSS JOIN fifo_allocation_versions v
    LEFT JOIN v_trade_pnl n ON n.allocation_version = v.allocation_version AND n.symbol = l.symbol AND n.sell_order_id = l.sell_order_id
    LEFT JOIN buys b ON b.allocation_version = v.allocation_version AND b.symbol = l.symbol AND b.sell_order_id = l.sell_order_id
), measured AS (
  SELECT j.*,
         j.new_pnl_usd - j.legacy_pnl_usd AS pnl_difference_usd,
         CASE WHEN j.new_pnl_usd IS NULL AND j.legacy_pnl_usd IS NULL THEN 0
              ELSE abs(coalesce(j.new_pnl_usd, 0) - coalesce(j.legacy_pnl_usd, 0)) END AS discrepancy_usd,
         CASE WHEN j.new_pnl_usd IS NULL OR j.legacy_pnl_usd IS NULL THEN NULL
              WHEN j.new_pnl_usd = 0 AND j.legacy_pnl_usd = 0 THEN 1::numeric
              WHEN j.new_pnl_usd = 0 OR j.legacy_pnl_usd = 0 THEN NULL
              ELSE round(greatest(abs(j.legacy_pnl_usd) / abs(j.new_pnl_usd), abs(j.new_pnl_usd) / abs(j.legacy_pnl_usd)), 2)
         END AS error_factor,
         coalesce(sign(j.new_pnl_usd) * sign(j.legacy_pnl_usd) < 0, false) AS sign_flipped,
         CASE WHEN j.legacy_parent_id IS NULL OR NOT j.computed THEN NULL
              ELSE j.legacy_parent_id <> ALL (coalesce(j.new_buy_order_ids, '{}')) END AS parent_differs
    FROM joined j
)
SELECT allocation_version, symbol, sell_order_id, sell_time,
       legacy_pnl_usd, new_pnl_usd, pnl_difference_usd, discrepancy_usd, error_factor, sign_flipped,
       CASE WHEN NOT computed                                   THEN 'not_computed'
            WHEN matched_size = 0                               THEN 'unmatched_now'
            WHEN legacy_pnl_usd IS NULL                         THEN 'legacy_missing'
            WHEN new_pnl_usd = legacy_pnl_usd                   THEN 'same'
            WHEN discrepancy_usd < 0.01                         THEN 'rounding'
            WHEN sign_flipped                                   THEN 'sign_flip'
            WHEN error_factor IS NULL OR error_factor >= 10     THEN 'factor_10x_or_more'
            WHEN unmatched_size > 0                             THEN 'partly_unmatched'
            ELSE 'different' END                                 AS verdict,
       legacy_parent_id, new_buy_order_ids, parent_differs,
       legacy_cost_basis_usd, new_cost_basis_usd, legacy_proceeds_usd, new_proceeds_usd,
       sell_size, matched_size, unmatched_size, legacy_pnl_column
  FROM measured;

-- Per (version, symbol): the legacy totals against the new ones over the adopted sells.
-- gross_discrepancy_usd sums the per-sell discrepancies (errors of opposite sign do not cancel).
CREATE VIEW v_legacy_comparison_by_symbol AS
SELECT allocation_version,
       symbol,
       count(*)                                                         AS sells,
       sum(legacy_pnl_usd)                                              AS legacy_pnl_usd,
       sum(new_pnl_usd)                                                 AS new_pnl_usd,
       coalesce(sum(new_pnl_usd), 0) - coalesce(sum(legacy_pnl_usd), 0) AS pnl_difference_usd,
       sum(discrepancy_usd)                                             AS gross_discrepancy_usd,
       max(discrepancy_usd)                                             AS worst_discrepancy_usd,
       count(*) FILTER (WHERE verdict NOT IN ('same', 'rounding'))      AS sells_differing,
       count(*) FILTER (WHERE verdict = 'factor_10x_or_more')           AS sells_off_10x_or_more,
       count(*) FILTER (WHERE sign_flipped)                             AS sign_flips,
       count(*) FILTER (WHERE parent_differs)                           AS parents_differing,
       count(*) FILTER (WHERE verdict = 'unmatched_now')                AS unmatched_now,
       count(*) FILTER (WHERE verdict = 'not_computed')                 AS not_computed
  FROM v_legacy_comparison
 GROUP BY allocation_version, symbol;

-- Per-sell differences between two allocation versions (fifo vs hifo, before/after a
-- correction): sells whose PnL, cost basis, unmatched size or consumed lots differ. A sell
-- missing from one version (not computed there) counts as 0 in the differences.
CREATE FUNCTION fifo_diff_by_sell(p_from int, p_to int)
RETURNS TABLE (symbol text, sell_order_id text, sell_time timestamptz, sell_size numeric,
               from_pnl_usd numeric, to_pnl_usd numeric, pnl_difference_usd numeric,
               from_cost_basis_usd numeric, to_cost_basis_usd numeric, cost_basis_difference_usd numeric,
               from_unmatched_size numeric, to_unmatched_size numeric,
               from_lots text[], to_lots text[])
LANGUAGE sql STABLE AS $$
  WITH s AS (
    SELECT p.allocation_version, p.symbol, p.sell_order_id, p.sell_time, p.sell_size,
           p.realized_pnl_usd, p.cost_basis_usd, p.unmatched_size,
           (SELECT array_agg(a.buy_order_id || ' ' || a.allocated_size ORDER BY a.buy_order_id COLLATE "C", a.allocation_seq)
              FROM fifo_allocations a
             WHERE a.allocation_version = p.allocation_version AND a.symbol = p.symbol
               AND a.sell_order_id = p.sell_order_id AND a.buy_order_id IS NOT NULL) AS lots
      FROM v_trade_pnl p
     WHERE p.allocation_version IN (p_from, p_to)
  ), f AS (SELECT * FROM s WHERE allocation_version = p_from),
     t AS (SELECT * FROM s WHERE allocation_version = p_to)
  SELECT coalesce(t.symbol, f.symbol), coalesce(t.sell_order_id, f.sell_order_id),
         coalesce(t.sell_time, f.sell_time), coalesce(t.sell_size, f.sell_size),
         f.realized_pnl_usd, t.realized_pnl_usd,
         coalesce(t.realized_pnl_usd, 0) - coalesce(f.realized_pnl_usd, 0),
         f.cost_basis_usd, t.cost_basis_usd,
         coalesce(t.cost_basis_usd, 0) - coalesce(f.cost_basis_usd, 0),
         f.unmatched_size, t.unmatched_size, f.lots, t.lots
    FROM f FULL JOIN t ON t.symbol = f.symbol AND t.sell_order_id = f.sell_order_id
   WHERE (f.realized_pnl_usd, f.cost_basis_usd, f.unmatched_size, f.lots)
         IS DISTINCT FROM (t.realized_pnl_usd, t.cost_basis_usd, t.unmatched_size, t.lots)
$$;

-- Per-symbol differences between two versions (from v_pnl_by_symbol), with how many sells differ.
CREATE FUNCTION fifo_diff_by_symbol(p_from int, p_to int)
RETURNS TABLE (symbol text, from_pnl_usd numeric, to_pnl_usd numeric, pnl_difference_usd numeric,
               from_cost_basis_usd numeric, to_cost_basis_usd numeric, cost_basis_difference_usd numeric,
               from_unmatched_size numeric, to_unmatched_size numeric, from_sells bigint, to_sells bigint,
               sells_differing bigint)
LANGUAGE sql STABLE AS $$
  WITH f AS (SELECT * FROM v_pnl_by_symbol WHERE allocation_version = p_from),
       t AS (SELECT * FROM v_pnl_by_symbol WHERE allocation_version = p_to),
       d AS (SELECT symbol, count(*) AS n FROM fifo_diff_by_sell(p_from, p_to) GROUP BY symbol)
  SELECT x.symbol, x.from_pnl, x.to_pnl, coalesce(x.to_pnl, 0) - coalesce(x.from_pnl, 0),
         x.from_cost, x.to_cost, coalesce(x.to_cost, 0) - coalesce(x.from_cost, 0),
         x.from_unmatched, x.to_unmatched, x.from_sells, x.to_sells, coalesce(d.n, 0)
    FROM (SELECT coalesce(t.symbol, f.symbol) AS symbol,
                 f.realized_pnl_usd AS from_pnl, t.realized_pnl_usd AS to_pnl,
                 f.cost_basis_usd AS from_cost, t.cost_basis_usd AS to_cost,
                 f.unmatched_size AS from_unmatched, t.unmatched_size AS to_unmatched,
                 f.sells AS from_sells, t.sells AS to_sells
            FROM f FULL JOIN t ON t.symbol = f.symbol) x
    LEFT JOIN d ON d.symbol = x.symbol
$$;

-- What the allocations say is held at a moment: per symbol, the buys executed by p_as_of
-- less what sells executed by p_as_of consumed of them (the open lots at that time).
-- Unmatched sells consume nothing: coins the ledger never saw bought are not "held".
CREATE FUNCTION fifo_open_position(p_version int, p_as_of timestamptz, p_symbols text[] DEFAULT NULL)
RETURNS TABLE (symbol text, open_size numeric, open_lots bigint, open_cost_basis_usd numeric)
LANGUAGE sql STABLE AS $$
  SELECT b.symbol,
         sum(b.size::numeric - coalesce(c.consumed, 0)),
         count(*) FILTER (WHERE b.size::numeric > coalesce(c.consumed, 0)),
         sum(b.price::numeric * (b.size::numeric - coalesce(c.consumed, 0)) + b.total_fees_usd::numeric - coalesce(c.fee_used, 0))
    FROM trade_records b
    LEFT JOIN (SELECT a.symbol, a.buy_order_id, sum(a.allocated_size) AS consumed, sum(a.buy_fee_usd) AS fee_used
                 FROM fifo_allocations a
                WHERE a.allocation_version = p_version AND a.buy_order_id IS NOT NULL AND a.sell_time <= p_as_of
                  AND (p_symbols IS NULL OR a.symbol = ANY (p_symbols))
                GROUP BY a.symbol, a.buy_order_id) c
           ON c.symbol = b.symbol AND c.buy_order_id = b.order_id
   WHERE b.side = 'buy' AND b.order_time::timestamptz <= p_as_of AND (p_symbols IS NULL OR b.symbol = ANY (p_symbols))
   GROUP BY b.symbol
$$;

-- Form 8949 shape, one row per allocation (sell × consumed lot), dates in UTC. term: long
-- when sold more than one year after acquisition (the day after the anniversary or later).
-- An unmatched remainder is a row with term 'unknown' and no cost basis: never a zero basis.
CREATE VIEW v_tax_lots AS
SELECT a.allocation_version,
       extract(year FROM a.sell_time AT TIME ZONE 'UTC')::int               AS tax_year,
       a.symbol,
       split_part(a.symbol, '-', 1)                                         AS asset,
       split_part(a.symbol, '-', 2)                                         AS quote_currency,
       trim_scale(a.allocated_size)::text || ' ' || split_part(a.symbol, '-', 1) AS description,
       a.allocated_size                                                     AS quantity,
       (a.buy_time AT TIME ZONE 'UTC')::date                                AS date_acquired,
       (a.sell_time AT TIME ZONE 'UTC')::date                               AS date_sold,
       a.proceeds_usd,
       a.cost_basis_usd,
       a.pnl_usd                                                            AS gain_or_loss_usd,
       CASE WHEN a.buy_order_id IS NULL THEN 'unknown'
            WHEN (a.sell_time AT TIME ZONE 'UTC')::date > ((a.buy_time AT TIME ZONE 'UTC')::date + interval '1 year')::date
            THEN 'long' ELSE 'short' END                                    AS term,
       a.sell_order_id,
       a.buy_order_id,
       a.allocation_seq,
       a.buy_time,
       a.sell_time,
       q.review_id                                                          AS unmatched_review_id
  FROM fifo_allocations a
  LEFT JOIN manual_review_queue q
         ON a.buy_order_id IS NULL AND q.allocation_version = a.allocation_version AND q.symbol = a.symbol
        AND q.issue_type = 'unmatched_sell' AND q.item_key = a.sell_order_id;

-- Down Migration
DROP VIEW IF EXISTS v_tax_lots;
DROP FUNCTION IF EXISTS fifo_open_position(int, timestamptz, text[]);
DROP FUNCTION IF EXISTS fifo_diff_by_symbol(int, int);
DROP FUNCTION IF EXISTS fifo_diff_by_sell(int, int);
DROP VIEW IF EXISTS v_legacy_comparison_by_symbol;
DROP VIEW IF EXISTS v_legacy_comparison;
DROP FUNCTION IF EXISTS fifo_try_numeric(text);
