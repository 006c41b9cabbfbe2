-- Up Migration
-- Issue 13: market prices, the open lots and positions marked to market, and the
-- long_held_lot review item.
--
-- market_prices holds prices the user feeds in (SQL, `fifo import prices FILE.csv`): one row
-- per (symbol, price_time, source), so inserting the same price again is a no-op on that key
-- and a changed price for it is an update. A price is quote units per base unit of its symbol
-- (SOL-USD: USD per SOL), like trade_records.price.
--
-- Open lots at a time T: the buys executed by T less what sells executed by T consumed of them
-- (fifo_open_position's rule, 007/011), the open part's cost basis is price × remaining size
-- plus the part of the buy's fee no sell has taken (v_open_lots' rule: the fee shares of
-- docs/CONTRACT.md §5.4). A lot is marked at its symbol's latest price at or before T; at equal
-- times the source first in code-point order wins, so the choice never depends on insertion
-- order. No price by T: price, market value and unrealized PnL are NULL (unknown), never 0.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

CREATE TABLE market_prices (
  symbol      text NOT NULL,
  price_time  timestamptz NOT NULL,
  price       numeric NOT NULL,
  source      text NOT NULL DEFAULT 'manual',
  recorded_at timestamptz NOT NULL DEFAULT now(),   -- when this value was written (insert or update)
  CONSTRAINT market_prices_pkey PRIMARY KEY (symbol, price_time, source),
  CONSTRAINT market_prices_price_must_be_positive CHECK (price > 0 AND price <= 1e15 AND price <> 'NaN'),
  CONSTRAINT market_prices_price_at_most_18_decimals CHECK (scale(price) <= 18),
  CONSTRAINT market_prices_price_time_must_be_a_real_time
    CHECK (price_time >= '0001-01-01 00:00:00+00'::timestamptz AND price_time < '10000-01-01 00:00:00+00'::timestamptz),
  CONSTRAINT market_prices_symbol_must_be_base_dash_quote CHECK (symbol ~ '^[A-Za-z0-9._]{1,32}-[A-Za-z0-9._]{1,32}$'),
  CONSTRAINT market_prices_symbol_must_be_upper_case CHECK (symbol = upper(symbol)),
  CONSTRAINT market_prices_source_must_be_a_tag
    -- what `fifo import prices` accepts: no C0/C1 control character, no space at either end
    CHECK (length(source) BETWEEN 1 AND 100 AND source !~ '[\u0001-\u001F\u007F-\u009F]' AND source !~ '^\s|\s$')
);
COMMENT ON TABLE market_prices IS 'fifo-ledger: prices fed by the user (migration 017); key (symbol, price_time, source)';

-- The owner and fifo_writer feed prices; readers and the engine read them; PUBLIC nothing.
REVOKE ALL ON market_prices FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON market_prices TO fifo_writer;
GRANT SELECT ON market_prices TO fifo_reader, fifo_engine;

