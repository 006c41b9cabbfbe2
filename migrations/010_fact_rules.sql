-- Up Migration
-- Rules on facts, part two (issue 10): an order_time the engine can compute, order ids
-- without invisible characters, one spelling per symbol; an adopted ledger gets the NOT NULL
-- rules and the fee default of the contract; fifo_utc() gives the one interpretation of
-- order_time that every read uses (011): a UTC instant.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- order_time as a UTC instant whatever the column's type, resolved by that type: an adopted
-- `timestamp without time zone` means UTC, never the session's TimeZone. SQL-standard bodies
-- are parsed once, here (operators bound by oid, no name lookup when they run), so they need
-- no pinned search_path, and without one the planner inlines them: pinned, each call costs
-- a function call per fact (3.5 s over a million facts instead of nothing).
CREATE FUNCTION fifo_utc(t timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN t;
CREATE FUNCTION fifo_utc(t timestamp) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN t AT TIME ZONE 'UTC';
REVOKE EXECUTE ON FUNCTION fifo_utc(timestamptz), fifo_utc(timestamp) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fifo_utc(timestamptz), fifo_utc(timestamp) TO fifo_reader, fifo_engine;

ALTER TABLE fifo_adoption ADD COLUMN tightened text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN fifo_adoption.tightened IS
  'NOT NULL rules and defaults migration 010 gave the adopted fact columns (migrate down takes them back)';

-- The rules, as CHECK constraints named for the column and the rule (001 explains). Added
-- NOT VALID and validated right away when the existing rows allow; otherwise they check new
-- rows only, a NOTICE says so and v_allocation_discrepancies lists the old rows (invalid_fact).
--
-- order_time: what the engine's fixed-width UTC text YYYY-MM-DDTHH:MM:SS.ffffffZ can hold,
--   0001-01-01 00:00:00 UTC <= t < 10000-01-01 00:00:00 UTC: no infinity, no BC date, no year
--   10000 or later.
-- order_id (PostgreSQL reports the first broken rule in name order; import checks the same):
--   at most 200 characters (code points); not blank: at least one character that is neither
--   a space (U+0020) nor one of the characters below; none of these anywhere: C0 and C1
--   controls and DEL (U+0001-U+001F incl. tab, LF and CR, U+007F-U+009F), spaces other than
--   U+0020 (U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) and
--   invisible format characters (U+00AD, U+180E, U+200B-U+200F, U+202A-U+202E,
--   U+2060-U+206F, U+FEFF), the other format characters, fillers, joiners and variation
--   selectors (U+034F, U+0600-U+0605, U+061C, U+06DD, U+070F, U+0890-U+0891, U+08E2, U+115F,
--   U+1160, U+180B-U+180F, U+3164, U+FE00-U+FE0F, U+FFA0, U+110BD, U+110CD, U+13430-U+1345F,
--   U+1BCA0-U+1BCA3, U+1D173-U+1D17A, U+E0000-U+E0FFF), private use and non-characters
--   (U+E000-U+F8FF, U+FFF0-U+FFFF, U+F0000-U+10FFFF); no space at either end. Import refuses
--   exactly these too (packages/cli/src/ledger-io/values.ts; a test compares the two).
-- symbol: no lower-case letter (sol-usd and SOL-USD would be two inventories; import upper-cases).
DO $rules$
DECLARE
  time_type constant text := (
    SELECT format_type(atttypid, NULL) FROM pg_attribute
     WHERE attrelid = 'trade_records'::regclass AND attname = 'order_time' AND NOT attisdropped);
  hidden constant text := '\u0001-\u001F\u007F-\u009F\u00A0\u00AD\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\uFEFF'
    -- the other format characters, fillers, joiners, variation selectors, private use, non-characters
    || '\u034F\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2\u115F\u1160\u180B-\u180F\u3164\uE000-\uF8FF'
    || '\uFE00-\uFE0F\uFFA0\uFFF0-\uFFFF\U000110BD\U000110CD\U00013430-\U0001345F\U0001BCA0-\U0001BCA3'
    || '\U0001D173-\U0001D17A\U000E0000-\U000E0FFF\U000F0000-\U0010FFFF';
  fact_columns constant text[] := ARRAY['order_id','symbol','side','size','price','total_fees_usd','order_time'];
  real_time text;
  added text[] := '{}';
  r record;
  c text;
BEGIN
  real_time := CASE time_type
    WHEN 'timestamp with time zone' THEN
      $$order_time >= '0001-01-01 00:00:00+00'::timestamptz AND order_time < '10000-01-01 00:00:00+00'::timestamptz$$
    WHEN 'timestamp without time zone' THEN
      $$order_time >= '0001-01-01 00:00:00'::timestamp AND order_time < '10000-01-01 00:00:00'::timestamp$$
  END;
  IF real_time IS NULL THEN
    RAISE EXCEPTION 'trade_records.order_time is of type %: fifo-ledger reads timestamptz, or timestamp as UTC', time_type
      USING ERRCODE = 'datatype_mismatch',
            HINT = 'Convert it first, e.g. ALTER TABLE trade_records ALTER COLUMN order_time TYPE timestamptz USING order_time::timestamptz';
  END IF;

  -- 001's "non-blank" rule also capped the length under the same name: split in two
  ALTER TABLE trade_records DROP CONSTRAINT trade_records_order_id_must_not_be_blank;

  -- adopted columns that allow NULL get the contract's NOT NULL when no row is NULL
  FOREACH c IN ARRAY fact_columns LOOP
    CONTINUE WHEN (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'trade_records'::regclass AND attname = c);
    EXECUTE format('ALTER TABLE trade_records ADD CONSTRAINT %I CHECK (%I IS NOT NULL) NOT VALID', 'trade_records_' || c || '_must_not_be_null', c);
    BEGIN
      EXECUTE format('ALTER TABLE trade_records VALIDATE CONSTRAINT %I', 'trade_records_' || c || '_must_not_be_null');
      -- the validated CHECK spares SET NOT NULL its scan; then NOT NULL alone says it
      EXECUTE format('ALTER TABLE trade_records ALTER COLUMN %I SET NOT NULL', c);
      EXECUTE format('ALTER TABLE trade_records DROP CONSTRAINT %I', 'trade_records_' || c || '_must_not_be_null');
      added := added || ('not null ' || c);
    EXCEPTION WHEN check_violation THEN
      RAISE NOTICE 'adopted trade_records has legacy rows with % NULL; trade_records_%_must_not_be_null checks new rows only and v_allocation_discrepancies lists the old ones (their symbols cannot be computed until corrected)', c, c;
    END;
  END LOOP;
  IF NOT (SELECT atthasdef FROM pg_attribute WHERE attrelid = 'trade_records'::regclass AND attname = 'total_fees_usd') THEN
    ALTER TABLE trade_records ALTER COLUMN total_fees_usd SET DEFAULT 0;
    added := added || 'default total_fees_usd'::text;
  END IF;
  UPDATE fifo_adoption SET tightened = added;

  FOR r IN SELECT * FROM (VALUES
      ('trade_records_order_time_must_be_a_real_time',        real_time),
      ('trade_records_order_id_at_most_200_chars',            $$length(order_id) <= 200$$),
      ('trade_records_order_id_must_not_be_blank',            format($$order_id ~ '[^ %s]'$$, hidden)),
      ('trade_records_order_id_no_control_or_invisible_chars', format($$order_id !~ '[%s]'$$, hidden)),
      ('trade_records_order_id_no_leading_or_trailing_space', $$order_id !~ '^ | $'$$),
      ('trade_records_symbol_must_be_upper_case',             $$symbol !~ '[a-z]'$$)
    ) AS t(name, expr)
  LOOP
    EXECUTE format('ALTER TABLE trade_records ADD CONSTRAINT %I CHECK (%s) NOT VALID', r.name, r.expr);
    BEGIN
      EXECUTE format('ALTER TABLE trade_records VALIDATE CONSTRAINT %I', r.name);
    EXCEPTION WHEN check_violation THEN
      RAISE NOTICE 'trade_records has rows violating %; the constraint checks new rows only and v_allocation_discrepancies lists the old ones', r.name;
    END;
  END LOOP;

  -- the legacy snapshot took a `timestamp` order_time in the migrating session's TimeZone (001)
  IF time_type = 'timestamp without time zone' THEN
    EXECUTE 'UPDATE trade_records_legacy_snapshot l SET order_time = fifo_utc(t.order_time)
               FROM trade_records t WHERE t.order_id = l.order_id AND t.symbol = l.symbol';
  END IF;
END
$rules$;

-- Down Migration
-- The rules go, 001's order-id rule and 002/003/007's definitions come back; NOT NULL and
-- defaults given to adopted columns are taken back. Rows stay as they are.
DO $down$
DECLARE
  adopted constant boolean := EXISTS (SELECT 1 FROM fifo_adoption);
  item text;
  c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'trade_records'::regclass AND contype = 'c'
              AND conname IN ('trade_records_order_time_must_be_a_real_time', 'trade_records_order_id_at_most_200_chars',
                              'trade_records_order_id_must_not_be_blank', 'trade_records_order_id_no_control_or_invisible_chars',
                              'trade_records_order_id_no_leading_or_trailing_space', 'trade_records_symbol_must_be_upper_case')
                 OR conrelid = 'trade_records'::regclass AND contype = 'c' AND conname LIKE 'trade_records\_%\_must\_not\_be\_null'
  LOOP
    EXECUTE format('ALTER TABLE trade_records DROP CONSTRAINT %I', c);
  END LOOP;
  FOREACH item IN ARRAY coalesce((SELECT tightened FROM fifo_adoption), '{}') LOOP
    IF item LIKE 'not null %' THEN
      EXECUTE format('ALTER TABLE trade_records ALTER COLUMN %I DROP NOT NULL', substr(item, 10));
    ELSIF item LIKE 'default %' THEN
      EXECUTE format('ALTER TABLE trade_records ALTER COLUMN %I DROP DEFAULT', substr(item, 9));
    END IF;
  END LOOP;
  IF adopted THEN
    ALTER TABLE trade_records ADD CONSTRAINT trade_records_order_id_must_not_be_blank
      CHECK (length(btrim(order_id)) > 0 AND length(order_id) <= 200) NOT VALID;
    BEGIN
      ALTER TABLE trade_records VALIDATE CONSTRAINT trade_records_order_id_must_not_be_blank;
    EXCEPTION WHEN check_violation THEN
      NULL;
    END;
  ELSE
    ALTER TABLE trade_records ADD CONSTRAINT trade_records_order_id_must_not_be_blank
      CHECK (length(btrim(order_id)) > 0 AND length(order_id) <= 200);
  END IF;
END
$down$;
ALTER TABLE fifo_adoption DROP COLUMN tightened;
DROP FUNCTION fifo_utc(timestamptz);
DROP FUNCTION fifo_utc(timestamp);
