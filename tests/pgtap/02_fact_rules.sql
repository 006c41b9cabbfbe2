-- Bad facts are rejected with an error naming the column.
BEGIN;
SELECT plan(31);

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

-- order_time: what the engine's fixed-width UTC text holds (years 0001-9999), nothing else
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('t1', 'SOL-USD', 'buy', 1, 1, 'infinity')$$,
  '%trade_records_order_time_must_be_a_real_time%', 'order_time infinity is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('t1', 'SOL-USD', 'buy', 1, 1, '-infinity')$$,
  '%trade_records_order_time_must_be_a_real_time%', 'order_time -infinity is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('t1', 'SOL-USD', 'buy', 1, 1, '2025-01-01 00:00Z BC')$$,
  '%trade_records_order_time_must_be_a_real_time%', 'a BC order_time is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('t1', 'SOL-USD', 'buy', 1, 1, '10000-01-01 00:00Z')$$,
  '%trade_records_order_time_must_be_a_real_time%', 'an order_time in year 10000 is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('t1', 'SOL-USD', 'buy', 1, 1, '9999-12-31 23:59:59.999999-01')$$,
  '%trade_records_order_time_must_be_a_real_time%', 'an order_time in year 10000 UTC (9999 locally) is rejected');
SELECT lives_ok($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
  ('t-first', 'SOL-USD', 'buy', 1, 1, '0001-01-01 00:00:00Z'), ('t-last', 'SOL-USD', 'buy', 1, 1, '9999-12-31 23:59:59.999999Z')$$,
  'the first and the last instant the engine can hold are accepted');

-- order ids: no invisible differences
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (E'a\tb', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_no_control_or_invisible_chars%', 'a tab in an order id is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (E'a\n', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_no_control_or_invisible_chars%', 'a newline in an order id is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (U&'a\00A0b', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_no_control_or_invisible_chars%', 'a no-break space in an order id is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (U&'ab\200B', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_no_control_or_invisible_chars%', 'a zero-width space in an order id is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (U&'\FEFFab', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_no_control_or_invisible_chars%', 'a byte-order mark in an order id is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (U&'\00A0\200B ', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_must_not_be_blank%', 'an order id of invisible characters only is blank');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (E'\t', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_must_not_be_blank%', 'an order id that is a tab is blank');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (' ab', 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_no_leading_or_trailing_space%', 'a leading space in an order id is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES (repeat('x', 201), 'SOL-USD', 'buy', 1, 1, now())$$,
  '%trade_records_order_id_at_most_200_chars%', 'a 201-character order id is too long, not blank');
SELECT lives_ok($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
  (repeat('é', 200), 'SOL-USD', 'buy', 1, 1, now()), ('fill 7/a:b', 'SOL-USD', 'buy', 1, 1, now())$$,
  '200 characters, inner spaces and punctuation are accepted');

-- symbols: one spelling per inventory
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('s1', 'sol-usd', 'buy', 1, 1, now())$$,
  '%trade_records_symbol_must_be_upper_case%', 'a lower-case symbol is rejected');
SELECT throws_like($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('s1', 'Sol-USD', 'buy', 1, 1, now())$$,
  '%trade_records_symbol_must_be_upper_case%', 'a mixed-case symbol is rejected');
SELECT lives_ok($$INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('s1', 'SOL-USD', 'buy', 1, 1, now())$$,
  'an upper-case symbol is accepted');

SELECT * FROM finish();
ROLLBACK;
