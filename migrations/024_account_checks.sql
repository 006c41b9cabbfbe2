-- Up Migration
-- Issue 14's invariants as queries, in v_allocation_discrepancies with the others:
--  * row_account_is_sell_account: a row's account is its sell's (every version);
--  * lot_not_in_sell_account (per_account versions): the lot a row consumes was bought in the
--    sell's account, or a transfer of the symbol into that account lies between the buy and the
--    sell (a necessary condition: which pieces a transfer moved is the engine's state, not a row).

SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

CREATE VIEW v_account_discrepancies AS
SELECT a.allocation_version, a.symbol, a.sell_order_id AS order_id, 'row_account_is_sell_account'::text AS check_name,
       s.account AS expected, a.account AS actual,
       'the row''s account must be its sell''s'::text AS details
  FROM fifo_allocations a
  JOIN trade_records s ON s.order_id = a.sell_order_id AND s.symbol = a.symbol
 WHERE a.account IS DISTINCT FROM s.account
UNION ALL
SELECT a.allocation_version, a.symbol, a.sell_order_id, 'lot_not_in_sell_account',
       a.account, b.account,
       'buy ' || a.buy_order_id || ' was bought in ' || b.account || ' and no transfer moved ' || a.symbol
         || ' into ' || a.account || ' between the buy and the sell'
  FROM fifo_allocations a
  JOIN fifo_allocation_versions v ON v.allocation_version = a.allocation_version AND v.pooling = 'per_account'
  JOIN trade_records b ON b.order_id = a.buy_order_id AND b.symbol = a.symbol
 WHERE a.buy_order_id IS NOT NULL AND b.account IS DISTINCT FROM a.account
   AND NOT EXISTS (SELECT 1 FROM trade_transfers t
                    WHERE t.symbol = a.symbol AND t.to_account = a.account
                      AND t.transfer_time >= fifo_utc(b.order_time) AND t.transfer_time <= a.sell_time);

CREATE TABLE fifo_024_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_024_replaced VALUES ('v_allocation_discrepancies', pg_get_viewdef('v_allocation_discrepancies'::regclass));

DO $patch$
BEGIN
  EXECUTE 'CREATE OR REPLACE VIEW v_allocation_discrepancies AS '
    || rtrim(rtrim((SELECT definition FROM fifo_024_replaced WHERE name = 'v_allocation_discrepancies')), ';')
    || ' UNION ALL SELECT allocation_version, symbol, order_id, check_name, expected, actual, details FROM v_account_discrepancies';
END
$patch$;

SELECT fifo_apply_security();

-- Down Migration
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
DO $restore$
BEGIN
  EXECUTE 'CREATE OR REPLACE VIEW v_allocation_discrepancies AS '
    || (SELECT definition FROM fifo_024_replaced WHERE name = 'v_allocation_discrepancies');
END
$restore$;
DROP TABLE fifo_024_replaced;
DROP VIEW v_account_discrepancies;
SELECT fifo_apply_security();
