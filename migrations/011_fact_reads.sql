-- Up Migration
-- Every read of a fact through one interpretation (issue 10): order_time as a UTC instant
-- (fifo_utc, 010), amounts as numeric — in the ledger trigger, the open position, the
-- health, open-lots and invariant views. The invariants also list where the ledger's state
-- disagrees with its audit trail (v_audit_trail_discrepancies, 009).
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- The ledger trigger of 002 (with 008's SECURITY DEFINER), reading order_time through fifo_utc.
CREATE OR REPLACE FUNCTION fifo_record_fact_changes() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  symbols text[];
  affected timestamptz[];
  audit_ids bigint[];
  -- who changed the fact: the role in effect (SET ROLE), else the login; not the owner
  -- this function runs as
  actor constant text := coalesce(nullif(current_setting('role'), 'none'), session_user);
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, new_fact, changed_by)
      SELECT 'INSERT', n.symbol, n.order_id, fifo_utc(n.order_time), fifo_fact_json(n.order_id, n.symbol, n.side,
               n.size::numeric, n.price::numeric, n.total_fees_usd::numeric, fifo_utc(n.order_time), n.source, n.trigger), actor
        FROM new_rows n
      RETURNING symbol, affected_time, audit_id)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM audited;
  ELSIF TG_OP = 'DELETE' THEN
    WITH audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, old_fact, changed_by)
      SELECT 'DELETE', o.symbol, o.order_id, fifo_utc(o.order_time), fifo_fact_json(o.order_id, o.symbol, o.side,
               o.size::numeric, o.price::numeric, o.total_fees_usd::numeric, fifo_utc(o.order_time), o.source, o.trigger), actor
        FROM old_rows o
      RETURNING symbol, affected_time, audit_id)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM audited;
  ELSE
    -- order_id cannot change (trade_records_order_id_immutable), so old and new pair on it.
    -- An update that leaves every fact column alone (e.g. a legacy bot writing its own
    -- computed columns on an adopted table) is not a fact change.
    WITH pairs AS (
      SELECT o.order_id, o.symbol AS old_symbol, n.symbol, least(fifo_utc(o.order_time), fifo_utc(n.order_time)) AS affected_time,
             fifo_fact_json(o.order_id, o.symbol, o.side, o.size::numeric, o.price::numeric, o.total_fees_usd::numeric, fifo_utc(o.order_time), o.source, o.trigger) AS old_fact,
             fifo_fact_json(n.order_id, n.symbol, n.side, n.size::numeric, n.price::numeric, n.total_fees_usd::numeric, fifo_utc(n.order_time), n.source, n.trigger) AS new_fact
        FROM old_rows o JOIN new_rows n USING (order_id)
    ), audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, old_fact, new_fact, changed_by)
      SELECT 'UPDATE', symbol, order_id, affected_time, old_fact, new_fact, actor
        FROM pairs WHERE old_fact IS DISTINCT FROM new_fact
      RETURNING symbol, affected_time, audit_id, old_fact ->> 'symbol' AS old_symbol
    ), touched AS (
      SELECT symbol, affected_time, audit_id FROM audited
      UNION ALL  -- a fact moved to another symbol dirties the one it left too
      SELECT old_symbol, affected_time, audit_id FROM audited WHERE old_symbol <> symbol)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM touched;
  END IF;
  PERFORM fifo_mark_dirty(symbols, affected, audit_ids);
  RETURN NULL;
END $$;

-- 007's open position, comparing order_time as UTC.
CREATE OR REPLACE FUNCTION fifo_open_position(p_version int, p_as_of timestamptz, p_symbols text[] DEFAULT NULL)
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
   WHERE b.side = 'buy' AND fifo_utc(b.order_time) <= p_as_of AND (p_symbols IS NULL OR b.symbol = ANY (p_symbols))
   GROUP BY b.symbol
$$;

DO $pin$
BEGIN
  EXECUTE format('ALTER FUNCTION fifo_record_fact_changes() SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION fifo_open_position(int, timestamptz, text[]) SET search_path = %I, pg_temp', current_schema());
END
$pin$;

