-- Bad facts are rejected with an error naming the column.
BEGIN;
SELECT plan(12);

SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('x', 'SOL-USD', 'buy', 0, 1, now())$$,
  '%trade_records_size_must_be_positive%', 'size 0 is rejected naming size');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('x', 'SOL-USD', 'buy', 1, -5, now())$$,
  '%trade_records_price_must_be_positive%', 'negative price is rejected naming price');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('x', 'SOL-USD', 'hold', 1, 1, now())$$,
  '%trade_records_side_must_be_buy_or_sell%', 'side hold is rejected naming side');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('x', 'SOL-USD', 'buy', 1, 1, NULL)$$,
  '%column "order_time"%not-null%', 'NULL time is rejected naming order_time');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES ('x', 'SOL-USD', 'buy', 1, 1, -0.01, now())$$,
  '%trade_records_total_fees_usd_must_not_be_negative%', 'negative fee is rejected naming total_fees_usd');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('x', 'SOL-USD', 'buy', 'NaN', 1, now())$$,
  '%trade_records_size_must_be_positive%', 'NaN size is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('x', 'SOL-USD', 'buy', 0.0000000000000000001, 1, now())$$,
  '%trade_records_size_at_most_18_decimals%', 'a size with 19 decimals is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('x', 'SOL USD''; drop table x', 'buy', 1, 1, now())$$,
  '%trade_records_symbol_must_be_base_dash_quote%', 'a symbol not BASE-QUOTE is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_must_not_be_blank%', 'a blank order id is rejected');
SELECT lives_ok($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('ok1', 'SOL-USD', 'buy', 0.000000000000000001, 0.000000000000000001, now())$$,
  'the smallest size and price with 18 decimals are accepted');
SELECT throws_like($$UPDATE trade_records SET order_id = 'ok2' WHERE order_id = 'ok1'$$,
  '%order_id cannot change%', 'a fact''s order id cannot change');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('ok1', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_pkey%', 'order ids are unique');

SELECT * FROM finish();
ROLLBACK;