-- The long_held_lot rule: a lot is flagged when open longer than
-- greatest(median_multiple × the median holding time of its symbol's matched lot pieces, min_held).
-- The row '*' applies to every symbol without a row of its own. Configured by the owner (SQL).
CREATE TABLE fifo_long_held_rules (
  symbol          text PRIMARY KEY,
  median_multiple numeric NOT NULL,
  min_held        interval NOT NULL,
  CONSTRAINT fifo_long_held_rules_median_multiple_must_be_positive CHECK (median_multiple > 0 AND median_multiple <= 1e6),
  CONSTRAINT fifo_long_held_rules_min_held_must_be_positive CHECK (min_held > interval '0'),
  CONSTRAINT fifo_long_held_rules_symbol_must_be_star_or_symbol
    CHECK (symbol = '*' OR (symbol ~ '^[A-Z0-9._]{1,32}-[A-Z0-9._]{1,32}$'))
);
COMMENT ON TABLE fifo_long_held_rules IS 'fifo-ledger: the long_held_lot rule per symbol (''*'': default), migration 017';
INSERT INTO fifo_long_held_rules (symbol, median_multiple, min_held) VALUES ('*', 10, interval '7 days');
REVOKE ALL ON fifo_long_held_rules FROM PUBLIC;
GRANT SELECT ON fifo_long_held_rules TO fifo_reader, fifo_engine;

-- The lots open at p_at (NULL p_symbols: every symbol), the one definition the marked views and
-- the long_held_lot rule share. plpgsql so that the symbols are one array before planning: a
-- `p_symbols IS NULL OR ...` filter would scan the whole ledger for one symbol.
CREATE FUNCTION fifo_open_lots_at(p_version int, p_at timestamptz, p_symbols text[] DEFAULT NULL)
RETURNS TABLE (symbol text, buy_order_id text, buy_time timestamptz, buy_price numeric, buy_size numeric,
               remaining_size numeric, remaining_fee_usd numeric, cost_basis numeric)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  syms constant text[] := coalesce(p_symbols, ARRAY(SELECT l.s FROM fifo_ledger_symbols() l(s)));
BEGIN
  IF NOT EXISTS (SELECT 1 FROM fifo_allocation_versions v WHERE v.allocation_version = p_version) THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT b.symbol, b.order_id, fifo_utc(b.order_time), b.price::numeric, b.size::numeric,
         b.size::numeric - coalesce(c.consumed, 0),
         b.total_fees_usd::numeric - coalesce(c.fee_used, 0),
         b.price::numeric * (b.size::numeric - coalesce(c.consumed, 0)) + b.total_fees_usd::numeric - coalesce(c.fee_used, 0)
    FROM trade_records b
    LEFT JOIN (SELECT a.symbol AS lot_symbol, a.buy_order_id AS lot_id, sum(a.allocated_size) AS consumed,
                      sum(a.buy_fee_usd) AS fee_used
                 FROM fifo_allocations a
                WHERE a.allocation_version = p_version AND a.symbol = ANY (syms) AND a.buy_order_id IS NOT NULL
                  AND a.sell_time <= p_at
                GROUP BY a.symbol, a.buy_order_id) c
           ON c.lot_symbol = b.symbol AND c.lot_id = b.order_id
   WHERE b.symbol = ANY (syms) AND b.side = 'buy' AND fifo_utc(b.order_time) <= p_at
     AND b.size::numeric > coalesce(c.consumed, 0);
END $$;

-- Each open lot at p_at with its symbol's latest price at or before p_at.
CREATE FUNCTION fifo_open_lots_marked(p_version int, p_at timestamptz)
RETURNS TABLE (symbol text, quote text, buy_order_id text, buy_time timestamptz, buy_price numeric,
               buy_size numeric, remaining_size numeric, remaining_fee_usd numeric, cost_basis numeric,
               price numeric, price_time timestamptz, price_source text, market_value numeric,
               unrealized_pnl numeric, lot_age interval, price_age interval)
LANGUAGE sql STABLE AS $$
  WITH l AS (SELECT * FROM fifo_open_lots_at(p_version, p_at)),
  -- one price look-up per symbol, not per lot
  p AS (SELECT s.symbol, m.price, m.price_time, m.source
          FROM (SELECT DISTINCT symbol FROM l) s
          JOIN LATERAL (SELECT mp.price, mp.price_time, mp.source FROM market_prices mp
                         WHERE mp.symbol = s.symbol AND mp.price_time <= p_at
                         ORDER BY mp.price_time DESC, mp.source COLLATE "C"
                         LIMIT 1) m ON true)
  SELECT l.symbol, split_part(l.symbol, '-', 2), l.buy_order_id, l.buy_time, l.buy_price, l.buy_size,
         l.remaining_size, l.remaining_fee_usd, l.cost_basis,
         p.price, p.price_time, p.source,
         l.remaining_size * p.price,
         l.remaining_size * p.price - l.cost_basis,
         p_at - l.buy_time,
         p_at - p.price_time
    FROM l LEFT JOIN p ON p.symbol = l.symbol
$$;

-- One row per symbol with something open at p_at (the signature is what reports code against).
CREATE FUNCTION fifo_open_positions_marked(p_version int, p_at timestamptz)
RETURNS TABLE (symbol text, quote text, quantity numeric, cost_basis numeric, price numeric,
               price_time timestamptz, price_source text, market_value numeric, unrealized_pnl numeric,
               oldest_lot_time timestamptz, oldest_lot_age interval, price_age interval)
LANGUAGE sql STABLE AS $$
  SELECT l.symbol, min(l.quote), sum(l.remaining_size), sum(l.cost_basis),
         min(l.price), min(l.price_time), min(l.price_source),
         sum(l.remaining_size) * min(l.price),
         sum(l.remaining_size) * min(l.price) - sum(l.cost_basis),
         min(l.buy_time), p_at - min(l.buy_time), min(l.price_age)
    FROM fifo_open_lots_marked(p_version, p_at) l
   GROUP BY l.symbol
$$;

-- The same, now, for every version.
CREATE VIEW v_open_lots_marked AS
SELECT v.allocation_version, m.*
  FROM fifo_allocation_versions v
 CROSS JOIN LATERAL fifo_open_lots_marked(v.allocation_version, now()) m;

CREATE VIEW v_open_positions_marked AS
SELECT v.allocation_version, m.*
  FROM fifo_allocation_versions v
 CROSS JOIN LATERAL fifo_open_positions_marked(v.allocation_version, now()) m;

-- long_held_lot items for the version's symbols (NULL: every symbol), as of p_at: a lot open
-- at p_at longer than greatest(median_multiple × the median of (sell_time − buy_time) over its
-- symbol's matched allocation rows, min_held) is a pending item keyed by its buy order id;
-- recomputing updates a pending item when more than the time held changed (its details say
-- `held` as of `as_of`), never duplicates it and never reopens a closed one; a
-- pending item whose lot is closed or within the rule now is resolved, saying so. A symbol
-- with no matched lot piece has no usual holding period and raises nothing. Called by the
-- computation after it wrote a batch's allocations.
CREATE FUNCTION fifo_refresh_long_held_lots(p_version int, p_symbols text[], p_at timestamptz DEFAULT now(),
                                            p_computation_id bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  -- the symbols as one array before planning (as fifo_open_lots_at); NULL: every symbol of the
  -- ledger and every one with a pending item (its trades may be gone)
  syms constant text[] := coalesce(p_symbols, ARRAY(
    SELECT l.s FROM fifo_ledger_symbols() l(s)
    UNION SELECT q.symbol FROM manual_review_queue q
           WHERE q.allocation_version = p_version AND q.issue_type = 'long_held_lot' AND q.status = 'pending'));
  result jsonb;
BEGIN
  WITH usual AS (
    SELECT a.symbol,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a.sell_time - a.buy_time) AS median_held,
           count(*) AS pieces
      FROM fifo_allocations a
     WHERE a.allocation_version = p_version AND a.buy_order_id IS NOT NULL AND a.sell_time <= p_at
       AND a.symbol = ANY (syms)
     GROUP BY a.symbol
  ), ruled AS (
    SELECT u.symbol, u.median_held, u.pieces, r.median_multiple, r.min_held,
           greatest(u.median_held * r.median_multiple::float8, r.min_held) AS threshold
      FROM usual u
      JOIN LATERAL (SELECT x.median_multiple, x.min_held FROM fifo_long_held_rules x
                     WHERE x.symbol IN (u.symbol, '*') ORDER BY (x.symbol = '*') LIMIT 1) r ON true
  ), open_lots AS (
    SELECT l.symbol, l.buy_order_id, l.buy_time, l.remaining_size
      FROM fifo_open_lots_at(p_version, p_at, syms) l
  ), flagged AS (
    SELECT l.symbol, l.buy_order_id,
           jsonb_build_object(  -- amounts as text: exact decimals, never JSON floats
             'buy_time', l.buy_time, 'remaining_size', trim_scale(l.remaining_size)::text, 'as_of', p_at,
             'held', justify_hours(p_at - l.buy_time)::text,
             'held_days', round((extract(epoch FROM p_at - l.buy_time) / 86400)::numeric, 2)::text,
             'median_held', justify_hours(r.median_held)::text,
             'median_days', round((extract(epoch FROM r.median_held) / 86400)::numeric, 2)::text,
             'matched_pieces', r.pieces, 'median_multiple', r.median_multiple::text, 'min_held', r.min_held::text,
             'threshold', justify_hours(r.threshold)::text,
             'threshold_days', round((extract(epoch FROM r.threshold) / 86400)::numeric, 2)::text) AS details
      FROM open_lots l
      JOIN ruled r ON r.symbol = l.symbol
     WHERE p_at - l.buy_time > r.threshold
  ), decided AS (
    -- Per key, the queue's items against the open and flagged lots, by grouping one stream on
    -- the key rather than joining: a join's plan hangs on estimates (a queue just filled has
    -- none), and a nested loop over the lots would be quadratic. `facts`: the details less the
    -- time held, so that an item is rewritten only when something else changed.
    SELECT x.symbol, x.buy_order_id,
           max(x.review_id) FILTER (WHERE x.src = 0)  AS pending_id,
           bool_or(x.src = 3)                         AS closed,
           bool_or(x.src = 1)                         AS still_open,
           max(x.facts) FILTER (WHERE x.src = 0)      AS pending_facts,
           max(x.facts) FILTER (WHERE x.src = 2)      AS flagged_facts,
           (array_agg(x.details) FILTER (WHERE x.src = 2))[1] AS details
      FROM (SELECT q.symbol, q.item_key AS buy_order_id,
                   CASE WHEN q.status = 'pending' THEN q.review_id END AS review_id,
                   CASE WHEN q.status = 'pending' THEN 0 ELSE 3 END AS src,
                   (q.details - ARRAY['as_of', 'held', 'held_days'])::text AS facts, NULL::jsonb AS details
              FROM manual_review_queue q
             WHERE q.allocation_version = p_version AND q.issue_type = 'long_held_lot' AND q.symbol = ANY (syms)
            UNION ALL
            SELECT o.symbol, o.buy_order_id, NULL, 1, NULL, NULL FROM open_lots o
            UNION ALL
            SELECT f.symbol, f.buy_order_id, NULL, 2, (f.details - ARRAY['as_of', 'held', 'held_days'])::text, f.details
              FROM flagged f) x
     GROUP BY x.symbol, x.buy_order_id
  ), up AS (
    -- new items, and pending ones whose facts changed; a closed item is never reopened (and the
    -- conflict clause keeps it so if one closes meanwhile)
    INSERT INTO manual_review_queue AS q (allocation_version, symbol, order_id, issue_type, item_key, severity, details, computation_id)
    SELECT p_version, d.symbol, d.buy_order_id, 'long_held_lot', d.buy_order_id, 'low', d.details, p_computation_id
      FROM decided d
     WHERE d.details IS NOT NULL AND NOT d.closed AND (d.pending_id IS NULL OR d.pending_facts IS DISTINCT FROM d.flagged_facts)
    ON CONFLICT (allocation_version, symbol, issue_type, item_key) DO UPDATE
       SET details = excluded.details, severity = excluded.severity, updated_at = now(),
           computation_id = coalesce(excluded.computation_id, q.computation_id)
     WHERE q.status = 'pending'
    RETURNING (q.xmax = 0) AS inserted
  ), gone AS (
    -- pending items no longer flagged: disjoint from the rows `up` touches
    UPDATE manual_review_queue q
       SET status = 'resolved', resolved_at = now(), updated_at = now(), resolved_by = 'fifo_compute',
           resolution_note = CASE WHEN d.still_open THEN 'no longer held longer than the long_held_lot rule'
                                  ELSE 'the lot is closed (sold, or its buy is gone)' END,
           computation_id = coalesce(p_computation_id, q.computation_id)
      FROM decided d
     WHERE d.pending_id IS NOT NULL AND d.details IS NULL AND q.review_id = d.pending_id AND q.symbol = d.symbol
    RETURNING 1
  )
  SELECT jsonb_build_object('raised', (SELECT count(*) FROM up WHERE inserted),
                            'updated', (SELECT count(*) FROM up WHERE NOT inserted),
                            'resolved', (SELECT count(*) FROM gone))
    INTO result;
  RETURN result;
END $$;

DO $pin$
BEGIN
  EXECUTE format('ALTER FUNCTION fifo_open_lots_at(int, timestamptz, text[]) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION fifo_open_lots_marked(int, timestamptz) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION fifo_open_positions_marked(int, timestamptz) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION fifo_refresh_long_held_lots(int, text[], timestamptz, bigint) SET search_path = %I, pg_temp', current_schema());
END
$pin$;
REVOKE ALL ON FUNCTION fifo_open_lots_at(int, timestamptz, text[]), fifo_open_lots_marked(int, timestamptz),
                       fifo_open_positions_marked(int, timestamptz), fifo_refresh_long_held_lots(int, text[], timestamptz, bigint)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fifo_open_lots_at(int, timestamptz, text[]), fifo_open_lots_marked(int, timestamptz),
                          fifo_open_positions_marked(int, timestamptz) TO fifo_reader, fifo_engine;
GRANT EXECUTE ON FUNCTION fifo_refresh_long_held_lots(int, text[], timestamptz, bigint) TO fifo_engine;
GRANT SELECT ON v_open_lots_marked, v_open_positions_marked TO fifo_reader, fifo_engine;

SELECT fifo_apply_security();

-- Down Migration
DROP VIEW IF EXISTS v_open_positions_marked;
DROP VIEW IF EXISTS v_open_lots_marked;
DROP FUNCTION IF EXISTS fifo_refresh_long_held_lots(int, text[], timestamptz, bigint);
DROP FUNCTION IF EXISTS fifo_open_positions_marked(int, timestamptz);
DROP FUNCTION IF EXISTS fifo_open_lots_marked(int, timestamptz);
DROP FUNCTION IF EXISTS fifo_open_lots_at(int, timestamptz, text[]);
DROP TABLE IF EXISTS fifo_long_held_rules;
DROP TABLE IF EXISTS market_prices;