-- 003's health view, order_time as UTC.
CREATE OR REPLACE VIEW v_allocation_health AS
WITH ledger AS (
  SELECT symbol, max(fifo_utc(order_time)) AS last_trade_time FROM trade_records GROUP BY symbol
)
SELECT v.allocation_version,
       v.method,
       a.last_allocation_time,
       coalesce(a.allocations_last_hour, 0)   AS allocations_last_hour,
       coalesce(a.allocations_last_day, 0)    AS allocations_last_day,
       coalesce(a.allocations_total, 0)       AS allocations_total,
       coalesce(a.unmatched_sells, 0)         AS unmatched_sells,
       (SELECT count(*) FROM ledger)          AS symbols_in_ledger,
       (SELECT count(*) FROM fifo_dirty_symbols d
         WHERE d.allocation_version = v.allocation_version)                      AS dirty_symbols,
       (SELECT count(*) FROM ledger l
          LEFT JOIN fifo_inventory_snapshot s
                 ON s.allocation_version = v.allocation_version AND s.symbol = l.symbol
         WHERE s.watermark_time IS NULL OR l.last_trade_time > s.watermark_time) AS stale_symbols,
       (SELECT max(last_trade_time) FROM ledger)                                 AS last_trade_time,
       (SELECT max(changed_at) FROM trade_records_audit)                         AS ledger_changed_at,
       r.computation_id                        AS last_run_id,
       r.status                                AS last_run_status,
       r.mode                                  AS last_run_mode,
       r.started_at                            AS last_run_started_at,
       r.finished_at                           AS last_run_finished_at,
       r.error                                 AS last_run_error,
       (SELECT max(finished_at) FROM fifo_computation_log l
         WHERE l.allocation_version = v.allocation_version AND l.status = 'success') AS last_success_at,
       (SELECT count(*) FROM manual_review_queue q
         WHERE q.allocation_version = v.allocation_version AND q.status = 'pending') AS pending_reviews
  FROM fifo_allocation_versions v
  LEFT JOIN LATERAL (
    SELECT max(allocation_time) AS last_allocation_time,
           count(*) FILTER (WHERE allocation_time > now() - interval '1 hour') AS allocations_last_hour,
           count(*) FILTER (WHERE allocation_time > now() - interval '1 day')  AS allocations_last_day,
           count(*) AS allocations_total,
           count(*) FILTER (WHERE buy_order_id IS NULL) AS unmatched_sells
      FROM fifo_allocations x WHERE x.allocation_version = v.allocation_version) a ON true
  LEFT JOIN LATERAL (
    SELECT * FROM fifo_computation_log l
     WHERE l.allocation_version = v.allocation_version
     ORDER BY l.computation_id DESC LIMIT 1) r ON true;

-- 003's open lots, facts as numeric and UTC. Recreated, not replaced: on an adopted table with
-- double precision or timestamp columns the view's column types change (to numeric, timestamptz).
DROP VIEW v_open_lots;
CREATE VIEW v_open_lots AS
SELECT v.allocation_version,
       b.symbol,
       b.order_id                                   AS buy_order_id,
       fifo_utc(b.order_time)                       AS buy_time,
       b.price::numeric                             AS buy_price,
       b.size::numeric                              AS buy_size,
       coalesce(c.consumed, 0)                      AS consumed_size,
       b.size::numeric - coalesce(c.consumed, 0)    AS remaining_size,
       b.total_fees_usd::numeric - coalesce(c.fee_used, 0) AS remaining_fee_usd,
       b.price::numeric * (b.size::numeric - coalesce(c.consumed, 0)) + b.total_fees_usd::numeric - coalesce(c.fee_used, 0)
                                                    AS remaining_cost_basis_usd,
       b.source,
       b.trigger
  FROM fifo_allocation_versions v
 CROSS JOIN trade_records b
  LEFT JOIN (SELECT allocation_version, symbol, buy_order_id,
                    sum(allocated_size) AS consumed, sum(buy_fee_usd) AS fee_used
               FROM fifo_allocations WHERE buy_order_id IS NOT NULL
              GROUP BY allocation_version, symbol, buy_order_id) c
         ON c.allocation_version = v.allocation_version AND c.symbol = b.symbol AND c.buy_order_id = b.order_id
 WHERE b.side = 'buy' AND b.size::numeric > coalesce(c.consumed, 0);
GRANT SELECT ON v_open_lots TO fifo_reader, fifo_engine;

-- 009's audit-trail check, order_time as UTC like the trail's new rows (fifo_utc): an adopted
-- `timestamp` column would otherwise differ from its audit row in any session not in UTC.
CREATE OR REPLACE VIEW v_audit_trail_discrepancies AS
WITH latest AS (
  SELECT DISTINCT ON (a.order_id) a.audit_id, a.operation, a.symbol, a.order_id, a.new_fact
    FROM trade_records_audit a
   ORDER BY a.order_id, a.audit_id DESC
), facts AS (
  SELECT t.order_id, t.symbol, fifo_utc(t.order_time) AS order_time,
         fifo_fact_json(t.order_id, t.symbol, t.side, t.size::numeric, t.price::numeric, t.total_fees_usd::numeric,
                        fifo_utc(t.order_time), t.source, t.trigger) AS fact
    FROM trade_records t
)
SELECT NULL::int AS allocation_version, f.symbol, f.order_id, 'fact_not_audited'::text AS check_name,
       'an INSERT or UPDATE row in trade_records_audit'::text AS expected, f.fact::text AS actual,
       'the fact was written with the ledger trigger disabled (owner or superuser)'::text AS details
  FROM facts f
 WHERE NOT EXISTS (SELECT 1 FROM latest l WHERE l.order_id = f.order_id)
   AND NOT EXISTS (SELECT 1 FROM trade_records_legacy_snapshot s WHERE s.order_id = f.order_id AND s.symbol = f.symbol)
UNION ALL
SELECT NULL::int, f.symbol, f.order_id, 'fact_differs_from_audit',
       coalesce(l.new_fact::text, 'deleted'), f.fact::text,
       format('the fact differs from its latest audit row %s (%s): changed with the ledger trigger disabled', l.audit_id, l.operation)
  FROM facts f JOIN latest l ON l.order_id = f.order_id
 WHERE l.new_fact IS NULL
    OR (l.new_fact - 'order_time') IS DISTINCT FROM (f.fact - 'order_time')
    OR (l.new_fact ->> 'order_time')::timestamptz IS DISTINCT FROM f.order_time
UNION ALL
SELECT NULL::int, l.symbol, l.order_id, 'audited_fact_missing',
       l.new_fact::text, 'no fact',
       format('audit row %s (%s) says the fact exists, the ledger lacks it: deleted with the ledger trigger disabled or truncated', l.audit_id, l.operation)
  FROM latest l
 WHERE l.operation IN ('INSERT', 'UPDATE')
   AND NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = l.order_id);;

-- 003's invariants, facts as numeric and UTC. invalid_fact (legacy rows breaking a rule, the
-- only rows a NOT VALID constraint lets stay) is built from the constraints themselves, so it
-- checks exactly the rules the ledger enforces, caps and all: expected names the broken rules.
DO $discrepancies$
DECLARE
  broken text;
  view_sql constant text := $view$
CREATE OR REPLACE VIEW v_allocation_discrepancies AS
WITH facts AS (
  SELECT order_id, symbol, side, size::numeric AS size, price::numeric AS price,
         total_fees_usd::numeric AS fee, fifo_utc(order_time) AS order_time
    FROM trade_records
), alloc AS (
  SELECT a.*, s.side AS sell_side, s.size AS sell_fact_size, s.price AS sell_fact_price, s.fee AS sell_fact_fee,
         s.order_time AS sell_fact_time, b.side AS buy_side, b.size AS buy_fact_size, b.price AS buy_fact_price,
         b.fee AS buy_fact_fee, b.order_time AS buy_fact_time
    FROM fifo_allocations a
    LEFT JOIN facts s ON s.order_id = a.sell_order_id AND s.symbol = a.symbol
    LEFT JOIN facts b ON b.order_id = a.buy_order_id AND b.symbol = a.symbol
), per_sell AS (
  SELECT allocation_version, symbol, sell_order_id, sum(allocated_size) AS allocated,
         sum(sell_fee_usd) AS fee_shares, min(sell_fact_size) AS size, min(sell_fact_fee) AS fee
    FROM alloc GROUP BY allocation_version, symbol, sell_order_id
), per_buy AS (
  SELECT allocation_version, symbol, buy_order_id, sum(allocated_size) AS allocated,
         sum(buy_fee_usd) AS fee_shares, min(buy_fact_size) AS size, min(buy_fact_fee) AS fee
    FROM alloc WHERE buy_order_id IS NOT NULL GROUP BY allocation_version, symbol, buy_order_id
)
-- sells the version has processed (up to its watermark) must be allocated in full
SELECT sn.allocation_version, f.symbol, f.order_id, 'sell_not_fully_allocated'::text AS check_name,
       f.size::text AS expected, coalesce(ps.allocated, 0)::text AS actual,
       'sum of allocated_size over the sell''s rows must equal its size'::text AS details
  FROM fifo_inventory_snapshot sn
  JOIN facts f ON f.symbol = sn.symbol AND f.side = 'sell'
   AND (f.order_time, fifo_side_rank(f.side), f.order_id COLLATE "C")
       <= (sn.watermark_time, fifo_side_rank(sn.watermark_side), sn.watermark_order_id COLLATE "C")
  LEFT JOIN per_sell ps ON ps.allocation_version = sn.allocation_version AND ps.symbol = f.symbol
                       AND ps.sell_order_id = f.order_id
 WHERE ps.allocated IS DISTINCT FROM f.size
UNION ALL
SELECT ps.allocation_version, ps.symbol, ps.sell_order_id, 'sell_allocated_size_mismatch',
       ps.size::text, ps.allocated::text, 'allocations of a sell sum to more or less than its size'
  FROM per_sell ps WHERE ps.size IS NOT NULL AND ps.allocated <> ps.size
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'sell_fee_shares_sum',
       fee::text, fee_shares::text, 'sell_fee_usd over the sell''s rows must sum exactly to its fee'
  FROM per_sell WHERE size IS NOT NULL AND allocated = size AND fee_shares <> fee
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'buy_over_allocated',
       size::text, allocated::text, 'sum of allocated_size over a buy must not exceed its size'
  FROM per_buy WHERE size IS NOT NULL AND allocated > size
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'buy_fee_shares_sum',
       fee::text, fee_shares::text, 'buy_fee_usd over a fully consumed buy''s rows must sum exactly to its fee'
  FROM per_buy WHERE size IS NOT NULL AND allocated = size AND fee_shares <> fee
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'allocation_references_missing_sell',
       'a sell of ' || symbol, coalesce(sell_side, 'no trade'), 'sell_order_id must name a sell of the same symbol'
  FROM alloc WHERE sell_side IS DISTINCT FROM 'sell'
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'allocation_references_missing_buy',
       'a buy of ' || symbol, coalesce(buy_side, 'no trade'), 'buy_order_id must name a buy of the same symbol'
  FROM alloc WHERE buy_order_id IS NOT NULL AND buy_side IS DISTINCT FROM 'buy'
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'buy_used_before_its_time',
       buy_fact_time::text, sell_fact_time::text, 'buy ' || buy_order_id || ' executed after the sell it covers'
  FROM alloc WHERE buy_fact_time > sell_fact_time
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_pnl_formula',
       (proceeds_usd - cost_basis_usd)::text, pnl_usd::text, 'pnl_usd must equal proceeds_usd - cost_basis_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE buy_order_id IS NOT NULL AND pnl_usd <> proceeds_usd - cost_basis_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_cost_basis_formula',
       (buy_price * allocated_size + buy_fee_usd)::text, cost_basis_usd::text,
       'cost_basis_usd must equal buy_price * allocated_size + buy_fee_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE buy_order_id IS NOT NULL AND cost_basis_usd <> buy_price * allocated_size + buy_fee_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_proceeds_formula',
       (sell_price * allocated_size - sell_fee_usd)::text, proceeds_usd::text,
       'proceeds_usd must equal sell_price * allocated_size - sell_fee_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE proceeds_usd <> sell_price * allocated_size - sell_fee_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_copied_facts',
       format('sell %s @ %s, buy %s @ %s', sell_fact_time, sell_fact_price, buy_fact_time, buy_fact_price),
       format('sell %s @ %s, buy %s @ %s', sell_time, sell_price, buy_time, buy_price),
       'prices and times on the row must equal the facts (row ' || allocation_seq || ')'
  FROM alloc
 WHERE sell_side = 'sell' AND (sell_price <> sell_fact_price OR sell_time <> sell_fact_time
    OR (buy_side = 'buy' AND (buy_price <> buy_fact_price OR buy_time <> buy_fact_time)))
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_sell_fee_share',
       (sell_fact_fee * allocated_size / sell_fact_size)::text, sell_fee_usd::text,
       'sell_fee_usd must be fee * allocated_size / size within 1e-18 (row ' || allocation_seq || ')'
  FROM alloc
 WHERE sell_side = 'sell' AND abs(sell_fee_usd * sell_fact_size - sell_fact_fee * allocated_size) > 1e-18 * sell_fact_size
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_buy_fee_share',
       (buy_fact_fee * allocated_size / buy_fact_size)::text, buy_fee_usd::text,
       'buy_fee_usd must be fee * allocated_size / size of buy ' || buy_order_id || ' within 1e-18 (row ' || allocation_seq || ')'
  FROM alloc
 WHERE buy_side = 'buy' AND abs(buy_fee_usd * buy_fact_size - buy_fact_fee * allocated_size) > 1e-18 * buy_fact_size
UNION ALL
-- facts breaking the ledger's rules: possible only in rows older than the rule (NOT VALID)
SELECT NULL::int, f.symbol, f.order_id, 'invalid_fact', f.broken,
       format('order_id %s, symbol %s, side %s, size %s, price %s, fee %s, order_time %s',
              to_json(f.order_id), f.symbol, f.side, f.size::numeric, f.price::numeric, f.total_fees_usd::numeric,
              fifo_utc(f.order_time)),
       'legacy row violates the ledger rules; correct or delete it'
  FROM (SELECT t.*, array_to_string(ARRAY[/*BROKEN*/], ', ') AS broken FROM trade_records t) f
 WHERE f.broken <> ''
UNION ALL
-- the ledger's state against its audit trail (facts changed with the ledger trigger off)
SELECT * FROM v_audit_trail_discrepancies
$view$;
BEGIN
  -- every rule of the contract (001, 010), in the order PostgreSQL checks them (by name)
  SELECT string_agg(format('CASE WHEN (%s) IS NOT TRUE THEN %L END', pg_get_expr(conbin, conrelid), conname), ', ' ORDER BY conname)
    INTO broken
    FROM pg_constraint
   WHERE conrelid = 'trade_records'::regclass AND contype = 'c'
     AND conname ~ '^trade_records_(order_id|symbol|side|size|price|total_fees_usd|order_time)_';
  EXECUTE replace(view_sql, '/*BROKEN*/', broken);
END
$discrepancies$;

-- Down Migration
CREATE OR REPLACE FUNCTION fifo_record_fact_changes() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  symbols text[];
  affected timestamptz[];
  audit_ids bigint[];
  -- who changed the fact: the role in effect (SET ROLE), else the login; not the owner
  -- this function runs as when SECURITY DEFINER (008)
  actor constant text := coalesce(nullif(current_setting('role'), 'none'), session_user);
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, new_fact, changed_by)
      SELECT 'INSERT', n.symbol, n.order_id, n.order_time::timestamptz, fifo_fact_json(n.order_id, n.symbol, n.side,
               n.size::numeric, n.price::numeric, n.total_fees_usd::numeric, n.order_time::timestamptz, n.source, n.trigger), actor
        FROM new_rows n
      RETURNING symbol, affected_time, audit_id)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM audited;
  ELSIF TG_OP = 'DELETE' THEN
    WITH audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, old_fact, changed_by)
      SELECT 'DELETE', o.symbol, o.order_id, o.order_time::timestamptz, fifo_fact_json(o.order_id, o.symbol, o.side,
               o.size::numeric, o.price::numeric, o.total_fees_usd::numeric, o.order_time::timestamptz, o.source, o.trigger), actor
        FROM old_rows o
      RETURNING symbol, affected_time, audit_id)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM audited;
  ELSE
    WITH pairs AS (
      SELECT o.order_id, o.symbol AS old_symbol, n.symbol, least(o.order_time, n.order_time)::timestamptz AS affected_time,
             fifo_fact_json(o.order_id, o.symbol, o.side, o.size::numeric, o.price::numeric, o.total_fees_usd::numeric, o.order_time::timestamptz, o.source, o.trigger) AS old_fact,
             fifo_fact_json(n.order_id, n.symbol, n.side, n.size::numeric, n.price::numeric, n.total_fees_usd::numeric, n.order_time::timestamptz, n.source, n.trigger) AS new_fact
        FROM old_rows o JOIN new_rows n USING (order_id)
    ), audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, old_fact, new_fact, changed_by)
      SELECT 'UPDATE', symbol, order_id, affected_time, old_fact, new_fact, actor
        FROM pairs WHERE old_fact IS DISTINCT FROM new_fact
      RETURNING symbol, affected_time, audit_id, old_fact ->> 'symbol' AS old_symbol
    ), touched AS (
      SELECT symbol, affected_time, audit_id FROM audited
      UNION ALL
      SELECT old_symbol, affected_time, audit_id FROM audited WHERE old_symbol <> symbol)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM touched;
  END IF;
  PERFORM fifo_mark_dirty(symbols, affected, audit_ids);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fifo_open_position(p_version int, p_as_of timestamptz, p_symbols text[] DEFAULT NULL)
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
DO $pin$
BEGIN
  EXECUTE format('ALTER FUNCTION fifo_record_fact_changes() SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION fifo_open_position(int, timestamptz, text[]) SET search_path = %I, pg_temp', current_schema());
END
$pin$;

CREATE OR REPLACE VIEW v_allocation_health AS
WITH ledger AS (
  SELECT symbol, max(order_time::timestamptz) AS last_trade_time FROM trade_records GROUP BY symbol
)
SELECT v.allocation_version,
       v.method,
       a.last_allocation_time,
       coalesce(a.allocations_last_hour, 0)   AS allocations_last_hour,
       coalesce(a.allocations_last_day, 0)    AS allocations_last_day,
       coalesce(a.allocations_total, 0)       AS allocations_total,
       coalesce(a.unmatched_sells, 0)         AS unmatched_sells,
       (SELECT count(*) FROM ledger)          AS symbols_in_ledger,
       (SELECT count(*) FROM fifo_dirty_symbols d
         WHERE d.allocation_version = v.allocation_version)                      AS dirty_symbols,
       (SELECT count(*) FROM ledger l
          LEFT JOIN fifo_inventory_snapshot s
                 ON s.allocation_version = v.allocation_version AND s.symbol = l.symbol
         WHERE s.watermark_time IS NULL OR l.last_trade_time > s.watermark_time) AS stale_symbols,
       (SELECT max(last_trade_time) FROM ledger)                                 AS last_trade_time,
       (SELECT max(changed_at) FROM trade_records_audit)                         AS ledger_changed_at,
       r.computation_id                        AS last_run_id,
       r.status                                AS last_run_status,
       r.mode                                  AS last_run_mode,
       r.started_at                            AS last_run_started_at,
       r.finished_at                           AS last_run_finished_at,
       r.error                                 AS last_run_error,
       (SELECT max(finished_at) FROM fifo_computation_log l
         WHERE l.allocation_version = v.allocation_version AND l.status = 'success') AS last_success_at,
       (SELECT count(*) FROM manual_review_queue q
         WHERE q.allocation_version = v.allocation_version AND q.status = 'pending') AS pending_reviews
  FROM fifo_allocation_versions v
  LEFT JOIN LATERAL (
    SELECT max(allocation_time) AS last_allocation_time,
           count(*) FILTER (WHERE allocation_time > now() - interval '1 hour') AS allocations_last_hour,
           count(*) FILTER (WHERE allocation_time > now() - interval '1 day')  AS allocations_last_day,
           count(*) AS allocations_total,
           count(*) FILTER (WHERE buy_order_id IS NULL) AS unmatched_sells
      FROM fifo_allocations x WHERE x.allocation_version = v.allocation_version) a ON true
  LEFT JOIN LATERAL (
    SELECT * FROM fifo_computation_log l
     WHERE l.allocation_version = v.allocation_version
     ORDER BY l.computation_id DESC LIMIT 1) r ON true;

DROP VIEW v_open_lots;
CREATE VIEW v_open_lots AS
SELECT v.allocation_version,
       b.symbol,
       b.order_id                                   AS buy_order_id,
       b.order_time                                 AS buy_time,
       b.price                                      AS buy_price,
       b.size                                       AS buy_size,
       coalesce(c.consumed, 0)                      AS consumed_size,
       b.size - coalesce(c.consumed, 0)             AS remaining_size,
       b.total_fees_usd - coalesce(c.fee_used, 0)   AS remaining_fee_usd,
       b.price * (b.size - coalesce(c.consumed, 0)) + b.total_fees_usd - coalesce(c.fee_used, 0)
                                                    AS remaining_cost_basis_usd,
       b.source,
       b.trigger
  FROM fifo_allocation_versions v
 CROSS JOIN trade_records b
  LEFT JOIN (SELECT allocation_version, symbol, buy_order_id,
                    sum(allocated_size) AS consumed, sum(buy_fee_usd) AS fee_used
               FROM fifo_allocations WHERE buy_order_id IS NOT NULL
              GROUP BY allocation_version, symbol, buy_order_id) c
         ON c.allocation_version = v.allocation_version AND c.symbol = b.symbol AND c.buy_order_id = b.order_id
 WHERE b.side = 'buy' AND b.size > coalesce(c.consumed, 0);
GRANT SELECT ON v_open_lots TO fifo_reader, fifo_engine;

CREATE OR REPLACE VIEW v_allocation_discrepancies AS
WITH facts AS (
  SELECT order_id, symbol, side, size::numeric AS size, price::numeric AS price,
         total_fees_usd::numeric AS fee, order_time::timestamptz AS order_time
    FROM trade_records
), alloc AS (
  SELECT a.*, s.side AS sell_side, s.size AS sell_fact_size, s.price AS sell_fact_price, s.fee AS sell_fact_fee,
         s.order_time AS sell_fact_time, b.side AS buy_side, b.size AS buy_fact_size, b.price AS buy_fact_price,
         b.fee AS buy_fact_fee, b.order_time AS buy_fact_time
    FROM fifo_allocations a
    LEFT JOIN facts s ON s.order_id = a.sell_order_id AND s.symbol = a.symbol
    LEFT JOIN facts b ON b.order_id = a.buy_order_id AND b.symbol = a.symbol
), per_sell AS (
  SELECT allocation_version, symbol, sell_order_id, sum(allocated_size) AS allocated,
         sum(sell_fee_usd) AS fee_shares, min(sell_fact_size) AS size, min(sell_fact_fee) AS fee
    FROM alloc GROUP BY allocation_version, symbol, sell_order_id
), per_buy AS (
  SELECT allocation_version, symbol, buy_order_id, sum(allocated_size) AS allocated,
         sum(buy_fee_usd) AS fee_shares, min(buy_fact_size) AS size, min(buy_fact_fee) AS fee
    FROM alloc WHERE buy_order_id IS NOT NULL GROUP BY allocation_version, symbol, buy_order_id
)
SELECT sn.allocation_version, f.symbol, f.order_id, 'sell_not_fully_allocated'::text AS check_name,
       f.size::text AS expected, coalesce(ps.allocated, 0)::text AS actual,
       'sum of allocated_size over the sell''s rows must equal its size'::text AS details
  FROM fifo_inventory_snapshot sn
  JOIN facts f ON f.symbol = sn.symbol AND f.side = 'sell'
   AND (f.order_time, fifo_side_rank(f.side), f.order_id COLLATE "C")
       <= (sn.watermark_time, fifo_side_rank(sn.watermark_side), sn.watermark_order_id COLLATE "C")
  LEFT JOIN per_sell ps ON ps.allocation_version = sn.allocation_version AND ps.symbol = f.symbol
                       AND ps.sell_order_id = f.order_id
 WHERE ps.allocated IS DISTINCT FROM f.size
UNION ALL
SELECT ps.allocation_version, ps.symbol, ps.sell_order_id, 'sell_allocated_size_mismatch',
       ps.size::text, ps.allocated::text, 'allocations of a sell sum to more or less than its size'
  FROM per_sell ps WHERE ps.size IS NOT NULL AND ps.allocated <> ps.size
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'sell_fee_shares_sum',
       fee::text, fee_shares::text, 'sell_fee_usd over the sell''s rows must sum exactly to its fee'
  FROM per_sell WHERE size IS NOT NULL AND allocated = size AND fee_shares <> fee
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'buy_over_allocated',
       size::text, allocated::text, 'sum of allocated_size over a buy must not exceed its size'
  FROM per_buy WHERE size IS NOT NULL AND allocated > size
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'buy_fee_shares_sum',
       fee::text, fee_shares::text, 'buy_fee_usd over a fully consumed buy''s rows must sum exactly to its fee'
  FROM per_buy WHERE size IS NOT NULL AND allocated = size AND fee_shares <> fee
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'allocation_references_missing_sell',
       'a sell of ' || symbol, coalesce(sell_side, 'no trade'), 'sell_order_id must name a sell of the same symbol'
  FROM alloc WHERE sell_side IS DISTINCT FROM 'sell'
UNION ALL
SELECT allocation_version, symbol, buy_order_id, 'allocation_references_missing_buy',
       'a buy of ' || symbol, coalesce(buy_side, 'no trade'), 'buy_order_id must name a buy of the same symbol'
  FROM alloc WHERE buy_order_id IS NOT NULL AND buy_side IS DISTINCT FROM 'buy'
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'buy_used_before_its_time',
       buy_fact_time::text, sell_fact_time::text, 'buy ' || buy_order_id || ' executed after the sell it covers'
  FROM alloc WHERE buy_fact_time > sell_fact_time
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_pnl_formula',
       (proceeds_usd - cost_basis_usd)::text, pnl_usd::text, 'pnl_usd must equal proceeds_usd - cost_basis_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE buy_order_id IS NOT NULL AND pnl_usd <> proceeds_usd - cost_basis_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_cost_basis_formula',
       (buy_price * allocated_size + buy_fee_usd)::text, cost_basis_usd::text,
       'cost_basis_usd must equal buy_price * allocated_size + buy_fee_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE buy_order_id IS NOT NULL AND cost_basis_usd <> buy_price * allocated_size + buy_fee_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_proceeds_formula',
       (sell_price * allocated_size - sell_fee_usd)::text, proceeds_usd::text,
       'proceeds_usd must equal sell_price * allocated_size - sell_fee_usd (row ' || allocation_seq || ')'
  FROM alloc WHERE proceeds_usd <> sell_price * allocated_size - sell_fee_usd
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_copied_facts',
       format('sell %s @ %s, buy %s @ %s', sell_fact_time, sell_fact_price, buy_fact_time, buy_fact_price),
       format('sell %s @ %s, buy %s @ %s', sell_time, sell_price, buy_time, buy_price),
       'prices and times on the row must equal the facts (row ' || allocation_seq || ')'
  FROM alloc
 WHERE sell_side = 'sell' AND (sell_price <> sell_fact_price OR sell_time <> sell_fact_time
    OR (buy_side = 'buy' AND (buy_price <> buy_fact_price OR buy_time <> buy_fact_time)))
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_sell_fee_share',
       (sell_fact_fee * allocated_size / sell_fact_size)::text, sell_fee_usd::text,
       'sell_fee_usd must be fee * allocated_size / size within 1e-18 (row ' || allocation_seq || ')'
  FROM alloc
 WHERE sell_side = 'sell' AND abs(sell_fee_usd * sell_fact_size - sell_fact_fee * allocated_size) > 1e-18 * sell_fact_size
UNION ALL
SELECT allocation_version, symbol, sell_order_id, 'row_buy_fee_share',
       (buy_fact_fee * allocated_size / buy_fact_size)::text, buy_fee_usd::text,
       'buy_fee_usd must be fee * allocated_size / size of buy ' || buy_order_id || ' within 1e-18 (row ' || allocation_seq || ')'
  FROM alloc
 WHERE buy_side = 'buy' AND abs(buy_fee_usd * buy_fact_size - buy_fact_fee * allocated_size) > 1e-18 * buy_fact_size
UNION ALL
SELECT NULL::int, symbol, order_id, 'invalid_fact',
       'side buy|sell, 0 < size, 0 < price, 0 <= fee, at most 18 decimals',
       format('side %s, size %s, price %s, fee %s', side, size, price, fee),
       'legacy row violates the ledger rules; correct or delete it'
  FROM facts
 WHERE side IS DISTINCT FROM 'buy' AND side IS DISTINCT FROM 'sell'
    OR NOT (size > 0) OR NOT (price > 0) OR NOT (fee >= 0) OR size IS NULL OR price IS NULL OR fee IS NULL
    OR scale(size) > 18 OR scale(price) > 18 OR scale(fee) > 18;

-- 009's audit-trail check as it was
CREATE OR REPLACE VIEW v_audit_trail_discrepancies AS
WITH latest AS (
  SELECT DISTINCT ON (a.order_id) a.audit_id, a.operation, a.symbol, a.order_id, a.new_fact
    FROM trade_records_audit a
   ORDER BY a.order_id, a.audit_id DESC
), facts AS (
  SELECT t.order_id, t.symbol, t.order_time::timestamptz AS order_time,
         fifo_fact_json(t.order_id, t.symbol, t.side, t.size::numeric, t.price::numeric, t.total_fees_usd::numeric,
                        t.order_time::timestamptz, t.source, t.trigger) AS fact
    FROM trade_records t
)
SELECT NULL::int AS allocation_version, f.symbol, f.order_id, 'fact_not_audited'::text AS check_name,
       'an INSERT or UPDATE row in trade_records_audit'::text AS expected, f.fact::text AS actual,
       'the fact was written with the ledger trigger disabled (owner or superuser)'::text AS details
  FROM facts f
 WHERE NOT EXISTS (SELECT 1 FROM latest l WHERE l.order_id = f.order_id)
   AND NOT EXISTS (SELECT 1 FROM trade_records_legacy_snapshot s WHERE s.order_id = f.order_id AND s.symbol = f.symbol)
UNION ALL
SELECT NULL::int, f.symbol, f.order_id, 'fact_differs_from_audit',
       coalesce(l.new_fact::text, 'deleted'), f.fact::text,
       format('the fact differs from its latest audit row %s (%s): changed with the ledger trigger disabled', l.audit_id, l.operation)
  FROM facts f JOIN latest l ON l.order_id = f.order_id
 WHERE l.new_fact IS NULL
    OR (l.new_fact - 'order_time') IS DISTINCT FROM (f.fact - 'order_time')
    OR (l.new_fact ->> 'order_time')::timestamptz IS DISTINCT FROM f.order_time
UNION ALL
SELECT NULL::int, l.symbol, l.order_id, 'audited_fact_missing',
       l.new_fact::text, 'no fact',
       format('audit row %s (%s) says the fact exists, the ledger lacks it: deleted with the ledger trigger disabled or truncated', l.audit_id, l.operation)
  FROM latest l
 WHERE l.operation IN ('INSERT', 'UPDATE')
   AND NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = l.order_id);;
